"""The requests of image moderation: one image (the COS host's GET where it can go, else a
one-item batch) and batches of up to 100 on the CI host (``POST /image/auditing``)."""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar

from attrs import Attribute, define, field, fields

from .. import inputs
from ..errors import InvalidInput, LimitExceeded
from ..inputs import sized
from ..userinfo import UserInfoFields
from .common import (
    Freeze,
    Request,
    as_freeze,
    as_scenes,
    as_user_info,
    conf_tree,
    freeze_needs_object,
    pascal,
    unknown_keys,
    user_info_tree,
)
from .scenes import detect_type as scene_names

__all__ = ["ImageBatchRequest", "ImageInput", "ImageRequest"]


def _positive(_: object, attribute: Attribute[Any], value: int | None) -> None:
    if value is not None:
        inputs.positive(value, f"Input.{pascal(attribute.name)}")


def _switch(_: object, attribute: Attribute[Any], value: Any) -> None:
    # Only a bool ("false" from a JSON line is truthy and would submit the other way), and
    # unlike checked(), None too: it would read as synchronous.
    inputs.flag(value, attribute.name)


def _typed(kind: type | tuple[type, ...], what: str) -> Any:
    """An attrs validator raising InvalidInput (not TypeError) for a value of the wrong type."""

    def check(_: object, attribute: Attribute[Any], value: object) -> None:
        if value is None:
            return
        # bool is an int subclass: only a bool field takes True/False.
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            raise InvalidInput(
                f"Input.{pascal(attribute.name)}", f"must be {what}, not {type(value).__name__}"
            )

    return check


_STRING = _typed(str, "a string")


@define(frozen=True, slots=True)
class ImageInput:
    """One image of a batch: exactly one of a COS ``object`` key, a ``url`` or raw ``content``.

    Args:
        interval, max_frames: GIF frame step and frame count (service defaults 5 and 5).
        large_image_detect: compress images over the size limit instead of failing.
    """

    object: str | None = field(default=None, validator=_STRING)
    url: str | None = field(default=None, validator=_STRING)
    content: bytes | None = field(default=None, repr=sized, validator=_typed(bytes, "bytes"))
    data_id: str | None = field(default=None, validator=_STRING)
    interval: int | None = field(default=None, validator=_positive)
    max_frames: int | None = field(default=None, validator=_positive)
    large_image_detect: bool | None = field(
        default=None, converter=inputs.zero_one, validator=_typed(bool, "True or False")
    )
    user_info: UserInfoFields | None = field(default=None, converter=as_user_info)

    def __attrs_post_init__(self) -> None:
        inputs.one_source(object=self.object, url=self.url, content=self.content)

    @classmethod
    def of(cls, value: ImageInput | str | bytes | Mapping[str, Any]) -> ImageInput:
        """An ImageInput from itself, raw bytes, an http(s) URL, a mapping of its field names,
        or else an object key."""
        if isinstance(value, ImageInput):
            return value
        if isinstance(value, bytes):
            return cls(content=value)
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            return cls(url=value)
        if isinstance(value, str):
            return cls(object=value)
        if isinstance(value, Mapping):
            unknown_keys(value, (a.name for a in fields(ImageInput)), "Input")
            return cls(**value)
        raise InvalidInput(
            "Input", f"expected ImageInput, bytes or str, not {type(value).__name__}"
        )

    def check(self, field_name: str = "Input") -> None:
        """Check the values against the limits, naming nodes under ``field_name``."""
        if self.object is not None:
            inputs.object_key(self.object, f"{field_name}.Object")
        if self.url is not None:
            inputs.url(self.url, f"{field_name}.Url")
        if self.content is not None and not self.content:
            raise InvalidInput(f"{field_name}.Content", "must not be empty")
        if self.data_id is not None:
            inputs.data_id(self.data_id, f"{field_name}.DataId")
        user_info_tree(self.user_info, f"{field_name}.UserInfo")

    def to_xml(self, field_name: str = "Input") -> dict[str, Any]:
        """The ``<Input>`` children, checked."""
        self.check(field_name)
        return self._tree()

    def _tree(self) -> dict[str, Any]:
        large = None if self.large_image_detect is None else int(self.large_image_detect)
        return {
            "Object": self.object,
            "Url": self.url,
            "Content": (
                base64.b64encode(self.content).decode("ascii") if self.content is not None else None
            ),
            "DataId": self.data_id,
            "Interval": self.interval,
            "MaxFrames": self.max_frames,
            "LargeImageDetect": large,
            "UserInfo": user_info_tree(self.user_info, "Input.UserInfo"),
        }


def _settings(request: Any) -> None:
    """Check the ``<Conf>`` settings of a request on the CI host."""
    if request.biz_type is not None:
        inputs.biz_type(request.biz_type)
    if request.freeze is not None and not isinstance(request.freeze, Freeze):
        raise InvalidInput("Conf.Freeze", "must be a Freeze")
    if request.detect_type is not None:
        scene_names(request.detect_type, kind="image")
    if request.callback is not None:
        inputs.callback_url(request.callback)


@define(frozen=True, slots=True, kw_only=True)
class ImageRequest(Request):
    """One image: exactly one of a COS ``object`` key, a ``url`` or raw ``content``.

    It goes through ``GET /<key>?ci-process=sensitive-content-recognition`` (:attr:`via_get`)
    unless it has ``content``, ``user_info`` or ``freeze``, which the GET cannot carry: then
    through a one-item batch. ``asynchronous=False`` moderates it at once (what
    ``client.image.moderate`` does); the default starts a job, as ``client.image.submit``.
    """

    kind: ClassVar[str] = "image"

    object: str | None = field(default=None, validator=_STRING)
    url: str | None = field(default=None, validator=_STRING)
    content: bytes | None = field(default=None, repr=sized, validator=_typed(bytes, "bytes"))
    data_id: str | None = field(default=None, validator=_STRING)
    interval: int | None = field(default=None, validator=_positive)
    max_frames: int | None = field(default=None, validator=_positive)
    large_image_detect: bool | None = field(
        default=None, converter=inputs.zero_one, validator=_typed(bool, "True or False")
    )
    user_info: UserInfoFields | None = field(default=None, converter=as_user_info)
    biz_type: str | None = None
    detect_type: str | Iterable[str] | None = field(default=None, converter=as_scenes)
    callback: str | None = None
    freeze: Freeze | None = field(default=None, converter=as_freeze)
    asynchronous: bool = field(default=True, converter=inputs.zero_one, validator=_switch)

    def __attrs_post_init__(self) -> None:
        source = inputs.one_source(object=self.object, url=self.url, content=self.content)
        freeze_needs_object(self.freeze, source)
        if self.via_get:
            # The GET's parameters are named as on the query string.
            if self.object is not None:
                inputs.object_key(self.object, "object")
            else:
                inputs.url(self.url or "", "detect-url")
            if self.detect_type is not None:
                scene_names(self.detect_type, lower=True, field_name="detect-type", kind="image")
            if self.biz_type is not None:
                inputs.biz_type(self.biz_type, "biz-type")
            if self.data_id is not None:
                inputs.data_id(self.data_id, "dataid")
            if self.callback is not None:
                inputs.callback_url(self.callback, "callback")
        else:
            self.image.check("Input[0]")
            _settings(self)
        if self.callback is not None and not self.asynchronous:
            name = "callback" if self.via_get else "Conf.Callback"
            raise InvalidInput(name, "a callback needs an asynchronous request")

    @property
    def synchronous(self) -> bool:
        return not self.asynchronous

    @property
    def via_get(self) -> bool:
        """Whether the image goes through the COS host's GET (else a one-item batch)."""
        return self.content is None and self.user_info is None and self.freeze is None

    @property
    def image(self) -> ImageInput:
        """The image as a batch item."""
        return ImageInput(
            object=self.object,
            url=self.url,
            content=self.content,
            data_id=self.data_id,
            interval=self.interval,
            max_frames=self.max_frames,
            large_image_detect=self.large_image_detect,
            user_info=self.user_info,
        )

    def query(self) -> dict[str, str]:
        """The GET's query parameters (``ci-process`` first), for an image :attr:`via_get`."""
        params = {"ci-process": "sensitive-content-recognition"}
        if self.object is None:
            params["detect-url"] = self.url or ""
        scenes = self.detect_type
        optional = {
            "biz-type": self.biz_type,
            "detect-type": scene_names(scenes, lower=True) if scenes is not None else None,
            "interval": self.interval,
            "max-frames": self.max_frames,
            "large-image-detect": (
                None if self.large_image_detect is None else int(self.large_image_detect)
            ),
            "dataid": self.data_id,
            "async": 1 if self.asynchronous else None,
            "callback": self.callback,
        }
        params.update({name: str(value) for name, value in optional.items() if value is not None})
        return params

    def to_body(self) -> dict[str, Any]:
        """The body of the one-item batch (for an image not :attr:`via_get`)."""
        return {
            "Input": [self.image._tree()],
            "Conf": conf_tree(self, Async=1 if self.asynchronous else 0),
        }


ImageLike = ImageInput | str | bytes | Mapping[str, Any]


def _images(value: Sequence[ImageLike]) -> tuple[ImageInput, ...]:
    """The images of a batch, each made an ImageInput; 1 to 100 of them."""
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise InvalidInput("Input", "give a sequence of images")
    if not value:
        raise InvalidInput("Input", "give at least one image")
    if len(value) > inputs.MAX_BATCH:
        raise LimitExceeded("Input", inputs.MAX_BATCH, len(value), "images")
    return tuple(ImageInput.of(item) for item in value)


@define(frozen=True, slots=True, kw_only=True)
class ImageBatchRequest(Request):
    """Up to 100 images, each an :class:`ImageInput`, a URL or object key string, or bytes.

    ``asynchronous=False`` moderates them at once (``client.image.moderate_batch``); the
    default starts a job per image (``client.image.submit_batch``).
    """

    images: tuple[ImageInput, ...] = field(converter=_images)
    biz_type: str | None = None
    detect_type: str | Iterable[str] | None = field(default=None, converter=as_scenes)
    callback: str | None = None
    freeze: Freeze | None = field(default=None, converter=as_freeze)
    asynchronous: bool = field(default=True, converter=inputs.zero_one, validator=_switch)

    def __attrs_post_init__(self) -> None:
        if self.callback is not None and not self.asynchronous:
            raise InvalidInput("Conf.Callback", "a callback needs an asynchronous batch")
        for index, image in enumerate(self.images):
            image.check(f"Input[{index}]")
        _settings(self)

    @property
    def synchronous(self) -> bool:
        return not self.asynchronous

    def to_body(self) -> dict[str, Any]:
        return {
            "Input": [image._tree() for image in self.images],
            "Conf": conf_tree(self, Async=1 if self.asynchronous else 0),
        }
