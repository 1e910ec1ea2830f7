"""Stack tests synthesize under pytest's temporary directory and delete what they made."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# A stage synthesized through the fixtures (with the pin file it writes) and the CI access stack.
SAMPLE = [
    "tests/stacks/test_serving_stack.py::test_stage_without_a_model_deploys_no_endpoint",
    "tests/stacks/test_ci_access_stack.py::test_role_arns_and_provider_are_stack_outputs",
]


def test_a_stack_test_run_leaves_no_cdk_folder_or_template_in_the_temp_dir(tmp_path):
    temp = tmp_path / "tmp"
    temp.mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *SAMPLE],
        cwd=REPO,
        env={**os.environ, "TMPDIR": str(temp)},
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
    left = sorted(
        str(p.relative_to(temp))
        for p in temp.rglob("*")
        if p.name.startswith(("cdk-", "cdk.out", "pin-")) or p.name.endswith(".template.json")
    )
    assert left == []
