"""Virus detection: a file (or the members of an archive) scanned for malware, asynchronous."""

from __future__ import annotations

from .. import inputs
from ..models import VirusJob
from ._base import JobKind


class VirusDetection(JobKind[VirusJob]):
    """``client.virus``: ``POST /virus/detect`` and ``GET /virus/detect/<jobId>``.

    A job's ``suggestion`` is ``block`` when a virus was found; ``viruses`` names the files.
    """

    model = VirusJob
    path = "/virus/detect"

    async def submit(
        self,
        *,
        object: str | None = None,
        url: str | None = None,
        callback: str | None = None,
    ) -> VirusJob:
        """Start a scan of one file, a COS ``object`` or a ``url`` (``State=Submitted``)."""
        inputs.one_source(object=object, url=url)
        request = {
            "Input": {
                "Object": inputs.object_key(object) if object is not None else None,
                "Url": inputs.url(url, "Input.Url") if url is not None else None,
            },
            # DetectType is required and has one value; the scene names of inputs.conf's
            # detect_type do not apply here.
            "Conf": {"DetectType": "Virus", "Callback": inputs.callback_url(callback)},
        }
        return await self._submit(request)

    async def moderate(
        self,
        *,
        object: str | None = None,
        url: str | None = None,
        timeout: float | None = None,
        raise_on_failure: bool = True,
    ) -> VirusJob:
        """Scan a file and wait for the final result (``timeout`` seconds at most)."""
        job = await self.submit(object=object, url=url)
        return await self._follow(job, timeout, raise_on_failure)
