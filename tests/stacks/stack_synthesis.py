"""Synthesizes stages in-process, once per distinct configuration, for the template tests.

A module with its own name (not conftest), so tests import it unambiguously; conftest.py
re-exports its fixtures. Everything is synthesized under one folder of pytest's temporary
directory, removed when the session ends (a synthesized stage is about 25 MB of assets).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from core.model_pin import PinnedModel, load_pinned_model
from core.stage_config import stage_config
from stacks.stages import Stage, build_stage

REPO = Path(__file__).resolve().parents[2]
CDK_JSON = REPO / "cdk.json"
# The feature flags the CLI passes from cdk.json: tests must synthesize the same app.
CDK_JSON_CONTEXT = json.loads(CDK_JSON.read_text())["context"]
MODEL_URL = "s3://dogbreeds-models-example/training/job-1/output/model.tar.gz"
_scratch_root: Path | None = None


@pytest.fixture(scope="session", autouse=True)
def synthesis_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The folder every stack test synthesizes into; deleted, with the cached synths, at the end."""
    global _scratch_root
    _scratch_root = tmp_path_factory.mktemp("synth")
    yield _scratch_root
    synthesize.cache_clear()
    shutil.rmtree(_scratch_root, ignore_errors=True)
    _scratch_root = None


def scratch_dir(prefix: str) -> Path:
    """A new folder under this session's ``synthesis_root`` (never the system temp dir itself)."""
    if _scratch_root is None:
        raise RuntimeError(
            "stack tests synthesize under the synthesis_root fixture (tests/stacks/conftest.py)"
        )
    return Path(tempfile.mkdtemp(prefix=prefix, dir=_scratch_root))


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
    pin = scratch_dir("pin-") / f"{stage}.json"
    pin.write_text(json.dumps({"stage": stage, "modelDataUrl": None}))
    return load_pinned_model(stage, path=pin)


@cache
def synthesize(
    stage: str = "dev", model_url: str | None = MODEL_URL, region: str | None = None
) -> Synthesized:
    outdir = scratch_dir(f"cdk-{stage}-")
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


def run_app(tmp_path, context, **environment):
    """Run app.py the way the CDK CLI does: cdk.json's context plus ours, in the environment."""
    env = {
        **os.environ,
        "CDK_CONTEXT_JSON": json.dumps({**CDK_JSON_CONTEXT, **context}),
        "CDK_OUTDIR": str(tmp_path),
        **environment,
    }
    if "CDK_DEFAULT_ACCOUNT" not in environment:
        env.pop("CDK_DEFAULT_ACCOUNT", None)
    return subprocess.run(
        [sys.executable, "app.py"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
