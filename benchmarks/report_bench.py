"""How long ``evaluate``'s analysis takes on a full-size validation set: 120 breeds, 4,000 images.

Builds a synthetic prepared dataset (photo-sized JPEGs, three training examples per breed) and
predictions shaped like the blog's model (mostly right, Eskimo dog taken for malamute and husky),
then times ``evaluate_offline`` (metrics.json and report.html) with the images on disk and with
lists only, side by side, and prints the report's size. The issue's target: under 5 s.

    .venv/bin/python benchmarks/report_bench.py
    .venv/bin/python benchmarks/report_bench.py --screenshot docs/evaluation-report.png
    .venv/bin/python benchmarks/report_bench.py --profile   # where the time goes (cProfile)

``--screenshot`` also renders a 20-breed report compared with an earlier model in headless
Chromium (``/usr/bin/chromium``) at 1400 px wide: the picture in docs/evaluation.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.breeds import default_classes  # noqa: E402
from core.cli_help import HelpFormatter, examples  # noqa: E402
from training.evaluation.analysis import evaluate_offline  # noqa: E402

BREEDS = 120
IMAGES = 4000
TRAIN_PER_BREED = 3
PHOTO_SIZE = (500, 375)  # a typical Stanford Dogs photo


def build_dataset(root: Path, breeds: int, images: int, seed: int = 0) -> dict[str, int]:
    """A prepared dataset with ``images`` validation images spread over ``breeds``; image -> class id."""
    rng = np.random.default_rng(seed)
    names = [record["name"] for record in default_classes()][:breeds]
    root.mkdir(parents=True)
    (root / "classes.json").write_text(json.dumps([{"id": i, "name": n} for i, n in enumerate(names)]))
    listed: dict[str, int] = {}
    for split, count in (("validation", images), ("train", breeds * TRAIN_PER_BREED)):
        lines = []
        for index in range(count):
            class_id = index % breeds
            relative = f"c{class_id:03d}/{split}_{index}.jpg"
            path = root / split / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            coarse = rng.integers(0, 256, size=(15, 20, 3), dtype=np.uint8)
            Image.fromarray(coarse).resize(PHOTO_SIZE, Image.Resampling.BILINEAR).save(path, quality=85)
            lines.append(f"{index}\t{class_id}\t{relative}\n")
            if split == "validation":
                listed[relative] = class_id
        (root / f"{split}.lst").write_text("".join(lines))
    return listed


def write_predictions(path: Path, listed: dict[str, int], breeds: int, accuracy: float, seed: int) -> None:
    """Softmax-like rows right with probability ``accuracy``; wrong ones go to a look-alike breed."""
    rng = np.random.default_rng(seed)
    names = [record["name"] for record in default_classes()][:breeds]
    look_alike = {names.index(n): names.index(m) for n, m in _pairs(names)}
    with path.open("w") as out:
        for image, class_id in listed.items():
            predicted = class_id
            if rng.random() > accuracy:
                predicted = look_alike.get(class_id, int(rng.integers(0, breeds)))
            logits = rng.normal(size=breeds)
            logits[predicted] += 4.0 + rng.random() * 3
            probabilities = np.exp(logits) / np.exp(logits).sum()
            out.write(json.dumps({"image": image, "probabilities": probabilities.round(6).tolist()}) + "\n")


def _pairs(names: list[str]) -> list[tuple[str, str]]:
    wanted = [("Eskimo dog", "malamute"), ("Siberian husky", "Eskimo dog"), ("Lhasa", "Shih-Tzu")]
    return [(a, b) for a, b in wanted if a in names and b in names]


def timed_report(dataset: Path, predictions: Path, report: Path, **options: object) -> float:
    start = time.perf_counter()
    evaluate_offline(dataset, predictions, report, **options)  # type: ignore[arg-type]
    return time.perf_counter() - start


def profiled(dataset: Path, predictions: Path, report: Path) -> None:
    import cProfile
    import pstats

    profile = cProfile.Profile()
    profile.runcall(evaluate_offline, dataset, predictions, report)
    pstats.Stats(profile).sort_stats("cumulative").print_stats(20)


def screenshot(target: Path, work: Path) -> None:
    """A 20-breed report with a comparison, as Chromium shows it 1400 px wide."""
    from playwright.sync_api import sync_playwright

    listed = build_dataset(work / "small", 20, 600, seed=1)
    write_predictions(work / "before.jsonl", listed, 20, 0.75, seed=2)
    write_predictions(work / "after.jsonl", listed, 20, 0.85, seed=3)
    evaluate_offline(
        work / "small", work / "before.jsonl", work / "before", job="dogbreeds-dev-20260101-120000"
    )
    evaluate_offline(
        work / "small",
        work / "after.jsonl",
        work / "after",
        job="dogbreeds-dev-20260201-120000",
        compare_path=work / "before" / "metrics.json",
    )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1800})
        page.goto((work / "after" / "report.html").as_uri())
        page.screenshot(path=str(target))
        browser.close()
    print(f"screenshot: {target}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python benchmarks/report_bench.py",
        description=(
            "How long `evaluate`'s analysis takes on a full-size validation set: 120 breeds, 4,000 images. "
            "Builds a synthetic prepared dataset and predictions shaped like the blog's model, then times "
            "metrics.json and report.html with the images on disk and with lists only, side by side, and "
            "prints the report's size. The issue's target: under 5 s."
        ),
        epilog=examples(
            "python benchmarks/report_bench.py",
            "python benchmarks/report_bench.py --screenshot docs/evaluation-report.png",
            "# where the time goes (cProfile):",
            "python benchmarks/report_bench.py --profile",
            notes="--screenshot also renders a 20-breed report compared with an earlier model in headless "
            "Chromium (/usr/bin/chromium) at 1400 px wide: the picture in the evaluation docs.",
        ),
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--screenshot", type=Path, metavar="PNG", help="also write a screenshot of a report")
    parser.add_argument(
        "--profile", action="store_true", help="also print the 20 costliest calls of the report with images"
    )
    return parser


def main() -> None:
    args = build_parser().parse_args()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        print(f"building a synthetic dataset: {BREEDS} breeds, {IMAGES} validation images...")
        listed = build_dataset(work / "dataset", BREEDS, IMAGES)
        write_predictions(work / "predictions.jsonl", listed, BREEDS, 0.83, seed=4)
        lists_only = work / "lists-only"
        lists_only.mkdir()
        for name in ("classes.json", "validation.lst"):
            (lists_only / name).write_bytes((work / "dataset" / name).read_bytes())
        timed_report(lists_only, work / "predictions.jsonl", work / "warm-up")  # imports, font cache
        with_images = timed_report(work / "dataset", work / "predictions.jsonl", work / "report")
        without = timed_report(lists_only, work / "predictions.jsonl", work / "report-lists-only")
        size = (work / "report" / "report.html").stat().st_size
        print(f"report with thumbnails:  {with_images:.2f} s ({size / 1e6:.1f} MB)")
        print(f"report from lists only:  {without:.2f} s")
        print(f"ratio with/without images: {with_images / without:.2f}; target: under 5 s")
        if args.profile:
            profiled(work / "dataset", work / "predictions.jsonl", work / "report-profiled")
        if args.screenshot:
            screenshot(args.screenshot.resolve(), work)


if __name__ == "__main__":
    main()
