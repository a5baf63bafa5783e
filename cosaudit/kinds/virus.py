"""Virus detection: a file (or the members of an archive) scanned for malware, asynchronous."""

from __future__ import annotations

from ..models import VirusJob
from ..requests import VirusRequest
from ._base import JobKind


class VirusDetection(JobKind[VirusJob, VirusRequest]):
    """``client.virus``: ``POST /virus/detect`` and ``GET /virus/detect/<jobId>``.

    A job's ``suggestion`` is ``block`` when a virus was found; ``viruses`` names the files.
    """

    model = VirusJob
    request_type = VirusRequest
    path = "/virus/detect"

    async def submit(
        self,
        *,
        object: str | None = None,
        url: str | None = None,
        callback: str | None = None,
    ) -> VirusJob:
        """Start a scan of one file, a COS ``object`` or a ``url`` (``State=Submitted``)."""
        return await self.submit_request(VirusRequest(object=object, url=url, callback=callback))

    async def moderate(
        self,
        *,
        object: str | None = None,
        url: str | None = None,
        timeout: float | None = None,
        raise_on_failure: bool = True,
    ) -> VirusJob:
        """Scan a file and wait for the final result (``timeout`` seconds at most)."""
        return await self.moderate_request(
            VirusRequest(object=object, url=url),
            timeout=timeout,
            raise_on_failure=raise_on_failure,
        )
