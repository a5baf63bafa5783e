"""Run the emulator in a separate process for a benchmark, so server CPU never counts as client CPU.

    with EmulatorProcess(job_duration="0.2-2", bucket_dir=folder) as emu:
        client = AuditClient(..., endpoint=emu.url, credentials=emu.credentials)
        ...
        emu.cpu_seconds()   # the emulator's own CPU time so far (Linux), for server-side figures

It runs the emulator's CLI (``python -m cosaudit.emulator --port 0 ...``) with this interpreter,
reads the URL from the line the CLI prints once it listens, then waits until an HTTP request is
answered. Leaving the ``with`` block stops it (SIGTERM, then SIGKILL after a grace period), also
on errors; and should this process die without leaving it, the emulator stops by itself.
"""

from __future__ import annotations

import http.client
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import IO

from cosaudit.credentials import Credentials
from cosaudit.emulator.config import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY

__all__ = ["BUCKET", "REGION", "EmulatorProcess"]

BUCKET = "examplebucket-1250000000"
REGION = "ap-guangzhou"

_LISTENING = re.compile(r"listening on (http://\S+)")

# ``python -m cosaudit.emulator``, and one more thing: it stops itself (SIGTERM, so it shuts
# down as on Ctrl-C) when its stdin closes, which happens when the process that started it
# ends, even by SIGKILL. A benchmark killed midway leaves no emulator behind.
_WATCHED = """
import os, signal, sys, threading
def _watch():
    sys.stdin.read()
    os.kill(os.getpid(), signal.SIGTERM)
threading.Thread(target=_watch, daemon=True).start()
from cosaudit.emulator.cli import main
raise SystemExit(main(sys.argv[1:]))
"""


def _pump(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


class EmulatorProcess:
    """A ``cosaudit emulator`` child process on a free loopback port.

    Args:
        job_duration: seconds from submit to final, or ``"MIN-MAX"`` (``--job-duration``).
        final_after_polls: final on the N-th query instead (``--final-after-polls``).
        bucket_dir: the folder standing for the bucket (``--bucket-dir``).
        seed: reproducible job ids, hence reproducible durations within a range (``--seed``).
        extra_args: any further CLI options, as a list of strings.
        cpu: pin the child to this CPU (Linux), e.g. to give client and server one core each.
        startup_timeout: seconds to wait for the emulator to answer.
    """

    def __init__(
        self,
        *,
        job_duration: float | str | None = None,
        final_after_polls: int | None = None,
        bucket_dir: str | Path | None = None,
        seed: int | None = None,
        extra_args: tuple[str, ...] | list[str] = (),
        cpu: int | None = None,
        startup_timeout: float = 30.0,
    ) -> None:
        args = [sys.executable, "-c", _WATCHED, "--host", "127.0.0.1", "--port", "0"]
        if job_duration is not None:
            args += ["--job-duration", str(job_duration)]
        if final_after_polls is not None:
            args += ["--final-after-polls", str(final_after_polls)]
        if bucket_dir is not None:
            args += ["--bucket-dir", str(bucket_dir)]
        if seed is not None:
            args += ["--seed", str(seed)]
        self.args = [*args, *extra_args]
        self.cpu = cpu
        self.startup_timeout = startup_timeout
        self.url = ""
        self.port = 0
        self.credentials = Credentials(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY)
        self._process: subprocess.Popen[str] | None = None
        self._drain: threading.Thread | None = None
        self._lines: queue.Queue[str | None] = queue.Queue()

    @property
    def pid(self) -> int:
        if self._process is None:
            raise RuntimeError("the emulator is not started")
        return self._process.pid

    def start(self) -> None:
        """Start the child and return once it answers HTTP; raises RuntimeError otherwise."""
        if self._process is not None:
            raise RuntimeError("the emulator is already started")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self._process = subprocess.Popen(
            self.args,
            stdout=subprocess.PIPE,
            stdin=subprocess.PIPE,  # never written: it closes when this process ends
            text=True,
            env=env,
        )
        if self.cpu is not None and hasattr(os, "sched_setaffinity"):
            # Pinned from here rather than in the child: preexec_fn is unsafe once threads run.
            os.sched_setaffinity(self._process.pid, {self.cpu})
        assert self._process.stdout is not None
        # One reader for the child's whole life: the URL line arrives through the queue, and a
        # full pipe can never block the emulator.
        self._drain = threading.Thread(
            target=_pump, args=(self._process.stdout, self._lines), name="emulator-out", daemon=True
        )
        self._drain.start()
        try:
            self.url = self._read_url()
            self.port = int(self.url.rsplit(":", 1)[1])
            self._wait_until_answering()
        except BaseException:
            self.stop()
            raise

    def _read_url(self) -> str:
        deadline = time.monotonic() + self.startup_timeout
        seen: list[str] = []
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:  # the child closed its output: it exited
                break
            seen.append(line)
            match = _LISTENING.search(line)
            if match:
                return match.group(1)
        raise RuntimeError(f"emulator did not start: {''.join(seen)[-500:]!r}")

    def _wait_until_answering(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while True:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            try:
                connection.request("GET", "/")
                connection.getresponse().read()  # 401 MissingAuthorization: it answers
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("emulator does not answer") from None
                time.sleep(0.05)
            finally:
                connection.close()

    def cpu_seconds(self) -> float | None:
        """User + system CPU seconds the emulator has used so far (None where unknown)."""
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        # Fields 14 and 15 of stat (utime, stime) in clock ticks; the split starts at field 3.
        ticks = int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    def stop(self, grace: float = 5.0) -> None:
        """Stop the child (SIGTERM, SIGKILL after ``grace`` seconds); harmless when stopped."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.stdin is not None:
            process.stdin.close()
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(grace)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._drain is not None:
            self._drain.join(grace)
            self._drain = None
        if process.stdout is not None:
            process.stdout.close()

    def __enter__(self) -> EmulatorProcess:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
