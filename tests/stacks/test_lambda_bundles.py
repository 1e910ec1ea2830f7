"""Each Lambda's bundle follows the import rule: its own folder plus the whole core package (plus
the third-party packages it declares), and its handler imports from the bundle alone."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from stack_synthesis import scratch_dir

from stacks.constructs import predict_function
from stacks.constructs.training import cleanup, data_check

REPO = Path(__file__).resolve().parents[2]
CORE_FILES = sorted(path.name for path in (REPO / "core").glob("*.py"))
# Logical-ID prefix of each function in its stack, its handler folder and module.
FUNCTIONS = {
    "check_data": ("training", "WorkflowCheckDataFunction", data_check.HANDLER_DIR),
    "stop_on_delete": ("training", "WorkflowStopOnDeleteFunction", cleanup.HANDLER_DIR),
    "predict_handler": ("serving", "PredictFunction", predict_function.HANDLER_DIR),
}
# What predict adds to the rule: Pillow, unpacked from the Lambda platform's wheel (its native
# libraries in pillow.libs), and the generated class list.
PREDICT_EXTRAS = {"PIL", "pillow.libs", predict_function.CLASSES_FILE}


def bundle_dir(synthesized, stack: str, logical_id_prefix: str) -> Path:
    """The asset folder synthesized for the function whose logical ID starts with the prefix."""
    template = getattr(synthesized, stack)
    (function,) = [
        resource
        for logical_id, resource in template.find_resources("AWS::Lambda::Function").items()
        if logical_id.startswith(logical_id_prefix)
    ]
    key = function["Properties"]["Code"]["S3Key"]
    return synthesized.outdir / f"asset.{key.removesuffix('.zip')}"


@pytest.mark.parametrize("module", list(FUNCTIONS))
def test_a_bundle_holds_exactly_its_folder_and_the_core_package(dev, module):
    stack, prefix, handler_dir = FUNCTIONS[module]
    bundle = bundle_dir(dev, stack, prefix)
    expected = {path.name for path in handler_dir.glob("*.py")} | {"core"}
    if module == "predict_handler":
        expected |= PREDICT_EXTRAS
    assert {path.name for path in bundle.iterdir()} == expected
    assert sorted(path.name for path in (bundle / "core").iterdir()) == CORE_FILES


def _boto3_site() -> Path:
    """A folder holding only boto3 and what it requires (the Lambda runtime provides those)."""
    site = scratch_dir("boto3-site-")
    seen: set[str] = set()
    pending = ["boto3"]
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        distribution = metadata.distribution(name)
        for file in distribution.files or []:
            top = file.parts[0]
            if top.endswith((".dist-info", ".data")) or top == ".." or top == "__pycache__":
                continue
            target = site / top
            if not target.exists():
                target.symlink_to(Path(distribution.locate_file(top)))
        for requirement in distribution.requires or []:
            if "extra ==" not in requirement:
                pending.append(re.match(r"[A-Za-z0-9_.-]+", requirement).group(0))
    return site


def _import_alone(bundle: Path, module: str, site: Path) -> subprocess.CompletedProcess[str]:
    code = f"import sys; sys.path[:] = [{str(bundle)!r}, {str(site)!r}, *sys.path]; import {module}"
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONNOUSERSITE": "1",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    # -S: no site-packages (only the standard library); -I: no PYTHONPATH, no current directory.
    return subprocess.run(
        [sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True, env=environment, cwd=bundle
    )


@pytest.mark.parametrize("module", ["check_data", "stop_on_delete"])
def test_a_workflow_handler_imports_from_its_bundle_alone(dev, module):
    stack, prefix, _ = FUNCTIONS[module]
    result = _import_alone(bundle_dir(dev, stack, prefix), module, _boto3_site())
    assert result.returncode == 0, result.stderr


def test_the_prediction_handler_imports_from_its_bundle_alone(dev):
    """Its Pillow is built for the Lambda platform: this machine's Pillow stands in for it."""
    stack, prefix, _ = FUNCTIONS["predict_handler"]
    bundle = scratch_dir("predict-bundle-") / "bundle"
    shutil.copytree(bundle_dir(dev, stack, prefix), bundle, symlinks=True)
    local_pillow = Path(metadata.distribution("pillow").locate_file(""))
    for top in ("PIL", "pillow.libs"):
        shutil.rmtree(bundle / top)
        if (local_pillow / top).exists():
            (bundle / top).symlink_to(local_pillow / top)
    result = _import_alone(bundle, "predict_handler", _boto3_site())
    assert result.returncode == 0, result.stderr


def test_a_handler_that_imports_outside_the_rule_fails_from_its_bundle(tmp_path):
    """The import check can fail: a module the bundle lacks is not found elsewhere."""
    bundle = scratch_dir("bad-bundle-")
    (bundle / "bad_handler.py").write_text("import training.aws\n")
    result = _import_alone(bundle, "bad_handler", _boto3_site())
    assert result.returncode != 0
    assert "No module named 'training'" in result.stderr
