"""scripts/synth, the README's synth command: every stack of a stage, and no complaint from the CLI."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_synth_script_synthesizes_every_stack_without_an_unknown_option(tmp_path):
    result = subprocess.run(
        ["scripts/synth", "--output", str(tmp_path)],
        cwd=REPO,
        env={k: v for k, v in os.environ.items() if k != "CDK_DEFAULT_ACCOUNT"},
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    assert "Unknown option" not in result.stdout + result.stderr
    assert sorted(p.name for p in tmp_path.glob("*.template.json")) == [
        "Serving.template.json",
        "Storage.template.json",
        "Training.template.json",
    ]
