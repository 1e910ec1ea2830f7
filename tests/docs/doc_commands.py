"""The commands the README and docs/*.md show, taken from their ``bash`` blocks, and checks that
each one exists as shown.

A command is one shell line (``\\``-continued lines joined), split at ``&&``. A comment on its
line, or a comment-only line just above it, that says ``needs AWS`` (or ``needs the API``) marks it
as one that needs an AWS account (or a running API); those are only parsed, never run.

``check(command)`` raises ``CommandError`` saying what is wrong: a script that is missing or not
executable, a module or subcommand that does not exist, an option its parser rejects, a CDK
command or context key the CLI or ``app.py`` does not know, a tool nobody taught this module.
``runnable(command)`` says whether a command is cheap and offline enough to run in the tests.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import shlex
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")))
NEEDS_AWS = "needs AWS"
# The mark: "needs AWS", or "needs the API" for a command that only needs a running API.
MARK = re.compile(r"needs (AWS|the API)")
BLOCK = re.compile(r"^```bash\n(.*?)^```", re.S | re.M)
ASSIGNMENT = re.compile(r"^[A-Za-z_]\w*=")
SUBSTITUTION = re.compile(r"^[A-Za-z_]\w*=\$\((?P<inner>.*)\)$")

CDK_REGISTRY = "node_modules/aws-cdk/lib/cli/cli-type-registry.json"

# Tools the docs may show whose own options are not ours to check.
EXTERNAL_TOOLS = {"git", "curl", "tar", "mkdir", "cd", "export", "base64", "aws"}


class CommandError(Exception):
    """A command the docs show does not work as shown."""


@dataclass(frozen=True)
class Command:
    text: str
    argv: tuple[str, ...]
    needs_aws: bool
    where: str  # file:line

    def __str__(self) -> str:
        return f"{self.where}: {self.text}"


def commands(path: Path) -> list[Command]:
    """Every command of ``path``'s bash blocks, in order."""
    name = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else path.name
    return markdown_commands(path.read_text(encoding="utf-8"), name)


def markdown_commands(text: str, name: str) -> list[Command]:
    found = []
    for block in BLOCK.finditer(text):
        first_line = text.count("\n", 0, block.start(1)) + 1
        found += list(_block_commands(block[1], name, first_line))
    return found


def _block_commands(block: str, name: str, first_line: int) -> Iterator[Command]:
    pending_mark = False
    lines = block.splitlines()
    index = 0
    while index < len(lines):
        start = index
        line = lines[index]
        while line.endswith("\\") and index + 1 < len(lines):
            index += 1
            line = line[:-1] + " " + lines[index].strip()
        index += 1
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            pending_mark = MARK.search(stripped) is not None
            continue
        words = shlex.split(line, comments=True)
        comment = line[len(_code_part(line)) :]
        marked = pending_mark or MARK.search(comment) is not None
        pending_mark = False
        for argv in _split_and(words):
            code = " ".join(argv)
            yield Command(code, tuple(argv), marked, f"{name}:{first_line + start}")


def _code_part(line: str) -> str:
    """``line`` up to its comment (a ``#`` outside quotes, preceded by a space)."""
    quote = None
    for position, char in enumerate(line):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (position == 0 or line[position - 1] == " "):
            return line[:position]
    return line


def _split_and(words: list[str]) -> Iterator[list[str]]:
    current: list[str] = []
    for word in words:
        if word == "&&":
            yield current
            current = []
        else:
            current.append(word)
    if current:
        yield current


def check(command: Command) -> None:
    """Raise CommandError unless ``command`` exists and parses as shown."""
    argv = list(command.argv)
    substitution = SUBSTITUTION.match(command.text)
    if substitution:  # VAR=$(tool ...): check the tool
        argv = shlex.split(substitution["inner"])
    while argv and ASSIGNMENT.match(argv[0]) and argv[0] != "export":
        argv = argv[1:]
    if not argv:
        raise CommandError(f"{command}: no command")
    tool, rest = argv[0], argv[1:]
    if tool.removeprefix("./").startswith("scripts/"):
        _check_script(tool.removeprefix("./"), rest, command)
    elif tool in ("python", ".venv/bin/python", "python3"):
        _check_python(rest, command)
    elif tool == "npx":
        _check_npx(rest, command)
    elif tool in EXTERNAL_TOOLS:
        if tool == "aws" and not command.needs_aws:
            raise CommandError(f"{command}: an aws command needs AWS: mark it '# {NEEDS_AWS}'")
    else:
        raise CommandError(f"{command}: unknown tool {tool!r}: teach tests/docs/doc_commands.py about it")
    if needs_aws(argv) and not command.needs_aws:
        raise CommandError(f"{command}: this command needs AWS: mark it with a '# {NEEDS_AWS}' comment")


def _check_script(script: str, rest: list[str], command: Command) -> None:
    path = ROOT / script
    if not path.is_file():
        raise CommandError(f"{command}: {script} does not exist")
    if not os.access(path, os.X_OK):
        raise CommandError(f"{command}: {script} is not executable")
    name = path.name
    if name in PARSERS:
        _parse(PARSERS[name], rest, command)
    elif name == "synth":
        _check_cdk(["synth", *rest], command)
    elif name == "docs":
        _parse(_docs_parser, rest, command)
    elif name in ("setup",) and rest:
        raise CommandError(f"{command}: scripts/{name} takes no arguments")
    # scripts/test passes its arguments to pytest.


def _check_python(rest: list[str], command: Command) -> None:
    if rest[:1] == ["-m"] and len(rest) >= 2:
        module, arguments = rest[1], rest[2:]
        if module not in PARSERS:
            raise CommandError(f"{command}: no command-line module {module!r} (known: {', '.join(PARSERS)})")
        _parse(PARSERS[module], arguments, command)
    elif rest and rest[0].endswith(".py"):
        if not (ROOT / rest[0]).is_file():
            raise CommandError(f"{command}: {rest[0]} does not exist")
    else:
        raise CommandError(f"{command}: expected python -m MODULE or python FILE.py")


def _parse(build: Callable[[], argparse.ArgumentParser], arguments: list[str], command: Command) -> None:
    """Parse ``arguments`` with the CLI's own parser, without running anything."""
    if "--help" in arguments or "-h" in arguments:
        arguments = [a for a in arguments if a not in ("--help", "-h")]
        parser = build()
        # The subcommands named before --help must exist: parse them with a dummy tail.
        _subcommand_path(parser, arguments, command)
        return
    errors = io.StringIO()
    with contextlib.redirect_stderr(errors):
        try:
            build().parse_args(arguments)
        except SystemExit as exit_:
            if exit_.code not in (0, None):
                raise CommandError(f"{command}: {errors.getvalue().strip().splitlines()[-1]}") from None


def _subcommand_path(parser: argparse.ArgumentParser, words: list[str], command: Command) -> None:
    for word in words:
        if word.startswith("-"):
            raise CommandError(f"{command}: only subcommands may come before --help")
        choices = _subparsers(parser)
        if word not in choices:
            raise CommandError(
                f"{command}: {parser.prog} has no command {word!r} (it has: {', '.join(choices)})"
            )
        parser = choices[word]


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:  # argparse keeps subparsers only here
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _check_npx(rest: list[str], command: Command) -> None:
    if rest[:1] != ["cdk"]:
        raise CommandError(f"{command}: npx runs only the pinned CDK CLI here (npx cdk ...)")
    _check_cdk(rest[1:], command)


def _check_cdk(arguments: list[str], command: Command) -> None:
    if not arguments or arguments[0].startswith("-"):
        raise CommandError(f"{command}: expected a CDK command (cdk deploy, cdk synth, ...)")
    subcommand, options = arguments[0], arguments[1:]
    known = cdk_options(subcommand)
    if known is None:
        raise CommandError(f"{command}: the pinned CDK CLI has no command {subcommand!r}")
    for index, option in enumerate(options):
        if option.startswith("-"):
            name = option.split("=")[0]
            if name.lstrip("-").removeprefix("no-") not in known and name.lstrip("-") not in known:
                raise CommandError(f"{command}: cdk {subcommand} has no option {name}")
            if name in ("-c", "--context"):
                key = options[index + 1].split("=")[0]
                if key not in context_keys():
                    known_keys = ", ".join(sorted(context_keys()))
                    raise CommandError(
                        f"{command}: app.py reads no context key {key!r} (it reads: {known_keys})"
                    )


@cache
def cdk_options(subcommand: str) -> frozenset[str] | None:
    """The options (names and aliases) of the pinned CDK CLI's ``subcommand``, global ones included,
    as the CLI's own type registry declares them; None when it has no such command."""
    registry = json.loads((ROOT / CDK_REGISTRY).read_text(encoding="utf-8"))
    commands = registry["commands"]
    by_alias = {alias: name for name, spec in commands.items() for alias in spec.get("aliases", [])}
    spec = commands.get(by_alias.get(subcommand, subcommand))
    if spec is None:
        return None
    names: set[str] = set()
    for option, details in {**registry["globalOptions"], **spec.get("options", {})}.items():
        aliases = details.get("alias", [])
        names |= {option, *([aliases] if isinstance(aliases, str) else aliases)}
    return frozenset(names)


@cache
def context_keys() -> frozenset[str]:
    """The context keys app.py reads, directly or through stacks/ci_config.py."""
    from stacks import ci_config

    direct = re.findall(r'try_get_context\("(\w+)"\)', (ROOT / "app.py").read_text(encoding="utf-8"))
    through = [value for name, value in vars(ci_config).items() if name.startswith("CONTEXT_")]
    return frozenset([*direct, *through])


def _training_parser() -> argparse.ArgumentParser:
    from training.cli import build_parser

    return build_parser()


def _client_parser() -> argparse.ArgumentParser:
    from client.cli import build_parser

    return build_parser()


def _local_parser() -> argparse.ArgumentParser:
    from local.__main__ import build_parser

    return build_parser()


def _smoke_parser() -> argparse.ArgumentParser:
    from smoke.cli import build_parser

    return build_parser()


def _docs_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="scripts/docs")
    parser.add_argument("--check", action="store_true")
    return parser


# python -m MODULE, and the scripts that run one.
PARSERS: dict[str, Callable[[], argparse.ArgumentParser]] = {
    "training": _training_parser,
    "client": _client_parser,
    "local": _local_parser,
    "smoke": _smoke_parser,
    "smoke-test": _smoke_parser,
}


# Commands that reach AWS (or a deployed API): the docs must mark them.
AWS_TRAINING_COMMANDS = {"upload", "train", "tune", "status", "stop", "promote"}
AWS_CDK_COMMANDS = {"deploy", "destroy", "bootstrap", "diff"}


def needs_aws(argv: list[str]) -> bool:
    words = [w for w in argv if not ASSIGNMENT.match(w)]
    if "--help" in words or "-h" in words:
        return False
    tool = words[0].removeprefix("./")
    if tool == "aws" or tool == "scripts/smoke-test":
        return True
    if tool == "npx":
        return len(words) > 2 and words[2] in AWS_CDK_COMMANDS
    if "-m" in words:
        module_args = words[words.index("-m") + 1 :]
        if module_args[:1] == ["smoke"]:
            return True
        if module_args[:1] == ["client"]:
            return "predict" in module_args
        if module_args[:1] == ["training"] and len(module_args) > 1:
            sub = module_args[1]
            if sub == "upload":
                return "--dry-run" not in module_args
            if sub == "evaluate":
                return module_args[2:3] in (["transform"], ["api"])
            return sub in AWS_TRAINING_COMMANDS
    return False


# Offline and quick: run them as shown.
def runnable(command: Command) -> bool:
    if command.needs_aws:
        return False
    argv = list(command.argv)
    if argv[-1] in ("--help", "-h"):
        return True
    if argv[:3] in (["python", "-m", "training"], [".venv/bin/python", "-m", "training"]):
        return argv[3:4] == ["cost"]
    return argv == ["scripts/docs", "--check"]


def run(command: Command) -> subprocess.CompletedProcess[str]:
    argv = list(command.argv)
    if argv[0] == "python":
        argv[0] = str(ROOT / ".venv" / "bin" / "python")
    environment = {**os.environ, "PATH": f"{ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(
        argv, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300, check=False
    )
