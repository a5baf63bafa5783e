"""A bulk run's progress bar: tqdm, drawn from the run's live summary a few times a second.

``moderate_many(..., progress=...)`` takes:

* ``True``: ``tqdm.auto`` in Jupyter (a widget), a tqdm bar on stderr in a terminal, and
  nothing when stderr is not a terminal (a pipe, a log file, CI), whose logs a stream of
  carriage returns would only clutter.
* a file (``progress=sys.stdout``): a tqdm bar there, terminal or not.
* a tqdm-like factory (``tqdm.rich.tqdm``, a ``functools.partial`` of ``tqdm.tqdm``): called
  with ``total``, ``desc`` and ``unit``; it draws wherever it draws.
* ``False`` (the default): no bar.

The bar counts items done (handed over, or skipped as finished by an earlier run) against the
total: the input's ``len()`` when it has one, else the items taken so far (a listing is
counted as it goes, so the ETA then covers what has been read, not what is still to come).
Its postfix counts succeeded/failed/ambiguous and in flight; tqdm adds items/s and the ETA.

Why a timer and not a draw per result: a drawing costs more than a result, and a run of slow
jobs (minutes of video) would otherwise show a frozen clock between results.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Sized
from functools import partial
from typing import IO, Any, Protocol

from ..errors import InvalidInput
from .results import BulkSummary

__all__ = ["Progress", "ProgressBar", "ProgressOption", "bar_factory"]

ProgressOption = bool | Callable[..., Any] | IO[str] | None
"""What ``moderate_many(progress=...)`` takes (see the module's docstring)."""

#: Seconds between draws (tqdm's own default minimum is 0.1 s).
INTERVAL = 0.2


class ProgressBar(Protocol):
    """What the runner uses of a tqdm bar."""

    def update(self, n: float = ...) -> bool | None: ...
    def refresh(self) -> None: ...
    def set_postfix_str(self, s: str = ..., refresh: bool = ...) -> None: ...
    def close(self) -> None: ...


def bar_factory(option: ProgressOption) -> Callable[..., ProgressBar] | None:
    """The tqdm-like factory ``option`` asks for here and now, or None for no bar."""
    if option is None or option is False:
        return None
    if option is True:
        if _in_notebook():
            from tqdm.auto import tqdm as auto_tqdm

            return auto_tqdm
        stderr = sys.stderr
        if stderr is None or not _is_terminal(stderr):
            return None
        from tqdm import tqdm

        return partial(tqdm, file=stderr)
    if callable(option):
        return option
    if hasattr(option, "write"):
        from tqdm import tqdm

        return partial(tqdm, file=option)
    raise InvalidInput(
        "progress",
        f"give True, False, a file or a tqdm-like factory, not a {type(option).__name__}",
    )


def _in_notebook() -> bool:
    """Whether this runs in a Jupyter kernel (IPython imported and its kernel app configured),
    the test tqdm.autonotebook makes, without importing IPython where it is not."""
    ipython = sys.modules.get("IPython")
    get = getattr(ipython, "get_ipython", None)
    shell = get() if callable(get) else None
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def total_of(items: object) -> int | None:
    """The input's length if it has one (a list, a tuple); a generator's is unknown."""
    if isinstance(items, Sized) and not isinstance(items, str | bytes):
        try:
            return len(items)
        except TypeError:
            return None
    return None


class Progress:
    """A bar following a run: drawn every :data:`INTERVAL` seconds from ``summary()``, and
    once more, final, on :meth:`close`."""

    def __init__(
        self,
        bar: ProgressBar,
        summary: Callable[[], BulkSummary],
        *,
        total: int | None,
        interval: float = INTERVAL,
    ) -> None:
        self._bar = bar
        self._summary = summary
        self._total = total
        self._interval = interval
        self._done = 0
        self._closed = False
        self._ticker: asyncio.Task[None] | None = None

    @classmethod
    def start(
        cls,
        factory: Callable[..., ProgressBar],
        summary: Callable[[], BulkSummary],
        *,
        total: int | None,
        desc: str,
    ) -> Progress:
        """A bar made by ``factory``, drawing from now on (in the running event loop)."""
        progress = cls(factory(total=total, desc=desc, unit="item"), summary, total=total)
        progress._ticker = asyncio.ensure_future(progress._tick())
        return progress

    async def _tick(self) -> None:
        while True:
            # Real time, not the run's injected sleep: a test's instant sleep would spin here.
            await asyncio.sleep(self._interval)
            self.draw()

    def draw(self) -> None:
        """Show the summary as it is now."""
        summary = self._summary()
        done = summary.skipped + summary.handed_over
        bar: Any = self._bar
        total = max(self._total or 0, summary.items)
        if total and getattr(bar, "total", total) != total:
            _set_total(bar, total)  # counted as it goes (or grown by journaled jobs)
        bar.set_postfix_str(postfix(summary), refresh=False)
        drawn = False
        if done > self._done:
            drawn = bool(bar.update(done - self._done))  # True when tqdm drew
            self._done = done
        if not drawn:
            bar.refresh()

    def close(self) -> None:
        """Stop the timer, draw the final counts and close the bar; once."""
        if self._closed:
            return
        self._closed = True
        if self._ticker is not None:
            self._ticker.cancel()
        self.draw()
        self._bar.close()

    async def wait_closed(self) -> None:
        """Wait for the timer to end after :meth:`close` (so no task outlives the run)."""
        if self._ticker is not None:
            await asyncio.gather(self._ticker, return_exceptions=True)


def _set_total(bar: Any, total: int) -> None:
    bar.total = total
    # tqdm.notebook's widget keeps the maximum it was made with (an unknown total makes a
    # narrow 'info' bar): set it as its reset() does, without resetting the count.
    container = getattr(bar, "container", None)
    children: Any = getattr(container, "children", ())
    if len(children) == 3:
        widget = children[1]
        widget.max = total
        if widget.bar_style == "info":
            widget.bar_style = ""
            widget.layout.width = None


def postfix(summary: BulkSummary) -> str:
    """The counts after the bar: ``succeeded 90, failed 2, ambiguous 1, in flight 64``."""
    counts = [
        ("succeeded", summary.succeeded),
        ("failed", summary.failed),
        ("ambiguous", summary.ambiguous),
        ("pending", summary.pending),
        ("skipped", summary.skipped),
        ("in flight", summary.in_flight),
    ]
    shown = {"succeeded", "failed", "ambiguous", "in flight"}
    return ", ".join(f"{name} {count:,}" for name, count in counts if count or name in shown)
