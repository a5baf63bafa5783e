"""Image moderation: the single-image GET on the COS host, and batches on the CI host."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .. import inputs
from ..endpoints import Service, object_path
from ..errors import InvalidInput, LimitExceeded, MalformedResponse
from ..inputs import Freeze, ImageInput, UserInfoLike
from ..models import ImageJob
from ..waiting import settle
from ._base import JobKind


class ImageModeration(JobKind[ImageJob]):
    """``client.image``: single images, batches of up to 100, and job queries.

    A single image given as ``object`` or ``url`` goes through
    ``GET /<key>?ci-process=sensitive-content-recognition``; one given as ``content`` bytes,
    or with ``user_info``, goes through a one-item batch (the GET can carry neither).
    """

    model = ImageJob
    path = "/image/auditing"

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
        image = ImageInput(
            object=object,
            url=url,
            content=content,
            data_id=data_id,
            interval=interval,
            max_frames=max_frames,
            large_image_detect=large_image_detect,
            user_info=user_info,
        )
        job = await self._single(image, biz_type, detect_type, None, None, asynchronous=False)
        # A synchronous answer is the result, whatever its State says (the documented
        # single-image sample has no State at all).
        return settle(job, raise_on_failure)

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
        image = ImageInput(
            object=object,
            url=url,
            content=content,
            data_id=data_id,
            interval=interval,
            max_frames=max_frames,
            large_image_detect=large_image_detect,
            user_info=user_info,
        )
        return await self._single(image, biz_type, detect_type, callback, freeze, asynchronous=True)

    async def _single(
        self,
        image: ImageInput,
        biz_type: str | None,
        detect_type: str | Iterable[str] | None,
        callback: str | None,
        freeze: Freeze | None,
        *,
        asynchronous: bool,
    ) -> ImageJob:
        """One image through the GET where it can go, else through a one-item batch."""
        if freeze is not None and image.object is None:
            raise InvalidInput("Conf.Freeze", "applies to a COS object input only")
        if image.content is None and image.user_info is None and freeze is None:
            return await self._get_single(
                image, biz_type, detect_type, asynchronous=asynchronous, callback=callback
            )
        (job,) = await self._batch(
            [image], biz_type, detect_type, callback, freeze, asynchronous=asynchronous
        )
        return job

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
        return await self._batch(images, biz_type, detect_type, None, freeze, asynchronous=False)

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
        return await self._batch(images, biz_type, detect_type, callback, freeze, asynchronous=True)

    async def _batch(
        self,
        images: Sequence[ImageInput | str | bytes],
        biz_type: str | None,
        detect_type: str | Iterable[str] | None,
        callback: str | None,
        freeze: Freeze | None,
        *,
        asynchronous: bool,
    ) -> tuple[ImageJob, ...]:
        if isinstance(images, str | bytes) or not isinstance(images, Sequence):
            raise InvalidInput("Input", "give a sequence of images")
        if not images:
            raise InvalidInput("Input", "give at least one image")
        if len(images) > inputs.MAX_BATCH:
            raise LimitExceeded("Input", inputs.MAX_BATCH, len(images), "images")
        if callback is not None and not asynchronous:
            raise InvalidInput("Conf.Callback", "a callback needs an asynchronous batch")
        request = {
            "Input": [
                ImageInput.of(image).to_xml(f"Input[{index}]") for index, image in enumerate(images)
            ],
            "Conf": inputs.conf(
                biz_type=biz_type,
                detect_type_value=detect_type,
                callback=callback,
                freeze=freeze,
                Async=1 if asynchronous else 0,
            ),
        }
        response = await self._post(request)
        jobs = self._jobs(response)
        if len(jobs) != len(images):
            raise MalformedResponse(
                f"sent {len(images)} images, got {len(jobs)} results",
                status=response.status,
                request_id=response.request_id,
            )
        return jobs

    async def _get_single(
        self,
        image: ImageInput,
        biz_type: str | None,
        detect_type: str | Iterable[str] | None,
        *,
        asynchronous: bool,
        callback: str | None = None,
    ) -> ImageJob:
        params = {"ci-process": "sensitive-content-recognition"}
        if image.object is not None:
            path, signed_path = object_path(inputs.object_key(image.object, "object"))
        else:
            path = signed_path = "/"
            params["detect-url"] = inputs.url(image.url or "", "detect-url")
        optional = {
            "biz-type": biz_type,
            "detect-type": inputs.detect_type(detect_type, lower=True, field_name="detect-type"),
            "interval": image.interval,
            "max-frames": image.max_frames,
            "large-image-detect": (
                None if image.large_image_detect is None else int(image.large_image_detect)
            ),
            "dataid": inputs.data_id(image.data_id, "dataid"),
            "async": 1 if asynchronous else None,
            "callback": inputs.callback_url(callback, "callback"),
        }
        params.update({name: str(value) for name, value in optional.items() if value is not None})
        # A GET, but a submission: each call creates (and bills) a moderation job, so it is
        # resent after an ambiguous failure only under AmbiguousSubmit.RETRY.
        with self._submitting((image.data_id,)):
            response = await self._session.request(
                "GET",
                path,
                service=Service.COS,
                params=params,
                signed_path=signed_path,
                root="RecognitionResult",
                idempotent=False,
            )
        return self._structure(response.body, response)
