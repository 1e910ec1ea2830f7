"""The command line: ``python -m client predict IMAGE [IMAGE ...] --url URL``.

Results go to stdout (a table, or JSON lines with ``--json``); progress, image conversions,
retries, errors and a last summary ("3 of 6 failed") go to stderr. Exit status: 0 when every
image was classified, 1 when any failed, 2 for usage errors (no URL, no API key, an empty folder).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from client.api import (
    API_KEY_HEADER,
    DEFAULT_TIMEOUT_SECONDS,
    EXAMPLE_STAGE_URL,
    MAX_RETRIES,
    ApiError,
    endpoint_url,
    predict,
)
from client.images import ImageError, prepare_image
from core.api_contract import API_KEY_ENV, API_URL_ENV, DEFAULT_TOP_K, ROUTE
from core.cli_args import positive_int
from core.cli_help import HelpFormatter, examples

PROG = "python -m client"
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
# What a folder is expanded to: the formats the client sends or converts (see client/images.py).
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff")
GET_API_KEY_COMMAND = (
    "aws apigateway get-api-key --api-key <ApiKeyId> --include-value --query value --output text"
)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        url = resolve_url(args.command_parser, args.url)
        api_key = resolve_api_key(args.command_parser, args.api_key, without=args.no_api_key)
        images = expand_folders(args.command_parser, args.images)
    except SystemExit as exit_:  # argparse: --help (0) or a usage error (2), already printed
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
    try:
        return predict_images(images, url, api_key, args.top_k, args.timeout, as_json=args.json)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Classify dog photos with the deployed dog-breed API, or the local one of "
        "scripts/local. Needs the API's URL and key, not AWS credentials.",
        epilog=examples(f"{PROG} predict dog.jpg", f"{PROG} predict --help"),
        formatter_class=HelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    predict_parser = commands.add_parser(
        "predict",
        help="classify images and print each one's most probable breeds",
        description=(
            "Send each image to the API and print its most probable breeds. A folder stands for "
            "the images in it and its subfolders. JPEG and PNG photos up to 2048 px go as they "
            "are; larger photos and other formats Pillow reads (WebP, GIF, BMP, TIFF) are "
            "converted to a JPEG of at most 1024 px, which loses nothing: the model sees 224x224 "
            "pixels.\n\n"
            "The API key of a deployed stage: the deploy prints the Serving stack's ApiKeyId, "
            f"and this prints the key:\n  {GET_API_KEY_COMMAND}\n"
            "The local API (scripts/local) prints its own PredictUrl and ApiKey."
        ),
        epilog=examples(
            f"# with {API_URL_ENV}=<PredictUrl> and {API_KEY_ENV}=<key> exported:",
            f"{PROG} predict dog.jpg",
            f"{PROG} predict photos/ --top-k 3 --json",
            f"{PROG} predict dog.jpg --url {EXAMPLE_STAGE_URL}",
            notes="Exit status: 0 when every image was classified, 1 when any failed (a last line on "
            "stderr says how many), 2 for usage errors.",
        ),
        formatter_class=HelpFormatter,
    )
    predict_parser.set_defaults(command_parser=predict_parser)
    predict_parser.add_argument(
        "images",
        nargs="+",
        metavar="IMAGE",
        help="photo files (JPEG, PNG, WebP, GIF, BMP, TIFF), or folders of them",
    )
    predict_parser.add_argument(
        "--url",
        help=f"the API's stage URL from the stack outputs, or its {ROUTE} URL (default: ${API_URL_ENV})",
    )
    predict_parser.add_argument(
        "--api-key",
        metavar="KEY",
        help=f"the API key, sent as {API_KEY_HEADER} (default: ${API_KEY_ENV}, which keeps it "
        "out of the process list and shell history)",
    )
    predict_parser.add_argument(
        "--no-api-key",
        action="store_true",
        help="send without a key, to a stage deployed with api_key_required false",
    )
    predict_parser.add_argument(
        "--top-k",
        type=positive_int,
        default=DEFAULT_TOP_K,
        metavar="N",
        help="how many breeds to show per image (default: %(default)s)",
    )
    predict_parser.add_argument(
        "--json",
        action="store_true",
        help='print one JSON object per image: {"file", "predictions", "model"}, or '
        '{"file", "error": {"status", "code", "message"}} for an image that failed',
    )
    predict_parser.add_argument(
        "--timeout",
        type=positive_float,
        default=DEFAULT_TIMEOUT_SECONDS,
        metavar="S",
        help="seconds to wait for each answer (default: %(default)g)",
    )
    return parser


def positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:  # also refuses NaN
        raise argparse.ArgumentTypeError(f"must be more than 0, not {text}")
    return value


def resolve_url(parser: argparse.ArgumentParser, flag: str | None) -> str:
    """The ``/predict`` URL from ``--url`` or the environment; a usage error when neither is set."""
    url = flag or os.environ.get(API_URL_ENV)
    if not url:
        parser.error(f"no API URL: pass --url or set {API_URL_ENV} to the stage URL")
    try:
        return endpoint_url(url)
    except ValueError as error:
        parser.error(f"--url: {error}")


def resolve_api_key(parser: argparse.ArgumentParser, flag: str | None, *, without: bool) -> str | None:
    """The key from ``--api-key`` or the environment; a usage error saying how to get one when
    neither is set (``--no-api-key`` sends without one)."""
    key = flag or os.environ.get(API_KEY_ENV) or None
    if without:
        if key:
            parser.error(f"--no-api-key and an API key (--api-key or ${API_KEY_ENV}) contradict each other")
        return None
    if not key:
        parser.error(
            f"no API key: pass --api-key or set {API_KEY_ENV}. A deployed stage's key: "
            f"{GET_API_KEY_COMMAND} (ApiKeyId is a Serving stack output, printed by the deploy); "
            "the local API's: the ApiKey line that scripts/local prints. A stage deployed with "
            "api_key_required false takes --no-api-key."
        )
    return key


def expand_folders(parser: argparse.ArgumentParser, paths: Sequence[str]) -> list[str]:
    """``paths`` with each folder replaced by the image files in it and its subfolders, sorted
    (hidden ones left out); a usage error for a folder without any."""
    images: list[str] = []
    for path in paths:
        folder = Path(path)
        if not folder.is_dir():
            images.append(path)
            continue
        found = sorted(
            str(file)
            for file in folder.rglob("*")
            if file.suffix.lower() in IMAGE_SUFFIXES
            and file.is_file()
            and not any(part.startswith(".") for part in file.relative_to(folder).parts)
        )
        if not found:
            parser.error(f"{path}: the folder holds no images ({', '.join(IMAGE_SUFFIXES)})")
        images += found
    return images


def predict_images(
    images: Sequence[str],
    url: str,
    api_key: str | None,
    top_k: int,
    timeout: float,
    *,
    as_json: bool,
) -> int:
    """Classify ``images`` one by one, printing each result; the exit status."""
    failed = 0
    for index, path in enumerate(images, start=1):
        if len(images) > 1:
            print(f"[{index}/{len(images)}] {path}", file=sys.stderr)
        try:
            result = classify(path, url, api_key, top_k, timeout)
        except ImageError as error:
            failed += 1
            report_failure(path, error.reason, None, "ImageError", error.reason, as_json=as_json)
            continue
        except ApiError as error:
            failed += 1
            report_failure(path, str(error), error.status, error.code, error.message, as_json=as_json)
            remaining = images[index:]
            if error.affects_every_request and remaining:
                skip(remaining, error, as_json=as_json)
                failed += len(remaining)
                break
            continue
        if as_json:
            print(json.dumps({"file": path, **result}))
        else:
            print(format_table(path, result) + ("\n" if index < len(images) else ""))
    if failed:
        print(f"{failed} of {len(images)} failed", file=sys.stderr)
    elif len(images) > 1:
        print(f"all {len(images)} classified", file=sys.stderr)
    return EXIT_FAILED if failed else EXIT_OK


def classify(path: str, url: str, api_key: str | None, top_k: int, timeout: float) -> dict[str, Any]:
    """Prepare one image and send it, telling stderr about conversions and retries."""
    prepared = prepare_image(path)
    if prepared.note:
        print(f"{path}: {prepared.note}", file=sys.stderr)

    def tell_retry(error: ApiError, wait: float, attempt: int) -> None:
        print(
            f"{path}: {str(error).rstrip('.')}; retrying in {wait:g} s ({attempt}/{MAX_RETRIES})",
            file=sys.stderr,
        )

    return predict(url, prepared.data, api_key, top_k, timeout, on_retry=tell_retry)


def report_failure(
    path: str, summary: str, status: int | None, code: str, message: str, *, as_json: bool
) -> None:
    """One line on stderr, ``error: dog.jpg: 413 PayloadTooLarge: ...``; with ``--json`` also an
    error object on stdout, so that every image has its line there."""
    print(f"error: {path}: {summary}", file=sys.stderr)
    if as_json:
        print_json_error(path, status, code, message)


def skip(paths: Sequence[str], cause: ApiError, *, as_json: bool) -> None:
    """Give up on ``paths`` after ``cause``, which every request would meet (URL, key, network)."""
    print(
        f"error: not sending the other {len(paths)} image(s): they would fail the same way",
        file=sys.stderr,
    )
    if as_json:
        for path in paths:
            print_json_error(path, None, "NotSent", f"not sent after an earlier failure: {cause}")


def print_json_error(path: str, status: int | None, code: str, message: str) -> None:
    error = {"status": status, "code": code, "message": message}
    print(json.dumps({"file": path, "error": error}))


def format_table(name: str, result: dict[str, Any]) -> str:
    """The top-K table for one image, headed by its name and the model version."""
    predictions = result["predictions"]
    header = f"{name}  (model {result.get('model') or 'unknown'})"
    if not predictions:
        return f"{header}\n  (no predictions)"
    rank_width = len(str(len(predictions)))
    breed_width = max(len("breed"), *(len(p["breed"]) for p in predictions))
    lines = [header, f"  {'#':>{rank_width}}  {'breed':<{breed_width}}  probability"]
    for rank, prediction in enumerate(predictions, start=1):
        probability = format_probability(float(prediction["probability"]))
        lines.append(f"  {rank:>{rank_width}}  {prediction['breed']:<{breed_width}}  {probability:>11}")
    return "\n".join(lines)


def format_probability(probability: float) -> str:
    """``0.931`` -> ``93.1%``; a small non-zero probability is ``<0.1%``, not ``0.0%``."""
    if 0 < probability < 0.0005:
        return "<0.1%"
    return f"{probability:.1%}"
