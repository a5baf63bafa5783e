"""Request models: one frozen attrs class per kind, checked when made, turned into the body.

Each kind's ``submit``/``moderate`` keywords build one of these; they can also be made directly
and given to ``client.<kind>.submit_request`` / ``moderate_request``, or built from plain data
(a JSON line) with :func:`structure`::

    request = structure({"object": "posts/1.txt", "data_id": "post-1"}, TextRequest)
    job = await client.text.moderate_request(request)

Every bad value raises :class:`~cosaudit.errors.InvalidInput` naming the request node.
"""

from .badcase import BadcaseReport
from .common import Freeze, Request, UserInfoLike
from .image import ImageBatchRequest, ImageInput, ImageRequest
from .live import LiveRequest
from .media import AudioRequest, DocumentRequest, VideoRequest
from .structuring import structure
from .text import TextRequest
from .virus import VirusRequest
from .webpage import WebpageRequest

__all__ = [
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
