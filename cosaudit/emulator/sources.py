"""Where inputs come from: objects in the bucket folder, and URLs fetched over HTTP.

Failures carry the CI code a job ends with (documented choices):

* object missing, bad key, no bucket folder, or URL answering 404 → ``ResourceNotFound``;
* URL refused (not loopback while ``allow_remote_fetch`` is off; not http/https; not parsable,
  like ``http://[::1/``), any other
  status, a redirect (never followed, so a redirect cannot lead off loopback), network error or
  timeout → ``ResourceDownloadFailed``;
* more bytes than the kind allows → ``ResourceNotSupported`` (unless the caller asked for the
  first ``max_bytes`` only, with ``truncate=True``: media are scanned by their start);
* a download still running when the emulator shuts down is stopped → ``ResourceDownloadFailed``
  (so closing never waits for :data:`FETCH_TIMEOUT`).

Host names are not resolved: only ``localhost`` and literal loopback addresses (127.0.0.0/8,
``::1``, ``::ffff:127.x.x.x``) count as loopback, so checking a URL never leaves the machine and
no DNS answer can point a fetch elsewhere. ``0.0.0.0``, ``[::]``, decimal (``2130706433``),
short (``127.1``) and names that merely resolve to loopback are refused.
"""

from __future__ import annotations

import asyncio
import ipaddress
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import aiohttp
from yarl import URL

__all__ = ["FETCH_TIMEOUT", "SourceError", "Sources", "is_loopback_url"]

FETCH_TIMEOUT = 10.0


class SourceError(Exception):
    """An input that cannot be read; ``code``/``message`` are what the job reports."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def _stopped(url: str) -> SourceError:
    return SourceError(
        "ResourceDownloadFailed", f"Download of {url!r} stopped: the emulator is shutting down."
    )


def _is_loopback_host(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False  # a name (never resolved), or a decimal/octal/short form like 127.1
    # ::ffff:127.0.0.1 is loopback; ::ffff:10.0.0.1 is not (Python < 3.13 calls both not).
    mapped = getattr(address, "ipv4_mapped", None)
    return bool((mapped or address).is_loopback)


def is_loopback_url(url: str) -> bool:
    """Whether ``url`` is http(s) to ``localhost`` or a literal loopback address (False for a
    URL that does not parse, such as ``http://[::1/``).

    The host must be loopback both as ``urlsplit`` reads it and as yarl (what aiohttp connects
    to) reads it: the two disagree on odd URLs such as ``http://evil.example\\@127.0.0.1/``.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname
        wire_host = URL(url).host
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not host or not wire_host:
        return False
    return _is_loopback_host(host) and _is_loopback_host(wire_host)


class Sources:
    """Reads objects from the bucket folder and fetches URLs, within a size limit."""

    def __init__(self, bucket_dir: Path | None, allow_remote_fetch: bool) -> None:
        self._bucket_dir = bucket_dir.resolve() if bucket_dir is not None else None
        self._allow_remote = allow_remote_fetch
        self._session: aiohttp.ClientSession | None = None
        self._downloads: set[asyncio.Task[bytes]] = set()
        self._stopping = False

    def object_path(self, key: str) -> Path:
        """The file standing for object ``key``; SourceError if the key escapes the bucket."""
        missing = SourceError("ResourceNotFound", f"The object {key!r} does not exist.")
        if self._bucket_dir is None or not key or "\\" in key or "\x00" in key:
            raise missing
        parts = PurePosixPath(key.lstrip("/")).parts
        if not parts or any(part in ("..", ".") for part in parts):
            raise missing
        try:
            path = self._bucket_dir.joinpath(*parts).resolve()
            if not path.is_relative_to(self._bucket_dir) or not path.is_file():
                raise missing
        except OSError:
            # A key COS accepts (up to 850 bytes) can be a name this file system cannot hold
            # (a segment over 255 bytes): no such file, so no such object, not a server error.
            raise missing from None
        return path

    def read_object(self, key: str, max_bytes: int, *, truncate: bool = False) -> bytes:
        """The bytes of object ``key`` (with ``truncate``, its first ``max_bytes`` at most)."""
        path = self.object_path(key)
        if truncate:
            with path.open("rb") as file:
                return file.read(max_bytes)
        if path.stat().st_size > max_bytes:
            raise SourceError("ResourceNotSupported", f"The object exceeds {max_bytes} bytes.")
        return path.read_bytes()

    async def fetch(self, url: str, max_bytes: int, *, truncate: bool = False) -> bytes:
        """The body of a GET of ``url`` (loopback only unless remote fetching is allowed); with
        ``truncate``, its first ``max_bytes`` at most instead of an error when longer."""
        if not (self._allow_remote or is_loopback_url(url)):
            raise SourceError(
                "ResourceDownloadFailed",
                f"Download of {url!r} refused: the emulator fetches loopback URLs only.",
            )
        try:
            scheme = urlsplit(url).scheme
        except ValueError:
            scheme = ""
        if scheme not in ("http", "https"):
            raise SourceError("ResourceDownloadFailed", f"Unsupported URL {url!r}.")
        if self._stopping:
            raise _stopped(url)
        download = asyncio.get_running_loop().create_task(self._download(url, max_bytes, truncate))
        self._downloads.add(download)
        download.add_done_callback(self._forget)
        try:
            await asyncio.wait({download})
        finally:
            download.cancel()  # a no-op once done; stops it if our caller was cancelled
        if download.cancelled():  # by abort()
            raise _stopped(url)
        return download.result()

    def _forget(self, download: asyncio.Task[bytes]) -> None:
        self._downloads.discard(download)
        if not download.cancelled():
            download.exception()  # retrieved, even when nobody waits for it any more

    async def _download(self, url: str, max_bytes: int, truncate: bool) -> bytes:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=FETCH_TIMEOUT)
            )
        try:
            async with self._session.get(url, allow_redirects=False) as response:
                if response.status == 404:
                    raise SourceError("ResourceNotFound", f"{url!r} answered 404.")
                if response.status != 200:
                    raise SourceError(
                        "ResourceDownloadFailed", f"{url!r} answered {response.status}."
                    )
                body = bytearray()
                async for chunk in response.content.iter_chunked(64 * 1024):
                    body += chunk
                    if len(body) > max_bytes and truncate:
                        return bytes(body[:max_bytes])
                    if len(body) > max_bytes:
                        raise SourceError(
                            "ResourceNotSupported", f"{url!r} exceeds {max_bytes} bytes."
                        )
                return bytes(body)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            raise SourceError(
                "ResourceDownloadFailed", f"Download of {url!r} failed: {_reason(exc)}."
            ) from exc

    def abort(self) -> None:
        """Stop every download in flight (its caller gets ``ResourceDownloadFailed``) and refuse
        new ones: the emulator is shutting down."""
        self._stopping = True
        for download in list(self._downloads):
            download.cancel()

    async def close(self) -> None:
        """Stop downloads and release the HTTP client."""
        self.abort()
        await asyncio.gather(*self._downloads, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None


def _reason(error: BaseException) -> str:
    """Why a download failed, in words: the service's answer is read by people, and an aiohttp
    repr (``ClientConnectorError(ConnectionKey(host=..., ssl=...))``) says nothing to them."""
    if isinstance(error, aiohttp.ClientConnectorError):
        cause = error.os_error.strerror or type(error.os_error).__name__
        return f"cannot connect to {error.host}:{error.port} ({cause})"
    if isinstance(error, asyncio.TimeoutError):
        return f"no answer within {FETCH_TIMEOUT:g} s"
    if isinstance(error, aiohttp.ServerDisconnectedError):
        return "the server closed the connection"
    if isinstance(error, aiohttp.ClientPayloadError):
        return "the body was cut short"
    if isinstance(error, aiohttp.InvalidURL | ValueError):
        return "not a valid URL"
    if isinstance(error, aiohttp.ClientOSError) and error.strerror:
        return f"connection error ({error.strerror})"
    return f"connection error ({type(error).__name__})"
