"""The signer against every published and SDK-captured vector of the spec."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cosaudit.wire.signing import (
    Signer,
    authorization,
    compute_signature,
    encode,
    is_signed_header,
    parse_authorization,
)

FIXTURE = Path(__file__).parent / "fixtures" / "signature-vectors.json"
SPEC = Path(__file__).resolve().parents[2] / "shared" / "spec" / "signature-vectors.json"
VECTORS: list[dict[str, Any]] = json.loads(FIXTURE.read_text("utf-8"))["vectors"]


def test_fixture_is_the_spec_copy() -> None:
    if not SPEC.exists():
        pytest.skip("shared/spec is not beside this checkout")
    assert json.loads(SPEC.read_text("utf-8")) == json.loads(FIXTURE.read_text("utf-8"))


def test_every_vector_is_covered() -> None:
    assert len(VECTORS) == 11


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector_reproduces(vector: dict[str, Any]) -> None:
    args = (
        vector["method"],
        vector["path"],
        vector["params"],
        vector["headers"],
        vector["key_time"],
    )
    assert (
        authorization(vector["secret_id"], vector["secret_key"], *args)
        == vector["expected_authorization"]
    )
    signed = compute_signature(vector["secret_key"], *args)
    assert signed.http_string == vector["intermediate"]["http_string"]
    assert signed.string_to_sign == vector["intermediate"]["string_to_sign"]
    assert signed.signature == vector["intermediate"]["signature"]


@pytest.mark.parametrize(
    ("raw", "encoded"),
    [
        ("a b", "a%20b"),
        ("a+b", "a%2Bb"),
        ("/x;y=z&", "%2Fx%3By%3Dz%26"),
        ("-_.~", "-_.~"),
        ("!'()*", "%21%27%28%29%2A"),
        ("腾", "%E8%85%BE"),
    ],
)
def test_encode(raw: str, encoded: str) -> None:
    assert encode(raw) == encoded


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_encode_is_quote_of_utf8(raw: str) -> None:
    # encode has its own fast path; urllib's quote of the UTF-8 bytes is the definition.
    try:
        expected = quote(raw.encode("utf-8"), safe="-_.~")
    except UnicodeEncodeError:  # a lone surrogate: neither can encode it
        with pytest.raises(UnicodeEncodeError):
            encode(raw)
    else:
        assert encode(raw) == expected


def test_signer_picks_the_headers_the_sdk_signs() -> None:
    vector = next(v for v in VECTORS if v["name"] == "post_text_submit_content")
    headers = {
        "Host": "examplebucket-1250000000.ci.ap-beijing.myqcloud.com",
        "Content-Type": "application/xml",
        "Content-Length": "195",
        "User-Agent": "cosaudit",
        "Accept": "*/*",
    }
    signer = Signer(window=10000, backdate=60)
    value = signer.sign(
        vector["secret_id"], vector["secret_key"], "POST", "/text/auditing", {}, headers, 1700000000
    )
    assert value == vector["expected_authorization"]


def test_signer_window() -> None:
    assert Signer(window=900, backdate=60).key_time(1700000000.7) == "1699999940;1700000900"


def test_signed_header_rule() -> None:
    assert is_signed_header("X-CI-Security-Token")
    assert is_signed_header("x-cos-acl")
    assert is_signed_header("Host")
    assert not is_signed_header("User-Agent")
    assert not is_signed_header("Authorization")


def test_parse_authorization_round_trip() -> None:
    vector = VECTORS[4]
    parts = parse_authorization(vector["expected_authorization"])
    assert parts.secret_id == vector["secret_id"]
    assert parts.key_time == vector["key_time"]
    assert parts.param_list == tuple(sorted(k.lower() for k in vector["params"]))
    assert parts.header_list == ("host",)
    assert parts.window == (1699999940, 1700010000)
    assert parts.signature not in repr(parts)


def test_parse_authorization_names_what_is_missing() -> None:
    with pytest.raises(ValueError, match="q-signature"):
        parse_authorization(
            "q-sign-algorithm=sha1&q-ak=x&q-sign-time=1;2&q-key-time=1;2"
            "&q-header-list=&q-url-param-list="
        )
