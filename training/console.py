"""Terminal helpers: confirmation before spending money, progress on stderr, plain tables."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TextIO, TypeVar

from training.errors import TrainingError

Item = TypeVar("Item")


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


PROGRESS_LINE_SECONDS = 10.0  # in a log, one line this often: enough to see it move, not a flood
BAR_REFRESH_SECONDS = 0.2


class Progress:
    """Files (or images, items) done out of a total, and optionally bytes, on stderr. Thread-safe.

    On a terminal it is a tqdm bar headed by ``line()``. Elsewhere (a log file, CI) it prints a plain
    line every ``interval`` seconds, ``uploaded: 1200/20580 files, 35/s, eta 9m48s``, and one at
    ``finish()`` with the time taken: never a ``\\r``-joined string. Subclasses change ``line()``.
    """

    def __init__(
        self,
        verb: str,
        files: int,
        total_bytes: int = 0,
        stream: TextIO | None = None,
        *,
        unit: str = "files",
        interval: float = PROGRESS_LINE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.verb = verb
        self.files = files
        self.total_bytes = total_bytes
        self.unit = unit
        self.stream = stream or sys.stderr  # looked up per instance, so that redirections of stderr apply
        self.files_done = 0
        self.bytes_done = 0
        self._interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self._started = self._last_output = clock()
        self._finished = False
        self._bar: Any = self._make_bar() if is_terminal(self.stream) else None

    def add_bytes(self, count: int) -> None:
        with self._lock:
            self.bytes_done += count
            self._advance(0)

    def file_done(self) -> None:
        with self._lock:
            self.files_done += 1
            self._advance(1)

    def finish(self) -> None:
        """The last output; later calls do nothing."""
        with self._lock:
            if self._finished:
                return
            self._finished = True
            if self._bar is not None:
                self._bar.set_description_str(self.line(), refresh=False)
                self._bar.close()
            else:
                elapsed = self._clock() - self._started
                self._write(f"{self.line()} in {format_duration(elapsed)}")

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *_: object) -> None:
        self.finish()

    def line(self) -> str:
        """What is done: ``uploaded: 3/10 files, 1.2 MiB/4.0 MiB``."""
        text = f"{self.verb}: {self.files_done}/{self.files} {self.unit}"
        if self.total_bytes:
            text += f", {human_bytes(self.bytes_done)}/{human_bytes(self.total_bytes)}"
        return text

    def status(self) -> str:
        """``line()`` with the rate and the time left, as a log line shows it."""
        elapsed = max(self._clock() - self._started, 1e-9)
        rate = self.files_done / elapsed
        text = f"{self.line()}, {rate:.3g}/s"
        if self.total_bytes and self.bytes_done:
            left = elapsed * (self.total_bytes - self.bytes_done) / self.bytes_done
        elif self.files_done:
            left = (self.files - self.files_done) / rate
        else:
            return text
        return f"{text}, eta {format_duration(max(left, 0.0))}"

    def _make_bar(self) -> Any:
        from tqdm import tqdm

        return tqdm(
            total=self.files,
            file=self.stream,
            desc=self.line(),
            bar_format="{desc} {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}]",
            mininterval=BAR_REFRESH_SECONDS,
            dynamic_ncols=True,
        )

    def _advance(self, files: int) -> None:
        if self._finished:
            return
        now = self._clock()
        if self._bar is not None:
            self._bar.set_description_str(self.line(), refresh=False)
            self._bar.update(files)
            if not files and now - self._last_output >= BAR_REFRESH_SECONDS:  # bytes of a large file
                self._last_output = now
                self._bar.refresh()
        elif now - self._last_output >= self._interval:
            self._last_output = now
            self._write(self.status())

    def _write(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()


def track(items: Iterable[Item], *, total: int, verb: str, unit: str) -> Iterator[Item]:
    """``items`` one by one, counted by a ``Progress`` (finished when the loop ends or stops)."""
    with Progress(verb, total, unit=unit) as progress:
        for item in items:
            yield item
            progress.file_done()


def is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


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
