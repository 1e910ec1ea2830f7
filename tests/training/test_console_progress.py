"""The console's progress: a tqdm bar on a terminal, plain periodic lines in a log (never ``\\r``)."""

from __future__ import annotations

import io

from training.console import Progress, track


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_log_gets_a_line_every_interval_with_rate_and_eta():
    stream, clock = io.StringIO(), Clock()
    progress = Progress("uploaded", 100, stream=stream, interval=10, clock=clock)
    for _ in range(20):
        clock.now += 1
        progress.file_done()

    assert stream.getvalue().splitlines() == [
        "uploaded: 10/100 files, 1/s, eta 1m30s",
        "uploaded: 20/100 files, 1/s, eta 1m20s",
    ]


def test_log_gets_no_line_before_the_interval():
    stream, clock = io.StringIO(), Clock()
    progress = Progress("uploaded", 100, stream=stream, interval=10, clock=clock)
    clock.now += 9.9
    progress.file_done()

    assert stream.getvalue() == ""


def test_log_ends_with_a_line_saying_how_long_it_took():
    stream, clock = io.StringIO(), Clock()
    with Progress("compared", 2, 2048, stream=stream, clock=clock) as progress:
        progress.add_bytes(2048)
        progress.file_done()
        progress.file_done()
        clock.now += 75

    assert stream.getvalue() == "compared: 2/2 files, 2.0 KiB/2.0 KiB in 1m15s\n"


def test_eta_comes_from_bytes_when_they_are_counted():
    stream, clock = io.StringIO(), Clock()
    progress = Progress("uploaded", 4, 4000, stream=stream, interval=10, clock=clock)
    clock.now += 10
    progress.add_bytes(1000)  # a quarter of the bytes in 10 s, no file finished yet

    assert stream.getvalue() == "uploaded: 0/4 files, 1000 B/3.9 KiB, 0/s, eta 0m30s\n"


def test_log_output_has_no_carriage_return():
    stream, clock = io.StringIO(), Clock()
    with Progress("checking", 50, stream=stream, interval=1, clock=clock) as progress:
        for _ in range(50):
            clock.now += 0.5
            progress.file_done()

    assert "\r" not in stream.getvalue()
    assert len(stream.getvalue().splitlines()) == 26  # 25 periodic lines and the last one


def test_finish_twice_prints_once():
    stream = io.StringIO()
    progress = Progress("uploaded", 1, stream=stream, clock=Clock())
    progress.finish()
    progress.finish()

    assert len(stream.getvalue().splitlines()) == 1


def test_terminal_gets_a_bar_headed_by_the_line():
    stream = Terminal()
    with Progress("uploaded", 4, stream=stream) as progress:
        for _ in range(4):
            progress.file_done()

    output = stream.getvalue()
    assert "\r" in output  # redrawn in place
    assert output.rstrip("\n").split("\r")[-1].startswith("uploaded: 4/4 files 100%|")
    assert "in 0m" not in output  # the log's last line is not written on a terminal


def test_subclass_line_heads_the_bar_and_the_log_lines():
    class Images(Progress):
        def line(self) -> str:
            return f"predicted {self.files_done} of {self.files}"

    log, clock = io.StringIO(), Clock()
    with Images("predicted", 2, stream=log, clock=clock) as progress:
        progress.file_done()
    terminal = Terminal()
    with Images("predicted", 2, stream=terminal) as progress:
        progress.file_done()

    assert log.getvalue() == "predicted 1 of 2 in 0m00s\n"
    assert "predicted 1 of 2 " in terminal.getvalue().split("\r")[-1]


def test_track_counts_the_items_it_yields(capsys):
    assert list(track(["a", "b", "c"], total=3, verb="writing train", unit="images")) == ["a", "b", "c"]

    assert capsys.readouterr().err.startswith("writing train: 3/3 images in ")
