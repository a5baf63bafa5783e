"""Per-API request-rate limits: beyond its limit an API answers ``SlowDown``, as the service does
when an account sends faster than its quota (429 on the CI host, 503 on the COS host: pages
1045/43611 and 436/7730).

An API is named after what it does:

* ``text``, ``image``, ``webpage``, ``video``, ``audio``, ``document``, ``virus``: submitting
  (for ``image``, the single-image GET and the batch POST alike; for ``video``, live streams too);
* ``text-query``, ``image-query``, ...: a job's query (``GET <submit path>/<jobId>``);
* ``live-cancel``: cancelling a live-stream job; ``badcase``: reporting a wrong verdict;
* ``list-objects``: listing the bucket (COS ``GET Bucket``).

:data:`DEFAULT_QPS` holds the one per-second rate the service publishes: live-stream cancel, 20
requests/s (page 436/48278). No other API has a published rate. The synchronous text API's
"default concurrency 100" (page 1045/58201) is a number of requests in flight, not a rate, and is
not emulated: an emulator answering in microseconds never holds 100 requests at once unless the
client sends more than 100 concurrently, and limiting that would throttle the existing
benchmarks that do, with a figure the service never published as a rate.

Each limited API is a token bucket holding at most one second's worth of requests (at least one):
a burst up to the rate passes, a sustained rate above it is answered ``SlowDown`` for the excess.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping

__all__ = ["API_NAMES", "DEFAULT_QPS", "RateLimits", "api_name", "parse_qps"]

_SUBMIT_KINDS = ("text", "image", "webpage", "video", "audio", "document", "virus")
API_NAMES: frozenset[str] = frozenset(
    (
        *_SUBMIT_KINDS,
        *(f"{kind}-query" for kind in _SUBMIT_KINDS),
        "live-cancel",
        "badcase",
        "list-objects",
    )
)
DEFAULT_QPS: Mapping[str, float] = {"live-cancel": 20.0}


def api_name(method: str, template: str) -> str | None:
    """The API a route serves (see the module docstring), from its method and path template."""
    if "ci-process=sensitive-content-recognition" in template:
        return "image"
    if method == "GET" and template.split(" ", 1)[0] == "/":
        return "list-objects"
    parts = template.split("?", 1)[0].strip("/").split("/")
    if parts[:2] == ["video", "cancel_auditing"]:
        return "live-cancel"
    if parts == ["report", "badcase"]:
        return "badcase"
    if parts[0] in _SUBMIT_KINDS and len(parts) == 2 and method == "POST":
        return parts[0]
    if parts[0] in _SUBMIT_KINDS and len(parts) == 3 and method == "GET":
        return f"{parts[0]}-query"
    return None


def _rate(name: str, value: object) -> float:
    if name not in API_NAMES:
        known = ", ".join(sorted(API_NAMES))
        raise ValueError(f"unknown API {name!r} in qps; known: {known}")
    try:
        rate = float(value)  # type: ignore[arg-type]  # a str or a number; others fail here
    except (TypeError, ValueError):
        raise ValueError(f"qps for {name} must be a number of requests/s, got {value!r}") from None
    if not rate > 0:  # also refuses NaN
        raise ValueError(f"qps for {name} must be > 0 (inf for no limit), got {value!r}")
    return rate


def parse_qps(value: Mapping[str, float] | str | None) -> dict[str, float]:
    """Limits in requests/s by API: a mapping or ``"text=100,image=20"``, over :data:`DEFAULT_QPS`.

    ``NAME=inf`` lifts a limit (a default one too). Raises ValueError naming what is wrong.
    """
    if value is None:
        return dict(DEFAULT_QPS)
    pairs: Iterable[tuple[str, object]]
    if isinstance(value, str):
        parsed = []
        for part in (p.strip() for p in value.split(",")):
            if not part:
                continue
            name, sep, number = part.partition("=")
            if not sep:
                raise ValueError(f"qps takes NAME=RATE pairs separated by ',', got {part!r}")
            parsed.append((name.strip(), number.strip()))
        pairs = parsed
    else:
        pairs = value.items()
    limits = dict(DEFAULT_QPS)
    limits.update((name, _rate(name, rate)) for name, rate in pairs)
    return limits


class RateLimits:
    """The live token buckets of one emulator: :meth:`admit` says whether a request may pass.

    Args:
        limits: requests/s by API name (from :func:`parse_qps`); ``inf`` is no limit.
        clock: monotonic seconds (the emulator's job clock, injectable).
    """

    __slots__ = ("_buckets", "_clock", "_limits", "_names")

    def __init__(self, limits: Mapping[str, float], clock: Callable[[], float]) -> None:
        self._limits = {name: rate for name, rate in limits.items() if rate < math.inf}
        self._clock = clock
        # API name -> [tokens, last refill]; created full on the API's first request.
        self._buckets: dict[str, list[float]] = {}
        self._names: dict[tuple[str, str], str | None] = {}

    def __repr__(self) -> str:
        return f"RateLimits({self._limits!r})"

    def admit(self, method: str, template: str) -> str | None:
        """Take a token for a request to this route: None when it may pass, else the name of the
        API whose limit it is over."""
        if not self._limits:
            return None  # the hot path of an unlimited emulator: one test
        key = (method, template)
        try:
            api = self._names[key]
        except KeyError:
            api = self._names[key] = api_name(method, template)
        if api is None or (rate := self._limits.get(api)) is None:
            return None
        capacity = max(1.0, rate)
        now = self._clock()
        bucket = self._buckets.get(api)
        if bucket is None:
            bucket = self._buckets[api] = [capacity, now]
        tokens = min(capacity, bucket[0] + (now - bucket[1]) * rate)
        bucket[1] = now
        if tokens < 1.0:
            bucket[0] = tokens
            return api
        bucket[0] = tokens - 1.0
        return None
