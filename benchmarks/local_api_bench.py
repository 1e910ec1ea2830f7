"""Local prediction latency: one 224x224 JPEG end to end through the local API (gateway checks, the
prediction function, boto3, the runtime stand-in, decoding, the CPU model) against a bare ONNX
Runtime call on the same preprocessed tensor. Target: at most 1.5x.

    .venv/bin/python benchmarks/local_api_bench.py [--rounds 40] [--model model.tar.gz]

A ResNet-50 as the algorithm builds it (120 classes, random weights; local_model_bench.py writes it) is
served unless --model is given; --small serves the one-unit test model instead, which shows the fixed
cost of the path around the network.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import io
import os
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from local_model_bench import write_resnet50_model  # noqa: E402
from PIL import Image  # noqa: E402

from core.breeds import STANFORD_DOGS_FOLDERS, split_folder  # noqa: E402
from core.cli_help import HelpFormatter, examples  # noqa: E402
from local.api_server import start_api  # noqa: E402
from local.model import load, write_test_model  # noqa: E402
from local.model.preprocess import preprocess  # noqa: E402

API_KEY = "benchmark-key-0123456789"


def photo(size: int = 224) -> bytes:
    image = Image.radial_gradient("L").convert("RGB").resize((size, size))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python benchmarks/local_api_bench.py",
        description=__doc__.split("\n\n")[0],
        epilog=examples(
            "python benchmarks/local_api_bench.py",
            "python benchmarks/local_api_bench.py --small --rounds 100",
            "python benchmarks/local_api_bench.py --model model.tar.gz",
        ),
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--rounds", type=int, default=40, help="timed requests of each kind (default: 40)")
    parser.add_argument("--model", help="model.tar.gz or folder (default: a ResNet-50 with random weights)")
    parser.add_argument("--small", action="store_true", help="serve the small test model instead")
    return parser


def main() -> int:
    args = build_parser().parse_args()
    work = Path(tempfile.mkdtemp(prefix="local-api-bench-"))
    if args.model:
        source = args.model
    elif args.small:
        source = write_test_model(work / "model.tar.gz", num_classes=120, seed=0)
    else:
        source = write_resnet50_model(work / "resnet50")
    model = load(source)
    names = [split_folder(folder)[1] for folder in STANFORD_DOGS_FOLDERS][: model.num_classes]
    names += [f"class {i}" for i in range(len(names), model.num_classes)]
    image = photo(model.image_shape[1])
    tensor = preprocess(image, model.image_shape)[None]
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"  # keep the terminal readable
    running = start_api(model, api_key=API_KEY, class_names=names, model_version="bench", work_dir=work)
    connection = http.client.HTTPConnection("127.0.0.1", running.api.server_port, timeout=60)
    connection.connect()
    connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as browsers and urllib3 do
    headers = {"x-api-key": API_KEY, "Content-Type": "image/jpeg"}

    def end_to_end() -> None:
        connection.request("POST", "/predict", body=image, headers=headers)
        response = connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise SystemExit(f"the local API answered {response.status}: {body[:300]!r}")

    def bare() -> None:
        model.forward(tensor)

    timings: dict[str, list[float]] = {"api": [], "bare": []}
    with (
        open(os.devnull, "w") as devnull,
        contextlib.redirect_stdout(devnull),
    ):  # the function's metrics lines
        for _ in range(3):  # warm-up: sessions, connections, caches
            end_to_end()
            bare()
        for _ in range(args.rounds):  # interleaved, so both see the same machine load
            for name, call in (("api", end_to_end), ("bare", bare)):
                start = time.perf_counter()
                call()
                timings[name].append(time.perf_counter() - start)
    connection.close()
    running.stop()
    api, raw = statistics.median(timings["api"]), statistics.median(timings["bare"])
    print(f"model: {model!r}")
    print(f"end to end through the local API: {api * 1000:.1f} ms (median of {args.rounds})")
    print(f"bare ONNX Runtime forward, same preprocessed tensor: {raw * 1000:.1f} ms")
    print(f"ratio: {api / raw:.2f}x (target <= 1.5x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
