"""The figures README.md and docs/*.md quote come from the code: scripts/docs regenerates the
marked blocks, and a stale block fails here."""

from __future__ import annotations

import importlib.util
import subprocess
from importlib.machinery import SourceFileLoader
from types import ModuleType

import pytest
from doc_commands import ROOT

from core.stage_config import STAGES
from training.commands.cost import report
from training.jobs.pricing import price_table


@pytest.fixture(scope="module")
def docs() -> ModuleType:
    loader = SourceFileLoader("scripts_docs", str(ROOT / "scripts" / "docs"))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))
    loader.exec_module(module)
    return module


def test_every_generated_block_is_current(docs):
    assert docs.stale_blocks() == [], "run scripts/docs and commit the result"


def test_each_generator_is_used_somewhere(docs):
    text = "".join(path.read_text() for path in docs.documents())
    assert [name for name in docs.GENERATORS if f"<!-- generated:{name} -->" not in text] == []


def test_a_changed_figure_is_reported_stale(docs, tmp_path):
    readme = (ROOT / "README.md").read_text()
    start = readme.index("<!-- generated:costs-summary -->")
    assert "$537.28" in readme[start:], "the dev endpoint's month at $0.736/h x 730 h"
    changed = tmp_path / "README.md"
    changed.write_text(readme.replace("$537.28", "$530.00", 1))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(docs, "ROOT", tmp_path)
        assert docs.stale_blocks([changed]) == ["README.md: costs-summary"]


def test_an_unknown_block_names_the_known_ones(docs):
    with pytest.raises(docs.DocsError, match="no generator for block 'costs-sumary'"):
        docs.regenerate("<!-- generated:costs-sumary -->\n<!-- /generated:costs-sumary -->", "README.md")


def test_the_cost_table_quotes_what_cost_prints(docs):
    table = docs.costs_table()
    for stage in STAGES.values():
        printed = "\n".join(report(stage, price_table(), endpoint_running=True, tuning_jobs=10))
        for figure in ("$3.60", "$0.736/h", "with managed spot"):
            assert figure in printed and figure in table
        training_line = next(line for line in printed.splitlines() if line.startswith("  training: "))
        assert training_line.removeprefix("  training: ") in table


def test_the_check_mode_passes_on_the_committed_docs():
    result = subprocess.run([str(ROOT / "scripts" / "docs"), "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
