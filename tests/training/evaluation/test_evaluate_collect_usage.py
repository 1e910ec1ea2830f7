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

REPOSITORY = Path(__file__).resolve().parents[3]
API_URL = "https://abc123.execute-api.eu-west-1.amazonaws.com/v1/"


def usage_error(capsys, *argv) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_:
        main(["evaluate", *map(str, argv)])
    return exit_.value.code, capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "the following arguments are required: SOURCE"),
        (
            ["--job", JOB, "--stage", "dev"],
            f"argument SOURCE: invalid choice: '{JOB}' "
            "(choose from 'transform', 'api', 'local', 'predictions')",
        ),
        (["transform", "--job", JOB], "the following arguments are required: --stage"),
        (["api", "--url", API_URL, "--job", JOB], "the following arguments are required: --lists"),
        (["predictions", "--lists", "out"], "the following arguments are required: --predictions"),
        (
            ["transform", "--job", JOB, "--stage", "dev", "--api-key", "k"],
            "unrecognized arguments: --api-key",
        ),
        (["predictions", "--lists", "out", "--predictions", "p.jsonl", "--stage", "dev"], "unrecognized"),
        (
            ["api", "--url", API_URL, "--lists", "out", "--job", JOB, "--instance-type", "ml.m5.xlarge"],
            "unrecognized arguments: --instance-type ml.m5.xlarge",
        ),
        (["local", "--model", "m.tar.gz", "--lists", "out", "--url", API_URL], "unrecognized arguments"),
        (["predictions", "--lists", "out", "--predictions", "p", "--collect-only"], "unrecognized"),
        (
            ["transform", "--job", JOB, "--stage", "dev", "--collect-only", "--compare", "m.json"],
            "--collect-only skips",
        ),
        (["api", "--url", "ftp://example.com", "--lists", "out", "--job", JOB], "--url: not an http(s) URL"),
        (["api", "--url", API_URL, "--lists", "out"], "no --job: pass --job JOB or --predictions FILE"),
        (
            ["local", "--model", "model.tar.gz", "--lists", "out"],
            "--model model.tar.gz names no training job: pass --job JOB or --predictions FILE",
        ),
        (["local", "--model", "m.tar.gz", "--lists", "out", "--batch-size", "0"], "expected a whole number"),
    ],
    ids=[
        "no-source",
        "the-old-form",
        "transform-without-stage",
        "api-without-lists",
        "analysis-without-predictions",
        "api-key-for-transform",
        "stage-for-analysis",
        "instance-type-for-api",
        "url-for-local",
        "collect-only-for-analysis",
        "collect-only-with-compare",
        "api-not-http",
        "api-without-a-place-for-predictions",
        "local-file-without-a-place-for-predictions",
        "local-batch-size-zero",
    ],
)
def test_wrong_combinations_are_usage_errors(capsys, argv, message):
    code, err = usage_error(capsys, *argv)

    assert code == 2
    assert message in err


def test_a_missing_comparison_file_is_refused_before_collecting(capsys, tmp_path):
    status, _, err = run_cli(
        capsys,
        "evaluate",
        "transform",
        "--job",
        JOB,
        "--stage",
        "dev",
        "--compare",
        tmp_path / "missing.json",
    )

    assert status == 1
    assert "does not exist: pass an earlier run's metrics.json" in err


def test_help_names_every_source_with_examples(capsys):
    with pytest.raises(SystemExit):
        main(["evaluate", "--help"])
    out = capsys.readouterr().out

    assert all(f"  {source}  " in out for source in ("transform", "api", "local"))
    assert "  predictions\n" in out
    assert "python -m training evaluate transform --job" in out
    assert "python -m training evaluate local --model" in out
    assert "python -m training evaluate predictions --lists OUT" in out


@pytest.mark.parametrize("source", ["transform", "api", "local", "predictions"])
def test_each_source_has_its_own_help_with_examples(capsys, source):
    with pytest.raises(SystemExit):
        main(["evaluate", source, "--help"])
    out = capsys.readouterr().out

    assert f"usage: python -m training evaluate {source} " in out
    assert f"Examples:\n  python -m training evaluate {source} " in out


def test_offline_analysis_needs_no_aws_and_never_imports_boto3(tmp_path):
    lists = write_local_dataset(tmp_path / "out")
    predictions = tmp_path / "predictions.jsonl"
    predictions.write_text(
        "".join(json.dumps({"image": i, "probabilities": probabilities_for(i)}) + "\n" for i in VALIDATION)
    )
    script = (
        "import sys; from training.cli import main; "
        f"status = main(['evaluate', 'predictions', '--lists', {str(lists)!r}, "
        f"'--predictions', {str(predictions)!r}]); "
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
