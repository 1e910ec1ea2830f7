"""Terminal helpers: confirmation before spending money, progress on stderr, plain tables."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Sequence
from typing import TextIO

from training.errors import TrainingError


def confirm(
    question: str, *, assume_yes: bool, stdin: TextIO | None = None, out: TextIO | None = None
) -> None:
    """Returns when the person agrees (or passed --yes); raises TrainingError otherwise."""
    if assume_yes:
        return
    stdin = stdin or sys.stdin
    if not stdin.isatty():
        raise TrainingError("standard input is not a terminal, so nobody can confirm: pass --yes to go ahead")
    out = out or sys.stderr
    out.write(f"{question} [y/N] ")
    out.flush()
    if stdin.readline().strip().lower() not in ("y", "yes"):
        raise TrainingError("cancelled: nothing was started")


def say(message: str) -> None:
    """A progress or status message: stderr, so stdout stays for results."""
    print(message, file=sys.stderr, flush=True)


class Progress:
    """Files and bytes done out of a total. Thread-safe. Redraws one line on a terminal; elsewhere
    (CI logs) prints a line at each further tenth of the work."""

    def __init__(self, verb: str, files: int, total_bytes: int, stream: TextIO | None = None) -> None:
        self.verb = verb
        self.files = files
        self.total_bytes = total_bytes
        self.stream = stream or sys.stderr
        self.files_done = 0
        self.bytes_done = 0
        self._lock = threading.Lock()
        self._interactive = self.stream.isatty()
        self._last_draw = 0.0
        self._last_tenth = 0

    def add_bytes(self, count: int) -> None:
        with self._lock:
            self.bytes_done += count
            self._maybe_draw()

    def file_done(self) -> None:
        with self._lock:
            self.files_done += 1
            self._maybe_draw()

    def finish(self) -> None:
        with self._lock:
            self._draw(final=True)

    def line(self) -> str:
        return (
            f"{self.verb} {self.files_done}/{self.files} files, "
            f"{human_bytes(self.bytes_done)}/{human_bytes(self.total_bytes)}"
        )

    def _maybe_draw(self) -> None:
        if self._interactive:
            if time.monotonic() - self._last_draw >= 0.2:
                self._draw()
            return
        tenth = int(10 * self.files_done / self.files) if self.files else 10
        if tenth > self._last_tenth:
            self._last_tenth = tenth
            self._draw()

    def _draw(self, final: bool = False) -> None:
        self._last_draw = time.monotonic()
        if self._interactive:
            self.stream.write("\r" + self.line() + ("\n" if final else ""))
        elif final and self._last_tenth == 10:
            return  # the last tenth already printed this line
        else:
            self.stream.write(self.line() + "\n")
        self.stream.flush()


def human_bytes(count: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    raise AssertionError("unreachable")


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, _ = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{int(seconds) % 60:02d}s"


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns padded to their widest cell, two spaces apart."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=False)]
    lines = [
        "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in [headers, *rows]
    ]
    return "\n".join(line.rstrip() for line in lines)
