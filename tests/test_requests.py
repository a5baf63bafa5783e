"""Request models: made from keywords, dicts or JSON lines, checked when made, sent as is.

Over the emulator (loopback), not mocks: a request sent with ``submit_request`` gets the same
answer as the keyword call, and a bad one is refused naming the request node.
"""

from __future__ import annotations

import doctest
import json
import re
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from conftest import client_for

import cosaudit.requests
from cosaudit import (
    AudioRequest,
    DocumentRequest,
    Freeze,
    ImageBatchRequest,
    ImageInput,
    ImageRequest,
    InvalidInput,
    JobState,
    LimitExceeded,
    LiveRequest,
    Result,
    TextRequest,
    UserInfo,
    VideoRequest,
    VirusRequest,
    WebpageRequest,
)
from cosaudit.emulator import Emulator, EmulatorConfig
from cosaudit.emulator.images import png_with_text
from cosaudit.errors import NotFoundError
from cosaudit.requests import BadcaseReport, common, image, media, scenes, structure, structuring


@pytest.fixture
async def emu(tmp_path: Path) -> AsyncIterator[Emulator]:
    (tmp_path / "posts").mkdir()
    (tmp_path / "posts" / "spam.txt").write_text("buy now! " * 3, "utf-8")
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "ad.png").write_bytes(png_with_text("buy now"))
    async with Emulator(EmulatorConfig(bucket_dir=tmp_path, final_after_polls=2)) as emulator:
        yield emulator


@pytest.mark.parametrize("module", [cosaudit.requests, common, image, media, scenes, structuring])
def test_docstring_examples_run(module: Any) -> None:
    failed, _ = doctest.testmod(module)
    assert failed == 0


def test_requests_never_import_response_models() -> None:
    code = "import sys, cosaudit.requests; print('\\n'.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(out.stdout.split())
    assert "cosaudit.requests.text" in loaded
    assert not {name for name in loaded if name.startswith("cosaudit.models")}
    assert "aiohttp" not in loaded


# --- made from plain data --------------------------------------------------------------------

# (kind's request class, a JSON line, the body it becomes)
LINES: list[tuple[type[Any], str, dict[str, Any]]] = [
    (
        TextRequest,
        '{"object": "a.txt", "data_id": "x", "biz_type": "b1", "detect_type": ["porn", "ads"]}',
        {
            "Input": {"Object": "a.txt", "DataId": "x"},
            "Conf": {"BizType": "b1", "DetectType": "Porn,Ads"},
        },
    ),
    (
        TextRequest,
        '{"object": "a.txt", "user_info": {"token_id": "u1", "ip": "10.0.0.1"},'
        ' "freeze": {"porn_score": 90}}',
        {
            "Input": {"Object": "a.txt", "UserInfo": {"TokenId": "u1", "IP": "10.0.0.1"}},
            "Conf": {"Freeze": {"PornScore": 90}},
        },
    ),
    (
        VideoRequest,
        '{"url": "https://x/v.mp4", "snapshot_count": 5, "snapshot_mode": "fps",'
        ' "snapshot_interval": 0.5, "detect_content": true}',
        {
            "Input": {"Url": "https://x/v.mp4"},
            "Conf": {
                "Snapshot": {"Mode": "Fps", "Count": 5, "TimeInterval": "0.5"},
                "DetectContent": 1,
            },
        },
    ),
    (
        DocumentRequest,
        '{"url": "https://x/dl?id=1", "file_type": "PDF"}',
        {"Input": {"Url": "https://x/dl?id=1", "Type": "pdf"}, "Conf": {}},
    ),
    (
        LiveRequest,
        '{"url": "rtmp://x/live/1", "biz_type": "b1", "storage_path": "rec"}',
        {
            "Type": "live_video",
            "Input": {"Url": "rtmp://x/live/1"},
            "Conf": {"BizType": "b1"},
            "StorageConf": {"Path": "rec"},
        },
    ),
    (
        ImageBatchRequest,
        '{"images": ["a.jpg", {"url": "https://x/b.png", "data_id": "b"}], "asynchronous": false}',
        {
            "Input": [{"Object": "a.jpg"}, {"Url": "https://x/b.png", "DataId": "b"}],
            "Conf": {"Async": 0},
        },
    ),
    (
        VirusRequest,
        '{"object": "a.zip"}',
        {"Input": {"Object": "a.zip"}, "Conf": {"DetectType": "Virus"}},
    ),
    (AudioRequest, '{"url": "https://x/a.mp3"}', {"Input": {"Url": "https://x/a.mp3"}, "Conf": {}}),
    (
        WebpageRequest,
        '{"url": "https://x/", "return_highlight_html": true}',
        {"Input": {"Url": "https://x/"}, "Conf": {"ReturnHighlightHtml": True}},
    ),
]


def present(tree: Any) -> Any:
    """A body without its unset (None) nodes: what goes on the wire."""
    if isinstance(tree, dict):
        return {key: present(value) for key, value in tree.items() if value is not None}
    if isinstance(tree, list):
        return [present(item) for item in tree]
    return tree


@pytest.mark.parametrize(("cls", "line", "body"), LINES, ids=[c[0].__name__ for c in LINES])
def test_a_json_line_becomes_the_request_the_keywords_make(
    cls: type[Any], line: str, body: dict[str, Any]
) -> None:
    data = json.loads(line)
    request = structure(data, cls)
    assert present(request.to_body()) == body
    if cls is not ImageBatchRequest:  # its images became ImageInputs, as the keywords make them
        assert request == cls(**data)


# (request class, data, the error type, the message)
BAD: list[tuple[type[Any], Any, type[InvalidInput], str]] = [
    (
        TextRequest,
        {"object": "a.txt", "dataid": "x"},
        InvalidInput,
        "dataid: is not a field of TextRequest: unknown ['dataid']; known: [",
    ),
    (
        VideoRequest,
        {"object": "a.mp4"},
        InvalidInput,
        "snapshot_count: is required by VideoRequest",
    ),
    (
        TextRequest,
        {"object": "a.txt", "data_id": "x" * 513},
        LimitExceeded,
        "Input.DataId: 513 bytes exceeds the limit of 512 bytes",
    ),
    (
        TextRequest,
        {"object": "a.txt", "freeze": {"porn": 90}},
        InvalidInput,
        "Conf.Freeze: unknown fields ['porn']",
    ),
    (
        TextRequest,
        {"object": "a.txt", "freeze": {"porn_score": "90"}},
        InvalidInput,
        "Conf.Freeze.PornScore: must be an integer 0-100",
    ),
    (
        TextRequest,
        {"object": "a.txt", "user_info": {"nick": "n"}},
        InvalidInput,
        "Input.UserInfo: unknown fields ['nick']",
    ),
    (TextRequest, {}, InvalidInput, "Input: give exactly one of content/object/url"),
    (
        VideoRequest,
        {"object": "a.mp4", "snapshot_count": "5"},
        InvalidInput,
        "Conf.Snapshot.Count: must be an integer, not str",
    ),
    (
        ImageBatchRequest,
        {"images": [{"object": "a.jpg", "size": 1}]},
        InvalidInput,
        "Input: unknown fields ['size']",
    ),
    (ImageBatchRequest, {"images": []}, InvalidInput, "Input: give at least one image"),
    (LiveRequest, {"url": "rtmp://x/1"}, InvalidInput, "biz_type: is required by LiveRequest"),
    (TextRequest, ["a.txt"], InvalidInput, "request: must be a mapping, not list"),
]


@pytest.mark.parametrize(("cls", "data", "error", "text"), BAD, ids=[str(b[1])[:40] for b in BAD])
def test_bad_data_is_refused_naming_the_field(
    cls: type[Any], data: Any, error: type[InvalidInput], text: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        structure(data, cls)
    assert type(caught.value) is error  # not a cattrs ClassValidationError
    assert text in str(caught.value)
    assert caught.value.field


def test_requests_are_frozen_and_compare_by_value() -> None:
    request = TextRequest(object="a.txt", detect_type=iter(["porn", "ads"]))
    assert request.detect_type == ("porn", "ads")  # a one-shot iterable is read once
    assert request == TextRequest(object="a.txt", detect_type=("porn", "ads"))
    assert hash(request) == hash(TextRequest(object="a.txt", detect_type=("porn", "ads")))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        request.object = "b.txt"  # type: ignore[misc]


def test_user_info_is_taken_as_the_model_or_a_mapping() -> None:
    given = UserInfo(token_id="u1", ip="10.0.0.1")
    assert TextRequest(content="a", user_info=given).user_info is given
    from_mapping = TextRequest(content="a", user_info={"token_id": "u1", "ip": "10.0.0.1"})
    assert from_mapping.to_body()["Input"]["UserInfo"] == {"TokenId": "u1", "IP": "10.0.0.1"}


def test_an_image_goes_through_the_get_unless_the_get_cannot_carry_it() -> None:
    assert ImageRequest(object="a.jpg").via_get
    assert ImageRequest(url="https://x/a.png", callback="https://x/cb").via_get
    assert not ImageRequest(content=b"x").via_get
    assert not ImageRequest(object="a.jpg", user_info={"token_id": "u"}).via_get
    assert not ImageRequest(object="a.jpg", freeze=Freeze(porn_score=1)).via_get
    query = ImageRequest(url="https://x/a.png", detect_type="Terrorism", asynchronous=False).query()
    assert query == {
        "ci-process": "sensitive-content-recognition",
        "detect-url": "https://x/a.png",
        "detect-type": "terrorist",
    }
    with pytest.raises(InvalidInput, match="callback: a callback needs an asynchronous"):
        ImageRequest(object="a.jpg", callback="https://x/cb", asynchronous=False)


def test_a_badcase_report_checks_its_labels() -> None:
    report = BadcaseReport(text="hi", label="Porn", suggested_label="Normal")
    assert report.to_body()["Text"] == "aGk="
    with pytest.raises(InvalidInput, match="SuggestedLabel: is the label the service gave"):
        BadcaseReport(url="https://x/a.png", label="Ads", suggested_label="Ads")


def test_the_document_type_is_guessed_from_the_name() -> None:
    assert media.guess_file_type("a/b/report.final.docx") == "docx"
    assert media.guess_file_type("a/.profile") is None  # a dot file has no extension
    assert media.guess_file_type("a/b/") is None
    DocumentRequest(url="https://x/files/report.pdf?sig=1")  # the path names the type
    with pytest.raises(InvalidInput, match=r"Input\.Type: 'files' has no file extension"):
        DocumentRequest(url="https://x/files?name=a.pdf")


# --- sent over the emulator ----------------------------------------------------------------


async def test_submit_request_answers_as_the_keyword_call(emu: Emulator) -> None:
    async with client_for(emu) as client:
        by_keywords = await client.text.moderate("buy now, limited offer", data_id="k")
        by_request = await client.text.submit_request(
            TextRequest(content="buy now, limited offer", data_id="k")
        )
        submitted = await client.text.submit_request(
            structure({"object": "posts/spam.txt", "data_id": "s"}, TextRequest)
        )
        done = await client.text.moderate_request(TextRequest(object="posts/spam.txt"))
    assert by_request.is_final and by_request.label == by_keywords.label == "Ads"
    assert by_request.data_id == "k"
    assert submitted.state is JobState.SUBMITTED and submitted.data_id == "s"
    assert done.is_final and done.label == "Ads"


async def test_a_request_of_another_kind_is_refused_before_it_is_sent(emu: Emulator) -> None:
    async with client_for(emu) as client:
        with pytest.raises(
            InvalidInput,
            match=r"takes TextRequest, not ImageRequest: send it with client\.image",
        ):
            await client.text.submit_request(ImageRequest(object="img/ad.png"))  # type: ignore[arg-type]
        with pytest.raises(InvalidInput, match=r"send it with client\.image"):
            await client.video.moderate_request(ImageBatchRequest(images=["img/ad.png"]))  # type: ignore[arg-type]
        with pytest.raises(InvalidInput, match="takes ImageBatchRequest, not ImageRequest"):
            await client.image.submit_batch_request(ImageRequest(object="img/ad.png"))  # type: ignore[arg-type]
        with pytest.raises(InvalidInput, match="takes ImageRequest, not dict"):
            await client.image.submit_request({"object": "img/ad.png"})  # type: ignore[arg-type]
    assert emu.stats.total_requests == 0


def test_a_json_text_line_is_structured_and_bad_json_is_an_invalid_input() -> None:
    line = '{"object": "posts/spam.txt", "data_id": "s"}'
    assert structure(line, TextRequest) == structure(line.encode(), TextRequest)
    assert structure(line, TextRequest) == TextRequest(object="posts/spam.txt", data_id="s")
    with pytest.raises(InvalidInput, match=r"^request: is not JSON: .*column 12"):
        structure('{"object": ', TextRequest)
    with pytest.raises(InvalidInput, match="must be a mapping, not list"):
        structure("[1, 2]", TextRequest)


def test_inline_content_shows_its_size_in_the_repr_never_its_text() -> None:
    assert "content=<6 characters>" in repr(TextRequest(content="secret"))
    assert "secret" not in repr(TextRequest(content="secret"))
    assert "content=<3 bytes>" in repr(ImageInput(content=b"abc"))


async def test_image_requests_single_and_batch(emu: Emulator) -> None:
    async with client_for(emu) as client:
        now = await client.image.moderate_request(
            ImageRequest(object="img/ad.png", asynchronous=False)
        )
        waited = await client.image.moderate_request(ImageRequest(object="img/ad.png"))
        jobs = await client.image.submit_batch_request(
            ImageBatchRequest(
                images=[ImageInput(object="img/ad.png", data_id="a"), "img/ad.png"],
                asynchronous=False,
            )
        )
    assert now.is_final and now.result is not Result.NORMAL
    assert waited.is_final and waited.label == now.label
    assert [job.data_id for job in jobs] == ["a", None]
    assert all(job.is_final for job in jobs)


# --- a job id of another kind ----------------------------------------------------------------


async def test_a_job_id_of_another_kind_gets_a_not_found_that_says_so(emu: Emulator) -> None:
    async with client_for(emu) as client:
        image_job = await client.image.submit(object="img/ad.png")
        text_job = await client.text.submit(object="posts/spam.txt")
        assert image_job.job_id and text_job.job_id
        with pytest.raises(NotFoundError) as plain:
            await client.text.get("st" + "0" * 32)
        with pytest.raises(NotFoundError) as hinted:
            await client.text.get(image_job.job_id)
        with pytest.raises(NotFoundError) as waited:
            await client.video.wait(text_job.job_id)
        with pytest.raises(NotFoundError) as own_kind:
            await client.live.get("av" + "0" * 32)  # live jobs share video's endpoint and ids
        assert (await client.image.get(image_job.job_id)).job_id == image_job.job_id
    error = hinted.value
    assert type(error) is NotFoundError
    assert (error.status, error.code) == (plain.value.status, plain.value.code)
    assert error.request_id and error.request_id != plain.value.request_id
    assert "'si…' looks like an image job id: use client.image.get" in str(error)
    assert "'st…' looks like a text job id: use client.text.get" in str(waited.value)
    assert "looks like" not in str(plain.value) and "looks like" not in str(own_kind.value)


def readme_request_example(bucket: Path) -> str:
    """The README's request-model block, with the objects it names put in ``bucket``."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text("utf-8")
    found = re.search(r"`moderate_request`:\n\n```python\n(.*?)```", readme, re.S)
    assert found is not None, "the README shows request models"
    (bucket / "posts" / "1.txt").write_text("buy now! " * 3, "utf-8")
    for name in ("a.jpg", "b.png"):
        (bucket / name).write_bytes(png_with_text("a cat on a mat"))
    return found.group(1)


async def test_the_readme_request_example_runs(emu: Emulator) -> None:
    assert emu.config.bucket_dir is not None
    code = readme_request_example(emu.config.bucket_dir)
    namespace: dict[str, Any] = {}
    exec(f"async def main(client):\n{textwrap.indent(code, '    ')}    return job, jobs", namespace)
    async with client_for(emu) as client:
        job, jobs = await namespace["main"](client)
    assert job.is_final and job.data_id == "post-1" and job.label == "Ads"
    assert [j.state for j in jobs] == [JobState.SUBMITTED, JobState.SUBMITTED]
