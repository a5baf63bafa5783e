"""Image moderation: the single-image GET on the COS host, and batches on the CI host."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..endpoints import Service, object_path
from ..errors import CosAuditError, MalformedResponse
from ..models import ImageJob
from ..requests import Freeze, ImageBatchRequest, ImageInput, ImageRequest, UserInfoLike
from ..retrying import is_ambiguous
from ._base import JobKind


class ImageModeration(JobKind[ImageJob, ImageRequest]):
    """``client.image``: single images, batches of up to 100, and job queries.

    A single image given as ``object`` or ``url`` goes through
    ``GET /<key>?ci-process=sensitive-content-recognition``; one given as ``content`` bytes,
    or with ``user_info`` or ``freeze``, goes through a one-item batch (the GET can carry none
    of them).
    """

    model = ImageJob
    request_type = ImageRequest
    path = "/image/auditing"
    calls_back = "image"

    async def moderate(
        self,
        *,
        object: str | None = None,
        url: str | None = None,
        content: bytes | None = None,
        data_id: str | None = None,
        user_info: UserInfoLike | None = None,
        biz_type: str | None = None,
        detect_type: str | Iterable[str] | None = None,
        interval: int | None = None,
        max_frames: int | None = None,
        large_image_detect: bool | None = None,
        raise_on_failure: bool = True,
    ) -> ImageJob:
        """Moderate one image synchronously and return the final result."""
        request = ImageRequest(
            object=object,
            url=url,
            content=content,
            data_id=data_id,
            interval=interval,
            max_frames=max_frames,
            large_image_detect=large_image_detect,
            user_info=user_info,
            biz_type=biz_type,
            detect_type=detect_type,
            asynchronous=False,
        )
        # The documented single-image answer has no State at all: it is final as it comes.
        return await self.moderate_request(request, raise_on_failure=raise_on_failure)

    async def submit(
        self,
        *,
        object: str | None = None,
        url: str | None = None,
        content: bytes | None = None,
        data_id: str | None = None,
        user_info: UserInfoLike | None = None,
        biz_type: str | None = None,
        detect_type: str | Iterable[str] | None = None,
        callback: str | None = None,
        interval: int | None = None,
        max_frames: int | None = None,
        large_image_detect: bool | None = None,
        freeze: Freeze | None = None,
    ) -> ImageJob:
        """Start an asynchronous job for one image (``State=Submitted``); see :meth:`wait`."""
        request = ImageRequest(
            object=object,
            url=url,
            content=content,
            data_id=data_id,
            interval=interval,
            max_frames=max_frames,
            large_image_detect=large_image_detect,
            user_info=user_info,
            biz_type=biz_type,
            detect_type=detect_type,
            callback=callback,
            freeze=freeze,
        )
        return await self.submit_request(request)

    async def submit_request(self, request: ImageRequest) -> ImageJob:
        """Send one image's request: through the GET where it can go, else a one-item batch."""
        self._own(request, ImageRequest)
        request, receiver = self._with_callback(request)
        if receiver is None:
            return await self._send_one(request)
        with receiver.submitting():
            job = await self._send_one(request)
            self._expect(receiver, (job,))
        return job

    async def _send_one(self, request: ImageRequest) -> ImageJob:
        if not request.via_get:
            (job,) = await self._send_batch(request.to_body(), 1)
            return job
        if request.object is not None:
            path, signed_path = object_path(request.object)
        else:
            path = signed_path = "/"
        # A GET, but a submission: each call creates (and bills) a moderation job, so it is
        # resent after an ambiguous failure only under AmbiguousSubmit.RETRY.
        try:
            response = await self._session.request(
                "GET",
                path,
                service=Service.COS,
                params=request.query(),
                signed_path=signed_path,
                root="RecognitionResult",
                idempotent=False,
            )
        except CosAuditError as error:
            if not is_ambiguous(error):
                raise
            raise self._unknown(error, (request.data_id,)) from error
        return self._structure(response.body, response)

    async def moderate_batch(
        self,
        images: Sequence[ImageInput | str | bytes],
        *,
        biz_type: str | None = None,
        detect_type: str | Iterable[str] | None = None,
        freeze: Freeze | None = None,
    ) -> tuple[ImageJob, ...]:
        """Moderate up to 100 images synchronously, one result per input, in order.

        A string is a URL when it starts with ``http(s)://``, else an object key; bytes are
        image content. An image the service could not moderate comes back with
        ``State=Failed`` and its ``code``/``message``; it does not raise.
        """
        request = ImageBatchRequest(
            images=images,
            biz_type=biz_type,
            detect_type=detect_type,
            freeze=freeze,
            asynchronous=False,
        )
        return await self.submit_batch_request(request)

    async def submit_batch(
        self,
        images: Sequence[ImageInput | str | bytes],
        *,
        biz_type: str | None = None,
        detect_type: str | Iterable[str] | None = None,
        callback: str | None = None,
        freeze: Freeze | None = None,
    ) -> tuple[ImageJob, ...]:
        """Start one asynchronous job per image (up to 100); returns them ``Submitted``."""
        request = ImageBatchRequest(
            images=images,
            biz_type=biz_type,
            detect_type=detect_type,
            callback=callback,
            freeze=freeze,
        )
        return await self.submit_batch_request(request)

    async def submit_batch_request(self, request: ImageBatchRequest) -> tuple[ImageJob, ...]:
        """Send a batch's request; one job per image, in order, as the service answered."""
        self._own(request, ImageBatchRequest)
        request, receiver = self._with_callback(request)
        if receiver is None:
            return await self._send_batch(request.to_body(), len(request.images))
        with receiver.submitting():
            jobs = await self._send_batch(request.to_body(), len(request.images))
            self._expect(receiver, jobs)
        return jobs

    async def _send_batch(self, body: dict[str, object], count: int) -> tuple[ImageJob, ...]:
        response = await self._post(body)
        jobs = self._jobs(response)
        if len(jobs) != count:
            raise MalformedResponse(
                f"sent {count} images, got {len(jobs)} results",
                status=response.status,
                request_id=response.request_id,
            )
        return jobs
