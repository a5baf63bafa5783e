"""The client end to end against the emulator over loopback: what the README promises."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from conftest import BUCKET, FAST_POLL, NoWait, client_for

from cosaudit import (
    AuditClient,
    Credentials,
    ImageInput,
    JobFailed,
    JobState,
    JobTimeout,
    PollPolicy,
    Result,
    RetryPolicy,
    SubmissionUnknown,
    UserInfo,
)
from cosaudit.emulator import Emulator, EmulatorConfig
from cosaudit.emulator.images import png_with_text
from cosaudit.errors import (
    AuthError,
    InvalidArgumentError,
    NotFoundError,
    ServerError,
    ThrottledError,
)


@pytest.fixture
async def emu(tmp_path: Path) -> AsyncIterator[Emulator]:
    (tmp_path / "posts").mkdir()
    (tmp_path / "posts" / "clean.txt").write_text("a lovely day at the beach", "utf-8")
    (tmp_path / "posts" / "spam.txt").write_text("buy now! " * 3, "utf-8")
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "ad.png").write_bytes(png_with_text("buy now"))
    (tmp_path / "img" / "clean.png").write_bytes(png_with_text("a cat on a mat"))
    async with Emulator(EmulatorConfig(bucket_dir=tmp_path, final_after_polls=2)) as emulator:
        yield emulator


async def test_text_sync_clean_and_sensitive(emu: Emulator) -> None:
    async with client_for(emu) as client:
        clean = await client.text.moderate("hello, what a lovely day", data_id="d-1")
        spam = await client.text.moderate("buy now, limited offer")
    assert clean.state is JobState.SUCCESS and clean.is_final
    assert clean.result is Result.NORMAL and clean.label == "Normal"
    assert clean.data_id == "d-1"
    assert spam.result is not Result.NORMAL and spam.label == "Ads"
    assert spam.ads_info is not None and spam.ads_info.hit_flag != 0
    assert spam.sections and "buy now" in spam.sections[0].ads_info.keywords


async def test_text_async_submit_get_wait(emu: Emulator) -> None:
    async with client_for(emu) as client:
        submitted = await client.text.submit(
            object="posts/spam.txt", data_id="k1", user_info=UserInfo(token_id="u1", nickname="n")
        )
        assert submitted.state is JobState.SUBMITTED and not submitted.is_final
        first = await client.text.get(submitted.job_id)
        assert not first.is_final
        done = await client.text.wait(submitted.job_id)
    assert done.state is JobState.SUCCESS
    assert done.label == "Ads" and done.object == "posts/spam.txt"
    assert done.user_info is not None and done.user_info.token_id == "u1"


async def test_text_moderate_object_polls_to_final(emu: Emulator) -> None:
    async with client_for(emu) as client:
        job = await client.text.moderate(object="posts/clean.txt")
    assert job.is_final and job.result is Result.NORMAL


async def test_wait_on_a_job_kept_pending_times_out_at_the_deadline(emu: Emulator) -> None:
    emu.controls.final_after_polls = None
    emu.controls.hold = True
    clock = [0.0]
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock[0] += seconds

    async with client_for(
        emu, monotonic=lambda: clock[0], sleep=sleep, poll=PollPolicy()
    ) as client:
        job = await client.text.submit(object="posts/clean.txt")
        with pytest.raises(JobTimeout) as caught:
            await client.text.wait(job.job_id, timeout=30)
    assert clock[0] == pytest.approx(30)
    assert sum(sleeps) == pytest.approx(30)
    assert caught.value.job.job_id == job.job_id
    assert caught.value.job.state is JobState.AUDITING


async def test_failed_job_raises_or_returns(emu: Emulator) -> None:
    async with client_for(emu) as client:
        with pytest.raises(JobFailed) as caught:
            await client.text.moderate(object="posts/missing.txt")
        assert caught.value.job.state is JobState.FAILED
        assert caught.value.code
        job = await client.text.moderate(object="posts/missing.txt", raise_on_failure=False)
    assert job.state is JobState.FAILED


async def test_unknown_job_is_not_found(emu: Emulator) -> None:
    async with client_for(emu) as client:
        with pytest.raises(NotFoundError) as caught:
            await client.text.get("st00000000000000000000000000000000")
    assert caught.value.status == 404
    assert caught.value.code == "AuditingJobNotFound"
    assert caught.value.request_id


async def test_image_single_object_and_bytes(emu: Emulator) -> None:
    async with client_for(emu) as client:
        ad = await client.image.moderate(object="img/ad.png", data_id="i1")
        clean = await client.image.moderate(object="img/clean.png")
        raw = await client.image.moderate(
            content=png_with_text("buy now"), user_info={"token_id": "u9"}
        )
    assert ad.is_final and ad.label == "Ads" and ad.result is not Result.NORMAL
    assert ad.data_id == "i1" and ad.object == "img/ad.png"
    assert ad.ads_info is not None and ad.ads_info.ocr_results
    assert "buy now" in ad.ads_info.ocr_results[0].keywords
    assert clean.result is Result.NORMAL
    assert raw.label == "Ads"
    assert raw.user_info is not None and raw.user_info.token_id == "u9"


async def test_image_async_submit_then_wait(emu: Emulator) -> None:
    async with client_for(emu) as client:
        job = await client.image.submit(object="img/ad.png")
        assert job.state is JobState.SUBMITTED
        done = await client.image.wait(job.job_id)
    assert done.state is JobState.SUCCESS and done.label == "Ads"


async def test_image_batch_sync_and_async(emu: Emulator) -> None:
    images = ["img/ad.png", ImageInput(content=png_with_text("hi"), data_id="b"), "img/nope.png"]
    async with client_for(emu) as client:
        jobs = await client.image.moderate_batch(images)
        submitted = await client.image.submit_batch(images[:2])
        finished = [await client.image.wait(j.job_id) for j in submitted]
    assert [j.state for j in jobs] == [JobState.SUCCESS, JobState.SUCCESS, JobState.FAILED]
    assert jobs[0].label == "Ads" and jobs[1].data_id == "b" and jobs[2].code
    assert all(j.state is JobState.SUBMITTED for j in submitted)
    assert [j.label for j in finished] == ["Ads", "Normal"]


@pytest.fixture
async def site() -> AsyncIterator[str]:
    app = web.Application()
    page = (
        "<html><head><title>t</title><script>var porn = 1;</script></head><body>"
        "<p>Welcome to our shop. Buy now and save!</p><img src='/ad.png'><img src='/cat.png'>"
        "</body></html>"
    )
    bodies = {
        "/": (page.encode(), "text/html"),
        "/ad.png": (png_with_text("buy now"), "image/png"),
        "/cat.png": (png_with_text("a cat"), "image/png"),
    }

    async def serve(request: web.Request) -> web.Response:
        body, content_type = bodies[request.path]
        return web.Response(body=body, content_type=content_type)

    for path in bodies:
        app.router.add_get(path, serve)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield f"http://127.0.0.1:{server.port}/"
    await server.close()


async def test_webpage_moderate_returns_text_and_image_results(emu: Emulator, site: str) -> None:
    async with client_for(emu) as client:
        page = await client.webpage.moderate(site, return_highlight_html=True, data_id="w1")
    assert page.state is JobState.SUCCESS and page.is_final
    assert page.url == site and page.data_id == "w1"
    assert page.label == "Ads" and page.suggestion is not Result.NORMAL
    assert page.text_results is not None and page.text_results.results
    assert any(
        "buy now" in (r.ads_info.keywords if r.ads_info else ()) for r in page.text_results.results
    )
    assert page.image_results is not None and len(page.image_results.results) == 2
    assert page.highlight_html and "Buy now" in page.highlight_html
    assert page.page_count == 3


async def test_5xx_and_429_are_retried_and_succeed(emu: Emulator) -> None:
    sleeps = NoWait()
    async with client_for(emu, sleep=sleeps) as client:
        emu.faults.fail_next(2, status=503, code="ServiceUnavailable")
        job = await client.text.moderate("hello")
        emu.faults.fail_next(1, status=429, code="SlowDown")
        again = await client.text.moderate("hello")
        emu.faults.fail_next(2, status=500, code="InternalError")
        got = await client.text.get(job.job_id)
    assert job.is_final and again.is_final and got.job_id == job.job_id
    assert len(sleeps.calls) == 5


async def test_500_on_submit_is_not_retried_and_is_reported_unknown(emu: Emulator) -> None:
    async with client_for(emu, sleep=NoWait()) as client:
        emu.faults.fail_next(1, status=500, code="InternalError")
        with pytest.raises(SubmissionUnknown) as caught:
            await client.text.submit(object="posts/clean.txt", data_id="d-500")
    unknown = caught.value
    assert (unknown.kind, unknown.data_id, unknown.data_ids) == ("text", "d-500", ("d-500",))
    assert isinstance(unknown.cause, ServerError)
    assert unknown.cause.status == unknown.status == 500 and unknown.cause.code == "InternalError"
    assert unknown.request_id and unknown.request_id == unknown.cause.request_id
    assert emu.stats.requests["POST /text/auditing"] == 1


async def test_throttling_surfaces_typed_when_it_persists(emu: Emulator) -> None:
    async with client_for(emu, sleep=NoWait(), retry=RetryPolicy(attempts=2)) as client:
        emu.faults.fail_next(5, status=429, code="SlowDown")
        with pytest.raises(ThrottledError) as caught:
            await client.text.moderate("hello")
    assert caught.value.status == 429


async def test_400_is_not_retried_and_surfaces_typed(emu: Emulator) -> None:
    sleeps = NoWait()
    async with client_for(emu, sleep=sleeps) as client:
        emu.faults.fail_next(1, status=400, code="InvalidArgument")
        with pytest.raises(InvalidArgumentError) as caught:
            await client.text.moderate("hello")
    assert caught.value.status == 400 and caught.value.code == "InvalidArgument"
    assert sleeps.calls == []


async def test_wrong_key_is_refused(emu: Emulator) -> None:
    client = AuditClient(
        bucket=BUCKET,
        region="ap-guangzhou",
        endpoint=emu.url,
        credentials=Credentials(emu.config.secret_id, "not-the-key"),
    )
    async with client:
        with pytest.raises(AuthError) as caught:
            await client.text.moderate("hello")
    assert caught.value.status == 403 and caught.value.code == "SignatureDoesNotMatch"
    assert "not-the-key" not in str(caught.value)


async def test_temporary_credentials_with_token(emu: Emulator) -> None:
    emu.add_key("AKIDtemporary", "temp-secret", token="sts-token+/=")

    async def provider() -> Credentials:
        return Credentials("AKIDtemporary", "temp-secret", "sts-token+/=")

    client = AuditClient(
        bucket=BUCKET, region="ap-guangzhou", endpoint=emu.url, credentials=provider
    )
    async with client:
        text = await client.text.moderate("hello")
        image = await client.image.moderate(object="img/clean.png")
    assert text.is_final and image.is_final


async def test_debug_logs_never_carry_secrets(
    emu: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    emu.add_key("AKIDtemporary", "temp-secret-key", token="sts-session-token")
    creds = Credentials("AKIDtemporary", "temp-secret-key", "sts-session-token")
    client = AuditClient(
        bucket=BUCKET,
        region="ap-guangzhou",
        endpoint=emu.url,
        credentials=creds,
        sleep=NoWait(),
        poll=FAST_POLL,
    )
    caplog.set_level("DEBUG")
    async with client:
        emu.faults.fail_next(1, status=503, code="ServiceUnavailable")
        await client.text.moderate("buy now")
        await client.text.moderate(object="posts/clean.txt")
        with pytest.raises(NotFoundError):
            await client.text.get("st0")
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "retrying" in logged and "request id" in logged
    for secret in ("temp-secret-key", "sts-session-token", "q-signature", "Authorization"):
        assert secret not in logged
    assert "temp-secret-key" not in repr(client) + repr(client.session)


async def test_results_render_for_notebooks(emu: Emulator) -> None:
    async with client_for(emu) as client:
        job = await client.text.moderate("<script>buy now</script>")
    html = job._repr_html_()
    assert job.job_id in html
    assert "Ads" in html
    assert "<script>" not in html


async def test_a_large_batch_body_is_streamed_and_signed(emu: Emulator) -> None:
    # three images of ~600 KB: a body over 1 MiB, which aiohttp must stream, with the
    # signed Content-Length still matching
    images = [
        ImageInput(content=png_with_text(f"buy now {n}") + bytes(600_000), data_id=f"b{n}")
        for n in range(3)
    ]
    async with client_for(emu) as client:
        jobs = await client.image.moderate_batch(images)
    assert [j.data_id for j in jobs] == ["b0", "b1", "b2"]
    assert all(j.label == "Ads" for j in jobs)
