"""``evaluate``'s argument combinations, and the offline analysis that needs no AWS."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cli_aws_helpers import run_cli
from evaluate_collect_helpers import JOB, VALIDATION, probabilities_for, write_local_dataset

from training.cli import main

REPOSITORY = Path(__file__).resolve().parents[2]
API_URL = "https://abc123.execute-api.eu-west-1.amazonaws.com/v1/"


def usage_error(capsys, *argv) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_:
        main(["evaluate", *map(str, argv)])
    return exit_.value.code, capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--api", API_URL, "--job", JOB], "--api needs --lists OUT"),
        (
            ["--lists", "out"],
            "pass --job JOB --stage S to collect predictions, or --lists OUT --predictions FILE",
        ),
        (["--job", JOB], "--job needs --stage S"),
        (["--predictions", "p.jsonl"], "analysing --predictions needs --lists OUT"),
        (
            ["--job", JOB, "--stage", "dev", "--api-key", "k"],
            "--api-key and --concurrency apply only with --api",
        ),
        (["--lists", "out", "--predictions", "p.jsonl", "--stage", "dev"], "apply only when collecting"),
        (
            ["--api", API_URL, "--lists", "out", "--job", JOB, "--instance-type", "ml.m5.xlarge"],
            "does not apply",
        ),
        (["--job", JOB, "--stage", "dev", "--collect-only", "--compare", "m.json"], "--collect-only skips"),
        (["--api", "ftp://example.com", "--lists", "out", "--job", JOB], "--api: not an http(s) URL"),
    ],
    ids=[
        "api-without-lists",
        "neither-job-nor-predictions",
        "job-without-stage",
        "predictions-without-lists",
        "api-key-without-api",
        "stage-when-not-collecting",
        "instance-type-with-api",
        "collect-only-with-compare",
        "api-not-http",
    ],
)
def test_wrong_combinations_are_usage_errors(capsys, argv, message):
    code, err = usage_error(capsys, *argv)

    assert code == 2
    assert message in err


def test_a_missing_comparison_file_is_refused_before_collecting(capsys, tmp_path):
    status, _, err = run_cli(
        capsys, "evaluate", "--job", JOB, "--stage", "dev", "--compare", tmp_path / "missing.json"
    )

    assert status == 1
    assert "does not exist: pass an earlier run's metrics.json" in err


def test_help_explains_both_ways_of_collecting_with_examples(capsys):
    with pytest.raises(SystemExit):
        main(["evaluate", "--help"])
    out = capsys.readouterr().out

    assert "Batch Transform" in out and "--api URL --lists OUT" in out
    assert "python -m training evaluate --lists OUT --predictions" in out


def test_offline_analysis_needs_no_aws_and_never_imports_boto3(tmp_path):
    lists = write_local_dataset(tmp_path / "out")
    predictions = tmp_path / "predictions.jsonl"
    predictions.write_text(
        "".join(json.dumps({"image": i, "probabilities": probabilities_for(i)}) + "\n" for i in VALIDATION)
    )
    script = (
        "import sys; from training.cli import main; "
        f"status = main(['evaluate', '--lists', {str(lists)!r}, '--predictions', {str(predictions)!r}]); "
        "print('boto3 imported' if 'boto3' in sys.modules else 'no boto3'); sys.exit(status)"
    )
    environment = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    environment["PYTHONPATH"] = str(REPOSITORY)

    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 0, done.stderr
    assert "no boto3" in done.stdout
    assert "accuracy 0.8333" in done.stdout
    assert (tmp_path / "report" / "report.html").is_file()
