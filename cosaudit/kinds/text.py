"""Text moderation: synchronous for inline content, asynchronous for objects and URLs."""

from __future__ import annotations

from collections.abc import Iterable

from .. import inputs
from ..errors import InvalidInput
from ..inputs import Freeze, UserInfoLike
from ..models import TextJob
from ..waiting import settle
from ._base import JobKind


class TextModeration(JobKind[TextJob]):
    """``client.text``: ``POST /text/auditing`` and ``GET /text/auditing/<jobId>``."""

    model = TextJob
    path = "/text/auditing"

    async def submit(
        self,
        *,
        content: str | None = None,
        object: str | None = None,
        url: str | None = None,
        data_id: str | None = None,
        user_info: UserInfoLike | None = None,
        biz_type: str | None = None,
        detect_type: str | Iterable[str] | None = None,
        callback: str | None = None,
        callback_version: str | None = None,
        callback_type: int | None = None,
        freeze: Freeze | None = None,
    ) -> TextJob:
        """Submit one text; returns the job as the service answered.

        ``object`` (a COS key) or ``url`` start an asynchronous job (``State=Submitted``);
        ``content`` (at most 10,000 characters) is moderated at once and the answer is final.
        """
        source = inputs.one_source(content=content, object=object, url=url)
        if source == "content" and callback is not None:
            # The service ignores it for inline content; refusing beats silently dropping.
            raise InvalidInput("Conf.Callback", "needs object or url input")
        if source != "object" and freeze is not None:
            raise InvalidInput("Conf.Freeze", "applies to a COS object input only")
        request = {
            "Input": {
                "Content": inputs.text_content(content) if content is not None else None,
                "Object": inputs.object_key(object) if object is not None else None,
                "Url": inputs.url(url, "Input.Url") if url is not None else None,
                "DataId": inputs.data_id(data_id),
                "UserInfo": inputs.user_info(user_info),
            },
            "Conf": inputs.conf(
                biz_type=biz_type,
                detect_type_value=detect_type,
                callback=callback,
                callback_version=callback_version,
                callback_type=callback_type,
                freeze=freeze,
            ),
        }
        return await self._submit(request)

    async def moderate(
        self,
        content: str | None = None,
        *,
        object: str | None = None,
        url: str | None = None,
        data_id: str | None = None,
        user_info: UserInfoLike | None = None,
        biz_type: str | None = None,
        detect_type: str | Iterable[str] | None = None,
        timeout: float | None = None,
        raise_on_failure: bool = True,
    ) -> TextJob:
        """Moderate a text and return the final result.

        Inline ``content`` uses the synchronous API; ``object``/``url`` submit a job and wait
        for it (``timeout`` seconds at most).
        """
        job = await self.submit(
            content=content,
            object=object,
            url=url,
            data_id=data_id,
            user_info=user_info,
            biz_type=biz_type,
            detect_type=detect_type,
        )
        if content is not None:
            # A synchronous answer is the result, whatever its State says.
            return settle(job, raise_on_failure)
        return await self._follow(job, timeout, raise_on_failure)
