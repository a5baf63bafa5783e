"""One module per moderation kind; each offers submit / get / wait / moderate, and
submit_request / moderate_request for a request model (:mod:`cosaudit.requests`)."""

from .audio import AudioModeration
from .badcase import report_badcase
from .document import DocumentModeration
from .image import ImageModeration
from .live import LiveModeration
from .text import TextModeration
from .video import VideoModeration
from .virus import VirusDetection
from .webpage import WebpageModeration

__all__ = [
    "AudioModeration",
    "DocumentModeration",
    "ImageModeration",
    "LiveModeration",
    "TextModeration",
    "VideoModeration",
    "VirusDetection",
    "WebpageModeration",
    "report_badcase",
]
