"""What every way of collecting predictions shares: the cache they append to, and their progress line.

The cache is ``evaluation_data``'s JSON lines file. A run predicts only the validation images the
cache does not hold yet, and appends each prediction as it arrives, so an interrupted run loses
nothing and the next one resumes where it stopped.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TextIO, TypeVar

from training.console import Progress, is_terminal, say
from training.errors import TrainingError
from training.evaluation.data import ValidationSet, done_images, repair_torn_tail

EVALUATION_DIR = Path("evaluation")
PREDICTIONS_FILE = "predictions.jsonl"
REPORT_DIR = "report"
DATASET_DIR = "dataset"
Item = TypeVar("Item")
Result = TypeVar("Result")


def default_predictions_path(job: str) -> Path:
    """``evaluation/<job>/predictions.jsonl``, relative to the working directory."""
    return EVALUATION_DIR / job / PREDICTIONS_FILE


def default_report_dir(job: str | None, predictions_path: Path) -> Path:
    """``evaluation/<job>/report/``; without a job, ``report/`` next to the predictions."""
    return EVALUATION_DIR / job / REPORT_DIR if job else predictions_path.parent / REPORT_DIR


def dataset_cache_dir(predictions_path: Path) -> Path:
    """Where the dataset's classes.json and validation.lst are downloaded: next to the predictions."""
    return predictions_path.parent / DATASET_DIR


def pending_images(validation: ValidationSet, predictions_path: Path) -> list[str]:
    """The validation images the cache has no prediction for, in list order.

    Raises ``TrainingError`` when the cache holds images the list does not have: it belongs to
    another dataset, and mixing the two would make the metrics meaningless.
    """
    done = done_images(predictions_path)
    foreign = sorted(done - validation.images.keys())
    if foreign:
        raise TrainingError(
            f"{predictions_path} holds predictions for {len(foreign)} images that are not in the "
            f"validation list (e.g. {foreign[0]}): it belongs to another dataset; pass another --predictions"
        )
    return [image for image in validation.images if image not in done]


def announce_pending(validation: ValidationSet, predictions_path: Path, how: str) -> list[str]:
    """``pending_images``, after saying how many there are, how many the cache holds and ``how``
    they will be predicted."""
    pending = pending_images(validation, predictions_path)
    total = len(validation.images)
    if pending:
        cached = f" ({total - len(pending)} already in {predictions_path})" if len(pending) < total else ""
        say(f"predicting {len(pending)} of {total} validation images{cached} with {how}")
    else:
        say(f"all {total} validation images already have a prediction in {predictions_path}")
    return pending


@contextmanager
def appending(predictions_path: Path) -> Iterator[IO[str]]:
    """The cache opened for appending, after dropping a line an interruption cut short."""
    try:
        predictions_path.parent.mkdir(parents=True, exist_ok=True)
        repair_torn_tail(predictions_path)
        handle = predictions_path.open("a", encoding="utf-8")
    except OSError as error:
        raise TrainingError(f"cannot write {predictions_path}: {error.strerror or error}") from None
    with handle:
        yield handle


class ImageProgress(Progress):
    """``predicted 120/4116 images, 2 failed``: the console's progress counting images. Called from
    one thread (the one appending to the cache).

    With ``rate``, a terminal's bar also shows the images per second so far (a log's lines carry the
    rate already, as ``1.5/s``), and so does the last line."""

    def __init__(self, verb: str, images: int, stream: TextIO | None = None, *, rate: bool = False) -> None:
        self.show_rate = rate
        self.started = time.monotonic()
        self.done = False
        self.failed = 0
        super().__init__(verb, images, 0, stream, unit="images")

    def image_failed(self) -> None:
        self.failed += 1
        self.file_done()

    def finish(self) -> None:
        self.done = True
        super().finish()

    def images_per_second(self) -> float:
        return self.files_done / max(time.monotonic() - self.started, 1e-9)

    def line(self) -> str:
        failed = f", {self.failed} failed" if self.failed else ""
        text = f"{self.verb} {self.files_done}/{self.files} images{failed}"
        if self.show_rate and self.files_done and (self.done or is_terminal(self.stream)):
            text += f", {self.images_per_second():.2f} images/s"
        return text


@contextmanager
def in_threads(
    work: Callable[[Item], Result], items: Sequence[Item], workers: int
) -> Iterator[Iterator[tuple[Item, Future[Result]]]]:
    """``(item, future of work(item))`` as each completes. Leaving the block early (an error, Ctrl-C)
    cancels the work not started yet and waits for what is running."""
    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        futures = {pool.submit(work, item): item for item in items}
        yield ((futures[future], future) for future in as_completed(futures))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
