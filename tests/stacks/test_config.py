"""Stage settings and the pinned-model file: bad values fail synth with a message naming them."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from stack_synthesis import run_app

from core.breeds import default_classes
from core.model_pin import ModelPinError, load_pinned_model
from core.stage_config import STAGES
from stacks.algorithm_image import UnsupportedRegionError, supported_regions

REPO = Path(__file__).parents[2]


def test_prod_keeps_its_data_and_dev_does_not():
    assert STAGES["prod"].retain_data and not STAGES["dev"].retain_data


def write_pin(tmp_path, **fields):
    pin = {"stage": "dev", "modelDataUrl": None, "version": None, "classes": None, "source": None}
    pin.update(fields)
    path = tmp_path / "dev.json"
    path.write_text(json.dumps(pin))
    return path


def test_committed_pins_exist_for_every_stage_and_load():
    for stage in STAGES:
        assert load_pinned_model(stage).stage == stage


def test_pin_without_a_model_has_no_artifact_and_the_default_classes(tmp_path):
    model = load_pinned_model("dev", path=write_pin(tmp_path))
    assert not model.has_model
    assert model.class_names == tuple(c["name"] for c in default_classes())
    assert model.class_names[102] == "pug" and len(model.class_names) == 120


def test_pinned_artifact_and_version_are_served(tmp_path):
    path = write_pin(tmp_path, modelDataUrl="s3://models-bucket/jobs/j1/model.tar.gz", version="job-1")
    model = load_pinned_model("dev", path=path)
    assert model.artifact.bucket == "models-bucket"
    assert model.artifact.key == "jobs/j1/model.tar.gz"
    assert model.version == "job-1"


def test_context_override_replaces_the_artifact_and_derives_a_version(tmp_path):
    path = write_pin(tmp_path, modelDataUrl="s3://models-bucket/a/model.tar.gz", version="job-1")
    model = load_pinned_model("dev", "s3://other-bucket/b/model.tar.gz", path=path)
    assert model.artifact.url == "s3://other-bucket/b/model.tar.gz"
    assert model.version.startswith("sha256-") and model.version != "job-1"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"modelDataUrl": "https://example.com/model.tar.gz"}, r"invalid modelDataUrl in .*expected s3://"),
        ({"stage": "prod"}, r"says stage='prod' but belongs to stage 'dev'"),
        ({"classes": [{"id": 1, "name": "a"}, {"id": 0, "name": "b"}]}, r"classes\[0\].*\"id\": 0"),
        ({"classes": [{"id": 0, "name": "a"}, {"id": 1, "name": "a"}]}, r"repeat a name"),
        ({"version": "has spaces"}, r"invalid version="),
        ({"modelUrl": "s3://x/y"}, r"unknown fields \['modelUrl'\]"),
    ],
)
def test_bad_pin_fails_with_a_message_that_says_what_is_wrong(tmp_path, fields, message):
    with pytest.raises(ModelPinError, match=message):
        load_pinned_model("dev", path=write_pin(tmp_path, **fields))


def test_missing_pin_file_says_how_to_create_one(tmp_path):
    with pytest.raises(ModelPinError, match=r"missing.*copy models/dev.json"):
        load_pinned_model("dev", path=tmp_path / "dev.json")


def test_app_rejects_an_unknown_stage_with_a_clear_message_and_no_traceback(tmp_path):
    result = run_app(tmp_path, {"stage": "staging"})
    assert result.returncode == 1
    assert "error: invalid stage='staging': allowed values are dev, prod" in result.stderr
    assert "Traceback" not in result.stderr


def test_app_rejects_a_malformed_model_url_with_a_clear_message(tmp_path):
    result = run_app(tmp_path, {"modelDataUrl": "model.tar.gz"})
    assert result.returncode == 1
    assert "error: invalid modelDataUrl (context)='model.tar.gz'" in result.stderr
    assert "Traceback" not in result.stderr


def test_unsupported_region_fails_synth_naming_the_supported_ones():
    import aws_cdk as cdk

    from stacks.algorithm_image import image_classification_image

    stack = cdk.Stack(cdk.App(), "S", env=cdk.Environment(account="123456789012", region="mars-north-1"))
    with pytest.raises(UnsupportedRegionError, match=r"invalid region='mars-north-1'.*us-east-1"):
        image_classification_image(stack)


def test_algorithm_accounts_match_the_sagemaker_sdk():
    from sagemaker.core import image_uris

    for region in supported_regions():
        expected = image_uris.retrieve("image-classification", region=region)
        account = expected.split(".")[0]
        assert expected.startswith(f"{account}.dkr.ecr.{region}.") and expected.endswith(
            "/image-classification:1"
        )
        registries = json.loads((REPO / "stacks/image_classification_registries.json").read_text())
        assert registries["registries"][region] == account


def test_app_rejects_a_region_without_the_algorithm_with_a_clear_message(tmp_path):
    result = run_app(
        tmp_path,
        {"modelDataUrl": "s3://models-bucket/model.tar.gz"},
        CDK_DEFAULT_ACCOUNT="123456789012",
        CDK_DEFAULT_REGION="mars-north-1",
    )
    assert result.returncode == 1
    assert "error: invalid region='mars-north-1'" in result.stderr
    assert "Traceback" not in result.stderr


def test_app_synthesizes_every_stack_of_the_default_stage(tmp_path):
    result = run_app(tmp_path, {})
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.glob("*.template.json")) == [
        "Serving.template.json",
        "Storage.template.json",
        "Training.template.json",
    ]


def test_every_allowed_log_retention_maps_to_a_cloudwatch_period():
    from core.stage_config import LOG_RETENTION_DAYS
    from stacks.log_retention import retention_days

    assert len({retention_days(days) for days in LOG_RETENTION_DAYS}) == len(LOG_RETENTION_DAYS)


def test_stage_config_imports_without_the_cdk():
    code = "import sys, core.stage_config; sys.exit('aws_cdk' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, check=False)
    assert result.returncode == 0


@pytest.mark.parametrize("switch", ["off", "false"])
def test_endpoint_off_synthesizes_no_endpoint_even_with_a_pinned_model(tmp_path, switch):
    result = run_app(tmp_path, {"modelDataUrl": "s3://models-bucket/model.tar.gz", "endpoint": switch})
    assert result.returncode == 0, result.stderr
    serving = json.loads((tmp_path / "Serving.template.json").read_text())
    types = {r["Type"] for r in serving["Resources"].values()}
    assert "AWS::SageMaker::Endpoint" not in types
    assert "AWS::ApiGateway::RestApi" in types
