"""Which scenes each kind of job takes in ``DetectType``, and which it checks without one.

The client refuses a scene its kind does not take before sending (``InvalidInput``); the
emulator answers it with 400 ``InvalidArgument``. One table serves both, so they cannot drift.

The pages (436/48537–48539 image, 48188/48189 text, 48249/48250 video, 48262/48263 audio,
48258/48259 document, 48282/48283 webpage, 48277 live) document ``PornInfo``/``AdsInfo`` for
every kind and ``IllegalInfo``/``AbuseInfo`` for text and webpage text; the other containers each
kind answers are those of the official Go SDK's result structs (``ci.go``). A kind takes exactly
the scenes it has a container for:

========  ===============================================  ====================================
kind      takes                                            default (no ``DetectType``)
========  ===============================================  ====================================
image     Porn, Terrorism, Politics, Ads, Teenager         Porn, Terrorism, Politics, Ads
text      Porn, Terrorism, Politics, Ads, Illegal, Abuse   Porn, Ads, Illegal, Abuse
video     Porn, Terrorism, Politics, Ads, Teenager         Porn, Terrorism, Politics, Ads
live      as video (same endpoint)                         as video
audio     Porn, Terrorism, Politics, Ads, Teenager         Porn, Terrorism, Politics, Ads
document  Porn, Terrorism, Politics, Ads                   Porn, Terrorism, Politics, Ads
webpage   Porn, Terrorism, Politics, Ads, Illegal, Abuse   text as text's, images as image's
========  ===============================================  ====================================

A webpage's images are judged only by the image scenes among those asked for (its image
results have no ``IllegalInfo``/``AbuseInfo``); its text by all of them.

>>> KIND_SCENES["document"]
('Porn', 'Terrorism', 'Politics', 'Ads')
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

__all__ = ["DEFAULT_SCENES", "IMAGE_SCENES", "KIND_SCENES", "TEXT_SCENES"]

_PICTURE = ("Porn", "Terrorism", "Politics", "Ads")
_WORDS = ("Porn", "Terrorism", "Politics", "Ads", "Illegal", "Abuse")

IMAGE_SCENES = (*_PICTURE, "Teenager")
"""The scenes an image-type answer has containers for."""
TEXT_SCENES = _WORDS
"""The scenes a text-type answer has containers for."""

KIND_SCENES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "image": IMAGE_SCENES,
        "text": TEXT_SCENES,
        "video": IMAGE_SCENES,
        "live": IMAGE_SCENES,
        "audio": IMAGE_SCENES,
        "document": _PICTURE,
        "webpage": _WORDS,
    }
)
"""Kind name → the scenes its ``DetectType`` takes, in the order answers list them."""

DEFAULT_SCENES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "image": _PICTURE,
        "text": ("Porn", "Ads", "Illegal", "Abuse"),
        "video": _PICTURE,
        "live": _PICTURE,
        "audio": _PICTURE,
        "document": _PICTURE,
        "webpage": ("Porn", "Ads", "Illegal", "Abuse"),  # the text's; images take _PICTURE
    }
)
"""Kind name → the scenes checked when the request names none."""
