"""Client CPU of ``upload``'s transfer against a plain thread pool of ``put_object`` calls.

Side by side in one run, on the same files and the same stubbed S3 client (botocore builds, signs
and parses every request; a ``before-send`` handler answers 200 instead of the network):
  floor     a ThreadPoolExecutor of --workers threads, one ``put_object`` per file
  upload    ``training.data.upload.execute`` with the command's transfer settings and worker count
Each is run --rounds times, alternating; the medians of process CPU time are compared. The files
are small (about Stanford Dogs' 30 KB JPEGs), so every one is under the multipart threshold.
A measurement, not a gate: it exits 0 whatever it finds.

    python benchmarks/upload_bench.py [--files N] [--workers N] [--rounds N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from core.cli_help import HelpFormatter, examples  # noqa: E402
from training.data.upload import MIB, MULTIPART_THRESHOLD, Plan, digest, execute  # noqa: E402

FILE_BYTES = 30_000
TARGET_RATIO = 1.3  # issue 8: upload at most 1.3x the plain put_object pool


def main() -> int:
    args = parse_arguments()
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",  # noqa: S105 - fake credentials for a stubbed client
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
    )
    folder = Path(tempfile.mkdtemp(prefix="upload-bench-"))
    try:
        files = make_files(folder, args.files)
        s3 = stubbed_client(args.workers)
        plan = Plan(bucket="bench", prefix="datasets/bench/", to_upload=files)
        floor, upload = [], []
        for _ in range(args.rounds):
            floor.append(cpu_seconds(lambda: put_pool(s3, files, args.workers)))
            upload.append(cpu_seconds(lambda: execute(s3, plan, args.workers, transfer_config())))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    floor_ms = statistics.median(floor) / args.files * 1000
    upload_ms = statistics.median(upload) / args.files * 1000
    ratio = upload_ms / floor_ms
    print(
        f"{args.files} files of {FILE_BYTES:,} bytes, {args.workers} threads, median of {args.rounds} rounds"
    )
    print(f"  put_object pool   {floor_ms:.3f} ms CPU per file")
    print(f"  upload (execute)  {upload_ms:.3f} ms CPU per file")
    print(
        f"  ratio {ratio:.2f}x (target <= {TARGET_RATIO}x): {'met' if ratio <= TARGET_RATIO else 'NOT met'}"
    )
    return 0


def parse_arguments() -> argparse.Namespace:
    return build_parser().parse_args()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python benchmarks/upload_bench.py",
        description=(
            "Client CPU of `upload`'s transfer against a plain thread pool of put_object calls, side by "
            "side in one run, on the same files and the same stubbed S3 client (botocore builds, signs "
            "and parses every request; no network). The medians of process CPU time are compared. A "
            "measurement, not a gate: it exits 0 whatever it finds."
        ),
        epilog=examples(
            "python benchmarks/upload_bench.py",
            "python benchmarks/upload_bench.py --files 5000 --workers 16 --rounds 3",
        ),
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--files", type=int, default=2000, help="files per round (default: 2000)")
    parser.add_argument("--workers", type=int, default=16, help="threads, as `upload` (default: 16)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of each (default: 5)")
    return parser


def make_files(folder: Path, count: int) -> list[Any]:
    files = []
    for number in range(count):
        path = folder / f"{number:05}.jpg"
        path.write_bytes(number.to_bytes(4, "little") * (FILE_BYTES // 4))
        files.append(digest(path, f"datasets/bench/train/{path.name}"))
    return files


def stubbed_client(workers: int) -> Any:
    from botocore.awsrequest import AWSResponse

    from training.aws import client

    class Body:
        def stream(self, **_: Any) -> Any:
            return iter([b""])

    def answer(request: Any, **_: Any) -> AWSResponse:
        return AWSResponse(request.url, 200, {"ETag": '"0"', "Content-Length": "0"}, Body())

    s3 = client("s3", max_pool_connections=workers * 4)  # as the command makes it
    s3.meta.events.register("before-send.s3", answer)
    return s3


def transfer_config() -> Any:
    from boto3.s3.transfer import TransferConfig

    return TransferConfig(
        multipart_threshold=MULTIPART_THRESHOLD, multipart_chunksize=64 * MIB, max_concurrency=4
    )


def put_pool(s3: Any, files: list[Any], workers: int) -> None:
    def put(file: Any) -> None:
        with file.path.open("rb") as body:
            s3.put_object(Bucket="bench", Key=file.key, Body=body)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(put, files))


def cpu_seconds(work: Any) -> float:
    started = time.process_time()
    work()
    return time.process_time() - started


if __name__ == "__main__":
    sys.exit(main())
