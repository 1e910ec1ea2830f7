"""Measure the CPU model (local/model) with a ResNet-50-shaped network (120 classes, random weights), side
by side in one run:

(a) bare runtime latency: ``CpuModel.forward`` on one preprocessed 1x3x224x224 tensor (ONNX Runtime only);
    the local API's end-to-end latency is compared against this (``bare_forward_latency``);
(b) ``predict`` of one 500x375 JPEG (decode, resize, forward), the per-image path of a local API request;
(c) images per second for ``evaluate`` from a local source: ``predict_batch`` over Stanford-Dogs-sized JPEGs.

A measurement, not a gate: it exits 0 whatever the numbers.

    python benchmarks/local_model_bench.py [--repeats 20] [--images 64] [--batch 16]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from core.cli_help import HelpFormatter, examples  # noqa: E402 - importable only once the path is set
from local.model import CpuModel, load  # noqa: E402
from local.model.params import dump_params  # noqa: E402
from local.model.testmodel import random_params  # noqa: E402

RESNET50_SYMBOL = REPO_ROOT / "tests" / "local" / "golden" / "resnet50-120"


def write_resnet50_model(folder: Path, seed: int = 0) -> Path:
    """A ResNet-50 (120 classes, as the algorithm builds it), random weights, in the algorithm's layout."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("image-classification-symbol.json", "model-shapes.json"):
        (folder / name).write_bytes((RESNET50_SYMBOL / name).read_bytes())
    symbol = (folder / "image-classification-symbol.json").read_text()
    (folder / "image-classification-0001.params").write_bytes(
        dump_params(random_params(symbol, (3, 224, 224), seed))
    )
    return folder


def bare_forward_latency(model: CpuModel, repeats: int = 20, warmup: int = 3) -> list[float]:
    """Seconds per ``forward`` of one preprocessed 224x224 tensor (the runtime alone), ``repeats`` samples."""
    tensor = np.random.default_rng(0).uniform(0, 255, (1, *model.image_shape)).astype(np.float32)
    for _ in range(warmup):
        model.forward(tensor)
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.forward(tensor)
        samples.append(time.perf_counter() - start)
    return samples


def jpeg(width: int, height: int, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width]
    pixels = np.stack([xx * 255 / width, yy * 255 / height, np.full_like(xx, 128.0)], -1)
    pixels = np.clip(pixels + rng.normal(0, 20, pixels.shape), 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def _timed(function, repeats: int) -> list[float]:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return samples


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python benchmarks/local_model_bench.py",
        description=(
            "Measure the CPU model (local/model) with a ResNet-50-shaped network (120 classes, random "
            "weights), side by side in one run: (a) bare runtime latency, CpuModel.forward on one "
            "preprocessed tensor; (b) predict of one 500x375 JPEG, a local API request's path; (c) images "
            "per second of predict_batch, as `evaluate local` runs it. A measurement, not a gate: it exits "
            "0 whatever the numbers."
        ),
        epilog=examples(
            "python benchmarks/local_model_bench.py",
            "python benchmarks/local_model_bench.py --repeats 50 --images 64 --batch 16",
        ),
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--repeats", type=int, default=20, help="timed runs of (a) and (b) (default: 20)")
    parser.add_argument("--images", type=int, default=32, help="JPEGs predicted in (c) (default: 32)")
    parser.add_argument("--batch", type=int, default=16, help="images per runtime call in (c) (default: 16)")
    return parser


def main() -> int:
    args = build_parser().parse_args()
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        model = load(write_resnet50_model(Path(folder)))
        load_seconds = time.perf_counter() - start
    print(
        f"ResNet-50 (120 classes) on {os.cpu_count()} CPUs; write + convert + session: {load_seconds:.1f} s"
    )
    load_average = os.getloadavg()[0]
    print(f"load average: {load_average:.1f} (above {os.cpu_count()}, other work slows all of this)")

    cpu_start = time.process_time()
    bare = statistics.median(bare_forward_latency(model, args.repeats))
    cpu_per_forward = (time.process_time() - cpu_start) / (args.repeats + 3)
    photo = jpeg(500, 375, 1)
    model.predict(photo)
    one = statistics.median(_timed(lambda: model.predict(photo), args.repeats))
    print(
        f"(a) bare forward, 1x3x224x224:          {bare * 1000:7.1f} ms (median of {args.repeats}); "
        f"CPU time {cpu_per_forward * 1000:.0f} ms"
    )
    print(f"(b) predict, one 500x375 JPEG:          {one * 1000:7.1f} ms  = {one / bare:.2f}x (a)")

    photos = [jpeg(500, 375, seed) for seed in range(args.images)]
    start = time.perf_counter()
    for first in range(0, len(photos), args.batch):
        model.predict_batch(photos[first : first + args.batch])
    batched = len(photos) / (time.perf_counter() - start)
    start = time.perf_counter()
    for photo in photos[: max(8, args.images // 4)]:
        model.predict(photo)
    single = max(8, args.images // 4) / (time.perf_counter() - start)
    print(f"(c) evaluate, predict_batch({args.batch}):        {batched:7.1f} images/s ({len(photos)} JPEGs)")
    print(f"    evaluate, predict one at a time:    {single:7.1f} images/s = {single / batched:.2f}x batched")
    print(f"    the bare runtime's ceiling (1/(a)): {1 / bare:7.1f} images/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
