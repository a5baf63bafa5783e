"""cosaudit: an asyncio client for Tencent Cloud COS / Cloud Infinite content moderation.

::

    from cosaudit import AuditClient, Credentials

    async with AuditClient(bucket="examplebucket-1250000000", region="ap-guangzhou",
                           credentials=Credentials.from_env()) as client:
        job = await client.text.moderate("some text")

The local emulator lives in :mod:`cosaudit.emulator`; every exception in :mod:`cosaudit.errors`.
"""

from .client import AuditClient
from .config import PollPolicy, RetryPolicy, Timeouts
from .credentials import Credentials, CredentialsProvider
from .errors import (
    AuthError,
    CosAuditError,
    InvalidInput,
    JobFailed,
    JobTimeout,
    LimitExceeded,
    NotFoundError,
    ServiceError,
    ThrottledError,
    TransportError,
)
from .inputs import Freeze, ImageInput
from .models import (
    HitFlag,
    ImageJob,
    JobState,
    Result,
    TextJob,
    UserInfo,
    WebpageJob,
    jobs_table,
)
from .session import RetryEvent

__all__ = [
    "AuditClient",
    "AuthError",
    "CosAuditError",
    "Credentials",
    "CredentialsProvider",
    "Freeze",
    "HitFlag",
    "ImageInput",
    "ImageJob",
    "InvalidInput",
    "JobFailed",
    "JobState",
    "JobTimeout",
    "LimitExceeded",
    "NotFoundError",
    "PollPolicy",
    "Result",
    "RetryEvent",
    "RetryPolicy",
    "ServiceError",
    "TextJob",
    "ThrottledError",
    "Timeouts",
    "TransportError",
    "UserInfo",
    "WebpageJob",
    "jobs_table",
]

__version__ = "0.1.0"
