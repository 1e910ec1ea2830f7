"""Every command line's --help, walked parser by parser: an Examples section that starts each command
with the program's name and parses with the parser itself, lines that fit HELP_WIDTH columns, one
formatter, and `python -m training --help` in the order of the workflow."""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import inspect
import io
import re
import shlex
import sys
from collections.abc import Callable, Iterator
from importlib.machinery import SourceFileLoader
from pathlib import Path
from types import ModuleType

import pytest

from core.cli_help import EXAMPLES_HEADING, HELP_WIDTH, HelpFormatter, examples

REPO = Path(__file__).resolve().parent.parent
BENCHMARKS = sorted(path for path in (REPO / "benchmarks").glob("*.py"))
HELP_FLAGS = {"-h", "--help"}


def load_benchmark(path: Path) -> ModuleType:
    """A benchmark script as a module (they put the repository on sys.path: undone afterwards)."""
    saved = list(sys.path)
    try:
        spec = importlib.util.spec_from_file_location(f"benchmark_{path.stem}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path[:] = saved


def docs_script_parser() -> argparse.ArgumentParser:
    """scripts/docs' parser (the script has no .py suffix: loaded by its path)."""
    loader = SourceFileLoader("scripts_docs", str(REPO / "scripts" / "docs"))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    loader.exec_module(module)
    parser: argparse.ArgumentParser = module.build_parser()
    return parser


def top_parsers() -> dict[str, Callable[[], argparse.ArgumentParser]]:
    from client.cli import build_parser as client_parser
    from local.__main__ import build_parser as local_parser
    from smoke.cli import build_parser as smoke_parser
    from training.cli import build_parser as training_parser

    parsers: dict[str, Callable[[], argparse.ArgumentParser]] = {
        "training": training_parser,
        "client": client_parser,
        "smoke": smoke_parser,
        "local": local_parser,
        "scripts/docs": docs_script_parser,
    }
    for path in BENCHMARKS:
        parsers[f"benchmarks/{path.name}"] = lambda path=path: benchmark_parser(path)
    return parsers


def benchmark_parser(path: Path) -> argparse.ArgumentParser:
    module = load_benchmark(path)
    if not hasattr(module, "build_parser"):
        raise AssertionError(
            f"{path.relative_to(REPO)} has no build_parser(), so its --help cannot be checked"
        )
    parser: argparse.ArgumentParser = module.build_parser()
    return parser


def walk(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    """The parser and every subparser under it, depth first."""
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for subparser in dict.fromkeys(action.choices.values()):
                yield from walk(subparser)


def all_parsers() -> list[tuple[str, argparse.ArgumentParser]]:
    found = []
    for name, build in top_parsers().items():
        found.extend((name, parser) for parser in walk(build()))
    return found


def rendered_help(parser: argparse.ArgumentParser) -> str:
    return parser.format_help()


def example_commands(help_text: str) -> tuple[list[str], list[str]]:
    """The Examples section's commands (continuations joined) and what is wrong with its lines."""
    lines = help_text.rstrip("\n").splitlines()
    if EXAMPLES_HEADING not in lines:
        return [], [f"no {EXAMPLES_HEADING!r} section"]
    section = lines[lines.index(EXAMPLES_HEADING) + 1 :]
    commands: list[str] = []
    problems: list[str] = []
    continued = False
    for line in section:
        text = line.strip()
        if continued:
            commands[-1] += " " + text.removesuffix("\\")
        elif not text or text.startswith("#"):
            continue
        else:
            commands.append(text.removesuffix("\\"))
        continued = text.endswith("\\")
    if continued:
        problems.append(f"the last example ends with a backslash: {section[-1]!r}")
    if not commands:
        problems.append(f"{EXAMPLES_HEADING!r} holds no command")
    return commands, problems


def is_the_help_formatter(formatter: object) -> bool:
    """core.cli_help.HelpFormatter, also when loaded by path (benchmarks/mutation.py does that)."""
    return formatter is HelpFormatter or (
        isinstance(formatter, type)
        and formatter.__name__ == HelpFormatter.__name__
        and Path(inspect.getfile(formatter)).resolve() == Path(inspect.getfile(HelpFormatter)).resolve()
    )


def help_problems(parser: argparse.ArgumentParser) -> list[str]:
    """Everything wrong with one parser's help: an empty list when it is right."""
    problems = []
    if not is_the_help_formatter(parser.formatter_class):
        problems.append(f"formatter {parser.formatter_class.__name__}, not core.cli_help.HelpFormatter")
    help_text = rendered_help(parser)
    for line in help_text.splitlines():
        if len(line) > HELP_WIDTH:
            problems.append(f"{len(line)} columns (more than {HELP_WIDTH}): {line!r}")
    commands, section_problems = example_commands(help_text)
    problems += section_problems
    prog = parser.prog.split()
    for command in commands:
        words = shlex.split(command, comments=True)
        if words[: len(prog)] != prog:
            problems.append(f"example does not start with {parser.prog!r}: {command!r}")
            continue
        error = parse_error(parser, words[len(prog) :])
        if error is not None:
            problems.append(f"example does not parse ({error}): {command!r}")
    return problems


def parse_error(parser: argparse.ArgumentParser, argv: list[str]) -> str | None:
    if HELP_FLAGS & set(argv):
        return None
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr):
            parser.parse_args(argv)
    except SystemExit:
        return stderr.getvalue().strip().splitlines()[-1] if stderr.getvalue().strip() else "SystemExit"
    return None


@pytest.fixture(autouse=True)
def terminal_width(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", str(HELP_WIDTH))


PARSERS = all_parsers()


@pytest.mark.parametrize("parser", [parser for _, parser in PARSERS], ids=[p.prog for _, p in PARSERS])
def test_help_has_examples_that_start_with_the_program_fit_the_width_and_parse(parser):
    assert help_problems(parser) == []


def test_every_cli_and_benchmark_is_walked():
    progs = {parser.prog for _, parser in PARSERS}

    assert {
        "python -m training",
        "python -m client predict",
        "scripts/smoke-test",
        "scripts/local",
        "scripts/docs",
    } <= progs
    for source in ("transform", "api", "local", "predictions"):
        assert f"python -m training evaluate {source}" in progs
    assert {f"python benchmarks/{path.name}" for path in BENCHMARKS} <= progs


def test_training_help_lists_the_workflow_in_order():
    from training.cli import build_parser

    help_text = rendered_help(build_parser())
    listed = re.findall(r"^    (\w+)\s", help_text, flags=re.M)

    assert listed[:5] == ["prepare", "upload", "train", "promote", "evaluate"]
    assert set(listed[5:]) == {"tune", "status", "stop", "cost"}
    assert "cdk deploy" in help_text


def test_a_wide_terminal_still_gets_help_at_most_help_width(monkeypatch):
    from training.cli import build_parser

    monkeypatch.setenv("COLUMNS", "250")
    for parser in walk(build_parser()):
        assert max(len(line) for line in rendered_help(parser).splitlines()) <= HELP_WIDTH


def training_help(*command: str) -> str:
    from training.cli import build_parser

    parser = build_parser()
    for name in command:
        parser = next(
            action.choices[name]
            for action in parser._actions
            if isinstance(action, argparse._SubParsersAction)
        )
    return " ".join(rendered_help(parser).split())


@pytest.mark.parametrize(
    "command", [("prepare",), ("cost",), ("evaluate", "local"), ("evaluate", "predictions")], ids=" ".join
)
def test_offline_commands_say_so_and_never_claim_to_need_aws(command):
    text = training_help(*command)

    assert "offline" in text.lower()
    assert "needs aws credentials" not in text.lower()


@pytest.mark.parametrize(
    "command",
    [("upload",), ("train",), ("tune",), ("status",), ("stop",), ("promote",), ("evaluate", "transform")],
    ids=" ".join,
)
def test_commands_that_reach_aws_say_they_need_credentials(command):
    assert "Needs AWS credentials" in training_help(*command)


def test_upload_help_says_its_dry_run_works_offline():
    text = training_help("upload")

    assert "--dry-run" in text and "works offline" in text


# --- The checks can fail ------------------------------------------------------------------------------
def toy_parser(epilog: str | None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m toy", epilog=epilog, formatter_class=HelpFormatter)
    parser.add_argument("--stage", required=True, choices=("dev", "prod"))
    return parser


def test_a_parser_without_examples_is_reported():
    assert help_problems(toy_parser(None)) == ["no 'Examples:' section"]


def test_an_example_of_another_program_is_reported():
    problems = help_problems(toy_parser(examples("python -m other --stage dev")))

    assert problems == ["example does not start with 'python -m toy': 'python -m other --stage dev'"]


def test_an_example_that_does_not_parse_is_reported():
    (problem,) = help_problems(toy_parser(examples("python -m toy --stage test")))

    assert problem.startswith("example does not parse (") and "invalid choice: 'test'" in problem


def test_an_example_broken_mid_command_is_reported():
    broken = f"{EXAMPLES_HEADING}\n  python -m toy\n      --stage dev"

    assert "example does not start with 'python -m toy': '--stage dev'" in help_problems(toy_parser(broken))


def test_a_line_wider_than_the_help_width_is_reported():
    wide = examples("python -m toy --stage dev  # " + "x" * HELP_WIDTH)

    (problem,) = help_problems(toy_parser(wide))
    assert problem.startswith(f"{len(wide.splitlines()[-1])} columns (more than {HELP_WIDTH})")


def test_another_formatter_is_reported():
    parser = argparse.ArgumentParser(prog="python -m toy", epilog=examples("python -m toy"))

    # argparse's own formatter also joins the examples into one paragraph
    assert help_problems(parser) == [
        "formatter HelpFormatter, not core.cli_help.HelpFormatter",
        "no 'Examples:' section",
    ]


def test_a_continued_example_is_one_command_and_parses():
    epilog = examples(("python -m toy", "--stage dev"))

    assert "  python -m toy \\\n      --stage dev" in epilog
    assert help_problems(toy_parser(epilog)) == []


def test_prose_wraps_to_the_width_and_indented_lines_stay_whole():
    from core.cli_help import fill

    text = "word " * 40 + "\n  python -m toy --stage dev " + "--long-option " * 8

    lines = fill(text, 40).splitlines()
    assert all(len(line) <= 40 for line in lines[:-1])
    assert lines[-1].startswith("  python -m toy --stage dev --long-option")
