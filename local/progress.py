"""A download's progress on stderr: a tqdm bar on a terminal, a plain line every few seconds in a log.

It behaves as ``training.console.Progress`` does, counting bytes; local/ may import only the core
and itself, so it has its own small copy rather than training's.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import Any, TextIO

LINE_SECONDS = 10.0


class ByteProgress:
    """``add(count)`` as bytes arrive (from any thread), ``finish()`` at the end (the last line says
    how long it took)."""

    def __init__(
        self,
        label: str,
        total: int,
        stream: TextIO | None = None,
        *,
        interval: float = LINE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label = label
        self.total = total
        self.done = 0
        self.stream = stream or sys.stderr
        self._interval = interval
        self._clock = clock
        self._started = self._last_line = clock()
        self._lock = threading.Lock()
        self._bar: Any = None
        if _is_terminal(self.stream):
            from tqdm import tqdm

            self._bar = tqdm(
                total=total, desc=label, unit="B", unit_scale=True, file=self.stream, mininterval=0.2
            )

    def add(self, count: int) -> None:
        with self._lock:
            self._add(count)

    def _add(self, count: int) -> None:
        self.done += count
        if self._bar is not None:
            self._bar.update(count)
            return
        now = self._clock()
        if now - self._last_line >= self._interval:
            self._last_line = now
            rate = self.done / max(now - self._started, 1e-9)
            eta = f", eta {(self.total - self.done) / rate:.0f} s" if rate else ""
            self._write(f"{self.line()}, {rate / 1e6:.1f} MB/s{eta}")

    def finish(self) -> None:
        if self._bar is not None:
            self._bar.close()
        else:
            self._write(f"{self.line()} in {self._clock() - self._started:.1f} s")

    def line(self) -> str:
        percent = 100 * self.done / self.total if self.total else 100
        return f"{self.label}: {self.done / 1e6:.2f}/{self.total / 1e6:.2f} MB ({percent:.0f}%)"

    def _write(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
