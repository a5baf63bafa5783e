"""Callbacks: the service pushes finished jobs, waiters wake without polling.

::

    from cosaudit import AuditClient
    from cosaudit.callbacks import CallbackReceiver

    public = "https://example.com/cosaudit/callback"
    async with CallbackReceiver("0.0.0.0", 8080, public_url=public) as rx:
        async with AuditClient(bucket=..., region=..., callbacks=rx) as client:
            job = await client.text.moderate(object="comments/1.txt")   # woken by the push

* :mod:`.parsing`: both callback shapes into the query APIs' models (pure, no I/O).
* :mod:`.receiver`: :class:`CallbackReceiver`, the framework-neutral core (``handle``).
* :mod:`.aiohttp_server`, :mod:`.asgi`: serving it with aiohttp, or mounted in an ASGI app.
* :mod:`.waiting`: a waiter that takes the push, and polls when none comes.
"""

from .parsing import CALLBACK_KINDS, Callback, parse_callback
from .receiver import CallbackReceiver, ReceiverStats, Reply, Trust

__all__ = [
    "CALLBACK_KINDS",
    "Callback",
    "CallbackReceiver",
    "ReceiverStats",
    "Reply",
    "Trust",
    "parse_callback",
]
