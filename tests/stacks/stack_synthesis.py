"""Synthesizes stages in-process, once per distinct configuration, for the template tests.

A module with its own name (not conftest), so tests import it unambiguously; conftest.py
re-exports its fixtures.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from stacks.config import stage_config
from stacks.model_pin import PinnedModel, load_pinned_model
from stacks.stages import Stage, build_stage

# The feature flags the CLI passes from cdk.json: tests must synthesize the same app.
CDK_JSON_CONTEXT = json.loads((Path(__file__).parents[2] / "cdk.json").read_text())["context"]
MODEL_URL = "s3://dogbreeds-models-example/training/job-1/output/model.tar.gz"


@dataclass(frozen=True)
class Synthesized:
    stage: Stage
    storage: Template
    training: Template
    serving: Template
    outdir: Path

    def template_files(self) -> list[Path]:
        return sorted(self.outdir.glob("*.template.json"))


def pinned_model(stage: str, model_url: str | None) -> PinnedModel:
    """The stage's model served from ``model_url``; ``None``: a stage with no model yet."""
    if model_url is not None:
        return load_pinned_model(stage, model_url)
    pin = Path(tempfile.mkdtemp()) / f"{stage}.json"
    pin.write_text(json.dumps({"stage": stage, "modelDataUrl": None}))
    return load_pinned_model(stage, path=pin)


@cache
def synthesize(
    stage: str = "dev", model_url: str | None = MODEL_URL, region: str | None = None
) -> Synthesized:
    outdir = Path(tempfile.mkdtemp(prefix=f"cdk-{stage}-"))
    app = cdk.App(outdir=str(outdir), context=CDK_JSON_CONTEXT)
    env = cdk.Environment(account="123456789012", region=region) if region else None
    built = build_stage(app, stage_config(stage), pinned_model(stage, model_url), env)
    app.synth()  # runs cdk-nag: an unacknowledged finding raises here
    return Synthesized(
        stage=built,
        storage=Template.from_stack(built.storage),
        training=Template.from_stack(built.training),
        serving=Template.from_stack(built.serving),
        outdir=outdir,
    )


@pytest.fixture(scope="session")
def dev() -> Synthesized:
    return synthesize("dev")


@pytest.fixture(scope="session")
def prod() -> Synthesized:
    return synthesize("prod")


@pytest.fixture(scope="session")
def dev_without_model() -> Synthesized:
    return synthesize("dev", model_url=None)
