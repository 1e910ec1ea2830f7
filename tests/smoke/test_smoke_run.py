"""The smoke test end to end: stubbed stack outputs, the real client CLI, a local stand-in API."""

import json
import subprocess
from pathlib import Path

from smoke_fakes import API_KEY, MODEL_VERSION, STAGE, prediction

from core.api_contract import NOT_READY, error_body
from smoke.cli import SMOKE_IMAGE, main

REPO = Path(__file__).resolve().parents[2]


def smoke(aws, capsys, *argv: str) -> tuple[int, str, str]:
    status = main(["--stage", STAGE, *argv], clients=aws.factory)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def no_model_answer(stand_in) -> None:
    stand_in.status = NOT_READY.status
    stand_in.body = error_body(NOT_READY, "no model is deployed for this stage")
    stand_in.headers = {"Retry-After": "0"}  # the client retries 503s: do not wait for it here


# --- Passing ---------------------------------------------------------------------------------------
def test_well_formed_top_5_from_the_stacks_model_passes(aws, stand_in, capsys):
    aws.serve_deployed(stand_in)

    status, out, _ = smoke(aws, capsys)

    assert status == 0
    assert out == (
        f"smoke test passed: stage {STAGE} answered 200 with the top 5 breeds of model {MODEL_VERSION} "
        "(first: Siberian husky, 62.0%)\n"
    )


def test_shipped_photo_is_sent_with_the_stacks_api_key(aws, stand_in, capsys):
    aws.serve_deployed(stand_in)

    smoke(aws, capsys)

    request = stand_in.received[0]
    assert request["path"] == "/v1/predict"
    assert request["api_key"] == API_KEY
    body = json.loads(request["body"])
    assert body["topK"] == 5
    assert len(body["image"]) > 1000


def test_region_option_reaches_the_aws_clients(aws, stand_in, capsys):
    aws.serve_deployed(stand_in)

    smoke(aws, capsys, "--region", "eu-west-1")

    assert aws.regions == ["eu-west-1"]


def test_api_key_never_appears_in_the_output(aws, stand_in, capsys):
    aws.serve_deployed(stand_in)

    _, out, err = smoke(aws, capsys)

    assert API_KEY not in out + err


# --- Failing on the answer -------------------------------------------------------------------------
def test_another_model_version_fails_naming_both(aws, stand_in, capsys):
    aws.serve_deployed(stand_in)
    stand_in.body = prediction(model="job-0")

    status, _, err = smoke(aws, capsys)

    assert status == 1
    assert "model is 'job-0', but the stack serves 'job-1'" in err


def test_probability_outside_0_1_fails(aws, stand_in, capsys):
    aws.serve_deployed(stand_in)
    stand_in.body = prediction([1.5, 0.2, 0.1, 0.05, 0.03])

    status, _, err = smoke(aws, capsys)

    assert status == 1
    assert "prediction 1: probability 1.5 is outside [0, 1]" in err


def test_fewer_than_5_predictions_fail(aws, stand_in, capsys):
    aws.serve_deployed(stand_in)
    stand_in.body = prediction([0.9, 0.1])

    status, _, err = smoke(aws, capsys)

    assert status == 1
    assert "2 predictions instead of the top 5" in err


def test_an_api_error_fails_with_the_apis_status_and_code(aws, stand_in, capsys):
    aws.serve_deployed(stand_in)
    stand_in.status, stand_in.body = 500, {"error": {"code": "InternalError", "message": "boom"}}

    status, _, err = smoke(aws, capsys)

    assert status == 1
    assert "error: smoke test failed: the API answered 500 InternalError: boom" in err


# --- A stage without a model -----------------------------------------------------------------------
def test_stage_without_endpoint_fails_by_default_and_says_how_to_fix_it(aws, stand_in, capsys):
    aws.serve_deployed(stand_in, endpoint=False, model="none")
    no_model_answer(stand_in)

    status, _, err = smoke(aws, capsys)

    assert status == 1
    assert "stage dev deploys no endpoint" in err
    assert "python -m training promote JOB --stage dev" in err
    assert "--allow-no-model" in err


def test_stage_without_endpoint_passes_with_allow_no_model(aws, stand_in, capsys):
    aws.serve_deployed(stand_in, endpoint=False, model="none")
    no_model_answer(stand_in)

    status, out, _ = smoke(aws, capsys, "--allow-no-model")

    assert status == 0
    assert "answered 503 ModelUnavailable, as designed (--allow-no-model)" in out


def test_503_from_a_stage_with_an_endpoint_fails_even_with_allow_no_model(aws, stand_in, capsys):
    aws.serve_deployed(stand_in, endpoint=True)
    no_model_answer(stand_in)

    status, _, err = smoke(aws, capsys, "--allow-no-model")

    assert status == 1
    assert "has endpoint DogBreeds-dev-Serving: it is missing or not InService" in err


# --- The command line ------------------------------------------------------------------------------
def test_script_prints_its_usage():
    result = subprocess.run(
        [str(REPO / "scripts" / "smoke-test"), "--help"],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0
    assert "--allow-no-model" in result.stdout
    assert "--stage {dev,prod}" in result.stdout


def test_stage_is_required(aws, capsys):
    status = main([], clients=aws.factory)

    assert status == 2
    assert "--stage" in capsys.readouterr().err


def test_shipped_photo_is_a_small_jpeg():
    data = SMOKE_IMAGE.read_bytes()
    assert data.startswith(b"\xff\xd8\xff")
    assert len(data) < 16 * 1024
