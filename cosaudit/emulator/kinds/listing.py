"""The bucket listing: COS ``GET Bucket`` (List Objects, page 436/7734; English 436/30614)
served from the bucket folder, on the COS host only (:func:`cosaudit.emulator.app.front_of`).

What it lists and how (choices where the page is silent are marked INFERRED):

* every regular file under the bucket folder, its key the path below the folder with ``/``;
  sidecar manifests (``*.cosaudit.json``) are hidden, as are names that are not UTF-8 (no key
  can hold them). Folders that are symbolic links are not entered (no loops); a file that is a
  link is listed when it leads to a file inside the folder (what an ``Object`` input may read);
* ``prefix``, ``marker`` (exclusive) and ``delimiter`` (keys holding it after the prefix roll up
  into one ``CommonPrefixes`` entry, counted once towards ``max-keys``), keys in UTF-8 byte
  order (the page's "UTF-8 lexicographical order");
* ``max-keys``: 1,000 when absent; anything but a whole number from 1 to 1,000 is 400
  ``InvalidArgument`` (the page: "up to 1,000"; 0 INFERRED as refused, a page of nothing);
* ``encoding-type``: absent or ``url``, else 400 ``InvalidArgument``; with ``url``, ``Key``,
  ``Prefix``, ``Marker``, ``NextMarker`` and the common prefixes are percent-encoded (``/``
  kept; exactly the fields the official Python SDK decodes), so any key travels; without it a
  character XML cannot carry becomes U+FFFD;
* when truncated, ``IsTruncated`` is ``true`` and ``NextMarker`` the page's last key or common
  prefix; ``LastModified`` is the file's mtime (UTC, milliseconds), ``ETag`` the quoted MD5
  hex of its bytes (a simple upload's ETag), ``Owner`` the APPID, ``StorageClass`` STANDARD;
* no bucket folder (none configured, or not a folder) is 404 ``NoSuchBucket``.

Cost: each page walks the folder below the prefix's last ``/`` and sorts the keys that match,
then hashes the page's files (at most 1,000), all in a worker thread: fine for a test bucket
of tens of thousands of files, not meant for millions.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiohttp import web

from cosaudit.emulator.kinds.base import Call, Route, invalid
from cosaudit.emulator.media import MANIFEST_SUFFIX
from cosaudit.emulator.responses import ApiError, Dialect
from cosaudit.emulator.xmlchars import replace_illegal

__all__ = ["MAX_KEYS", "ROUTES", "list_bucket", "list_keys"]

MAX_KEYS = 1000
_HOSTED_BUCKET = re.compile(r"(?P<bucket>[^.]+)\.cos\.[^.]+\.myqcloud\.com(?::\d+)?", re.I)


def _max_keys(query: Mapping[str, str]) -> int:
    text = query.get("max-keys")
    if text is None:
        return MAX_KEYS
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_KEYS:
        raise invalid(f"max-keys must be a whole number from 1 to {MAX_KEYS}, not {text!r}.")
    return int(text)


def _utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # os.fsdecode's surrogate escapes: bytes that are not UTF-8
        return False
    return True


def _may_hold(folder: str, prefix: str) -> bool:
    """Whether keys under ``folder`` (``a/b/``) can start with ``prefix``."""
    return folder.startswith(prefix) or prefix.startswith(folder)


def list_keys(root: Path, prefix: str = "") -> list[str]:
    """The keys under ``root`` (resolved) starting with ``prefix``, sorted; blocking I/O."""
    head = prefix.rpartition("/")[0]
    start = root
    if head:
        parts = head.split("/")
        if any(part in ("", ".", "..") or "\x00" in part for part in parts):
            return []  # no key has such a segment: nothing can match
        start = root.joinpath(*parts)
        # A folder reached through a symbolic link is not listed from the top either.
        if not start.is_dir() or start.resolve() != start:
            return []
    keys: list[str] = []
    for folder, subfolders, files in os.walk(start):
        relative = Path(folder).relative_to(root).as_posix()
        base = "" if relative == "." else relative + "/"
        subfolders[:] = [
            name for name in subfolders if _utf8(name) and _may_hold(f"{base}{name}/", prefix)
        ]
        for name in files:
            key = base + name
            if not key.startswith(prefix) or key.endswith(MANIFEST_SUFFIX) or not _utf8(name):
                continue
            path = Path(folder, name)
            target = path.resolve() if path.is_symlink() else path
            if target.is_relative_to(root) and target.is_file():
                keys.append(key)
    keys.sort()  # code point order is UTF-8 byte order
    return keys


def _page(
    keys: list[str], prefix: str, marker: str, delimiter: str, max_keys: int
) -> tuple[list[str], list[str], str | None]:
    """The page's keys and common prefixes (in order) and its next marker (None: the last)."""
    items: list[tuple[str, bool]] = []  # (key or common prefix, is a common prefix)
    for key in keys:
        item, rolled = key, False
        if delimiter:
            cut = key.find(delimiter, len(prefix))
            if cut >= 0:
                item, rolled = key[: cut + len(delimiter)], True
        if item <= marker or (items and items[-1][0] == item):
            continue
        if len(items) == max_keys:
            listed, rolled_up = _split(items)
            return listed, rolled_up, items[-1][0]
        items.append((item, rolled))
    listed, rolled_up = _split(items)
    return listed, rolled_up, None


def _split(items: list[tuple[str, bool]]) -> tuple[list[str], list[str]]:
    return [i for i, rolled in items if not rolled], [i for i, rolled in items if rolled]


def _contents(
    root: Path, key: str, owner: dict[str, str], encode: Callable[[str], str]
) -> dict[str, Any] | None:
    """The ``Contents`` of ``key``, or None when its file went away since the walk."""
    path = root.joinpath(*key.split("/"))
    digest = hashlib.md5(usedforsecurity=False)
    try:
        stat = path.stat()
        with path.open("rb") as file:
            for chunk in iter(lambda: file.read(1 << 20), b""):
                digest.update(chunk)
    except OSError:
        return None
    modified = datetime.fromtimestamp(stat.st_mtime, timezone.utc)
    return {
        "Key": encode(key),
        "LastModified": modified.strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{modified.microsecond // 1000:03d}Z",
        "ETag": f'"{digest.hexdigest()}"',
        "Size": stat.st_size,
        "Owner": owner,
        "StorageClass": "STANDARD",
    }


def _url_encode(text: str) -> str:
    return quote(text, safe="/")


async def list_bucket(call: Call) -> web.Response:
    """``GET /`` on the COS host: one page of the bucket folder, COS dialect."""
    query = call.query
    max_keys = _max_keys(query)
    encoding = query.get("encoding-type", "")
    if encoding not in ("", "url"):
        raise invalid(f"encoding-type must be url, not {encoding!r}.")
    encode = _url_encode if encoding else replace_illegal
    prefix, marker = query.get("prefix", ""), query.get("marker", "")
    delimiter = query.get("delimiter", "")
    bucket_dir = call.service.config.bucket_dir
    root = bucket_dir.resolve() if bucket_dir is not None else None
    if root is None or not root.is_dir():
        raise ApiError(404, "NoSuchBucket", "The specified bucket does not exist.")
    appid = call.service.config.appid
    owner = {"ID": appid, "DisplayName": appid}

    def page() -> dict[str, Any]:
        keys, prefixes, next_marker = _page(
            list_keys(root, prefix), prefix, marker, delimiter, max_keys
        )
        hosted = _HOSTED_BUCKET.fullmatch(call.request.host)
        return {
            "Name": hosted["bucket"] if hosted else None,
            "EncodingType": encoding or None,
            "Prefix": encode(prefix),
            "Marker": encode(marker),
            "MaxKeys": max_keys,
            "Delimiter": replace_illegal(delimiter) if delimiter else None,
            "IsTruncated": next_marker is not None,
            "NextMarker": encode(next_marker) if next_marker is not None else None,
            "Contents": [
                entry
                for entry in (_contents(root, key, owner, encode) for key in keys)
                if entry is not None
            ],
            "CommonPrefixes": [{"Prefix": encode(item)} for item in prefixes],
        }

    tree = await asyncio.to_thread(page)
    return call.answer(tree, root="ListBucketResult", dialect=Dialect.COS)


ROUTES = (
    Route(
        "GET",
        re.compile(r"/"),
        list_bucket,
        "/ (GET Bucket)",
        dialect=Dialect.COS,
        front=Dialect.COS,
    ),
)
