"""Every bad input is refused locally, typed, naming the field and the limit.

The client points at a port where nothing listens: had anything been sent, the error would be
a ConnectError instead. The table below doubles as documentation of what is checked.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from cosaudit import (
    AuditClient,
    Credentials,
    Freeze,
    ImageInput,
    InvalidInput,
    LimitExceeded,
    UserInfo,
)

Call = Callable[[AuditClient], Awaitable[Any]]
LONG = "x" * 513

# (what is wrong, the call, the error type, text the message must contain)
CASES: list[tuple[str, Call, type[InvalidInput], str]] = [
    (
        "text over 10,000 characters",
        lambda c: c.text.moderate("a" * 10_001),
        LimitExceeded,
        "Input.Content: 10001 characters exceeds the limit of 10000",
    ),
    ("empty text", lambda c: c.text.moderate(""), InvalidInput, "Input.Content"),
    (
        "text not a string",
        lambda c: c.text.moderate(b"bytes"),
        InvalidInput,
        "Input.Content: must be a string",
    ),  # type: ignore[arg-type]
    (
        "no text source",
        lambda c: c.text.submit(),
        InvalidInput,
        "exactly one of content/object/url",
    ),
    (
        "two text sources",
        lambda c: c.text.submit(content="a", object="b.txt"),
        InvalidInput,
        "got content, object",
    ),
    (
        "DataId over 512 bytes",
        lambda c: c.text.moderate("a", data_id=LONG),
        LimitExceeded,
        "Input.DataId: 513 bytes exceeds the limit of 512",
    ),
    (
        "DataId multibyte over 512 bytes",
        lambda c: c.text.moderate("a", data_id="测" * 171),
        LimitExceeded,
        "Input.DataId: 513 bytes",
    ),
    (
        "UserInfo field over 128 bytes",
        lambda c: c.text.moderate("a", user_info=UserInfo(nickname="n" * 129)),
        LimitExceeded,
        "Input.UserInfo.Nickname: 129 bytes exceeds the limit of 128",
    ),
    (
        "UserInfo unknown field",
        lambda c: c.text.moderate("a", user_info={"nick": "x"}),
        InvalidInput,
        "Input.UserInfo",
    ),  # type: ignore[arg-type]
    (
        "callback not http(s)",
        lambda c: c.text.submit(object="a.txt", callback="ftp://x/"),
        InvalidInput,
        "Conf.Callback",
    ),
    (
        "callback relative",
        lambda c: c.text.submit(object="a.txt", callback="/hook"),
        InvalidInput,
        "Conf.Callback",
    ),
    (
        "callback with inline text",
        lambda c: c.text.submit(content="a", callback="http://x/"),
        InvalidInput,
        "Conf",
    ),
    (
        "unknown DetectType scene",
        lambda c: c.text.moderate("a", detect_type="Porn,Gambling"),
        InvalidInput,
        "Conf.DetectType: unknown scene 'Gambling'",
    ),
    (
        "empty DetectType",
        lambda c: c.text.moderate("a", detect_type=[]),
        InvalidInput,
        "Conf.DetectType",
    ),
    (
        "CallbackVersion not Simple/Detail",
        lambda c: c.text.submit(object="a.txt", callback_version="Full"),
        InvalidInput,
        "Conf.CallbackVersion",
    ),
    (
        "CallbackType not 1/2",
        lambda c: c.text.submit(object="a.txt", callback_type=3),
        InvalidInput,
        "Conf.CallbackType",
    ),
    ("BizType empty", lambda c: c.text.moderate("a", biz_type=""), InvalidInput, "Conf.BizType"),
    (
        "text Url not a URL",
        lambda c: c.text.submit(url="example.com/a.txt"),
        InvalidInput,
        "Input.Url",
    ),
    ("empty object key", lambda c: c.text.submit(object=""), InvalidInput, "Input.Object"),
    ("job id with a slash", lambda c: c.text.get("../../etc"), InvalidInput, "job_id"),
    ("job id empty", lambda c: c.text.wait(""), InvalidInput, "job_id"),
    ("job id with a query", lambda c: c.webpage.get("sh1?x=1"), InvalidInput, "job_id"),
    (
        "image with no source",
        lambda c: c.image.moderate(),
        InvalidInput,
        "exactly one of object/url/content",
    ),
    (
        "image with two sources",
        lambda c: c.image.moderate(object="a.jpg", url="http://x/a.jpg"),
        InvalidInput,
        "got object, url",
    ),
    (
        "image content empty",
        lambda c: c.image.moderate(content=b""),
        InvalidInput,
        "Input[0].Content",
    ),
    (
        "image url not http(s)",
        lambda c: c.image.moderate(url="file:///etc/passwd"),
        InvalidInput,
        "detect-url",
    ),
    (
        "image key with ..",
        lambda c: c.image.moderate(object="a/../../b.jpg"),
        InvalidInput,
        "object",
    ),
    (
        "image key with control char",
        lambda c: c.image.moderate(object="a\nb.jpg"),
        InvalidInput,
        "object",
    ),
    (
        "image key over 850 bytes",
        lambda c: c.image.moderate(object="k" * 851),
        LimitExceeded,
        "object: 851 bytes",
    ),
    (
        "GIF interval not positive",
        lambda c: c.image.moderate(object="a.gif", interval=0),
        InvalidInput,
        "Input.Interval",
    ),
    (
        "batch over 100 images",
        lambda c: c.image.moderate_batch(["a.jpg"] * 101),
        LimitExceeded,
        "Input: 101 images exceeds the limit of 100",
    ),
    ("batch empty", lambda c: c.image.moderate_batch([]), InvalidInput, "at least one"),
    ("batch given a string", lambda c: c.image.moderate_batch("a.jpg"), InvalidInput, "sequence"),  # type: ignore[arg-type]
    (
        "batch item DataId too long",
        lambda c: c.image.moderate_batch([ImageInput(object="a", data_id=LONG)]),
        LimitExceeded,
        "Input[0].DataId",
    ),
    (
        "batch item bad URL",
        lambda c: c.image.moderate_batch([ImageInput(url="http:/x")]),
        InvalidInput,
        "Input[0].Url",
    ),
    (
        "sync batch with callback",
        lambda c: c.image._batch(["a"], None, None, "http://x/", None, asynchronous=False),
        InvalidInput,
        "Conf.Callback",
    ),
    (
        "freeze score over 100",
        lambda c: c.image.submit(object="a.jpg", freeze=Freeze(porn_score=101)),
        InvalidInput,
        "Conf.Freeze.PornScore",
    ),
    (
        "webpage URL missing scheme",
        lambda c: c.webpage.moderate("example.com"),
        InvalidInput,
        "Input.Url",
    ),
    (
        "webpage DataId too long",
        lambda c: c.webpage.submit("http://x/", data_id=LONG),
        LimitExceeded,
        "Input.DataId",
    ),
    (
        "object key that is only slashes",
        lambda c: c.image.moderate(object="///"),
        InvalidInput,
        "object: must name an object",
    ),
    (
        "control character in DataId",
        lambda c: c.text.moderate("a", data_id="a\x01b"),
        InvalidInput,
        "Input.DataId: contains the control character",
    ),
    (
        "control character in text",
        lambda c: c.text.moderate("a\x00b"),
        InvalidInput,
        "Input.Content: contains the control character",
    ),
    (
        "control character in a text object key",
        lambda c: c.text.submit(object="a\x1fb.txt"),
        InvalidInput,
        "Input.Object",
    ),
    (
        "BizType with a newline",
        lambda c: c.text.moderate("a", biz_type="abc\n"),
        InvalidInput,
        "Conf.BizType",
    ),
    (
        "image object not a string",
        lambda c: c.image.moderate_batch([ImageInput(object=123)]),  # type: ignore[arg-type]
        InvalidInput,
        "Input.Object: must be a string, not int",
    ),
    (
        "LargeImageDetect not a bool",
        lambda c: c.image.moderate(object="a.jpg", large_image_detect="yes"),  # type: ignore[arg-type]
        InvalidInput,
        "Input.LargeImageDetect: must be True or False",
    ),
    (
        "MaxFrames given a bool",
        lambda c: c.image.moderate(object="a.gif", max_frames=True),
        InvalidInput,
        "Input.MaxFrames: must be a positive integer",
    ),
    (
        "DetectType not a string or list",
        lambda c: c.text.moderate("a", detect_type=5),  # type: ignore[arg-type]
        InvalidInput,
        "Conf.DetectType: must be a string or a list",
    ),
    (
        "image UserInfo with an unknown field",
        lambda c: c.image.moderate(content=b"x", user_info={"nick": "n"}),
        InvalidInput,
        "Input.UserInfo: unknown fields ['nick']",
    ),
    (
        "freeze on a text URL",
        lambda c: c.text.submit(url="http://x/a.txt", freeze=Freeze(porn_score=90)),
        InvalidInput,
        "Conf.Freeze: applies to a COS object input only",
    ),
    (
        "freeze on image bytes",
        lambda c: c.image.submit(content=b"x", freeze=Freeze(ads_score=90)),
        InvalidInput,
        "Conf.Freeze",
    ),
    (
        "negative wait timeout",
        lambda c: c.text.wait("st1", timeout=-5),
        InvalidInput,
        "timeout: must be a finite number",
    ),
    (
        "infinite wait timeout",
        lambda c: c.text.wait("st1", timeout=float("nan")),
        InvalidInput,
        "timeout",
    ),
]


@pytest.mark.parametrize(("what", "call", "error", "text"), CASES, ids=[c[0] for c in CASES])
async def test_bad_input_is_refused_before_sending(
    what: str, call: Call, error: type[InvalidInput], text: str
) -> None:
    client = AuditClient(
        bucket="examplebucket-1250000000",
        region="ap-guangzhou",
        endpoint="http://127.0.0.1:9",
        credentials=Credentials("AKIDx", "k"),
    )
    async with client:
        with pytest.raises(error) as caught:
            await call(client)
    assert text in str(caught.value)
    assert isinstance(caught.value, ValueError)
    assert caught.value.field


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"bucket": "evil.example.com/x", "region": "ap-guangzhou"}, "bucket"),
        ({"bucket": "examplebucket", "region": "ap-guangzhou"}, "bucket"),
        ({"bucket": "Example-1250000000", "region": "ap-guangzhou"}, "bucket"),
        ({"bucket": "examplebucket-1250000000", "region": "evil.example#"}, "region"),
        (
            {
                "bucket": "examplebucket-1250000000",
                "region": "ap-guangzhou",
                "endpoint": "ftp://127.0.0.1",
            },
            "endpoint",
        ),
        (
            {
                "bucket": "examplebucket-1250000000",
                "region": "ap-guangzhou",
                "endpoint": "http://127.0.0.1:1/x?y",
            },
            "endpoint",
        ),
    ],
)
def test_bad_configuration_is_refused(kwargs: dict[str, str], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        AuditClient(credentials=Credentials("AKIDx", "k"), **kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_bucket_names_cannot_steer_the_host() -> None:
    with pytest.raises(InvalidInput):
        AuditClient(
            bucket="a-1250000000.evil.com#",
            region="ap-guangzhou",
            credentials=Credentials("a", "b"),
        )
