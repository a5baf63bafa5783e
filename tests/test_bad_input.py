"""Every bad input is refused locally, typed, naming the field and the limit.

The client points at a port where nothing listens: had anything been sent, the error would be
a ConnectError instead. The table below doubles as documentation of what is checked.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
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
    # --- video ---------------------------------------------------------------------------------
    (
        "video with no source",
        lambda c: c.video.submit(snapshot_count=10),
        InvalidInput,
        "exactly one of object/url",
    ),
    (
        "video with two sources",
        lambda c: c.video.submit(object="a.mp4", url="http://x/a.mp4", snapshot_count=10),
        InvalidInput,
        "got object, url",
    ),
    (
        "snapshot Count 0",
        lambda c: c.video.submit(object="a.mp4", snapshot_count=0),
        InvalidInput,
        "Conf.Snapshot.Count: must be in (0, 10000], got 0",
    ),
    (
        "snapshot Count over 10,000",
        lambda c: c.video.moderate(object="a.mp4", snapshot_count=10_001),
        LimitExceeded,
        "Conf.Snapshot.Count: 10001 frames exceeds the limit of 10000",
    ),
    (
        "snapshot Count not an integer",
        lambda c: c.video.submit(object="a.mp4", snapshot_count="10"),  # type: ignore[arg-type]
        InvalidInput,
        "Conf.Snapshot.Count: must be an integer, not str",
    ),
    (
        "snapshot TimeInterval 0",
        lambda c: c.video.submit(object="a.mp4", snapshot_count=5, snapshot_interval=0),
        InvalidInput,
        "Conf.Snapshot.TimeInterval: must be in (0, 60] seconds",
    ),
    (
        "snapshot TimeInterval over 60 s",
        lambda c: c.video.submit(object="a.mp4", snapshot_count=5, snapshot_interval=60.5),
        InvalidInput,
        "Conf.Snapshot.TimeInterval: must be in (0, 60] seconds to the millisecond, got 60.5",
    ),
    (
        "snapshot TimeInterval under a millisecond",
        lambda c: c.video.submit(object="a.mp4", snapshot_count=5, snapshot_interval=0.0004),
        InvalidInput,
        "Conf.Snapshot.TimeInterval",
    ),
    (
        "snapshot TimeInterval infinite",
        lambda c: c.video.submit(object="a.mp4", snapshot_count=5, snapshot_interval=float("inf")),
        InvalidInput,
        "Conf.Snapshot.TimeInterval",
    ),
    (
        "snapshot Mode unknown",
        lambda c: c.video.submit(object="a.mp4", snapshot_count=5, snapshot_mode="Random"),
        InvalidInput,
        "Conf.Snapshot.Mode: 'Random' is not one of Interval, Average, Fps",
    ),
    (
        "video DataId over 512 bytes",
        lambda c: c.video.submit(object="a.mp4", snapshot_count=5, data_id=LONG),
        LimitExceeded,
        "Input.DataId: 513 bytes exceeds the limit of 512",
    ),
    (
        "video freeze on a URL",
        lambda c: c.video.submit(
            url="http://x/a.mp4", snapshot_count=5, freeze=Freeze(porn_score=90)
        ),
        InvalidInput,
        "Conf.Freeze: applies to a COS object input only",
    ),
    (
        "video callback not http(s)",
        lambda c: c.video.submit(object="a.mp4", snapshot_count=5, callback="ftp://x/"),
        InvalidInput,
        "Conf.Callback",
    ),
    (
        "video CallbackType 3",
        lambda c: c.video.submit(object="a.mp4", snapshot_count=5, callback_type=3),
        InvalidInput,
        "Conf.CallbackType",
    ),
    (
        "video URL not http(s)",
        lambda c: c.video.submit(url="rtmp://x/live", snapshot_count=5),
        InvalidInput,
        "Input.Url",
    ),
    # --- audio ---------------------------------------------------------------------------------
    ("audio with no source", lambda c: c.audio.moderate(), InvalidInput, "exactly one of"),
    (
        "audio UserInfo field over 128 bytes",
        lambda c: c.audio.submit(object="a.mp3", user_info={"room": "r" * 129}),
        LimitExceeded,
        "Input.UserInfo.Room: 129 bytes exceeds the limit of 128",
    ),
    (
        "audio CallbackVersion unknown",
        lambda c: c.audio.submit(object="a.mp3", callback_version="Verbose"),
        InvalidInput,
        "Conf.CallbackVersion",
    ),
    (
        "audio key with ..",
        lambda c: c.audio.submit(object="../a.mp3"),
        InvalidInput,
        "Input.Object",
    ),
    # --- document ------------------------------------------------------------------------------
    (
        "document key without extension or Type",
        lambda c: c.document.submit(object="uploads/contract"),
        InvalidInput,
        "Input.Type: 'contract' has no file extension",
    ),
    (
        "document URL without extension or Type",
        lambda c: c.document.moderate(url="https://x/download?id=7"),
        InvalidInput,
        "Input.Type",
    ),
    (
        "document Type not a file type",
        lambda c: c.document.submit(object="uploads/contract", file_type="../docx"),
        InvalidInput,
        "Input.Type: '../docx' is not a file type",
    ),
    (
        "document DetectType unknown",
        lambda c: c.document.submit(object="a.pdf", detect_type="Virus"),
        InvalidInput,
        "Conf.DetectType: unknown scene 'Virus'",
    ),
    # --- live ----------------------------------------------------------------------------------
    (
        "live without BizType",
        lambda c: c.live.submit("rtmp://x/live/1", biz_type=None),  # type: ignore[arg-type]
        InvalidInput,
        "Conf.BizType: is required for a live stream",
    ),
    (
        "live with an empty BizType",
        lambda c: c.live.submit("rtmp://x/live/1", biz_type=""),
        InvalidInput,
        "Conf.BizType",
    ),
    (
        "live URL scheme ftp",
        lambda c: c.live.submit("ftp://x/live/1", biz_type="b1"),
        InvalidInput,
        "Input.Url: 'ftp://x/live/1' is not an absolute rtmp, rtmps, http or https URL",
    ),
    (
        "live URL without a host",
        lambda c: c.live.submit("rtmp:///live/1", biz_type="b1"),
        InvalidInput,
        "Input.Url",
    ),
    (
        "live DataId over 512 bytes",
        lambda c: c.live.submit("rtmp://x/live/1", biz_type="b1", data_id=LONG),
        LimitExceeded,
        "Input.DataId",
    ),
    (
        "live StorageConf.Path with ..",
        lambda c: c.live.submit("rtmp://x/live/1", biz_type="b1", storage_path="a/../b"),
        InvalidInput,
        "StorageConf.Path",
    ),
    (
        "live CallbackType 0",
        lambda c: c.live.submit("rtmp://x/live/1", biz_type="b1", callback_type=0),
        InvalidInput,
        "Conf.CallbackType",
    ),
    ("live cancel of a path", lambda c: c.live.cancel("../x"), InvalidInput, "job_id"),
    ("live get of a query", lambda c: c.live.get("vab1?x"), InvalidInput, "job_id"),
    (
        "live wait with a negative timeout",
        lambda c: c.live.wait("vab1", timeout=-1),
        InvalidInput,
        "timeout",
    ),
    # --- virus ---------------------------------------------------------------------------------
    ("virus with no source", lambda c: c.virus.submit(), InvalidInput, "exactly one of"),
    (
        "virus with two sources",
        lambda c: c.virus.moderate(object="a.zip", url="http://x/a.zip"),
        InvalidInput,
        "got object, url",
    ),
    (
        "virus URL not http(s)",
        lambda c: c.virus.submit(url="file:///etc/passwd"),
        InvalidInput,
        "Input.Url",
    ),
    (
        "virus callback relative",
        lambda c: c.virus.submit(object="a.zip", callback="/hook"),
        InvalidInput,
        "Conf.Callback",
    ),
    ("virus job id empty", lambda c: c.virus.get(""), InvalidInput, "job_id"),
    # --- badcase -------------------------------------------------------------------------------
    (
        "badcase with neither text nor url",
        lambda c: c.report_badcase(label="Porn", suggested_label="Normal"),
        InvalidInput,
        "exactly one of text/url",
    ),
    (
        "badcase with text and url",
        lambda c: c.report_badcase(
            label="Porn", suggested_label="Normal", text="a", url="http://x/a.png"
        ),
        InvalidInput,
        "got text, url",
    ),
    (
        "badcase text over 10,000 characters",
        lambda c: c.report_badcase(label="Porn", suggested_label="Normal", text="a" * 10_001),
        LimitExceeded,
        "Text: 10001 characters exceeds the limit of 10000",
    ),
    (
        "badcase image URL not http(s)",
        lambda c: c.report_badcase(label="Porn", suggested_label="Normal", url="data:x"),
        InvalidInput,
        "Url",
    ),
    (
        "badcase Label empty",
        lambda c: c.report_badcase(label="", suggested_label="Normal", text="a"),
        InvalidInput,
        "Label",
    ),
    (
        "badcase SuggestedLabel with markup",
        lambda c: c.report_badcase(label="Porn", suggested_label="<Normal>", text="a"),
        InvalidInput,
        "SuggestedLabel: '<Normal>' is not a label",
    ),
    (
        "badcase suggesting the same label",
        lambda c: c.report_badcase(label="Porn", suggested_label="Porn", text="a"),
        InvalidInput,
        "SuggestedLabel: is the label the service gave",
    ),
    (
        "badcase JobId with a slash",
        lambda c: c.report_badcase(
            label="Porn", suggested_label="Normal", text="a", job_id="st1/x"
        ),
        InvalidInput,
        "JobId",
    ),
    (
        "badcase ModerationTime without a timezone",
        lambda c: c.report_badcase(
            label="Porn",
            suggested_label="Normal",
            text="a",
            moderation_time=datetime(2021, 8, 7, 12, 12, 12),
        ),
        InvalidInput,
        "ModerationTime: needs a timezone",
    ),
    (
        "badcase ModerationTime not a time",
        lambda c: c.report_badcase(
            label="Porn", suggested_label="Normal", text="a", moderation_time="yesterday"
        ),
        InvalidInput,
        "ModerationTime: 'yesterday' is not a time",
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
