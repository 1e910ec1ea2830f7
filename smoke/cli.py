"""``python -m smoke --stage dev``: classify the shipped photo with the deployed API, check the answer.

Progress goes to stderr, the verdict to stdout (pass) or stderr (fail). Exit status: 0 passed,
1 failed, 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.api_contract import API_KEY_ENV, API_URL_ENV, CLIENT_TIMEOUT_SECONDS, DEFAULT_TOP_K, NOT_READY
from core.aws_region import environment_region
from core.cli_args import positive_int
from core.cli_help import HelpFormatter, examples
from core.stage_config import STAGES
from smoke.checks import prediction_problems
from smoke.outputs import ServingOutputs, SmokeError, read_api_key, read_serving_outputs

PROG = "scripts/smoke-test"
REPO = Path(__file__).resolve().parent.parent
SMOKE_IMAGE = Path(__file__).resolve().parent / "smoke.jpg"
EXIT_PASSED = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
# The client retries a 503 three times with backoff; this bounds the whole call.
CLIENT_DEADLINE_SECONDS = 300

# Creates the CloudFormation and API Gateway clients for a region (None: the default region).
ClientFactory = Callable[[str | None], tuple[Any, Any]]


@dataclass(frozen=True)
class Verdict:
    passed: bool
    message: str


def main(argv: Sequence[str] | None = None, *, clients: ClientFactory | None = None) -> int:
    """Run the smoke test with ``argv``; ``clients`` replaces the boto3 clients (tests)."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_:  # --help (0) or a usage error (2), already printed
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
    try:
        cloudformation, apigateway = (clients or aws_clients)(args.region)
        outputs = read_serving_outputs(cloudformation, args.stage)
        api_key = read_api_key(apigateway, outputs.api_key_id) if outputs.api_key_id else None
        print(f"{outputs.stack_name}: POST {args.image} to {outputs.predict_url}", file=sys.stderr)
        answer = call_client(outputs.predict_url, api_key, args.image, args.top_k, args.timeout)
        verdict = judge(answer, outputs, args.stage, top_k=args.top_k, allow_no_model=args.allow_no_model)
    except SmokeError as error:
        verdict = Verdict(False, str(error))
    if verdict.passed:
        print(f"smoke test passed: {verdict.message}")
        return EXIT_PASSED
    print(f"error: smoke test failed: {verdict.message}", file=sys.stderr)
    return EXIT_FAILED


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Smoke-test a deployed stage: read its Serving stack's outputs (PredictUrl, ModelVersion, "
            "ApiKeyId) and the API key's value with the AWS credentials of the shell, classify a "
            "photo with the client CLI (python -m client predict), and check for a 200 with the top "
            "breeds, probabilities in [0, 1] and the stack's model version."
        ),
        epilog=examples(
            f"{PROG} --stage dev --region eu-west-1",
            "# a stage deployed without a model answers 503 ModelUnavailable (CI accepts it):",
            f"{PROG} --stage dev --allow-no-model",
            f"{PROG} --stage prod --top-k 3 --timeout 60",
            notes="Needs AWS credentials with cloudformation:DescribeStacks and apigateway:GET (the CDK "
            "lookup role has both). Exit status: 0 passed, 1 failed, 2 usage error.",
        ),
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--stage", required=True, choices=sorted(STAGES), help="the stage to test")
    parser.add_argument("--region", help="the stage's region (default: AWS_REGION or the profile's)")
    parser.add_argument(
        "--image",
        type=existing_file,
        default=SMOKE_IMAGE,
        metavar="FILE",
        help=f"the photo to classify (default: {SMOKE_IMAGE.relative_to(REPO)}, shipped in the repository)",
    )
    parser.add_argument(
        "--top-k",
        type=positive_int,
        default=DEFAULT_TOP_K,
        metavar="N",
        help="predictions the answer must hold (default: %(default)s)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=CLIENT_TIMEOUT_SECONDS,
        metavar="S",
        help="seconds to wait for each answer (default: %(default)g)",
    )
    parser.add_argument(
        "--allow-no-model",
        action="store_true",
        help=(
            "pass when the stage deploys no endpoint (no pinned model, or -c endpoint=off) and the "
            f"API answers {NOT_READY.status} {NOT_READY.code} as designed; a stage with an endpoint "
            f"still fails on {NOT_READY.status}"
        ),
    )
    return parser


def existing_file(text: str) -> Path:
    path = Path(text).expanduser().resolve()
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"no such file: {text}")
    return path


def aws_clients(region: str | None) -> tuple[Any, Any]:
    import boto3  # here, not at import: the tests never create a real client

    session = boto3.session.Session(region_name=region or environment_region())
    if session.region_name is None:
        raise SmokeError("no AWS region: pass --region or set AWS_REGION")
    return session.client("cloudformation"), session.client("apigateway")


def call_client(url: str, api_key: str | None, image: Path, top_k: int, timeout: float) -> dict[str, Any]:
    """Run ``python -m client predict --json`` and return its one JSON line: the API's success
    body, or ``{"error": {"status", "code", "message"}}``. Its retry messages go to our stderr."""
    command = [sys.executable, "-m", "client", "predict", str(image), "--url", url, "--json"]
    command += ["--top-k", str(top_k), "--timeout", f"{timeout:g}"]
    env = {name: value for name, value in os.environ.items() if name not in (API_KEY_ENV, API_URL_ENV)}
    if api_key:
        env[API_KEY_ENV] = api_key  # not on the command line, where the process list shows it
    try:
        result = subprocess.run(  # noqa: S603 - our own interpreter and arguments
            command,
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
            timeout=CLIENT_DEADLINE_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise SmokeError(f"the client CLI did not finish within {CLIENT_DEADLINE_SECONDS} s") from None
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    try:
        answer = json.loads(lines[-1])
    except (IndexError, ValueError):
        raise SmokeError(
            f"the client CLI printed no JSON result (exit status {result.returncode}); see its message above"
        ) from None
    if not isinstance(answer, dict):
        raise SmokeError(f"the client CLI printed {answer!r}, not a JSON object")
    return answer


def judge(
    answer: dict[str, Any], outputs: ServingOutputs, stage: str, *, top_k: int, allow_no_model: bool
) -> Verdict:
    """The verdict on the client's answer, given what the stack says it deployed."""
    error = answer.get("error")
    if isinstance(error, dict):
        return judge_error(error, outputs, stage, allow_no_model=allow_no_model)
    problems = prediction_problems(answer, model_version=outputs.model_version, top_k=top_k)
    if problems:
        return Verdict(False, "the API answered 200 with a malformed prediction: " + "; ".join(problems))
    top = answer["predictions"][0]
    return Verdict(
        True,
        f"stage {stage} answered 200 with the top {top_k} breeds of model {outputs.model_version} "
        f"(first: {top['breed']}, {float(top['probability']):.1%})",
    )


def judge_error(
    error: dict[str, Any], outputs: ServingOutputs, stage: str, *, allow_no_model: bool
) -> Verdict:
    status, code, message = error.get("status"), error.get("code"), error.get("message")
    if status != NOT_READY.status or code != NOT_READY.code:
        return Verdict(False, f"the API answered {status} {code}: {message}")
    if outputs.has_endpoint:
        return Verdict(
            False,
            f"the API answered {status} {code} although {outputs.stack_name} has endpoint "
            f"{outputs.endpoint_name}: it is missing or not InService; check it in the SageMaker console",
        )
    no_endpoint = (
        f"stage {stage} deploys no endpoint (no model pinned in models/{stage}.json, or deployed "
        f"with -c endpoint=off) and the API answered {status} {code}"
    )
    if allow_no_model:
        return Verdict(True, f"{no_endpoint}, as designed (--allow-no-model); nothing was classified")
    return Verdict(
        False,
        f"{no_endpoint}: pin a model (python -m training promote JOB --stage {stage}) and deploy "
        "again, or pass --allow-no-model to accept a stage without a model",
    )
