"""``python -m local [--model SOURCE] [--port N] [--api-key KEY]``: the whole API on 127.0.0.1.

Serves ``POST /predict`` (the deployed API's checks in front of the unchanged prediction
function, which calls a local SageMaker-runtime stand-in running the model on the CPU) and the
web page at ``/``. Prints ``PredictUrl: ...`` and the API key, then serves until Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core.api_contract import API_KEY_ENV, API_URL_ENV
from core.cli_help import HelpFormatter, examples

PROG = "scripts/local"
DEFAULT_PORT = 8080
TEST_MODEL_CLASSES = 120
EXIT_OK = 0
EXIT_ERROR = 1
EXIT_INTERRUPTED = 130


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "dog-breeds" / "local"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Serve the prediction API and its web page on 127.0.0.1 with a model on the CPU: the same "
            "function code the stack deploys, behind the deployed API's checks (route, x-api-key, "
            "request schema, binary media types, CORS, error shapes). No AWS account needed, except "
            "to read a model from S3 or a training job."
        ),
        epilog=examples(
            "# a generated test model: its breeds are meaningless",
            PROG,
            f"{PROG} --model model.tar.gz --port 8081",
            "# from S3 or a training job (AWS credentials needed to download it)",
            f"{PROG} --model s3://BUCKET/training/output/JOB/output/model.tar.gz",
            f"{PROG} --model dogbreeds-dev-20260101-120000 --api-key my-local-key",
            notes="Then open the printed URL, or classify a photo with the client:\n"
            f"  {API_URL_ENV}=<PredictUrl> {API_KEY_ENV}=<key> python -m client predict dog.jpg",
        ),
        formatter_class=HelpFormatter,
    )
    parser.add_argument(
        "--model",
        metavar="SOURCE",
        help=(
            "model.tar.gz, its unpacked folder, an s3:// URL or a training job name "
            "(default: a generated test model with random weights)"
        ),
    )
    parser.add_argument(
        "--port",
        type=port_number,
        default=DEFAULT_PORT,
        help="port on 127.0.0.1 (default: %(default)s; 0: any free)",
    )
    parser.add_argument(
        "--api-key", metavar="KEY", help="the x-api-key to require (default: a new random key)"
    )
    parser.add_argument(
        "--classes",
        type=Path,
        metavar="FILE",
        help=(
            'classes.json of the model, a list of {"id", "name"} in class-id order (default: the 120 '
            "Stanford Dogs breeds)"
        ),
    )
    return parser


def port_number(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port number (0 to 65535)")
    return port


def class_names(classes_file: Path | None, num_classes: int) -> list[str]:
    """The class names to serve, in class-id order; ``ValueError`` says what is wrong."""
    if classes_file is None:
        from core.breeds import STANFORD_DOGS_FOLDERS, split_folder

        if num_classes == len(STANFORD_DOGS_FOLDERS):
            return [split_folder(folder)[1] for folder in STANFORD_DOGS_FOLDERS]
        print(
            f"warning: the model has {num_classes} classes, not the 120 Stanford Dogs breeds; "
            "pass --classes classes.json to name them",
            file=sys.stderr,
        )
        return [f"class {i}" for i in range(num_classes)]
    try:
        records = json.loads(classes_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ValueError(f"cannot read {classes_file}: {error}") from None
    names: list[str] = []
    for record in records:
        name = record.get("name") if isinstance(record, dict) else record
        if not (isinstance(name, str) and name):
            raise ValueError(f'{classes_file} must be a JSON list of {{"id", "name"}} objects or of names')
        names.append(name)
    return names


def load_model(source: str | None) -> tuple[Any, str]:
    """The model to serve and its version label; a generated test model when ``source`` is None."""
    from local.model import load, write_test_model

    if source is None:
        path = cache_dir() / f"test-model-{TEST_MODEL_CLASSES}-seed0.tar.gz"
        if not path.exists():
            print(f"Writing a test model to {path}", file=sys.stderr)
            path.parent.mkdir(parents=True, exist_ok=True)
            write_test_model(path, num_classes=TEST_MODEL_CLASSES, seed=0)
        print(
            "Serving a TEST MODEL with random weights: its breeds are meaningless. To serve a trained "
            f"model: {PROG} --model model.tar.gz (or an s3:// URL, or a training job name).",
            file=sys.stderr,
        )
        return load(path), "local-test-model"
    print(f"Loading the model from {source}", file=sys.stderr)
    return load(source), f"local-{Path(source.rstrip('/')).name}"


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from local.api_server import start_api

    try:
        model, version = load_model(args.model)
        names = class_names(args.classes, model.num_classes)
        work_dir = Path(tempfile.mkdtemp(prefix="dog-breeds-local-"))
        api_key = args.api_key or secrets.token_urlsafe(24)
        running = start_api(
            model,
            api_key=api_key,
            class_names=names,
            model_version=version,
            work_dir=work_dir,
            port=args.port,
        )
    except OSError as error:
        print(f"error: {error}", file=sys.stderr)
        if args.port and getattr(error, "errno", None) == 98:
            print(
                f"error: port {args.port} is in use: pass --port N (or --port 0 for any free port)",
                file=sys.stderr,
            )
        return EXIT_ERROR
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("Interrupted before serving.", file=sys.stderr)
        return EXIT_INTERRUPTED
    # From here Ctrl-C (and SIGTERM) only ask the loop below to stop, wherever they arrive.
    stop = threading.Event()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signal_number, lambda *_: stop.set())
    print(f"Page: {running.url}/", flush=True)
    print(f"PredictUrl: {running.predict_url}", flush=True)
    print(f"ApiKey: {api_key}", flush=True)
    print(
        f"Try: curl -s -X POST {running.predict_url} -H 'x-api-key: {api_key}' "
        "-H 'Content-Type: image/jpeg' --data-binary @smoke/smoke.jpg\nStop with Ctrl-C.",
        flush=True,
    )
    while not stop.wait(0.5):  # a timeout keeps the main thread responsive to signals
        pass
    running.stop()
    print("Stopped.", file=sys.stderr, flush=True)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
