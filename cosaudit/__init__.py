"""cosaudit: an asyncio client for Tencent Cloud COS / Cloud Infinite content moderation.

::

    from cosaudit import AuditClient, Credentials

    async with AuditClient(bucket="examplebucket-1250000000", region="ap-guangzhou",
                           credentials=Credentials.from_env()) as client:
        job = await client.text.moderate("some text")

The local emulator lives in :mod:`cosaudit.emulator`; every exception in :mod:`cosaudit.errors`.
"""

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .bulk import BulkItem, BulkResult, BulkRun, BulkSummary, ItemStatus
    from .callbacks import CallbackReceiver
    from .client import AuditClient
    from .config import (
        AmbiguousSubmit,
        PollPolicy,
        RetryBudget,
        RetryPolicy,
        SlowDownPause,
        Timeouts,
    )
    from .credentials import Credentials, CredentialsProvider
    from .errors import (
        AuthError,
        CallbackError,
        CosAuditError,
        InvalidInput,
        JobFailed,
        JobTimeout,
        LimitExceeded,
        MissingCredentials,
        NotFoundError,
        ServiceError,
        SubmissionUnknown,
        ThrottledError,
        TransportError,
    )
    from .listing import ObjectEntry
    from .models import (
        AudioJob,
        DocumentJob,
        HitFlag,
        ImageJob,
        JobState,
        LiveJob,
        Result,
        TextJob,
        UserInfo,
        VideoJob,
        VirusJob,
        WebpageJob,
        jobs_table,
    )
    from .requests import (
        AudioRequest,
        DocumentRequest,
        Freeze,
        ImageBatchRequest,
        ImageInput,
        ImageRequest,
        LiveRequest,
        TextRequest,
        VideoRequest,
        VirusRequest,
        WebpageRequest,
    )
    from .retrying import RetryEvent

# Public names load on first use: ``import cosaudit`` stays cheap, and importing a pure part
# (``cosaudit.models``) or the emulator never drags in the HTTP client.
_EXPORTS = {
    "BulkItem": "bulk",
    "BulkResult": "bulk",
    "BulkRun": "bulk",
    "BulkSummary": "bulk",
    "ItemStatus": "bulk",
    "AuditClient": "client",
    "CallbackReceiver": "callbacks",
    "CallbackError": "errors",
    "AmbiguousSubmit": "config",
    "PollPolicy": "config",
    "RetryBudget": "config",
    "RetryPolicy": "config",
    "SlowDownPause": "config",
    "Timeouts": "config",
    "Credentials": "credentials",
    "CredentialsProvider": "credentials",
    "AuthError": "errors",
    "CosAuditError": "errors",
    "InvalidInput": "errors",
    "JobFailed": "errors",
    "JobTimeout": "errors",
    "LimitExceeded": "errors",
    "MissingCredentials": "errors",
    "NotFoundError": "errors",
    "ServiceError": "errors",
    "SubmissionUnknown": "errors",
    "ThrottledError": "errors",
    "TransportError": "errors",
    "ObjectEntry": "listing",
    "AudioRequest": "requests",
    "DocumentRequest": "requests",
    "Freeze": "requests",
    "ImageBatchRequest": "requests",
    "ImageInput": "requests",
    "ImageRequest": "requests",
    "LiveRequest": "requests",
    "TextRequest": "requests",
    "VideoRequest": "requests",
    "VirusRequest": "requests",
    "WebpageRequest": "requests",
    "AudioJob": "models",
    "DocumentJob": "models",
    "HitFlag": "models",
    "ImageJob": "models",
    "JobState": "models",
    "LiveJob": "models",
    "Result": "models",
    "TextJob": "models",
    "UserInfo": "models",
    "VideoJob": "models",
    "VirusJob": "models",
    "WebpageJob": "models",
    "jobs_table": "models",
    "RetryEvent": "retrying",
}

__all__ = [
    "AmbiguousSubmit",
    "AudioJob",
    "AudioRequest",
    "AuditClient",
    "AuthError",
    "BulkItem",
    "BulkResult",
    "BulkRun",
    "BulkSummary",
    "CallbackError",
    "CallbackReceiver",
    "CosAuditError",
    "Credentials",
    "CredentialsProvider",
    "DocumentJob",
    "DocumentRequest",
    "Freeze",
    "HitFlag",
    "ImageBatchRequest",
    "ImageInput",
    "ImageJob",
    "ImageRequest",
    "InvalidInput",
    "ItemStatus",
    "JobFailed",
    "JobState",
    "JobTimeout",
    "LimitExceeded",
    "LiveJob",
    "LiveRequest",
    "MissingCredentials",
    "NotFoundError",
    "ObjectEntry",
    "PollPolicy",
    "Result",
    "RetryBudget",
    "RetryEvent",
    "RetryPolicy",
    "ServiceError",
    "SlowDownPause",
    "SubmissionUnknown",
    "TextJob",
    "TextRequest",
    "ThrottledError",
    "Timeouts",
    "TransportError",
    "UserInfo",
    "VideoJob",
    "VideoRequest",
    "VirusJob",
    "VirusRequest",
    "WebpageJob",
    "WebpageRequest",
    "jobs_table",
]


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'cosaudit' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


__version__ = "0.1.0"
