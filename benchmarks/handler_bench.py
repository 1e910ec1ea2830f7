"""Measure the prediction handler against its floors, side by side in one run.

(a) Per request, with a fake endpoint client (a plain object whose ``invoke_endpoint`` returns a
    canned answer: no network, no botocore): the handler against the least a handler that checks
    the image must do, ``json.loads`` of the event body, ``base64.b64decode`` of the image and
    Pillow's own decode of it (``Image.open``, ``draft("L", (1, 1))``, ``load``: libjpeg reads
    every block at 1/8 scale), the target's floor; and against the same without the decode.
(b) Cold start as Lambda runs it, in fresh subprocesses: a fresh copy of the function's bundle
    (what synth puts in it, with this machine's Pillow standing in for the arm64 wheel) holding no
    bytecode, imported with PYTHONDONTWRITEBYTECODE=1 as from the read-only /var/task, so every
    bundled module compiles; then its client and a first decode check. Against ``import boto3``
    and a sagemaker-runtime client, measured the same way in the same run (boto3 is compiled, as
    the runtime's copy is). Wall time is the target's measure; CPU time, printed beside it, is what
    other jobs on a shared machine disturb least.

A measurement, not a gate: it exits 0 whatever the ratios.

    python benchmarks/handler_bench.py [--requests 40] [--cold-runs 10]
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
HANDLER_DIR = REPO_ROOT / "lambda" / "predict"
sys.path[:0] = [str(REPO_ROOT), str(HANDLER_DIR)]

from core import api_contract  # noqa: E402 - importable only once the paths above are set
from core.cli_help import HelpFormatter, examples  # noqa: E402

REGION = "us-east-1"
CLASS_COUNT = 120  # the Stanford Dogs breeds
PAYLOAD_SIZES = {"100 KB": 100 * 1024, "1 MB": 1024 * 1024, "4 MB": api_contract.MAX_IMAGE_BYTES}
WARM_TARGET, COLD_TARGET = 1.5, 1.3
HANDLER_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "ENDPOINT_NAME": "dogbreeds-bench-endpoint",
    "MODEL_VERSION": "bench",
    "ALLOWED_ORIGINS": "*",
    "POWERTOOLS_SERVICE_NAME": "predict",
    "POWERTOOLS_METRICS_NAMESPACE": "DogBreedsBench",
    "POWERTOOLS_LOG_LEVEL": "INFO",
}
HANDLER_COLD_START = (
    "import predict_handler, predict_request; predict_handler.sagemaker_runtime_client(); "
    "predict_request.check_image(open('tiny.jpg', 'rb').read())"
)
BOTO3_COLD_START = f"import boto3; boto3.client('sagemaker-runtime', region_name={REGION!r})"


def main() -> int:
    args = parse_arguments()
    classes_file = Path(tempfile.mkdtemp(prefix="handler-bench-")) / "classes.json"
    classes_file.write_text(json.dumps([f"breed {i}" for i in range(CLASS_COUNT)]))
    environment = {**HANDLER_ENVIRONMENT, "CLASSES_FILE": str(classes_file)}
    os.environ.update(environment)

    print_request_table(measure_requests(args.requests), args.requests)
    print_cold_start_table(measure_cold_starts(args.cold_runs, environment), args.cold_runs)
    return 0


def parse_arguments() -> argparse.Namespace:
    return build_parser().parse_args()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python benchmarks/handler_bench.py",
        description=__doc__.split("\n\n")[0],
        epilog=examples(
            "python benchmarks/handler_bench.py",
            "python benchmarks/handler_bench.py --requests 100 --cold-runs 20",
            notes="Prints progress, then a table per measurement with the ratios and their targets.",
        ),
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--requests", type=int, default=40, help="timed requests per payload size (40)")
    parser.add_argument("--cold-runs", type=int, default=10, help="fresh subprocesses per variant (10)")
    return parser


# --- (a) Per request --------------------------------------------------------------------------
class CannedEndpoint:
    """Stands in for the sagemaker-runtime client: answers every call at once."""

    def __init__(self) -> None:
        self._answer = json.dumps([1 / CLASS_COUNT] * CLASS_COUNT).encode()

    def invoke_endpoint(self, **_: Any) -> dict[str, Any]:
        return {"Body": io.BytesIO(self._answer), "ContentType": "application/json"}


@dataclass(frozen=True)
class RequestTiming:
    label: str
    image_bytes: int
    handler_ms: float
    floor_ms: float  # parse and decode
    parse_ms: float  # parse only

    @property
    def ratio(self) -> float:
        return self.handler_ms / self.floor_ms

    @property
    def parse_ratio(self) -> float:
        return self.handler_ms / self.parse_ms


@dataclass(frozen=True)
class FakeLambdaContext:
    function_name: str = "DogBreeds-bench-PredictFunction"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:DogBreeds-bench"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"


def measure_requests(requests: int) -> list[RequestTiming]:
    import predict_handler

    predict_handler.sagemaker_runtime_client = CannedEndpoint
    context = FakeLambdaContext()
    timings = []
    for label, size in PAYLOAD_SIZES.items():
        progress(f"per request: {label} JPEG payload, {requests} requests each for handler and floor")
        event = json_event(jpeg_payload(size))
        with discarded_stdout():  # the handler's log lines and metrics
            response = predict_handler.handler(event, context)
        if response["statusCode"] != 200:
            raise RuntimeError(f"the handler refused the {label} payload: {response['body']}")
        with discarded_stdout():
            handler_ms, floor_ms, parse_ms = time_alternately(
                [
                    lambda event=event: predict_handler.handler(event, context),
                    lambda event=event: decode_floor(event),
                    lambda event=event: parse_floor(event),
                ],
                requests,
            )
        timings.append(RequestTiming(label, size, handler_ms, floor_ms, parse_ms))
    return timings


def jpeg_payload(size: int) -> bytes:
    """A photo-like JPEG that decodes completely, of about ``size`` bytes (a photograph, upscaled
    until its encoding reaches the size, with sensor-like noise), padded after its end to exactly ``size``."""
    from PIL import Image
    from sklearn.datasets import load_sample_image

    photo = Image.fromarray(load_sample_image("china.jpg"))
    low, high = 0.5, 12.0  # scale factors; bisect on the encoded size
    best = b""
    for _ in range(12):
        scale = (low + high) / 2
        encoded = photo_jpeg(photo, scale)
        if len(encoded) <= size:
            best, low = encoded, scale
        else:
            high = scale
    return best + bytes(size - len(best))


def photo_jpeg(photo: Any, scale: float) -> bytes:
    from PIL import Image

    width, height = round(photo.width * scale), round(photo.height * scale)
    resized = photo.resize((width, height), Image.Resampling.BILINEAR)
    noise = Image.effect_noise((width, height), 24).convert("RGB")
    buffer = io.BytesIO()
    Image.blend(resized, noise, 0.08).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def json_event(image: bytes) -> dict[str, Any]:
    body = json.dumps({"image": base64.b64encode(image).decode("ascii"), "topK": 5})
    return {
        "resource": "/predict",
        "path": "/predict",
        "httpMethod": "POST",
        "headers": {"Content-Type": "application/json", "Origin": "https://dogs.example.com"},
        "requestContext": {"stage": "bench", "requestId": "bench"},
        "body": body,
        "isBase64Encoded": False,
    }


def parse_floor(event: dict[str, Any]) -> bytes:
    return base64.b64decode(json.loads(event["body"])["image"])


def decode_floor(event: dict[str, Any]) -> None:
    from PIL import Image

    with Image.open(io.BytesIO(parse_floor(event))) as image:
        image.draft("L", (1, 1))
        image.load()


def time_alternately(calls: list[Callable[[], Any]], rounds: int) -> list[float]:
    """Median milliseconds of each call, taking turns so that drift hits all alike."""
    times: list[list[float]] = [[] for _ in calls]
    for _ in range(rounds):
        for call, call_times in zip(calls, times, strict=True):
            call_times.append(milliseconds(call))
    return [statistics.median(call_times) for call_times in times]


def milliseconds(call: Callable[[], Any]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


@contextmanager
def discarded_stdout() -> Iterator[None]:
    """Send file descriptor 1 to /dev/null: the handler's log and metric lines."""
    sys.stdout.flush()
    saved = os.dup(1)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 1)
        try:
            yield
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)


def print_request_table(timings: list[RequestTiming], requests: int) -> None:
    print()
    print(f"Per request: handler vs its floors, median of {requests}")
    print("floor: json.loads + base64.b64decode + Pillow's decode at 1/8 scale; parse: without the decode")
    print("Endpoint: fake client object returning a canned 120-class answer (no network, no Stubber)")
    print(
        f"{'payload':<8} {'image bytes':>12} {'handler ms':>11} {'floor ms':>9} {'ratio':>7} "
        f"{'parse ms':>9} {'ratio':>7}"
    )
    for timing in timings:
        print(
            f"{timing.label:<8} {timing.image_bytes:>12,} {timing.handler_ms:>11.3f} "
            f"{timing.floor_ms:>9.3f} {timing.ratio:>6.2f}x "
            f"{timing.parse_ms:>9.3f} {timing.parse_ratio:>6.2f}x"
        )
    one_mb = next(t for t in timings if t.label == "1 MB")
    print(
        f"handler/floor at 1 MB: {one_mb.ratio:.2f}x (target <= {WARM_TARGET}x); "
        f"handler/parse: {one_mb.parse_ratio:.2f}x"
    )


# --- (b) Cold start ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ColdStart:
    wall_ms: float
    cpu_ms: float


ColdStarts = tuple[list[ColdStart], list[ColdStart]]  # the handler's, boto3's; run i of each side by side


def measure_cold_starts(runs: int, environment: dict[str, str]) -> ColdStarts:
    with tempfile.TemporaryDirectory(prefix="handler-bench-bundle-") as bundle:
        return measure_cold_starts_in(Path(bundle), runs, environment)


def measure_cold_starts_in(bundle: Path, runs: int, environment: dict[str, str]) -> ColdStarts:
    build_bundle(bundle)
    assert not list(bundle.rglob("*.pyc")), "the bundle must hold no bytecode"
    child_environment = {
        **os.environ,
        **environment,
        "PYTHONPATH": str(bundle),
        "PYTHONDONTWRITEBYTECODE": "1",  # as /var/task is read-only: every cold start compiles
    }
    child_environment.pop("CLASSES_FILE", None)  # the bundle's own classes.json
    cold_start(BOTO3_COLD_START, child_environment, bundle)  # warm the disk cache, untimed
    cold_start(HANDLER_COLD_START, child_environment, bundle)
    if list(bundle.rglob("*.pyc")):
        raise RuntimeError(f"bytecode was written into {bundle}: the measurement would not be cold")
    handler_times, boto3_times = [], []
    for run in range(1, runs + 1):
        progress(f"cold start: run {run}/{runs} (two fresh interpreters)")
        handler_times.append(cold_start(HANDLER_COLD_START, child_environment, bundle))
        boto3_times.append(cold_start(BOTO3_COLD_START, child_environment, bundle))
    return handler_times, boto3_times


def build_bundle(bundle: Path) -> None:
    """What synth bundles (stacks/constructs/predict_function.py), with this machine's Pillow."""
    import shutil

    from stacks.constructs import predict_function
    from stacks.python_bundle import _copy_installed_package

    progress(f"cold start: building a bytecode-free bundle in {bundle}")
    for source in HANDLER_DIR.glob("*.py"):
        shutil.copy2(source, bundle / source.name)
    shutil.copytree(REPO_ROOT / "core", bundle / "core", ignore=shutil.ignore_patterns("__pycache__"))
    (bundle / "classes.json").write_text(json.dumps([f"breed {i}" for i in range(CLASS_COUNT)]))
    for package in predict_function.BUNDLED_PACKAGES:
        _copy_installed_package(package, bundle)
    for distribution in predict_function.BUNDLED_WHEELS:
        assert distribution == "pillow", f"add how to copy {distribution} from this environment"
        _copy_installed_package("PIL", bundle)
        import PIL

        libs = Path(PIL.__file__).parents[1] / "pillow.libs"
        if libs.is_dir():
            shutil.copytree(libs, bundle / "pillow.libs")
    tiny = io.BytesIO()
    from PIL import Image

    Image.new("RGB", (32, 24), (200, 120, 40)).save(tiny, "JPEG")
    (bundle / "tiny.jpg").write_bytes(tiny.getvalue())


def cold_start(code: str, environment: dict[str, str], cwd: Path) -> ColdStart:
    """What ``code`` takes in a fresh interpreter, timed inside it (startup excluded)."""
    timed = (
        "import time\nstarted, cpu = time.perf_counter(), time.process_time()\n"
        f"{code}\n"
        "print((time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000)"
    )
    result = subprocess.run(
        [sys.executable, "-c", timed], env=environment, capture_output=True, text=True, check=True, cwd=cwd
    )
    wall_ms, cpu_ms = result.stdout.strip().splitlines()[-1].split()
    return ColdStart(float(wall_ms), float(cpu_ms))


def print_cold_start_table(times: ColdStarts, runs: int) -> None:
    handler_times, boto3_times = times
    print()
    print(f"Cold start in fresh subprocesses, bundle without bytecode, median of {runs}")
    print(f"{'variant':<52} {'wall ms':>8} {'cpu ms':>8}")
    for label, variant in (
        ("import boto3 + sagemaker-runtime client", boto3_times),
        ("import predict_handler + its client + a decode check", handler_times),
    ):
        wall_ms = statistics.median(t.wall_ms for t in variant)
        cpu_ms = statistics.median(t.cpu_ms for t in variant)
        print(f"{label:<52} {wall_ms:>8.1f} {cpu_ms:>8.1f}")
    wall = [h.wall_ms / b.wall_ms for h, b in zip(handler_times, boto3_times, strict=True)]
    cpu = [h.cpu_ms / b.cpu_ms for h, b in zip(handler_times, boto3_times, strict=True)]
    print(f"per-run wall ratios: {' '.join(f'{r:.2f}' for r in wall)}")
    print(
        f"predict_handler/boto3 cold start: {statistics.median(wall):.2f}x wall "
        f"(median of the runs' ratios; target <= {COLD_TARGET}x), {statistics.median(cpu):.2f}x CPU"
    )


def progress(message: str) -> None:
    print(f"... {message}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
