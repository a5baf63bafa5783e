"""Server-side check of the COS request signature (Tencent Cloud page 436/7778).

The signature is recomputed over exactly what the client says it signed (``q-header-list``,
``q-url-param-list``), from the values actually received: query decoded with form semantics
(``+`` is a space), the percent-decoded path, and ``host`` both as sent and without ``:port``
(the Python SDK drops the port, the Go SDK keeps it).

Answers, decided here because the two error tables disagree or are silent:

=====================================  ==========================================================
situation                              answer (both dialects unless said)
=====================================  ==========================================================
two query parameters whose names are   400 ``InvalidArgument``, before the signature is looked
equal once encoded and lower-cased     at: the signature names parameters that way, so a
(``a=1&A=2``, ``a=1&a=2``)             handler could read another value than the signed one
no Authorization (or an empty one)     401 ``MissingAuthorization``
unparsable, not sha1, bad key time     401 ``InvalidAuthorization``
``q-sign-time`` not ``start;end`` or   401 ``InvalidAuthorization`` (every SDK sends the same
not equal to ``q-key-time``            value twice; the spec gives no meaning to a difference)
unknown SecretId                       COS 403 ``InvalidAccessKeyId``; CI 401 ``SecretidNotExist``
now outside ``q-key-time`` by at most  403 ``AccessDenied``, Message ``Request has expired``
15 minutes                             (COS lists this message as a code; CI's 401
                                       ``SignatureExpired`` would fit too — we keep one answer)
now outside ``q-key-time`` by more     403 ``RequestTimeTooSkewed``: a COS code (client clock
than 15 minutes (either side)          > 15 minutes off); the CI table has none, and the COS
                                       one on both hosts tells a client to correct its clock
                                       from the ``Date`` header rather than to refresh its key
signature differs                      403 ``SignatureDoesNotMatch``: the CI table has no such
                                       code; we use the COS one on both hosts, as real
                                       clients must handle it anyway
key has a token; token absent/wrong    403 ``AccessDenied``, Message names the security token
                                       (``ExpiredToken`` would send clients refreshing a token
                                       that is simply wrong)
=====================================  ==========================================================

"Now" is the emulator's clock (the real time plus ``Faults.clock_offset``). The distance from
it to the signed window decides between expired and skewed: a window that ended, or starts, more
than 15 minutes away from the server's time was signed by a clock that is off (the service
cannot tell an old signature replayed from a slow clock either). A client 20 minutes behind
that signs ``now-60 … now+900`` is thus 5 minutes past its window: ``Request has expired``.

A token sent with a key that has none is ignored. On a mismatch the server's HttpString and
StringToSign are logged at WARNING on ``cosaudit.emulator`` — never the key, a signature or a
security token (its value is masked in the HttpString).
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl

from attrs import define, field

from cosaudit.emulator.responses import ApiError, Dialect
from cosaudit.wire.signing import AuthorizationParts, compute_signature, encode, parse_authorization

__all__ = [
    "MAX_SKEW_SECONDS",
    "TOKEN_HEADERS",
    "Key",
    "Keyring",
    "parse_query",
    "refuse_clashes",
    "verify",
]

logger = logging.getLogger("cosaudit.emulator")

# Beyond this distance between the server's time and the signed window: RequestTimeTooSkewed.
MAX_SKEW_SECONDS = 15 * 60

# Either name is accepted on either host: the Python SDK sends x-ci- to CI paths, the Go SDK
# always sends x-cos-.
TOKEN_HEADERS = ("x-ci-security-token", "x-cos-security-token")

_QUERY_AUTH = (
    "q-sign-algorithm",
    "q-ak",
    "q-sign-time",
    "q-key-time",
    "q-header-list",
    "q-url-param-list",
    "q-signature",
)


@define(frozen=True, slots=True)
class Key:
    """A key pair the emulator accepts, with the token temporary keys must present."""

    secret_id: str
    secret_key: str = field(repr=False)
    token: str | None = field(default=None, repr=False)


class Keyring:
    """The key pairs the emulator accepts, by SecretId."""

    def __init__(self, keys: Iterable[Key] = ()) -> None:
        self._keys = {key.secret_id: key for key in keys}

    def add(self, key: Key) -> None:
        """Accept ``key`` (replacing any key with the same SecretId)."""
        self._keys[key.secret_id] = key

    def get(self, secret_id: str) -> Key | None:
        return self._keys.get(secret_id)

    def __len__(self) -> int:
        return len(self._keys)


def parse_query(query_string: str) -> tuple[dict[str, str], list[str]]:
    """The query as the signature sees it (form-decoded, ``+`` is a space, blanks kept), and the
    names that clash: equal to an earlier one once encoded and lower-cased, as the signature
    compares names. A query with clashes must be refused (see the module doc); no client we
    emulate sends one.
    """
    out: dict[str, str] = {}
    seen: set[str] = set()
    clashes: list[str] = []
    for name, value in parse_qsl(query_string, keep_blank_values=True):
        canonical = encode(name).lower()
        if canonical in seen:
            clashes.append(name)
            continue
        seen.add(canonical)
        out[name] = value
    return out, clashes


def refuse_clashes(clashes: Iterable[str]) -> None:
    """400 ``InvalidArgument`` naming the first clashing parameter, if any."""
    for name in clashes:
        raise ApiError(
            400,
            "InvalidArgument",
            f"The query parameter {name!r} is given more than once "
            "(names are compared case-insensitively).",
        )


def _authorization(headers: Mapping[str, str], query: Mapping[str, str]) -> str | None:
    value = headers.get("Authorization", "").strip()
    if value:
        return value
    if "q-sign-algorithm" in query:
        return "&".join(f"{name}={query.get(name, '')}" for name in _QUERY_AUTH if name in query)
    return None


def _window(value: str) -> tuple[int, int]:
    start, sep, end = value.partition(";")
    if not sep:
        raise ValueError(f"q-sign-time {value!r} is not start;end")
    return int(start), int(end)


def _host_candidates(host: str) -> list[str]:
    candidates = [host]
    name, sep, port = host.rpartition(":")
    # "[::1]:8080" and "127.0.0.1:8080" drop the port; a bare IPv6 "[::1]" has no port.
    if sep and port.isdigit() and not name.endswith(":"):
        candidates.append(name)
    return candidates


def _mismatch(why: str) -> ApiError:
    logger.warning("signature mismatch: %s", why)
    return ApiError(403, "SignatureDoesNotMatch", "The Signature you specified is invalid.")


def _check_signature(
    parts: AuthorizationParts,
    key: Key,
    method: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
) -> None:
    by_encoded: dict[str, list[tuple[str, str]]] = {}
    for name, value in query.items():
        by_encoded.setdefault(encode(name).lower(), []).append((name, value))
    params: dict[str, str] = {}
    for listed in parts.param_list:
        found = by_encoded.get(listed, [])
        if len(found) != 1:
            # parse_query reports clashes; a caller that skipped it still gets no guessing here.
            raise _mismatch(f"signed parameter {listed!r} is in the query {len(found)} times")
        name, value = found[0]
        params[name] = value
    signed_headers: dict[str, str] = {}
    for listed in parts.header_list:
        sent = headers.get(listed)
        if sent is None:
            raise _mismatch(f"signed header {listed!r} was not sent")
        signed_headers[listed] = sent
    host = signed_headers.get("host")
    variants = [{**signed_headers, "host": h} for h in _host_candidates(host)] if host else []
    computed = []
    for variant in variants or [signed_headers]:
        signed = compute_signature(key.secret_key, method, path, params, variant, parts.key_time)
        if hmac.compare_digest(signed.signature.encode(), parts.signature.encode()):
            return
        computed.append(signed)
    # The first variant is the headers exactly as received (host with its port when the client
    # sent one): what a client debugging its signer must compare with its own string.
    shown = computed[0]
    also = " (also tried host without its port)" if len(computed) > 1 else ""
    raise _mismatch(
        f"SecretId {parts.secret_id}; server HttpString={_redacted(shown.http_string, headers)!r} "
        f"StringToSign={shown.string_to_sign!r}{also}",
    )


def _redacted(http_string: str, headers: Mapping[str, str]) -> str:
    """The HttpString with security-token values masked: a signed token header is in it."""
    for name in TOKEN_HEADERS:
        value = headers.get(name)
        if value:
            http_string = http_string.replace(f"{name}={encode(value)}", f"{name}=[secure]")
    return http_string


def verify(
    keyring: Keyring,
    dialect: Dialect,
    method: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    now: float,
) -> Key:
    """Return the key that signed the request, or raise :class:`ApiError` (see module doc).

    ``path`` is percent-decoded; ``query`` comes from :func:`parse_query` (clashes already
    refused); ``headers`` is a case-insensitive mapping of what was received; ``now`` is Unix
    time.
    """
    raw = _authorization(headers, query)
    if raw is None:
        raise ApiError(401, "MissingAuthorization", "The Authorization header is missing.")
    try:
        parts = parse_authorization(raw)
        start, end = parts.window
        _window(parts.sign_time)
    except ValueError as exc:
        raise ApiError(401, "InvalidAuthorization", f"Invalid Authorization: {exc}.") from exc
    if parts.sign_time != parts.key_time:
        message = "Invalid Authorization: q-sign-time differs from q-key-time."
        raise ApiError(401, "InvalidAuthorization", message)
    if parts.algorithm != "sha1":
        raise ApiError(401, "InvalidAuthorization", "Only q-sign-algorithm=sha1 is supported.")
    key = keyring.get(parts.secret_id)
    if key is None:
        if dialect is Dialect.COS:
            raise ApiError(
                403, "InvalidAccessKeyId", "The access key Id format you provided is invalid."
            )
        raise ApiError(401, "SecretidNotExist", "The SecretId does not exist.")
    # How far the server's clock is outside the signed window; see the module doc.
    off = start - now if now < start else now - end
    if off > MAX_SKEW_SECONDS:
        raise ApiError(
            403,
            "RequestTimeTooSkewed",
            "The difference between the request time and the server's time is too large.",
        )
    if off > 0:
        raise ApiError(403, "AccessDenied", "Request has expired")
    _check_signature(parts, key, method, path, query, headers)
    if key.token is not None:
        sent = [v for v in (headers.get(n) or query.get(n) for n in TOKEN_HEADERS) if v]
        if not any(hmac.compare_digest(v.encode(), key.token.encode()) for v in sent):
            raise ApiError(
                403, "AccessDenied", "The security token is missing or does not match the key."
            )
    return key
