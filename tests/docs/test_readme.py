"""Every command the README and docs/*.md show works as shown: each exists and parses with its
CLI's own parser, the cheap offline ones run, and the ones that need AWS say so."""

from __future__ import annotations

import pytest
from doc_commands import (
    DOCUMENTS,
    ROOT,
    Command,
    CommandError,
    check,
    commands,
    markdown_commands,
    run,
    runnable,
)

ALL = [command for document in DOCUMENTS for command in commands(document)]
README = ROOT / "README.md"


def test_the_readme_shows_commands_to_check():
    readme = commands(README)
    assert len(readme) >= 15
    assert any(runnable(command) for command in readme)
    assert any(command.needs_aws for command in readme)


@pytest.mark.parametrize("command", ALL, ids=[command.where for command in ALL])
def test_command_exists_and_parses_as_shown(command: Command):
    check(command)


RUNNABLE = [command for command in ALL if runnable(command)]


@pytest.mark.parametrize("command", RUNNABLE, ids=[command.where for command in RUNNABLE])
def test_offline_command_runs_as_shown(command: Command, fake_aws):
    result = run(command)
    assert result.returncode == 0, f"{command} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"


def _one(text: str) -> Command:
    (found,) = markdown_commands(f"```bash\n{text}\n```\n", "example.md")
    return found


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (".venv/bin/python -m training deploy --stage dev", r"invalid choice: 'deploy'"),
        (".venv/bin/python -m training cost --stage dev --bogus", r"unrecognized arguments: --bogus"),
        (".venv/bin/python -m training promote --stage dev", r"required: MODEL"),
        (".venv/bin/python -m training evaluate offline --help", r"has no command 'offline'"),
        (".venv/bin/python -m nowhere --help", r"no command-line module 'nowhere'"),
        ("scripts/deploy --stage dev", r"scripts/deploy does not exist"),
        ("scripts/local --models model.tar.gz", r"unrecognized arguments"),
        ("npx cdk deplyo --all   # needs AWS", r"has no command 'deplyo'"),
        ("npx cdk deploy --everything   # needs AWS", r"has no option --everything"),
        ("npx cdk deploy --all -c stag=prod   # needs AWS", r"reads no context key 'stag'"),
        ("npx cdk deploy --all", r"needs AWS: mark it"),
        (".venv/bin/python -m training train --stage dev", r"needs AWS: mark it"),
        ("make deploy", r"unknown tool 'make'"),
    ],
)
def test_a_command_or_option_that_does_not_exist_fails(text, problem):
    with pytest.raises(CommandError, match=problem):
        check(_one(text))


def test_a_marked_command_is_parsed_but_never_run():
    command = _one("# needs AWS\n.venv/bin/python -m training cost --stage dev")
    check(command)
    assert command.needs_aws and not runnable(command)


def test_continued_lines_and_chains_are_separate_commands():
    found = markdown_commands(
        "```bash\ngit commit models/dev.json -m 'Serve it' && npx cdk deploy --all   # needs AWS\n"
        ".venv/bin/python -m training cost \\\n    --stage prod\n```\n",
        "example.md",
    )
    assert [c.argv for c in found] == [
        ("git", "commit", "models/dev.json", "-m", "Serve it"),
        ("npx", "cdk", "deploy", "--all"),
        (".venv/bin/python", "-m", "training", "cost", "--stage", "prod"),
    ]
    assert [c.needs_aws for c in found] == [True, True, False]
