"""Credentials never show their secrets, and load from the documented variables."""

from __future__ import annotations

import pytest

from cosaudit import Credentials


def test_repr_hides_key_and_token() -> None:
    creds = Credentials("AKIDpublic", "very-secret-key", "session-token-value", expires_at=5.0)
    text = repr(creds) + str(creds)
    assert "AKIDpublic" in text
    assert "very-secret-key" not in text
    assert "session-token-value" not in text
    assert "[secure]" in text


def test_from_env_prefers_tencentcloud_names() -> None:
    env = {
        "TENCENTCLOUD_SECRET_ID": "id1",
        "TENCENTCLOUD_SECRET_KEY": "key1",
        "TENCENTCLOUD_SESSION_TOKEN": "tok",
        "COS_SECRET_ID": "id2",
        "COS_SECRET_KEY": "key2",
    }
    assert Credentials.from_env(env) == Credentials("id1", "key1", "tok")


def test_from_env_falls_back_to_cos_names() -> None:
    assert Credentials.from_env({"COS_SECRET_ID": "id2", "COS_SECRET_KEY": "key2"}) == Credentials(
        "id2", "key2"
    )


def test_from_env_names_the_missing_variables() -> None:
    with pytest.raises(KeyError, match="TENCENTCLOUD_SECRET_ID"):
        Credentials.from_env({"TENCENTCLOUD_SECRET_KEY": "k"})


def test_from_env_reads_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TENCENTCLOUD_SECRET_ID", "idx")
    monkeypatch.setenv("TENCENTCLOUD_SECRET_KEY", "keyx")
    monkeypatch.delenv("TENCENTCLOUD_SESSION_TOKEN", raising=False)
    assert Credentials.from_env() == Credentials("idx", "keyx")


def test_missing_keys_are_a_cosaudit_error_that_reads_as_a_sentence() -> None:
    from cosaudit.errors import CosAuditError, MissingCredentials

    with pytest.raises(CosAuditError) as caught:
        Credentials.from_env({})
    assert isinstance(caught.value, MissingCredentials)
    # A bare KeyError prints its message quoted, like a dictionary key.
    assert str(caught.value).startswith("set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY")
