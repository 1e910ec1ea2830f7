"""Run a function over many items in worker processes, in order, with progress on stderr.

Results come back in the order of the items whatever the number of workers, which keeps prepared
datasets identical from one machine to another. Progress is the console's: a bar on a terminal,
a line every few seconds in a log.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from types import TracebackType
from typing import Any, TypeVar

from training.console import track

Result = TypeVar("Result")
CHUNKS_PER_WORKER = 16  # small enough chunks to balance the load, large enough to amortise the IPC
MAX_CHUNK_SIZE = 64


def default_workers() -> int:
    return os.cpu_count() or 1


class Workers:
    """``count`` worker processes (none for 1: the work then runs in this process)."""

    def __init__(self, count: int) -> None:
        if count < 1:
            raise ValueError(f"workers must be at least 1, not {count}")
        self.count = count
        self._pool = ProcessPoolExecutor(count) if count > 1 else None

    def map(
        self, function: Callable[..., Result], arguments: Sequence[tuple[Any, ...]], *, label: str
    ) -> Iterator[Result]:
        """``function(*item)`` for each item, in order; ``function`` must be importable (picklable)."""
        if self._pool is None or not arguments:
            results: Iterable[Result] = (function(*item) for item in arguments)
        else:
            chunk_size = max(1, min(MAX_CHUNK_SIZE, len(arguments) // (self.count * CHUNKS_PER_WORKER)))
            results = self._pool.map(function, *zip(*arguments, strict=True), chunksize=chunk_size)
        return track(results, total=len(arguments), verb=label, unit="images")

    def __enter__(self) -> Workers:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
