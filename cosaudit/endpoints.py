"""Where requests go: the CI and COS hosts of a bucket, or a local endpoint override.

Every part that ends up in a host name is validated here, so no argument can steer a request
to another host (``region="evil.example#"``); object keys are checked by ``inputs.object_key``.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from enum import Enum
from urllib.parse import quote

from attrs import define, field

from .errors import InvalidInput

__all__ = ["ENDPOINT_ENV", "Endpoints", "Service", "endpoint_from_env", "object_path"]

# For tests only, like botocore's AWS_ENDPOINT_URL: where AuditClient sends requests when it is
# given no endpoint (``cosaudit emulator --print-env`` exports it). An endpoint argument wins.
ENDPOINT_ENV = "COSAUDIT_ENDPOINT_URL"

# COS bucket names: lower-case letters, digits and hyphens, then "-<APPID>".
_BUCKET = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?-[0-9]{5,20}")
_REGION = re.compile(r"[a-z]{2,8}(?:-[a-z0-9]{2,20}){1,3}")


class Service(str, Enum):
    """Which front end answers: CI for every job API, COS for the single-image GET."""

    CI = "ci"
    COS = "cos"


def _check_bucket(_: object, __: object, value: str) -> None:
    if not isinstance(value, str) or not _BUCKET.fullmatch(value):
        raise InvalidInput(
            "bucket",
            f"{value!r} is not '<name>-<APPID>' (lower-case letters, digits, hyphens), "
            "e.g. 'examplebucket-1250000000'",
        )


def _check_region(_: object, __: object, value: str) -> None:
    if not isinstance(value, str) or not _REGION.fullmatch(value):
        raise InvalidInput("region", f"{value!r} is not a region such as 'ap-guangzhou'")


# ``scheme://host[:port]`` and nothing else, matched whole: no userinfo, path, query or fragment,
# no whitespace. Parsing leniently (urlsplit) let ``http://h:1/#`` or ``http://h:1?`` through, and
# the API path appended to them became a fragment or a query: the request went to ``/``.
_ENDPOINT = re.compile(
    r"(?P<scheme>https?)://"
    r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9._-]{0,251}[A-Za-z0-9])?)"
    r"(?::(?P<port>[0-9]{1,5}))?/?",
    re.ASCII,
)


def _check_endpoint(_: object, __: object, value: str | None) -> None:
    if value is None:
        return
    match = _ENDPOINT.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise InvalidInput(
            "endpoint",
            f"{value!r} is not scheme://host[:port] with scheme http or https, "
            "e.g. http://127.0.0.1:8765",
        )
    host, port = match["host"], match["port"]
    if host.startswith("["):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise InvalidInput("endpoint", f"{host} is not an IPv6 address") from None
    if port is not None and not 0 < int(port) < 65536:
        raise InvalidInput("endpoint", f"port {port} is not 1 to 65535")


def _check_scheme(_: object, __: object, value: str) -> None:
    if value not in ("http", "https"):
        raise InvalidInput("scheme", f"{value!r} is not 'https' or 'http'")


@define(frozen=True, slots=True)
class Endpoints:
    """Hosts and base URLs for one bucket.

    Args:
        endpoint: send every request to this ``scheme://host:port`` instead (the emulator),
            still naming the real host in the ``Host`` header and the signature.
    """

    bucket: str = field(validator=_check_bucket)
    region: str = field(validator=_check_region)
    endpoint: str | None = field(default=None, validator=_check_endpoint)
    scheme: str = field(default="https", validator=_check_scheme)

    def host(self, service: Service) -> str:
        """``<bucket>.<ci|cos>.<region>.myqcloud.com``."""
        return f"{self.bucket}.{service.value}.{self.region}.myqcloud.com"

    def base_url(self, service: Service) -> str:
        """Where to connect: the override, or ``https://<host>``."""
        if self.endpoint is not None:
            return self.endpoint.removesuffix("/")
        return f"{self.scheme}://{self.host(service)}"


def endpoint_from_env(environ: Mapping[str, str] | None = None) -> str | None:
    """``$COSAUDIT_ENDPOINT_URL`` if set and not empty, checked like an endpoint argument."""
    value = (os.environ if environ is None else environ).get(ENDPOINT_ENV) or None
    if value is not None:
        try:
            _check_endpoint(None, None, value)
        except InvalidInput as error:
            raise InvalidInput(ENDPOINT_ENV, error.message) from None
    return value


def object_path(key: str) -> tuple[str, str]:
    """``(wire_path, signed_path)`` for an object key validated by ``inputs.object_key``.

    Everything but ``/`` and the unreserved characters is percent-encoded, so a key cannot
    add a query or fragment; the signature uses the decoded path.
    """
    key = key.lstrip("/")
    return "/" + quote(key, safe="/-_.~"), "/" + key
