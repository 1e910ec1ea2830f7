"""The local model download's progress: a tqdm bar on a terminal, plain periodic lines in a log."""

from __future__ import annotations

import io

from local.progress import ByteProgress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_log_gets_plain_lines_every_interval_and_a_last_one():
    stream, clock = io.StringIO(), Clock()
    progress = ByteProgress("Downloading m.tar.gz", 4_000_000, stream, interval=10, clock=clock)
    for _ in range(4):
        clock.now += 5
        progress.add(1_000_000)
    progress.finish()

    assert stream.getvalue().splitlines() == [
        "Downloading m.tar.gz: 2.00/4.00 MB (50%), 0.2 MB/s, eta 10 s",
        "Downloading m.tar.gz: 4.00/4.00 MB (100%), 0.2 MB/s, eta 0 s",
        "Downloading m.tar.gz: 4.00/4.00 MB (100%) in 20.0 s",
    ]


def test_terminal_gets_a_bar():
    stream = Terminal()
    progress = ByteProgress("Downloading m.tar.gz", 4_000_000, stream)
    progress.add(4_000_000)
    progress.finish()

    last = stream.getvalue().rstrip("\n").split("\r")[-1]
    assert last.startswith("Downloading m.tar.gz: 100%|") and "4.00M/4.00M" in last
