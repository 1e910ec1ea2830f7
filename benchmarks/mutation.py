"""A mutation run: which small changes to one module do its tests fail to notice?

Each mutant is the module with one small change (mutmut 2.5's operators, plus three more):
  number          ``n`` -> ``n + 1``
  string          ``"text"`` -> ``"XXtextXX"`` (also bytes and f-strings; docstrings are left alone)
  name            ``True`` <-> ``False``, ``None`` -> ``""``
  operator        ``+ -``, ``* /``, ``// /``, ``% /``, ``** *``, ``<< >>``, ``& |``, ``^ &``;
                  unary ``- +``, ``~x`` -> ``x``, ``not x`` -> ``x``
  comparison      ``== !=``, ``< <=``, ``> >=``, ``is`` <-> ``is not``, ``in`` <-> ``not in``
  boolean         ``and`` <-> ``or``
  keyword         ``break`` <-> ``continue``
  augmented       ``+=`` -> ``-=`` and ``=`` (likewise every augmented assignment)
  assignment      ``x = value`` -> ``x = None`` (``x = None`` -> ``x = ""``)
  lambda          ``lambda: value`` -> ``lambda: None`` (``lambda: None`` -> ``lambda: 0``)
  decorator       a decorator removed
  dict keyword    ``dict(a=1)`` -> ``dict(aXX=1)``
  raise           ``raise Error(...)`` -> ``pass``
  condition       ``if x`` -> ``if not x`` (``elif``, ``while`` and ``a if x else b`` too)
  return          ``return value`` -> ``return None``
Type annotations, f-string expressions and lines marked ``# pragma: no mutate`` are not mutated.

A sample of the mutants (``--sample``, ``--seed``) is run: each mutant's source is written over the
module in a private copy of the working tree (the files git would see, with the folders git ignores,
such as ``.venv``, linked in), so nobody editing the real tree is disturbed, and the tests run with
``pytest -x -q`` under a timeout and a memory cap. To save seconds per mutant, each run is a fork of
this process with the third-party modules the unmutated run imported already loaded (the copy's own
modules are imported afresh); ``--no-fork`` runs a fresh ``python -m pytest`` instead. A mutant is
killed when the tests fail, survives when they pass, and times out when they run past the timeout
(counted as detected). The kill rate is (killed + timeout) / sampled mutants not equivalent.

Equivalent mutants (no test could notice them: the program behaves the same) are excluded and
listed: name them by id in the ``--equivalent`` file (one per line, ``<id> <reason>``, ``#``
comments), or put ``# mutation: equivalent`` on the source line to mark all its mutants. Ids hash
the module path, the operator and the original and mutated code, not line numbers, so they survive
edits elsewhere in the module. Sampling happens before equivalents are removed, so declaring one
does not change which other mutants are sampled.

Examples:
    python benchmarks/mutation.py lambda/predict/predict_request.py \\
        --tests tests/lambda/predict --sample 60 --seed 0
    python benchmarks/mutation.py training/evaluation/metrics.py \\
        --tests tests/training/evaluation/test_metrics_edges.py \\
        tests/training/evaluation/test_evaluate_analysis_metrics.py \\
        --sample 60
    python benchmarks/mutation.py training/data/splits.py --list --sample 0    # every mutant, nothing run
    python benchmarks/mutation.py training/data/splits.py --tests tests/training --only 3f2a9c1b

A measurement, not a CI gate: it exits 0 when the run completes (or 1 below ``--fail-under``),
1 when the tests fail on the unmutated module, and 2 on bad usage.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import copy
import hashlib
import importlib
import importlib.util
import json
import os
import random
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

SCRIPT_DIR = Path(__file__).resolve().parent
REPO_ROOT = SCRIPT_DIR.parent
DEFAULT_EQUIVALENT_FILE = REPO_ROOT / "benchmarks" / "mutation_equivalent.txt"
NO_MUTATE_MARKER = "# pragma: no mutate"
EQUIVALENT_MARKER = "# mutation: equivalent"
# Top-level folders git ignores are linked into the copy, not copied (.venv, node_modules, downloaded
# wheels under .cache): the tests only read them. These hold what tests write, so they are left out.
NOT_LINKED = {".git", "cdk.out", ".hypothesis", ".pytest_cache", ".ruff_cache", ".mypy_cache", "__pycache__"}
MEMORY_LIMIT_GB = 8.0
FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_CONFIG_FILE": "/dev/null",
    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
}

BINARY_SWAPS: dict[type, type] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Div,
    ast.Mod: ast.Div,
    ast.Pow: ast.Mult,
    ast.LShift: ast.RShift,
    ast.RShift: ast.LShift,
    ast.BitAnd: ast.BitOr,
    ast.BitOr: ast.BitAnd,
    ast.BitXor: ast.BitAnd,
}
COMPARISON_SWAPS: dict[type, type] = {
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
}
SYMBOLS: dict[type, str] = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Is: "is",
    ast.IsNot: "is not",
    ast.In: "in",
    ast.NotIn: "not in",
    ast.And: "and",
    ast.Or: "or",
}
# Fields whose subtrees are never mutated: annotations change nothing at run time here.
SKIPPED_FIELDS = {"annotation", "returns", "type_comment"}


class Source:
    """A module's text with node positions (UTF-8 byte columns) turned into slices."""

    def __init__(self, text: str) -> None:
        self.data = text.encode()
        self.starts = [0]
        for line in self.data.splitlines(keepends=True):
            self.starts.append(self.starts[-1] + len(line))

    def start(self, node: ast.AST) -> int:
        return self.starts[node.lineno - 1] + node.col_offset

    def end(self, node: ast.AST) -> int:
        return self.starts[node.end_lineno - 1] + node.end_col_offset

    def text(self, begin: int, end: int) -> str:
        return self.data[begin:end].decode()

    def regap(self, node: ast.AST, gaps: list[tuple[ast.AST, ast.AST]], old: str, new: str) -> str | None:
        """``node``'s text with the operator ``old`` replaced by ``new`` between each pair of operands."""
        pieces, position = [], self.start(node)
        for left, right in gaps:
            gap = self.text(self.end(left), self.start(right))
            changed = re.sub(rf"(?<![\w=<>!*/]){re.escape(old)}(?![\w=<>*/])", new, gap, count=1)
            if changed == gap:
                return None
            pieces += [self.text(position, self.end(left)), changed]
            position = self.start(right)
        return "".join(pieces) + self.text(position, self.end(node))


class UsageError(Exception):
    """Bad command-line usage: reported on stderr with exit status 2."""


@dataclass
class Edit:
    """One mutation point: the node (by its index in the walk) and how it changes."""

    index: int
    operator: str
    # Changes the tree in place, given the node, its parent, the parent's field and the list index.
    apply: Callable[[ast.AST, ast.AST, str, int | None], None]
    # The source text that replaces the node's span, or None to delete the node's lines.
    text: Callable[[ast.AST], str | None]
    # Which span to replace: the node's own, or its ``value`` child's (assignment, return).
    target: Callable[[ast.AST], ast.AST] = lambda node: node
    # A replacement that keeps the original formatting (only the operator changes), tried first.
    keep: Callable[[ast.AST, Source], str | None] | None = None


@dataclass
class Mutant:
    id: str
    operator: str
    line: int
    original: str
    mutated: str
    source: str
    equivalent: str | None = None  # the reason, when declared equivalent
    outcome: str = ""  # killed, survived, timeout


# ---------------------------------------------------------------------------- generating mutants


def _walk(tree: ast.AST) -> Iterator[tuple[ast.AST, ast.AST | None, str, int | None]]:
    """Every mutable node with its parent, field and list index, in a fixed order."""
    stack: list[tuple[ast.AST, ast.AST | None, str, int | None]] = [(tree, None, "", None)]
    while stack:
        node, parent, field, position = stack.pop(0)
        yield node, parent, field, position
        if isinstance(node, ast.JoinedStr):
            continue  # f-string positions are unreliable inside; the f-string is mutated as a whole
        for name, value in ast.iter_fields(node):
            if name in SKIPPED_FIELDS:
                continue
            if isinstance(value, list):
                stack.extend(
                    (item, node, name, i) for i, item in enumerate(value) if isinstance(item, ast.AST)
                )
            elif isinstance(value, ast.AST):
                stack.append((value, node, name, None))


def _indexed(tree: ast.AST) -> list[tuple[ast.AST, ast.AST | None, str, int | None]]:
    return list(_walk(tree))


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def _replace(parent: ast.AST, field: str, position: int | None, new: ast.AST) -> None:
    if position is None:
        setattr(parent, field, new)
    else:
        getattr(parent, field)[position] = new


def _replace_with(make: Callable[[ast.AST], ast.AST]) -> Callable[[ast.AST, ast.AST, str, int | None], None]:
    def apply(node: ast.AST, parent: ast.AST, field: str, position: int | None) -> None:
        _replace(parent, field, position, make(node))

    return apply


def _unparsed(make: Callable[[ast.AST], ast.AST]) -> Callable[[ast.AST], str]:
    return lambda node: ast.unparse(make(copy.deepcopy(node)))


def _expression_edit(
    index: int,
    operator: str,
    make: Callable[[ast.AST], ast.AST],
    keep: Callable[[ast.AST, Source], str | None] | None = None,
) -> Edit:
    """An edit that replaces a node by ``make(node)`` (``make`` gets a copy it may change)."""
    return Edit(index, operator, _replace_with(lambda n: make(copy.deepcopy(n))), _unparsed(make), keep=keep)


def _swap_keep(
    pairs: Callable[[ast.AST], list[tuple[ast.AST, ast.AST]]], old: type, new: type, suffix: str = ""
):
    return lambda node, source: source.regap(node, pairs(node), SYMBOLS[old] + suffix, SYMBOLS[new] + suffix)


def _with(node: ast.AST, **fields: object) -> ast.AST:
    for name, value in fields.items():
        setattr(node, name, value)
    return node


def _number_edit(index: int, node: ast.Constant) -> Edit:
    return _expression_edit(index, "number", lambda n: ast.Constant(n.value + 1))


def _string_edit(index: int, node: ast.Constant) -> Edit:
    marker = b"XX" if isinstance(node.value, bytes) else "XX"
    return _expression_edit(index, "string", lambda n: ast.Constant(marker + n.value + marker), _string_keep)


def _fstring_edit(index: int) -> Edit:
    def make(node: ast.AST) -> ast.AST:
        values: list[ast.AST] = []
        for value in [ast.Constant("XX"), *node.values, ast.Constant("XX")]:
            if values and isinstance(value, ast.Constant) and isinstance(values[-1], ast.Constant):
                values[-1] = ast.Constant(values[-1].value + value.value)  # as the parser merges them
            else:
                values.append(value)
        node.values = values
        return node

    return _expression_edit(index, "string", make, _string_keep)


def _string_keep(node: ast.AST, source: Source) -> str | None:
    """The literal as written, with ``XX`` inside its first and last quotes."""
    text = source.text(source.start(node), source.end(node))
    match = re.fullmatch(r"([a-zA-Z]{0,2})(\'\'\'|\"\"\"|\'|\")(.*)\2", text, re.DOTALL)
    if match is None:
        return None
    prefix, quote, body = match.groups()
    return f"{prefix}{quote}XX{body}XX{quote}"


def _edits_for(
    index: int, node: ast.AST, parent: ast.AST | None, field: str, docstrings: set[int]
) -> Iterator[Edit]:
    """Every mutation of one node."""
    if isinstance(node, ast.Constant):
        value = node.value
        if value is True or value is False:
            yield _expression_edit(index, "name", lambda n: ast.Constant(not n.value))
        elif value is None:
            yield _expression_edit(index, "name", lambda n: ast.Constant(""))
        elif isinstance(value, int | float):
            yield _number_edit(index, node)
        elif isinstance(value, str | bytes) and id(node) not in docstrings:
            yield _string_edit(index, node)
    elif isinstance(node, ast.JoinedStr):
        yield _fstring_edit(index)
    elif isinstance(node, ast.BinOp) and type(node.op) in BINARY_SWAPS:
        swap = BINARY_SWAPS[type(node.op)]
        keep = _swap_keep(lambda n: [(n.left, n.right)], type(node.op), swap)
        yield _expression_edit(index, "operator", lambda n: _with(n, op=swap()), keep)
    elif isinstance(node, ast.UnaryOp):
        if isinstance(node.op, ast.USub):
            yield _expression_edit(
                index, "operator", lambda n: _with(n, op=ast.UAdd()), _unary_keep("-", "+")
            )
        elif isinstance(node.op, ast.UAdd):
            yield _expression_edit(
                index, "operator", lambda n: _with(n, op=ast.USub()), _unary_keep("+", "-")
            )
        else:  # ``not x`` and ``~x`` lose their operator
            symbol = "not" if isinstance(node.op, ast.Not) else "~"
            yield _expression_edit(index, "operator", lambda n: n.operand, _unary_keep(symbol, ""))
    elif isinstance(node, ast.Compare):
        for position, op in enumerate(node.ops):
            if type(op) in COMPARISON_SWAPS:
                keep = _swap_keep(_comparison_gap(position), type(op), COMPARISON_SWAPS[type(op)])
                yield _expression_edit(index, "comparison", _compare_swap(position), keep)
    elif isinstance(node, ast.BoolOp):
        swap = ast.Or if isinstance(node.op, ast.And) else ast.And
        keep = _swap_keep(lambda n: list(zip(n.values, n.values[1:], strict=False)), type(node.op), swap)
        yield _expression_edit(index, "boolean", lambda n: _with(n, op=swap()), keep)
    elif isinstance(node, ast.Break | ast.Continue):
        other = ast.Continue if isinstance(node, ast.Break) else ast.Break
        yield _expression_edit(index, "keyword", lambda n: _with(other(), **_position(n)))
    elif isinstance(node, ast.AugAssign) and type(node.op) in BINARY_SWAPS:
        swap = BINARY_SWAPS[type(node.op)]
        gap = lambda n: [(n.target, n.value)]  # noqa: E731
        yield _expression_edit(
            index, "augmented", lambda n: _with(n, op=swap()), _swap_keep(gap, type(node.op), swap, "=")
        )
        yield _expression_edit(
            index,
            "augmented",
            lambda n: _with(ast.Assign([n.target], n.value, type_comment=None), **_position(n)),
            lambda n, source: source.regap(n, gap(n), SYMBOLS[type(n.op)] + "=", "="),
        )
    elif isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
        yield _value_edit(index, "assignment", node)
    elif isinstance(node, ast.Return) and node.value is not None and not _is_none(node.value):
        yield _value_edit(index, "return", node)
    elif isinstance(node, ast.Lambda):
        body = ast.Constant(0) if _is_none(node.body) else ast.Constant(None)
        yield _expression_edit(index, "lambda", lambda n: _with(n, body=body))
    elif isinstance(node, ast.Raise):
        yield _expression_edit(index, "raise", lambda n: _with(ast.Pass(), **_position(n)))
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict":
        for position, keyword in enumerate(node.keywords):
            if keyword.arg is not None:
                yield _expression_edit(index, "dict keyword", _keyword_rename(position))
    if isinstance(node, ast.If | ast.While | ast.IfExp):
        yield _condition_edit(index)
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        for position in range(len(node.decorator_list)):
            yield _decorator_edit(index, position)


def _position(node: ast.AST) -> dict[str, int]:
    return {name: getattr(node, name) for name in ("lineno", "col_offset", "end_lineno", "end_col_offset")}


def _unary_keep(old: str, new: str) -> Callable[[ast.AST, Source], str | None]:
    def keep(node: ast.AST, source: Source) -> str | None:
        head = source.text(source.start(node), source.start(node.operand))
        if not head.startswith(old):
            return None
        return (new + head[len(old) :]).lstrip() + source.text(source.start(node.operand), source.end(node))

    return keep


def _comparison_gap(position: int) -> Callable[[ast.AST], list[tuple[ast.AST, ast.AST]]]:
    def pairs(node: ast.AST) -> list[tuple[ast.AST, ast.AST]]:
        left = node.left if position == 0 else node.comparators[position - 1]
        return [(left, node.comparators[position])]

    return pairs


def _is_none(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _compare_swap(position: int) -> Callable[[ast.AST], ast.AST]:
    def make(node: ast.AST) -> ast.AST:
        node.ops[position] = COMPARISON_SWAPS[type(node.ops[position])]()
        return node

    return make


def _keyword_rename(position: int) -> Callable[[ast.AST], ast.AST]:
    def make(node: ast.AST) -> ast.AST:
        node.keywords[position].arg += "XX"
        return node

    return make


def _value_edit(index: int, operator: str, node: ast.Assign | ast.AnnAssign | ast.Return) -> Edit:
    """``x = value`` -> ``x = None`` (or ``""`` when it was None); ``return value`` -> ``return None``."""
    replacement = "" if operator == "assignment" and _is_none(node.value) else None

    def apply(target: ast.AST, parent: ast.AST, field: str, position: int | None) -> None:
        target.value = ast.Constant(replacement)

    return Edit(index, operator, apply, lambda n: repr(replacement), target=lambda n: n.value)


def _condition_edit(index: int) -> Edit:
    def apply(node: ast.AST, parent: ast.AST, field: str, position: int | None) -> None:
        node.test = ast.UnaryOp(ast.Not(), node.test)

    return Edit(
        index,
        "condition",
        apply,
        lambda test: ast.unparse(ast.UnaryOp(ast.Not(), copy.deepcopy(test))),
        target=lambda n: n.test,
    )


def _decorator_edit(index: int, position: int) -> Edit:
    def apply(node: ast.AST, parent: ast.AST, field: str, place: int | None) -> None:
        del node.decorator_list[position]

    return Edit(
        index, "decorator", apply, lambda decorator: None, target=lambda n: n.decorator_list[position]
    )


# ---------------------------------------------------------------------------- rendering mutants


def _splice(source: str, node: ast.AST, text: str | None) -> tuple[str, int, str, str]:
    """The source with ``node``'s span replaced by ``text`` (None deletes its lines), the first line,
    and the original and mutated code of the lines touched."""
    lines = source.splitlines(keepends=True)
    first, last = node.lineno, node.end_lineno
    start_line = lines[first - 1].encode()
    end_line = lines[last - 1].encode()
    prefix = start_line[: node.col_offset].decode()
    suffix = end_line[node.end_col_offset :].decode()
    original = "".join(lines[first - 1 : last])
    mutated = "" if text is None else prefix + text + suffix
    if text is None and (prefix.strip() not in ("", "@") or suffix.strip()[:1] not in ("", "#")):
        return "", first, original, ""  # a decorator that shares its line: not rendered
    new_source = "".join(lines[: first - 1]) + mutated + "".join(lines[last:])
    return new_source, first, original, mutated


def _dump(tree: ast.AST) -> str:
    return ast.dump(tree, include_attributes=False)


def _normal(code: str) -> str:
    return " ".join(code.split())


def generate(source: str, relative: str) -> tuple[list[Mutant], int]:
    """Every mutant of ``source`` (in a fixed order) and how many edits could not be rendered."""
    tree = ast.parse(source)
    docstrings = _docstrings(tree)
    parsed_source = Source(source)
    lines = source.splitlines()
    edits = []
    for index, (node, parent, field, _position_in_field) in enumerate(_indexed(tree)):
        if parent is None:
            continue
        line = lines[node.lineno - 1] if hasattr(node, "lineno") else ""
        if NO_MUTATE_MARKER in line:
            continue
        edits.extend((node, edit) for edit in _edits_for(index, node, parent, field, docstrings))

    mutants: list[Mutant] = []
    unrendered = 0
    seen: Counter[tuple[str, str, str]] = Counter()
    for node, edit in edits:
        target = edit.target(node)
        expected = ast.parse(source)
        e_node, e_parent, e_field, e_position = _indexed(expected)[edit.index]
        edit.apply(e_node, e_parent, e_field, e_position)
        want = _dump(expected)
        text = edit.text(target)
        candidates = [text] if text is None else [text, f"({text})"]
        if edit.keep is not None and (kept := edit.keep(target, parsed_source)) is not None:
            candidates.insert(0, kept)
        rendered = None
        for candidate in candidates:
            new_source, line, original, mutated = _splice(source, target, candidate)
            try:
                if new_source and _dump(ast.parse(new_source)) == want:
                    rendered = new_source, line, original, mutated
                    break
            except SyntaxError:
                continue
        if rendered is None:
            unrendered += 1
            continue
        new_source, line, original, mutated = rendered
        key = (edit.operator, _normal(original), _normal(mutated))
        seen[key] += 1
        digest = hashlib.sha1(  # noqa: S324 - an identifier, not security
            "\0".join((relative, *key, str(seen[key]))).encode()
        ).hexdigest()[:8]
        mutants.append(
            Mutant(digest, edit.operator, line, original.rstrip("\n"), mutated.rstrip("\n"), new_source)
        )
    return mutants, unrendered


# ---------------------------------------------------------------------------- equivalents


def read_equivalents(path: Path | None) -> dict[str, str]:
    """``{id: reason}`` from an equivalents file: ``<id> <reason>`` per line, ``#`` comments."""
    if path is None or not path.exists():
        return {}
    found = {}
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        mutant_id, _, reason = line.partition(" ")
        if len(mutant_id) != 8 or any(c not in "0123456789abcdef" for c in mutant_id):
            raise UsageError(f"{path}:{number}: expected '<8-hex-digit mutant id> <reason>', got {raw!r}")
        found[mutant_id] = reason.strip() or "(no reason given)"
    return found


def mark_equivalents(mutants: list[Mutant], declared: dict[str, str]) -> None:
    for mutant in mutants:
        if mutant.id in declared:
            mutant.equivalent = declared[mutant.id]
        elif EQUIVALENT_MARKER in mutant.original.splitlines()[0]:
            mutant.equivalent = f"marked '{EQUIVALENT_MARKER}' in the source"


# ---------------------------------------------------------------------------- running


def copy_tree(destination: Path) -> None:
    """Copies the files git would see (tracked and new, not ignored); links the ignored top-level folders."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],  # noqa: S607
        cwd=REPO_ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = REPO_ROOT / name
        if source.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    for entry in REPO_ROOT.iterdir():
        if entry.is_dir() and entry.name not in NOT_LINKED and not (destination / entry.name).exists():
            (destination / entry.name).symlink_to(entry)


PYTEST_ARGS = ["-x", "-q", "-p", "no:cacheprovider"]
# Run by the unmutated test run: pytest in-process, then the names of the modules it imported from
# outside the copy (third-party ones), for the forking runner to import once.
BASELINE_SCRIPT = """
import json, sys, pytest
code = pytest.main(sys.argv[3:])
root = sys.argv[1]
names = [n for n, m in list(sys.modules.items())
         if not (getattr(m, "__file__", None) or "").startswith(root) and n != "__main__"]
with open(sys.argv[2], "w") as f:
    json.dump(names, f)
sys.exit(code)
"""


def _status(code: int, output: str) -> tuple[str, str]:
    if code == 5:
        return "no tests", output
    return ("passed" if code == 0 else "failed"), output


def _test_env() -> dict[str, str]:
    return {**os.environ, **FAKE_AWS_ENV, "PYTHONDONTWRITEBYTECODE": "1"}


def run_baseline(workdir: Path, tests: list[str], timeout: float) -> tuple[str, str]:
    """The unmutated run, as ``python -m pytest`` would run it; also lists the modules to preload."""
    preload_list = str(workdir.parent / "preload.json")
    command = [
        sys.executable,
        "-c",
        BASELINE_SCRIPT,
        str(workdir) + os.sep,
        preload_list,
        *PYTEST_ARGS,
        *tests,
    ]
    return _run_command(command, workdir, timeout)


def run_tests(workdir: Path, tests: list[str], timeout: float) -> tuple[str, str]:
    """``("passed" | "failed" | "timeout", output)`` of one ``python -m pytest`` run in ``workdir``."""
    return _run_command([sys.executable, "-m", "pytest", *PYTEST_ARGS, *tests], workdir, timeout)


def _run_command(command: list[str], workdir: Path, timeout: float) -> tuple[str, str]:
    process = subprocess.Popen(  # noqa: S603
        command,
        cwd=workdir,
        env=_test_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=_limit_memory,
    )
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        return "timeout", ""
    return _status(process.returncode, output.decode(errors="replace"))


def preload(workdir: Path) -> int:
    """Imports, into this process, the third-party modules the unmutated run used (how many did import),
    so that each forked test run starts with them loaded instead of spending seconds importing them."""
    os.environ.update(_test_env())
    sys.dont_write_bytecode = True
    names = json.loads((workdir.parent / "preload.json").read_text())
    loaded = 0
    for name in names:
        try:
            importlib.import_module(name)
            loaded += 1
        except Exception:  # noqa: S112 - a module that imports only inside pytest is simply not preloaded
            continue
    return loaded


def _limit_memory() -> None:
    """Caps this process's address space: a mutant that allocates without end fails instead of
    taking the machine's memory from everyone else."""
    limit = int(float(os.environ.get("MUTATION_MEMORY_LIMIT_GB", MEMORY_LIMIT_GB)) * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def run_forked(workdir: Path, tests: list[str], timeout: float) -> tuple[str, str]:
    """Like ``run_tests``, in a fork of this process: modules from the copy are dropped and imported
    afresh (the mutant among them), third-party modules stay loaded."""
    output_path = workdir.parent / "output.txt"
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        code = 70
        try:
            os.setpgid(0, 0)
            _limit_memory()
            descriptor = os.open(output_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            os.dup2(descriptor, 1)
            os.dup2(descriptor, 2)
            os.chdir(workdir)
            root = str(workdir) + os.sep
            for name, module in list(sys.modules.items()):
                if (getattr(module, "__file__", None) or "").startswith(root):
                    del sys.modules[name]
            sys.path[:] = [str(workdir), *(p for p in sys.path if Path(p or ".").resolve() != SCRIPT_DIR)]
            sys.argv = ["pytest"]
            import pytest

            code = int(pytest.main([*PYTEST_ARGS, *tests]))
        except BaseException:  # noqa: B036 - whatever happens, the child must exit here
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    deadline = time.monotonic() + timeout
    try:
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return _status(os.waitstatus_to_exitcode(status), output_path.read_text(errors="replace"))
            if time.monotonic() > deadline:
                return "timeout", ""
            time.sleep(0.02)
    finally:  # on a timeout, and when this run is interrupted: the child's whole group goes too
        with contextlib.suppress(ProcessLookupError, ChildProcessError):
            os.killpg(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


def _repo_relative(raw: str, what: str, must_be_file: bool) -> str:
    path = Path(raw)
    if not path.is_absolute():
        path = Path.cwd() / path
    path = path.resolve()
    if not path.exists():
        raise UsageError(f"{what} {raw!r} does not exist")
    if must_be_file and (not path.is_file() or path.suffix != ".py"):
        raise UsageError(f"{what} {raw!r} is not a Python file")
    try:
        return str(path.relative_to(REPO_ROOT))
    except ValueError:
        raise UsageError(f"{what} {raw!r} is outside the repository {REPO_ROOT}") from None


def _show(code: str, mark: str) -> str:
    return "\n".join(f"      {mark} {line.strip()}" for line in code.splitlines() or [""])


def _describe(mutant: Mutant) -> str:
    heading = f"  {mutant.id}  line {mutant.line} ({mutant.operator})"
    return f"{heading}\n{_show(mutant.original, '-')}\n{_show(mutant.mutated, '+')}"


def cli_help() -> ModuleType:
    """core/cli_help.py, loaded by path: importing the ``core`` package here would make the forked
    test runs import the real tree's core instead of the copy's."""
    spec = importlib.util.spec_from_file_location("mutation_cli_help", REPO_ROOT / "core" / "cli_help.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def build_parser() -> argparse.ArgumentParser:
    help_ = cli_help()
    parser = argparse.ArgumentParser(
        prog="python benchmarks/mutation.py",
        description=(
            "A mutation run: which small changes to one module do its tests fail to notice? A sample of "
            "the mutants (one small change each, mutmut's operators plus three; see this file's docstring) "
            "is run in a private copy of the working tree; a mutant is killed when the tests fail. "
            "A measurement, not a CI gate: it exits 0 when the run completes (or 1 below --fail-under), "
            "1 when the tests fail on the unmutated module, and 2 on bad usage."
        ),
        epilog=help_.examples(
            "python benchmarks/mutation.py lambda/predict/predict_request.py --tests tests/lambda/predict",
            (
                "python benchmarks/mutation.py training/evaluation/metrics.py",
                "--tests tests/training/evaluation/test_metrics_edges.py",
                "tests/training/evaluation/test_evaluate_analysis_metrics.py --sample 60",
            ),
            "# every mutant listed, nothing run:",
            "python benchmarks/mutation.py training/data/splits.py --list --sample 0",
            "python benchmarks/mutation.py training/data/splits.py --tests tests/training --only 3f2a9c1b",
        ),
        formatter_class=help_.HelpFormatter,
    )
    parser.add_argument("module", help="the Python file to mutate, e.g. training/evaluation/metrics.py")
    parser.add_argument("--tests", nargs="+", metavar="PATH", help="test files or folders given to pytest")
    parser.add_argument("--sample", type=int, default=60, help="mutants to run, 0 for all (default 60)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sample (default 0)")
    parser.add_argument(
        "--timeout", type=float, help="seconds per mutant's test run (default: 3x the unmutated run + 10)"
    )
    parser.add_argument(
        "--equivalent",
        type=Path,
        default=DEFAULT_EQUIVALENT_FILE,
        help="file naming equivalent mutants (default benchmarks/mutation_equivalent.txt, if present)",
    )
    parser.add_argument("--only", nargs="+", metavar="ID", help="run just these mutants (ids from a report)")
    parser.add_argument("--list", action="store_true", help="list the sampled mutants; run nothing")
    parser.add_argument(
        "--no-fork",
        action="store_true",
        help="run each mutant's tests as a fresh python -m pytest (slower: third-party imports each time)",
    )
    parser.add_argument(
        "--memory-limit",
        type=float,
        default=MEMORY_LIMIT_GB,
        metavar="GB",
        help=f"address space each test run may use; a mutant past it is killed (default {MEMORY_LIMIT_GB:g})",
    )
    parser.add_argument(
        "--fail-under", type=float, metavar="PERCENT", help="exit 1 when the kill rate is below this"
    )
    return parser


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.sample < 0:
        parser.error(f"--sample must be 0 (all) or more, not {args.sample}")
    if args.timeout is not None and args.timeout <= 0:
        parser.error(f"--timeout must be a positive number of seconds, not {args.timeout}")
    if args.memory_limit <= 0:
        parser.error(f"--memory-limit must be a positive number of GB, not {args.memory_limit}")
    if not args.list and not args.tests:
        parser.error("--tests is required unless --list is given: which tests should kill the mutants?")
    if args.equivalent != DEFAULT_EQUIVALENT_FILE and not args.equivalent.is_file():
        parser.error(f"--equivalent file {str(args.equivalent)!r} does not exist")
    return args


def select(mutants: list[Mutant], args: argparse.Namespace) -> list[Mutant]:
    if args.only:
        by_id = {m.id: m for m in mutants}
        unknown = [i for i in args.only if i not in by_id]
        if unknown:
            raise UsageError(f"no mutant with id {', '.join(unknown)} in {args.module} (see --list)")
        return [by_id[i] for i in args.only]
    if args.sample == 0 or args.sample >= len(mutants):
        return list(mutants)
    chosen = random.Random(args.seed).sample(range(len(mutants)), args.sample)  # noqa: S311
    return [mutants[i] for i in sorted(chosen)]


def _exit_on_terminate(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _exit_on_terminate)
    args = parse_args(argv)
    os.environ["MUTATION_MEMORY_LIMIT_GB"] = str(args.memory_limit)
    try:
        relative = _repo_relative(args.module, "module", must_be_file=True)
        tests = [_repo_relative(t, "test path", must_be_file=False) for t in args.tests or []]
        mutants, unrendered = generate((REPO_ROOT / relative).read_text(), relative)
        chosen = select(mutants, args)
        mark_equivalents(chosen, read_equivalents(args.equivalent))
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    by_operator = ", ".join(
        f"{name} {count}" for name, count in sorted(Counter(m.operator for m in mutants).items())
    )
    print(
        f"{relative}: {len(mutants)} mutants ({by_operator})"
        + (f"; {unrendered} could not be rendered and were skipped" if unrendered else "")
    )
    print(f"sample: {len(chosen)} (seed {args.seed})" + (" chosen by --only" if args.only else ""))
    if args.list:
        for mutant in chosen:
            print(
                _describe(mutant) + (f"\n      equivalent: {mutant.equivalent}" if mutant.equivalent else "")
            )
        return 0

    with tempfile.TemporaryDirectory(prefix="mutation-") as temp:
        workdir = Path(temp) / "repo"
        workdir.mkdir()
        copy_tree(workdir)
        started = time.perf_counter()
        status, output = run_baseline(workdir, tests, timeout=max(args.timeout or 0, 600))
        baseline = time.perf_counter() - started
        if status != "passed":
            print(output[-4000:])
            print(f"error: the tests {status} on the unmutated {relative}: fix them before a mutation run")
            return 1
        timeout = args.timeout or 3 * baseline + 10
        print(f"unmutated run (python -m pytest): passed in {baseline:.1f} s; tests: {' '.join(tests)}")
        runner = run_tests
        if not args.no_fork:
            loaded = preload(workdir)
            started = time.perf_counter()
            status, output = run_forked(workdir, tests, timeout)
            if status == "passed":
                runner = run_forked
                print(
                    f"unmutated run, forked with {loaded} third-party modules preloaded: passed in "
                    f"{time.perf_counter() - started:.1f} s"
                )
            else:
                print(output[-2000:])
                print(
                    f"the forked unmutated run {status}: running every mutant with python -m pytest instead"
                )
        print(f"timeout per mutant: {timeout:.0f} s")
        module_path = workdir / relative
        original_source = module_path.read_text()
        runnable = [m for m in chosen if m.equivalent is None]
        try:
            for number, mutant in enumerate(runnable, 1):
                module_path.write_text(mutant.source)
                status, _ = runner(workdir, tests, timeout)
                mutant.outcome = {"passed": "survived", "timeout": "timeout"}.get(status, "killed")
                print(
                    f"[{number:>3}/{len(runnable)}] {mutant.outcome:<8} {mutant.id}",
                    f"line {mutant.line} ({mutant.operator})",
                )
        finally:
            module_path.write_text(original_source)

    return report(relative, chosen, args.fail_under)


def report(relative: str, chosen: list[Mutant], fail_under: float | None) -> int:
    outcomes = Counter(m.outcome for m in chosen if m.equivalent is None)
    equivalent = [m for m in chosen if m.equivalent is not None]
    counted = sum(outcomes.values())
    detected = outcomes["killed"] + outcomes["timeout"]
    rate = 100.0 * detected / counted if counted else 100.0
    print(
        f"\n{relative}: killed {outcomes['killed']}, timeout {outcomes['timeout']}, "
        f"survived {outcomes['survived']}, equivalent {len(equivalent)} (excluded)"
    )
    print(f"kill rate: {detected}/{counted} non-equivalent mutants = {rate:.1f}%")
    survivors = [m for m in chosen if m.outcome == "survived"]
    if survivors:
        print("survivors:")
        for mutant in survivors:
            print(_describe(mutant))
    if equivalent:
        print("equivalent (excluded):")
        for mutant in equivalent:
            print(f"{_describe(mutant)}\n      why: {mutant.equivalent}")
    if fail_under is not None and rate < fail_under:
        print(f"kill rate {rate:.1f}% is below --fail-under {fail_under}%")
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # the output went to ``head`` or similar, which stopped reading
        sys.stderr.close()
        sys.exit(0)
