"""Measure ``python -m training prepare`` on a full-size Stanford-Dogs-like tree, against the floor.

Side by side in one run, on the same tree (20,580 JPEGs of about 500x375 in 120 breed folders,
plus a few grayscale, CMYK, PNG-named-.jpg, truncated and empty files):
  floor      read every file's bytes, once, in this process: the least any preparation must do
  lst        ``prepare --format lst`` (check every file, copy or re-encode, write the lists)
  recordio   ``prepare --format recordio`` (decode, shrink to 256 px, encode, write .rec/.idx)
The tree is made once (from a handful of images encoded once and copied) and cached: in the
system's temporary folder, or at --tree. A measurement, not a gate: it exits 0 whatever it finds.

    python benchmarks/prepare_bench.py [--tree PATH] [--workers N]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from core.breeds import STANFORD_DOGS_FOLDERS  # noqa: E402 - importable only once the path is set
from core.cli_help import HelpFormatter, examples  # noqa: E402

IMAGE_COUNT = 20_580  # Stanford Dogs
IMAGE_SIZE = (500, 375)  # a typical Stanford Dogs photo
TARGET_SECONDS = 60.0  # the target for the full dataset as lst
TREE_VERSION = 1  # bump when the generated tree changes, to rebuild cached trees
# The awkward files a real copy holds, every this many images: (file name suffix, kind).
AWKWARD_EVERY = 1_000
AWKWARD_KINDS = ("grayscale", "cmyk", "png", "truncated", "empty")


def main() -> int:
    args = parse_arguments()
    tree = args.tree or Path(tempfile.gettempdir()) / "prepare-bench-tree"
    ensure_tree(tree)
    work = Path(tempfile.mkdtemp(prefix="prepare-bench-"))
    try:
        results = {"floor (read every file)": measure_floor(tree / "Images")}
        for image_format in ("lst", "recordio"):
            results[f"prepare --format {image_format}"] = measure_prepare(
                tree, work, image_format, args.workers
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print_table(results, args.workers)
    return 0


def parse_arguments() -> argparse.Namespace:
    return build_parser().parse_args()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python benchmarks/prepare_bench.py",
        description=(
            "Measure `python -m training prepare` on a full-size Stanford-Dogs-like tree (20,580 JPEGs in "
            "120 breed folders, with a few awkward files), side by side in one run: the floor (reading "
            "every file once), `prepare --format lst` and `prepare --format recordio`. The tree is made "
            "once and cached. A measurement, not a gate: it exits 0 whatever it finds."
        ),
        epilog=examples(
            "python benchmarks/prepare_bench.py",
            "python benchmarks/prepare_bench.py --tree /tmp/dogs-tree --workers 2",
            notes="Prints progress on stderr, then seconds, images per second and ratios to the floor.",
        ),
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--tree", type=Path, help="where to make (or reuse) the tree; default: a temp folder")
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="prepare's --workers (default: CPU count)"
    )
    return parser


def base_images() -> list[bytes]:
    """A dozen Stanford-sized JPEGs of 10-65 KB: noise and gradients, blurred by different amounts."""
    from PIL import Image, ImageFilter

    images = []
    for seed in range(6):
        noise = Image.effect_noise(IMAGE_SIZE, 40 + 10 * seed)
        gradient = Image.linear_gradient("L").resize(IMAGE_SIZE)
        bands = (
            Image.blend(gradient, noise, 0.5),
            noise.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
            gradient.rotate(90).resize(IMAGE_SIZE),
        )
        photo = Image.merge("RGB", bands).filter(ImageFilter.GaussianBlur(1 + seed % 3))
        for quality in (75, 90):
            images.append(encode(photo, "JPEG", quality=quality))
    return images


def awkward_image(kind: str, jpeg: bytes) -> bytes:
    from PIL import Image

    with Image.open(io.BytesIO(jpeg)) as photo:
        photo.load()
    if kind == "grayscale":
        return encode(photo.convert("L"), "JPEG", quality=90)
    if kind == "cmyk":
        return encode(photo.convert("CMYK"), "JPEG", quality=90)
    if kind == "png":
        return encode(photo, "PNG")
    if kind == "truncated":
        return jpeg[: len(jpeg) // 2]
    return b""


def encode(image, image_format: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format, **options)
    return buffer.getvalue()


def ensure_tree(root: Path) -> None:
    marker = root / "bench-tree.json"
    expected = {"version": TREE_VERSION, "images": IMAGE_COUNT, "breeds": len(STANFORD_DOGS_FOLDERS)}
    if marker.is_file() and json.loads(marker.read_text()) == expected:
        print(f"reusing the tree in {root}", file=sys.stderr)
        return
    from training.data.parallel import progress

    shutil.rmtree(root / "Images", ignore_errors=True)
    images = base_images()
    per_breed, extra = divmod(IMAGE_COUNT, len(STANFORD_DOGS_FOLDERS))
    files = []
    for breed, folder in enumerate(STANFORD_DOGS_FOLDERS):
        (root / "Images" / folder).mkdir(parents=True)
        files += [folder] * (per_breed + (breed < extra))
    for number, folder in enumerate(progress(files, total=len(files), label=f"making the tree in {root}")):
        data = images[number % len(images)]
        if number % AWKWARD_EVERY == AWKWARD_EVERY - 1:
            data = awkward_image(AWKWARD_KINDS[number // AWKWARD_EVERY % len(AWKWARD_KINDS)], data)
        (root / "Images" / folder / f"{folder.split('-')[0]}_{number}.jpg").write_bytes(data)
    marker.write_text(json.dumps(expected))


def measure_floor(images_dir: Path) -> tuple[float, int]:
    started = time.perf_counter()
    count = 0
    for folder in sorted(os.scandir(images_dir), key=lambda entry: entry.name):
        for entry in os.scandir(folder.path):
            with open(entry.path, "rb") as file:
                file.read()
            count += 1
    return time.perf_counter() - started, count


def measure_prepare(tree: Path, work: Path, image_format: str, workers: int) -> tuple[float, int]:
    out = work / image_format
    command = [sys.executable, "-m", "training", "prepare", str(tree), "--out", str(out)]
    command += ["--format", image_format, "--workers", str(workers)]
    print(f"$ {' '.join(command[1:])}", file=sys.stderr)
    started = time.perf_counter()
    subprocess.run(command, cwd=REPO_ROOT, check=True, stdout=sys.stderr)
    elapsed = time.perf_counter() - started
    totals = json.loads((out / "report.json").read_text())["totals"]
    return elapsed, totals["train"] + totals["validation"] + totals["skipped"]


def print_table(results: dict[str, tuple[float, int]], workers: int) -> None:
    floor_seconds, _ = next(iter(results.values()))
    print(
        f"\nprepare on {IMAGE_COUNT} images, {len(STANFORD_DOGS_FOLDERS)} breeds, {workers} workers, "
        f"{os.cpu_count()} CPUs"
    )
    print(f"{'measurement':<28}{'seconds':>9}{'images/s':>10}{'x floor':>9}  under {TARGET_SECONDS:.0f} s")
    for name, (seconds, images) in results.items():
        under = "yes" if seconds < TARGET_SECONDS else "NO"
        print(f"{name:<28}{seconds:>9.2f}{images / seconds:>10.0f}{seconds / floor_seconds:>9.1f}  {under}")


if __name__ == "__main__":
    raise SystemExit(main())
