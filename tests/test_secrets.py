"""No secret key, security token or signature in logs, reprs, exceptions or files.

One full run against the emulator over loopback with temporary (STS) credentials and every log
record captured at DEBUG (cosaudit's loggers, the emulator's, aiohttp's, asyncio's): text,
object, image GET/batch/URL, webpage, a failed request, a failed job, a retried request, an
ambiguous submission (connection reset after the service took it), a bulk run with its
journal, a signature mismatch, a refused token and a broken connection. Then every log line,
repr, exception (its str, repr, args and the whole ``__cause__``/``__context__`` chain) and the
journal file is searched for the key, the token, every Authorization value and signature the
client produced, the signing keys derived from the secret, and the signature the server
expected.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import traceback
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import pytest
from aiohttp.test_utils import TestServer
from attrs import define, field
from conftest import url_of

from cosaudit import (
    AuditClient,
    Credentials,
    JobFailed,
    PollPolicy,
    RetryPolicy,
    SubmissionUnknown,
)
from cosaudit.emulator import Emulator, EmulatorConfig
from cosaudit.emulator.images import png_with_text
from cosaudit.errors import AuthError, ConnectionLost, CosAuditError, NotFoundError
from cosaudit.session import RetryEvent
from cosaudit.wire.signing import Signer, encode, parse_authorization

SECRET_ID = "AKIDsecretsTEST"
SECRET_KEY = "SECRET-KEY-must-never-be-logged-7f3a"
TOKEN = "STS-TOKEN-must-never-be-logged-91b2+/="
WRONG_KEY = "WRONG-KEY-also-never-logged-0c4d"
PRESIGNED = "PRESIGNED-third-party-signature-5e6f"
BUCKET = "examplebucket-1250000000"
FAST = PollPolicy(initial=0.01, maximum=0.05, timeout=10)


@define(frozen=True, slots=True)
class RecordingSigner(Signer):
    """Signs as usual and keeps what it produced, and with what, so the test can search for it."""

    issued: list[tuple[str, tuple[Any, ...]]] = field(factory=list, repr=False)

    def sign(
        self,
        secret_id: str,
        secret_key: str,
        method: str,
        path: str,
        params: Mapping[str, str],
        headers: Mapping[str, str],
        now: float,
    ) -> str:
        value = Signer.sign(self, secret_id, secret_key, method, path, params, headers, now)
        self.issued.append((value, (secret_id, method, path, dict(params), dict(headers), now)))
        return value


def secrets_of(signer: RecordingSigner) -> set[str]:
    """The key, the token, and everything derived from the key that would let someone sign."""
    found = {SECRET_KEY, TOKEN, WRONG_KEY, PRESIGNED}
    for value, (secret_id, method, path, params, headers, now) in signer.issued:
        parts = parse_authorization(value)
        found |= {value, parts.signature}
        for key in (SECRET_KEY, WRONG_KEY):
            found.add(hmac.new(key.encode(), parts.key_time.encode(), hashlib.sha1).hexdigest())
            # What the emulator computes to compare with: the signature with the right key.
            expected = Signer.sign(signer, secret_id, key, method, path, params, headers, now)
            found.add(parse_authorization(expected).signature)
    # Also as they would appear inside an HttpString, a query string or a form.
    return found | {encode(s) for s in found} | {quote_plus(s) for s in found}


def chain(error: BaseException) -> Iterator[BaseException]:
    """The error, then everything it was raised from or during, however it was hidden."""
    seen: set[int] = set()
    todo: list[BaseException] = [error]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo += [e for e in (current.__cause__, current.__context__) if e is not None]
        todo += [a for a in current.args if isinstance(a, BaseException)]
        cause = getattr(current, "cause", None)
        if isinstance(cause, BaseException):
            todo.append(cause)


def describe(error: BaseException) -> str:
    """Every way an error gets shown or stored: str, repr, args, attributes, tracebacks."""
    texts = []
    for item in chain(error):
        texts += [str(item), repr(item), repr(item.args), repr(getattr(item, "request_info", ""))]
        texts += [repr(value) for value in vars(item).values()] if hasattr(item, "__dict__") else []
    texts += traceback.format_exception(error)
    return "\n".join(texts)


def log_text(records: list[logging.LogRecord]) -> str:
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return "\n".join(
        f"{formatter.format(r)} {r.args!r} {r.exc_text or ''} {r.stack_info or ''}" for r in records
    )


def assert_clean(text: str, secrets: set[str], where: str) -> None:
    leaked = sorted(secret for secret in secrets if secret and secret in text)
    assert not leaked, f"{where} carries {len(leaked)} secret(s), e.g. {leaked[0][:12]}..."


@pytest.fixture
async def sts_emulator(bucket_dir: Path) -> AsyncIterator[Emulator]:
    config = EmulatorConfig(
        secret_id=SECRET_ID,
        secret_key=SECRET_KEY,
        token=TOKEN,
        bucket_dir=bucket_dir,
        job_duration=0.02,
    )
    async with Emulator(config) as emu:
        yield emu


async def test_a_full_run_leaks_nothing(
    sts_emulator: Emulator, site: TestServer, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    caplog.set_level(logging.DEBUG)  # root: every logger that propagates, aiohttp's included
    for name in ("cosaudit", "cosaudit.emulator", "aiohttp", "asyncio", "tenacity"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    emu = sts_emulator
    journal = tmp_path / "bulk.jsonl"  # the one file a run writes
    signer = RecordingSigner()
    events: list[RetryEvent] = []
    errors: list[BaseException] = []
    good = Credentials(SECRET_ID, SECRET_KEY, TOKEN)

    def client(credentials: Credentials = good) -> AuditClient:
        return AuditClient(
            bucket=BUCKET,
            region="ap-guangzhou",
            endpoint=emu.url,
            credentials=credentials,
            signer=signer,
            poll=FAST,
            retry=RetryPolicy(initial=0.001, maximum=0.01),
            on_retry=events.append,
        )

    reprs: list[str] = []
    async with client() as c:
        jobs = [
            await c.text.moderate("buy now, cheap pills", data_id="secret-run-1"),
            await c.text.moderate(object="texts/hello.txt"),
            await c.image.moderate(object="images/ads.png"),
            await c.image.moderate(content=png_with_text("buy now")),
            await c.image.moderate(url=url_of(site, f"/ads.png?q-signature={PRESIGNED}")),
            await c.webpage.moderate(url_of(site, "/page.html"), return_highlight_html=True),
        ]
        try:  # a failed request
            await c.text.get("st0000000000000000000000missing")
        except NotFoundError as error:
            errors.append(error)
        try:  # a failed job
            await c.text.moderate(object="texts/missing.txt")
        except JobFailed as error:
            errors.append(error)
        emu.faults.fail_next(1, status=503, code="ServiceUnavailable")
        jobs.append(await c.text.get(jobs[1].job_id or ""))  # retried once
        emu.faults.add("reset", phase="after", count=1, method="POST")  # accepted, no answer
        try:  # an ambiguous submission: aiohttp's error, holding our headers, lies under it
            await c.text.submit(object="texts/abuse.txt", data_id="ambiguous-1")
        except SubmissionUnknown as error:
            errors.append(error)
        run = c.moderate_many(
            ["texts/hello.txt", "texts/missing.txt"], kind="text", journal=journal, fsync=False
        )
        async with run:
            outcomes = [result async for result in run]
        reprs += [repr(result) for result in outcomes] + [repr(run.summary)]
        reprs += [repr(c), repr(c.session), repr(vars(c.session)), repr(good)]
        reprs += [repr(event) for event in events]
        job_reprs = [repr(job) for job in jobs]
    for wrong in (Credentials(SECRET_ID, WRONG_KEY, TOKEN), Credentials(SECRET_ID, SECRET_KEY)):
        async with client(wrong) as c:
            try:  # a signature mismatch (logged by the emulator), then a missing token
                await c.text.moderate("hello")
            except AuthError as error:
                errors.append(error)
    errors.append(await _broken_connection(signer))

    assert len(events) == 1 and emu.stats.faults_injected == 2  # the 503, the reset
    assert [type(e).__name__ for e in errors] == [
        "NotFoundError",
        "JobFailed",
        "SubmissionUnknown",
        "AuthError",
        "AuthError",
        "ConnectionLost",
    ]
    assert any("signature mismatch" in r.getMessage() for r in caplog.records)
    assert any(r.name == "cosaudit" and r.levelno == logging.DEBUG for r in caplog.records)
    secrets = secrets_of(signer)
    assert len(signer.issued) >= 12
    # aiohttp.access lines come from the test web site only (the emulator logs no access): the
    # site sees its own pre-signed URL, as any web server would; everything else must be clean.
    access = [r for r in caplog.records if r.name == "aiohttp.access"]
    assert_clean(log_text(access), secrets - {PRESIGNED}, "the web site's access log")
    assert_clean(log_text([r for r in caplog.records if r not in access]), secrets, "the log")
    for text in reprs:
        assert_clean(text, secrets, "a repr")
    for text in job_reprs:  # a job shows the URL it was given, a pre-signed one included
        assert_clean(text, secrets - {PRESIGNED}, "a job's repr")
    for error in errors:
        assert_clean(describe(error), secrets, f"{type(error).__name__}")
    assert_clean(journal.read_text("utf-8"), secrets, "the bulk journal")


async def _broken_connection(signer: RecordingSigner) -> BaseException:
    """A server that answers garbage: aiohttp's exception holds our headers; ours must not."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = AuditClient(
        bucket=BUCKET,
        region="ap-guangzhou",
        endpoint=f"http://127.0.0.1:{port}",
        credentials=Credentials(SECRET_ID, SECRET_KEY, TOKEN),
        signer=signer,
        retry=RetryPolicy(attempts=2, initial=0.001),
    )
    try:
        async with client:
            with pytest.raises(ConnectionLost) as caught:
                await client.text.get("st1")
    finally:
        server.close()
        await server.wait_closed()
    return caught.value


def test_credentials_never_show_the_key_or_token() -> None:
    creds = Credentials(SECRET_ID, SECRET_KEY, TOKEN, expires_at=5.0)
    for text in (repr(creds), str(creds), repr([creds]), f"{creds!r}"):
        assert SECRET_KEY not in text and TOKEN not in text
        assert SECRET_ID in text


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"secret_id": "AKID\r\nX-Injected: 1"}, "Credentials.secret_id"),
        ({"secret_id": "AKID&q-signature=forged"}, "Credentials.secret_id"),
        ({"token": f"{TOKEN}\r\nX-Injected: 1"}, "Credentials.token"),
        ({"token": f"{TOKEN}é"}, "Credentials.token"),
        ({"secret_key": ""}, "Credentials.secret_key"),
    ],
)
def test_unsendable_credentials_are_refused_without_echoing_them(
    kwargs: dict[str, str], field: str
) -> None:
    values = {"secret_id": SECRET_ID, "secret_key": SECRET_KEY, "token": TOKEN, **kwargs}
    with pytest.raises(CosAuditError) as caught:
        Credentials(**values)
    assert getattr(caught.value, "field", None) == field
    assert_clean(describe(caught.value), {SECRET_KEY, TOKEN, *kwargs.values()}, "the error")


def test_a_pickled_signer_carries_no_key_or_token() -> None:
    import pickle

    from cosaudit.wire.signing import Signer

    signer = Signer(window=600)
    headers = {"Host": "b-1250000000.ci.ap-guangzhou.myqcloud.com", "x-ci-security-token": "TOK3N"}
    first = signer.sign("AKIDx", "s3cretKEY", "POST", "/text/auditing", {}, headers, 1700000000.5)
    blob = pickle.dumps(signer)
    assert b"s3cretKEY" not in blob and b"TOK3N" not in blob
    again = pickle.loads(blob)
    assert again == signer and again.window == 600
    assert (
        again.sign("AKIDx", "s3cretKEY", "POST", "/text/auditing", {}, headers, 1700000000.5)
        == first
    )
