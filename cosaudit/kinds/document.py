"""Document moderation: the pages of office files, PDFs and text-like files, asynchronous."""

from __future__ import annotations

from collections.abc import Iterable

from ..models import DocumentJob
from ..requests import DocumentRequest, Freeze, UserInfoLike
from ._base import JobKind


class DocumentModeration(JobKind[DocumentJob, DocumentRequest]):
    """``client.document``: ``POST /document/auditing`` and ``GET /document/auditing/<jobId>``."""

    model = DocumentJob
    request_type = DocumentRequest
    path = "/document/auditing"
    calls_back = "document"

    async def submit(
        self,
        *,
        object: str | None = None,
        url: str | None = None,
        file_type: str | None = None,
        data_id: str | None = None,
        user_info: UserInfoLike | None = None,
        biz_type: str | None = None,
        detect_type: str | Iterable[str] | None = None,
        callback: str | None = None,
        callback_type: int | None = None,
        freeze: Freeze | None = None,
    ) -> DocumentJob:
        """Start a job for one document, a COS ``object`` or a ``url`` (``State=Submitted``).

        Args:
            file_type: the format (``Input.Type``, e.g. ``docx``); required when the file
                name has no extension, since the service would fail the job.
            callback_type: 1 calls back every page, 2 only the pages that hit.
        """
        return await self.submit_request(
            DocumentRequest(
                object=object,
                url=url,
                file_type=file_type,
                data_id=data_id,
                user_info=user_info,
                biz_type=biz_type,
                detect_type=detect_type,
                callback=callback,
                callback_type=callback_type,
                freeze=freeze,
            )
        )

    async def moderate(
        self,
        *,
        object: str | None = None,
        url: str | None = None,
        file_type: str | None = None,
        data_id: str | None = None,
        user_info: UserInfoLike | None = None,
        biz_type: str | None = None,
        detect_type: str | Iterable[str] | None = None,
        freeze: Freeze | None = None,
        timeout: float | None = None,
        raise_on_failure: bool = True,
    ) -> DocumentJob:
        """Submit a document and wait for its final result (``timeout`` seconds at most)."""
        request = DocumentRequest(
            object=object,
            url=url,
            file_type=file_type,
            data_id=data_id,
            user_info=user_info,
            biz_type=biz_type,
            detect_type=detect_type,
            freeze=freeze,
        )
        return await self.moderate_request(
            request, timeout=timeout, raise_on_failure=raise_on_failure
        )
