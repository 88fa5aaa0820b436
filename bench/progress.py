"""One updating progress line on stderr: ``[lifecycle] deploy 523/1000 12.3s``.

A background thread redraws it a few times a second, so the elapsed time keeps moving while
the benchmark waits (for convergence, say). When stderr is not a terminal the line is
printed as a plain line every few seconds instead of being redrawn.
"""

from __future__ import annotations

import sys
import threading
import time
from types import TracebackType


class Progress:
    """Counts ``done`` out of ``total`` for one phase; use as a context manager."""

    def __init__(self, label: str, phase: str, total: int, unit: str = "") -> None:
        self.label = label
        self.phase = phase
        self.total = total
        self.unit = unit
        self.note = ""
        self._done = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._started = time.monotonic()
        self._tty = sys.stderr.isatty()
        self._thread = threading.Thread(target=self._run, name="bench-progress", daemon=True)

    def __enter__(self) -> Progress:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
        self._draw(final=True)

    def add(self, count: int = 1) -> None:
        with self._lock:
            self._done += count

    def set(self, done: int, note: str = "") -> None:
        with self._lock:
            self._done = done
            self.note = note

    def line(self) -> str:
        elapsed = time.monotonic() - self._started
        unit = f" {self.unit}" if self.unit else ""
        note = f"  {self.note}" if self.note else ""
        return f"[{self.label}] {self.phase} {self._done}/{self.total}{unit} {elapsed:.1f}s{note}"

    def _run(self) -> None:
        interval = 0.2 if self._tty else 5.0
        while not self._stop.wait(interval):
            self._draw()

    def _draw(self, final: bool = False) -> None:
        text = self.line()
        if self._tty:
            sys.stderr.write("\r\x1b[2K" + text + ("\n" if final else ""))
        else:
            sys.stderr.write(text + "\n")
        sys.stderr.flush()


def status(message: str) -> None:
    """A one-off status line (starting services, cleaning up) on stderr."""
    sys.stderr.write(f"{message}\n")
    sys.stderr.flush()
