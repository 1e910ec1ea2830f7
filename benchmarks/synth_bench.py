"""`cdk synth --all` of this app against a one-bucket CDK app, side by side in one run.

    .venv/bin/python benchmarks/synth_bench.py [--runs 5]

Both run through the same pinned CDK CLI and the Node.js in .venv, alternating so that machine
noise hits both alike. Prints the median wall time of each and their ratio (target: <= 2x).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from core.cli_help import HelpFormatter, examples  # noqa: E402 - importable only once the path is set

TARGET_RATIO = 2.0

ONE_BUCKET_APP = """
import aws_cdk as cdk
from aws_cdk import aws_s3 as s3

app = cdk.App()
stack = cdk.Stack(app, "OneBucket")
s3.Bucket(stack, "Bucket")
app.synth()
"""


def synth_seconds(app_dir: Path, outdir: Path) -> float:
    env = {**os.environ, "PATH": f"{REPO / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    shutil.rmtree(outdir, ignore_errors=True)
    command = [
        str(REPO / "node_modules" / ".bin" / "cdk"),
        "synth",
        "--all",
        "--quiet",
        "--output",
        str(outdir),
    ]
    started = time.perf_counter()
    subprocess.run(command, cwd=app_dir, env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python benchmarks/synth_bench.py",
        description=(
            "`cdk synth --all` of this app against a one-bucket CDK app, side by side in one run, through "
            "the same pinned CDK CLI and the Node.js in .venv, alternating so that machine noise hits both "
            "alike. Prints the median wall time of each and their ratio (target: <= 2x)."
        ),
        epilog=examples("python benchmarks/synth_bench.py", "python benchmarks/synth_bench.py --runs 3"),
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--runs", type=int, default=5, help="synths of each app (default: 5)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        baseline_dir = scratch / "one-bucket"
        baseline_dir.mkdir()
        (baseline_dir / "app.py").write_text(ONE_BUCKET_APP)
        (baseline_dir / "cdk.json").write_text(
            (REPO / "cdk.json").read_text().replace(".venv/bin/python app.py", f"{sys.executable} app.py")
        )
        ours, baseline = [], []
        for run in range(1, args.runs + 1):
            print(f"run {run}/{args.runs}: this app ...", end=" ", flush=True, file=sys.stderr)
            ours.append(synth_seconds(REPO, scratch / "ours.out"))
            print("one-bucket app ...", end=" ", flush=True, file=sys.stderr)
            baseline.append(synth_seconds(baseline_dir, scratch / "baseline.out"))
            print("done", file=sys.stderr)

    ours_s, baseline_s = statistics.median(ours), statistics.median(baseline)
    ratio = ours_s / baseline_s
    print(
        f"cdk synth --all, median of {args.runs}: this app {ours_s:.2f} s, one-bucket app {baseline_s:.2f} s"
    )
    verdict = "meets" if ratio <= TARGET_RATIO else "MISSES"
    print(f"synth ratio: {ratio:.2f}x (target <= {TARGET_RATIO}x: {verdict})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
