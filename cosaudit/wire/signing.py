"""The COS XML request signature (``q-sign-algorithm=sha1``), pure and I/O free.

The algorithm is Tencent Cloud's page 436/7778 ("Request Signature"); every published and
SDK-captured vector in ``tests/fixtures/signature-vectors.json`` reproduces with
:func:`authorization`.

The client signs with :class:`Signer`; the emulator verifies with :func:`compute_signature` and
:func:`parse_authorization`. Both sides share this module because it is pure: the vectors and the
official-SDK conformance test check it from outside.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping

from attrs import define, field

__all__ = [
    "SIGNED_HEADERS",
    "AuthorizationParts",
    "SignedString",
    "Signer",
    "authorization",
    "compute_signature",
    "encode",
    "is_signed_header",
    "parse_authorization",
]

# The headers the official Python SDK signs (``filter_headers``), plus every x-cos-/x-ci- header.
SIGNED_HEADERS = frozenset(
    {
        "cache-control",
        "content-disposition",
        "content-encoding",
        "content-type",
        "content-md5",
        "content-length",
        "expect",
        "expires",
        "host",
        "if-match",
        "if-modified-since",
        "if-none-match",
        "if-unmodified-since",
        "origin",
        "range",
        "transfer-encoding",
        "pic-operations",
    }
)


def is_signed_header(name: str) -> bool:
    """Whether the client signs a header of this name (case-insensitive)."""
    return _is_signed(name.lower())


def _is_signed(lowered: str) -> bool:
    return lowered in SIGNED_HEADERS or lowered.startswith(("x-cos-", "x-ci-"))


# Runs of characters UrlEncode must escape: all but the ASCII ``A-Z a-z 0-9 - _ . ~``.
_RESERVED = re.compile(r"[^A-Za-z0-9_.~-]+")


def _percent(match: re.Match[str]) -> str:
    return "".join(f"%{byte:02X}" for byte in match.group().encode("utf-8"))


def encode(value: str) -> str:
    """UrlEncode of the spec: percent-encode UTF-8, keep only ``A-Z a-z 0-9 - _ . ~``."""
    # The same as quote(value.encode(), safe="-_.~"), at a fraction of the cost: most names and
    # values have nothing to escape, and the rest only a character or two.
    return _RESERVED.sub(_percent, value)


def _canonical(pairs: Iterable[tuple[str, str]]) -> tuple[str, str]:
    """``(k1=v1&k2=v2, k1;k2)`` with keys encoded then lower-cased, values encoded, sorted."""
    encoded = sorted([(encode(k).lower(), encode(v)) for k, v in pairs])
    if not encoded:  # most requests have no query parameters
        return "", ""
    return "&".join([f"{k}={v}" for k, v in encoded]), ";".join([k for k, _ in encoded])


@define(frozen=True, slots=True)
class SignedString:
    """The intermediate values of one signature, for debugging and server-side logs.

    Holds no secret: the sign key is derived from the secret key and is deliberately not kept.
    """

    http_string: str
    string_to_sign: str
    header_list: str
    param_list: str
    signature: str


def compute_signature(
    secret_key: str,
    method: str,
    path: str,
    params: Mapping[str, str],
    headers: Mapping[str, str],
    key_time: str,
) -> SignedString:
    """Sign exactly the given ``params`` and ``headers`` (both already the chosen subsets).

    ``path`` is the percent-*decoded* path starting with ``/``.
    """
    http_parameters, param_list = _canonical(params.items())
    http_headers, header_list = _canonical(headers.items())
    http_string = _http_string(method, path, http_parameters, http_headers)
    string_to_sign, signature = _signature(_sign_key(secret_key, key_time), key_time, http_string)
    return SignedString(http_string, string_to_sign, header_list, param_list, signature)


def _sign_key(secret_key: str, key_time: str) -> bytes:
    """SignKey of the spec, as the ASCII of its hex digest (what the second HMAC is keyed with)."""
    # hmac.digest is OpenSSL's one-shot HMAC: no HMAC object, a third of hmac.new's cost.
    return hmac.digest(secret_key.encode("utf-8"), key_time.encode("utf-8"), "sha1").hex().encode()


def _http_string(method: str, path: str, http_parameters: str, http_headers: str) -> str:
    return f"{method.lower()}\n{path}\n{http_parameters}\n{http_headers}\n"


def _signature(sign_key: bytes, key_time: str, http_string: str) -> tuple[str, str]:
    """``(StringToSign, Signature)`` of an HttpString."""
    digest = hashlib.sha1(http_string.encode("utf-8")).hexdigest()
    string_to_sign = f"sha1\n{key_time}\n{digest}\n"
    return string_to_sign, hmac.digest(sign_key, string_to_sign.encode("utf-8"), "sha1").hex()


def authorization(
    secret_id: str,
    secret_key: str,
    method: str,
    path: str,
    params: Mapping[str, str],
    headers: Mapping[str, str],
    key_time: str,
) -> str:
    """The ``Authorization`` header value for a request, signing every given param and header."""
    signed = compute_signature(secret_key, method, path, params, headers, key_time)
    return _value(secret_id, key_time, signed.header_list, signed.param_list, signed.signature)


def _value(secret_id: str, key_time: str, header_list: str, param_list: str, signature: str) -> str:
    return (
        f"q-sign-algorithm=sha1&q-ak={secret_id}&q-sign-time={key_time}&q-key-time={key_time}"
        f"&q-header-list={header_list}&q-url-param-list={param_list}&q-signature={signature}"
    )


@define(frozen=True, slots=True)
class AuthorizationParts:
    """The fields of an ``Authorization`` value, as a server reads them."""

    algorithm: str
    secret_id: str
    sign_time: str
    key_time: str
    header_list: tuple[str, ...]
    param_list: tuple[str, ...]
    signature: str = field(repr=False)

    @property
    def window(self) -> tuple[int, int]:
        """``(start, end)`` of ``q-key-time`` in Unix seconds; ValueError if malformed."""
        start, _, end = self.key_time.partition(";")
        return int(start), int(end)


def parse_authorization(value: str) -> AuthorizationParts:
    """Split an ``Authorization`` value; raises ``ValueError`` naming the missing part."""
    parts: dict[str, str] = {}
    for item in value.split("&"):
        name, sep, content = item.partition("=")
        if sep:
            parts[name.strip()] = content.strip()
    required = (
        "q-sign-algorithm",
        "q-ak",
        "q-sign-time",
        "q-key-time",
        "q-header-list",
        "q-url-param-list",
        "q-signature",
    )
    missing = [name for name in required if name not in parts]
    if missing:
        raise ValueError(f"Authorization lacks {', '.join(missing)}")

    def _list(raw: str) -> tuple[str, ...]:
        return tuple(item for item in raw.split(";") if item)

    return AuthorizationParts(
        algorithm=parts["q-sign-algorithm"],
        secret_id=parts["q-ak"],
        sign_time=parts["q-sign-time"],
        key_time=parts["q-key-time"],
        header_list=_list(parts["q-header-list"]),
        param_list=_list(parts["q-url-param-list"]),
        signature=parts["q-signature"],
    )


# How many distinct (header, value) pairs a Signer remembers the encoding of; more and it starts
# over. A client sends a handful of headers whose values rarely change (host, content type, the
# token, content lengths), so this is never reached in steady use.
_MEMO_SIZE = 256


@define(frozen=True, slots=True)
class Signer:
    """Signs client requests with a key-time window around ``now``.

    Args:
        window: seconds the signature stays valid after ``now``.
        backdate: seconds the window opens before ``now``, so a server whose clock is slightly
            behind ours still accepts it (the official SDK back-dates by 60 s as well).

    Consecutive requests share most of their signing work, so a signer remembers it: the
    encoding of each header it has signed, and the key time and SignKey of the current second
    (both depend only on the whole second of ``now``). Both memos are per instance and bounded.
    """

    window: int = 900
    backdate: int = 60
    # (name, value) → (encoded lower-case name, "name=value" encoded), or None if not signed.
    _headers: dict[tuple[str, str], tuple[str, str] | None] = field(
        factory=dict, init=False, repr=False, eq=False
    )
    # (secret key, whole second) → (key time, SignKey): one entry, the second being signed in.
    # The SignKey is derived from the secret key: never printed (repr=False), never compared.
    _keys: dict[tuple[str, int], tuple[str, bytes]] = field(
        factory=dict, init=False, repr=False, eq=False
    )

    def __reduce__(self) -> tuple[type[Signer], tuple[int, int]]:
        # The settings only: the memos hold the secret key and the token, which a pickle (or a
        # copy) must not carry; a fresh signer rebuilds them on its first request.
        return (Signer, (self.window, self.backdate))

    def key_time(self, now: float) -> str:
        """``"<start>;<end>"`` for a request signed at ``now`` (Unix seconds)."""
        start = int(now) - self.backdate
        return f"{start};{int(now) + self.window}"

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
        """Authorization for a request: every param, and the headers :func:`is_signed_header`.

        The same value as :func:`authorization` of the chosen headers, with less work.
        """
        second = int(now)
        memo = self._keys.get((secret_key, second))
        if memo is None:
            key_time = self.key_time(second)
            memo = (key_time, _sign_key(secret_key, key_time))
            self._keys.clear()  # the previous second is over: keep only this one
            self._keys[secret_key, second] = memo
        key_time, sign_key = memo
        # Encoded name → "name=value"; a later header of the same name wins, as in a dict.
        chosen: dict[str, str] = {}
        for item in headers.items():
            try:
                pair = self._headers[item]
            except KeyError:
                pair = self._encode_header(*item)
            if pair is not None:
                chosen[pair[0]] = pair[1]
        names = sorted(chosen)
        http_parameters, param_list = _canonical(params.items())
        http_headers = "&".join([chosen[name] for name in names])
        http_string = _http_string(method, path, http_parameters, http_headers)
        _, signature = _signature(sign_key, key_time, http_string)
        return _value(secret_id, key_time, ";".join(names), param_list, signature)

    def _encode_header(self, name: str, value: str) -> tuple[str, str] | None:
        lowered = name.lower()
        pair = None
        if _is_signed(lowered):
            key = encode(lowered).lower()
            pair = (key, f"{key}={encode(value)}")
        if len(self._headers) >= _MEMO_SIZE:
            self._headers.clear()
        self._headers[name, value] = pair
        return pair
