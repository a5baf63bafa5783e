"""Every bad input is refused locally, typed, naming the field and the limit.

The client points at a loopback server that counts requests: every case asserts it got none.
``tests/BAD_INPUTS.md`` lists every case with the error it gets; it is generated from the tables
here by ``python tests/test_bad_input.py``, and a test fails when it is stale.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from cosaudit import (
    AuditClient,
    Credentials,
    Freeze,
    ImageBatchRequest,
    ImageInput,
    ImageRequest,
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
        lambda c: c.image.submit_batch_request(
            ImageBatchRequest(images=["a"], callback="http://x/", asynchronous=False)
        ),
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
        "image request's asynchronous from a JSON string",
        lambda c: c.image.submit_request(ImageRequest(url="http://x/a.png", asynchronous="false")),  # type: ignore[arg-type]
        InvalidInput,
        "asynchronous: must be True or False (0 or 1 too), not str",
    ),
    (
        "single-image GET with a bad biz-type",
        lambda c: c.image.moderate(url="http://x/a.png", biz_type="bad type!"),
        InvalidInput,
        "biz-type: must be 1 to 64 letters",
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
    (
        "video CallbackType True (a bool is not 1)",
        lambda c: c.video.submit(object="a.mp4", snapshot_count=5, callback_type=True),
        InvalidInput,
        "Conf.CallbackType: must be 1 (all segments) or 2 (violations)",
    ),
    (
        "video DetectContent not True/False",
        lambda c: c.video.submit(
            object="a.mp4",
            snapshot_count=5,
            detect_content="no",  # type: ignore[arg-type]
        ),
        InvalidInput,
        "Conf.DetectContent: must be True or False (0 or 1 too), not str",
    ),
    (
        "video DetectContent 2 (the API's switch is 0/1)",
        lambda c: c.video.submit(object="a.mp4", snapshot_count=5, detect_content=2),
        InvalidInput,
        "Conf.DetectContent: must be True or False (0 or 1 too), not int 2",
    ),
    (
        "Freeze score True (a bool is not a score)",
        lambda c: c.audio.submit(object="a.mp3", freeze=Freeze(porn_score=True)),
        InvalidInput,
        "Conf.Freeze.PornScore: must be an integer 0-100",
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


# Inputs that would steer a request to another host or path: refused, naming the field.
# (An object key may hold '?', '#', '%' or '\\': they are legal in COS keys and percent-encoded
# on the wire, so they cannot steer; tests/test_steering.py checks where such keys arrive.)
STEERING: list[tuple[str, Call, type[InvalidInput], str]] = [
    ("job id with a slash inside", lambda c: c.text.get("st1/../x"), InvalidInput, "job_id"),
    ("job id ending in a slash", lambda c: c.image.get("si1/"), InvalidInput, "job_id"),
    ("job id that is '..'", lambda c: c.webpage.get(".."), InvalidInput, "job_id"),
    ("job id with a fragment", lambda c: c.text.get("st1#x"), InvalidInput, "job_id"),
    ("job id with an encoded slash", lambda c: c.video.get("av1%2F.."), InvalidInput, "job_id"),
    ("job id with CR/LF", lambda c: c.audio.get("sa1\r\nHost: x"), InvalidInput, "job_id"),
    ("job id with a space", lambda c: c.document.get(" st1"), InvalidInput, "job_id"),
    ("job id with full-width digits", lambda c: c.text.get("st１２"), InvalidInput, "job_id"),
    ("job id over 128 characters", lambda c: c.virus.get("a" * 129), InvalidInput, "job_id"),
    ("job id not a string", lambda c: c.text.get(12), InvalidInput, "job_id"),  # type: ignore[arg-type]
    ("live cancel of a path", lambda c: c.live.cancel("../../x"), InvalidInput, "job_id"),
    (
        "object key starting with ../",
        lambda c: c.image.moderate(object="../a.jpg"),
        InvalidInput,
        "object",
    ),
    ("object key ending in /..", lambda c: c.image.moderate(object="a/.."), InvalidInput, "object"),
    (
        "object key with a ./ segment",
        lambda c: c.image.moderate(object="a/./b.jpg"),
        InvalidInput,
        "object",
    ),
    ("object key with CR", lambda c: c.image.moderate(object="a\rb.jpg"), InvalidInput, "object"),
    (
        "object key injecting a header",
        lambda c: c.image.moderate(object="a.jpg HTTP/1.1\r\nHost: evil.example"),
        InvalidInput,
        "object",
    ),
    (
        "object key with DEL",
        lambda c: c.image.moderate(object="a\x7fb.jpg"),
        InvalidInput,
        "object",
    ),
    (
        "text object key with ..",
        lambda c: c.text.submit(object="posts/../../etc/passwd"),
        InvalidInput,
        "Input.Object",
    ),
]

Make = Callable[[], object]
GOOD = {"bucket": "examplebucket-1250000000", "region": "ap-guangzhou"}


def _client(**kwargs: object) -> Make:
    return lambda: AuditClient(**{**GOOD, "credentials": Credentials("AKIDx", "k"), **kwargs})  # type: ignore[arg-type]


def _creds(*args: object) -> Make:
    return lambda: Credentials(*args)  # type: ignore[arg-type]


# (what is wrong, what builds the client or credentials, the field the error must name)
CONFIG: list[tuple[str, Make, str]] = [
    ("bucket with a slash", _client(bucket="evil.example.com/x"), "bucket"),
    ("bucket without an APPID", _client(bucket="examplebucket"), "bucket"),
    ("bucket in upper case", _client(bucket="Example-1250000000"), "bucket"),
    ("bucket with a dot", _client(bucket="example.bucket-1250000000"), "bucket"),
    ("bucket followed by a host", _client(bucket="a-1250000000.evil.com#"), "bucket"),
    ("bucket with userinfo", _client(bucket="user@evil.example-1250000000"), "bucket"),
    ("bucket with a port", _client(bucket="examplebucket-1250000000:443"), "bucket"),
    ("bucket with a newline", _client(bucket="examplebucket-1250000000\n"), "bucket"),
    ("bucket not a string", _client(bucket=1250000000), "bucket"),
    ("region with a fragment", _client(region="evil.example#"), "region"),
    ("region followed by a host", _client(region="ap-guangzhou.evil.com"), "region"),
    ("region with a path", _client(region="ap-guangzhou/evil"), "region"),
    ("region with a port", _client(region="ap-guangzhou:443"), "region"),
    ("region with userinfo", _client(region="ap-guangzhou@evil.example"), "region"),
    ("region with a query", _client(region="ap-guangzhou?x="), "region"),
    ("region with a newline", _client(region="ap-guangzhou\n"), "region"),
    ("region in upper case", _client(region="AP-GUANGZHOU"), "region"),
    ("region empty", _client(region=""), "region"),
    ("endpoint not http(s)", _client(endpoint="ftp://127.0.0.1"), "endpoint"),
    ("endpoint a file URL", _client(endpoint="file:///etc/passwd"), "endpoint"),
    ("endpoint without a scheme", _client(endpoint="127.0.0.1:8765"), "endpoint"),
    ("endpoint without a host", _client(endpoint="http://"), "endpoint"),
    ("endpoint with a path and query", _client(endpoint="http://127.0.0.1:1/x?y"), "endpoint"),
    ("endpoint with a path", _client(endpoint="http://127.0.0.1:8765/base"), "endpoint"),
    ("endpoint with an empty fragment", _client(endpoint="http://127.0.0.1:8765/#"), "endpoint"),
    ("endpoint with an empty query", _client(endpoint="http://127.0.0.1:8765?"), "endpoint"),
    ("endpoint with userinfo", _client(endpoint="http://user:pw@127.0.0.1:8765"), "endpoint"),
    ("endpoint with a bare password", _client(endpoint="http://:pw@127.0.0.1:8765"), "endpoint"),
    ("endpoint with a backslash", _client(endpoint="http://127.0.0.1:1\\@evil"), "endpoint"),
    ("endpoint port out of range", _client(endpoint="http://127.0.0.1:99999"), "endpoint"),
    ("endpoint port not a number", _client(endpoint="http://127.0.0.1:abc"), "endpoint"),
    ("endpoint with whitespace", _client(endpoint=" http://127.0.0.1:8765"), "endpoint"),
    ("endpoint with CR/LF", _client(endpoint="http://127.0.0.1:8765\r\nX: y"), "endpoint"),
    ("endpoint IPv6 not an address", _client(endpoint="http://[zz::1]:8765"), "endpoint"),
    ("endpoint not a string", _client(endpoint=8765), "endpoint"),
    ("verify_ssl a truthy string", _client(verify_ssl="no"), "verify_ssl"),
    ("verify_ssl zero", _client(verify_ssl=0), "verify_ssl"),
    ("max_response_bytes zero", _client(max_response_bytes=0), "max_response_bytes"),
    ("max_response_bytes a string", _client(max_response_bytes="64MB"), "max_response_bytes"),
    ("SecretId with CR/LF", _creds("AKID\r\nX: y", "k"), "Credentials.secret_id"),
    ("SecretId forging a field", _creds("AKID&q-signature=x", "k"), "Credentials.secret_id"),
    ("SecretId empty", _creds("", "k"), "Credentials.secret_id"),
    ("SecretKey empty", _creds("AKIDx", ""), "Credentials.secret_key"),
    ("SecretKey not a string", _creds("AKIDx", b"k"), "Credentials.secret_key"),
    ("token with CR/LF", _creds("AKIDx", "k", "t\r\nX: y"), "Credentials.token"),
    ("token not ASCII", _creds("AKIDx", "k", "tök"), "Credentials.token"),
    ("expiry not a number", _creds("AKIDx", "k", None, "soon"), "Credentials.expires_at"),
]


class Listener:
    """A loopback server that records every request: a refused input must send none."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.seen.append(f"{request.method} {request.path_qs}")
        return web.Response(status=500)


@pytest.fixture
async def listener() -> AsyncIterator[tuple[Listener, str]]:
    recorder = Listener()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", recorder.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield recorder, f"http://127.0.0.1:{server.port}"
    await server.close()


def client_at(url: str) -> AuditClient:
    return AuditClient(
        bucket=GOOD["bucket"],
        region=GOOD["region"],
        endpoint=url,
        credentials=Credentials("AKIDx", "k"),
    )


ALL = CASES + STEERING


@pytest.mark.parametrize(("what", "call", "error", "text"), ALL, ids=[c[0] for c in ALL])
async def test_bad_input_is_refused_before_sending(
    listener: tuple[Listener, str], what: str, call: Call, error: type[InvalidInput], text: str
) -> None:
    recorder, url = listener
    async with client_at(url) as client:
        with pytest.raises(error) as caught:
            await call(client)
    assert text in str(caught.value)
    assert isinstance(caught.value, ValueError)
    assert caught.value.field
    assert recorder.seen == []


@pytest.mark.parametrize(("what", "make", "field"), CONFIG, ids=[c[0] for c in CONFIG])
def test_bad_configuration_is_refused(what: str, make: Make, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        make()
    assert caught.value.field == field


# --- the table: tests/BAD_INPUTS.md -----------------------------------------------------------

TABLE = Path(__file__).with_name("BAD_INPUTS.md")


def _cell(text: str, limit: int = 160) -> str:
    short = text if len(text) <= limit else text[: limit - 1] + "…"
    return "`" + short.replace("`", "'").replace("|", "\\|").replace("\n", " ") + "`"


async def outcomes() -> list[tuple[str, str, str]]:
    """(what is wrong, the error type, its message) for every case, by running it."""
    rows: list[tuple[str, str, str]] = []
    async with client_at("http://127.0.0.1:9") as client:
        for what, call, _, _ in ALL:
            try:
                await call(client)
            except InvalidInput as error:
                rows.append((what, type(error).__name__, str(error)))
            else:  # pragma: no cover - the test above fails on it too
                rows.append((what, "(accepted!)", ""))
    for what, make, _ in CONFIG:
        try:
            make()
        except InvalidInput as error:
            rows.append((what, type(error).__name__, str(error)))
        else:  # pragma: no cover
            rows.append((what, "(accepted!)", ""))
    return rows


def render(rows: list[tuple[str, str, str]]) -> str:
    calls = len(ALL)
    lines = [
        "# Bad inputs and the errors they get",
        "",
        "Generated from `tests/test_bad_input.py` by `python tests/test_bad_input.py`;",
        "`test_bad_input_table_is_current` fails when this file is stale.",
        "",
        f"Rows 1-{calls} are calls with bad arguments: each is refused before anything is sent",
        "(the test points the client at a loopback server and asserts it received nothing).",
        f"Rows {calls + 1}-{calls + len(CONFIG)} are bad client settings and credentials, refused",
        "when the client or the credentials are made. `LimitExceeded` is a kind of `InvalidInput`;",
        "both are `ValueError`s.",
        "",
        "| # | bad input | error | message |",
        "|---|---|---|---|",
    ]
    for number, (what, kind, message) in enumerate(rows, 1):
        lines.append(f"| {number} | {what} | {kind} | {_cell(message)} |")
    return "\n".join(lines) + "\n"


async def test_bad_input_table_is_current() -> None:
    rows = await outcomes()
    assert len(rows) >= 30
    assert all(kind != "(accepted!)" for _, kind, _ in rows)
    expected = render(rows)
    current = TABLE.read_text("utf-8") if TABLE.exists() else ""
    assert current == expected, "tests/BAD_INPUTS.md is stale: run python tests/test_bad_input.py"


if __name__ == "__main__":
    found = asyncio.run(outcomes())
    TABLE.write_text(render(found), "utf-8")
    print(f"wrote {TABLE}: {len(found)} bad inputs", file=sys.stderr)
