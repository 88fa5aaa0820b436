"""Terminal output for the CLI: plain-text tables, progress while waiting, and failures.

Tables are aligned plain text (no colour, nothing to install), readable in a terminal and
easy to grep in a script. :class:`Progress` redraws one line with a spinner and the elapsed
time when stdout is a terminal, and prints a line per change otherwise (logs, CI, pipes).
"""

from __future__ import annotations

import itertools
import json
import sys
import time
from collections.abc import Iterable, Sequence
from typing import Any, TextIO
from urllib.parse import urlsplit, urlunsplit


class CommandFailed(Exception):
    """A command failed: ``message`` is shown as one line, the process exits ``exit_code``."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def cell(value: Any) -> str:
    """How one value is shown in a table."""
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return str(value)


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """Aligned columns under upper-case headers."""
    text_rows = [[cell(v) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in text_rows:
        widths = [max(w, len(v)) for w, v in zip(widths, row, strict=True)]
    lines = [[h.upper() for h in headers], *text_rows]
    return "\n".join(
        "  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip() for line in lines
    )


def fields_table(item: dict[str, Any]) -> str:
    """One object as ``field  value`` lines, fields sorted."""
    return table(("field", "value"), sorted(item.items()))


def age(seconds: float) -> str:
    """``4.2s``, ``3m05s``, ``2h10m``, ``3d04h``."""
    if seconds < 60:
        return f"{max(seconds, 0):.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}h"


def safe_url(url: str) -> str:
    """``url`` with its password replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc}"))


class Progress:
    """One status line while waiting: a spinner on a terminal, plain lines elsewhere."""

    FRAMES = "|/-\\"

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty()
        self.started = time.monotonic()
        self._frames = itertools.cycle(self.FRAMES)
        self._last = ""

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def update(self, text: str) -> None:
        """Show ``text``: redrawn in place on a terminal, printed when it changed elsewhere."""
        if self.tty:
            line = f"{next(self._frames)} {text}  [{age(self.elapsed)}]"
            self.stream.write(f"\r\x1b[K{line}")
            self.stream.flush()
        elif text != self._last:
            print(f"[{age(self.elapsed)}] {text}", file=self.stream, flush=True)
        self._last = text

    def done(self, text: str) -> None:
        """The final line, with the total time."""
        if self.tty:
            self.stream.write("\r\x1b[K")
        print(f"{text} ({age(self.elapsed)})", file=self.stream, flush=True)
