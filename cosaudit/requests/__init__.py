"""Request models: one frozen attrs class per kind, checked when made, turned into the body.

Each kind's ``submit``/``moderate`` keywords build one of these; they can also be made directly
and given to ``client.<kind>.submit_request`` / ``moderate_request``, or built from plain data
(a JSON line) with :func:`structure`::

    request = structure({"object": "posts/1.txt", "data_id": "post-1"}, TextRequest)
    job = await client.text.moderate_request(request)

Every bad value raises :class:`~cosaudit.errors.InvalidInput` naming the request node.
"""

from collections.abc import Mapping
from types import MappingProxyType

from .badcase import BadcaseReport
from .common import Freeze, Request, UserInfoLike
from .image import ImageBatchRequest, ImageInput, ImageRequest
from .live import LiveRequest
from .media import AudioRequest, DocumentRequest, VideoRequest
from .structuring import structure
from .text import TextRequest
from .virus import VirusRequest
from .webpage import WebpageRequest

_BULK = (TextRequest, ImageRequest, WebpageRequest, VideoRequest, AudioRequest, DocumentRequest)
BULK_KINDS: Mapping[str, type[Request]] = MappingProxyType(
    {cls.kind: cls for cls in (*_BULK, VirusRequest) if cls.kind is not None}
)
"""The request model of each kind a bulk run takes, by :attr:`Request.kind` (not ``live``: a
stream runs until cancelled)."""

__all__ = [
    "BULK_KINDS",
    "AudioRequest",
    "BadcaseReport",
    "DocumentRequest",
    "Freeze",
    "ImageBatchRequest",
    "ImageInput",
    "ImageRequest",
    "LiveRequest",
    "Request",
    "TextRequest",
    "UserInfoLike",
    "VideoRequest",
    "VirusRequest",
    "WebpageRequest",
    "structure",
]
