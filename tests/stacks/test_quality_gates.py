"""cdk-nag and cfn-lint over every synthesized template, and proof that both gates can fail."""

import subprocess
import sys
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import Validations
from aws_cdk import aws_s3 as s3
from cdk_nag import AwsSolutionsChecks
from stack_synthesis import MODEL_URL, synthesize

CFN_LINT = str(Path(sys.executable).with_name("cfn-lint"))
VARIANTS = [
    pytest.param("dev", MODEL_URL, None, id="dev-with-model"),
    pytest.param("dev", None, None, id="dev-without-model"),
    pytest.param("prod", MODEL_URL, None, id="prod-with-model"),
    pytest.param("prod", MODEL_URL, "eu-west-1", id="prod-in-eu-west-1"),
]


@pytest.mark.parametrize(("stage", "model_url", "region"), VARIANTS)
def test_every_stage_passes_cdk_nag_aws_solutions(stage, model_url, region):
    # synthesize() raises on any unacknowledged AwsSolutions finding.
    synthesized = synthesize(stage, model_url=model_url, region=region)
    assert len(synthesized.template_files()) == 3


def test_cdk_nag_fails_synth_on_an_unacknowledged_finding(tmp_path):
    app = cdk.App(outdir=str(tmp_path))
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    s3.Bucket(cdk.Stack(app, "Careless"), "Bucket")  # no access logs, no TLS policy
    with pytest.raises(RuntimeError, match="AwsSolutions-S1"):
        app.synth()


def test_every_template_passes_cfn_lint_without_warnings():
    templates = [
        str(path)
        for stage, model_url, region in (v.values for v in VARIANTS)
        for path in synthesize(stage, model_url=model_url, region=region).template_files()
    ]
    result = subprocess.run([CFN_LINT, *templates], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_cfn_lint_reports_a_broken_template(tmp_path):
    broken = tmp_path / "broken.template.json"
    broken.write_text('{"Resources": {"Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"Nope": 1}}}}')
    result = subprocess.run([CFN_LINT, str(broken)], capture_output=True, text=True, check=False)
    assert result.returncode != 0
    assert "Nope" in result.stdout
