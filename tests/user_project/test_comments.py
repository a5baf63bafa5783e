"""Tests of comments.py with nothing but the cosaudit plugin's fixtures."""

from aiohttp.test_utils import TestClient, TestServer
from comments import make_app

from cosaudit import AuditClient
from cosaudit.testing import Emulated


async def test_a_clean_comment_is_published(cosaudit_client: AuditClient) -> None:
    async with TestClient(TestServer(make_app(cosaudit_client))) as http:
        answer = await http.post("/comments", json={"text": "what a lovely day"})
        assert (answer.status, await answer.json()) == (200, {"published": True})


async def test_an_ad_is_refused(cosaudit_client: AuditClient) -> None:
    async with TestClient(TestServer(make_app(cosaudit_client))) as http:
        answer = await http.post("/comments", json={"text": "buy now, cheap pills"})
        assert answer.status == 422
        assert (await answer.json())["label"] == "Ads"


async def test_an_outage_asks_to_retry(
    cos_emulator: Emulated, cosaudit_client: AuditClient
) -> None:
    cos_emulator.faults.add("unavailable", count=100)  # every retry fails too
    async with TestClient(TestServer(make_app(cosaudit_client))) as http:
        answer = await http.post("/comments", json={"text": "hello"})
        assert answer.status == 503
    assert [r.status for r in cos_emulator.requests] == [503] * len(cos_emulator.requests)
    assert len(cos_emulator.requests) > 1  # the client retried before giving up
