"""One module per moderation kind; each offers submit / get / wait / moderate."""

from .image import ImageModeration
from .text import TextModeration
from .webpage import WebpageModeration

__all__ = ["ImageModeration", "TextModeration", "WebpageModeration"]
