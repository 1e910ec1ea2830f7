"""The import rule: what the import contracts (pyproject.toml, run by lint-imports in scripts/test)
cannot see, and proof that the contracts and this check can fail.

Each Lambda's modules are top-level modules on the function's path (``import predict_request``),
which import-linter cannot take as packages. So this file checks them from their syntax trees, as
strictly: a Lambda module imports only the standard library, third-party packages, ``core`` and the
modules of its own folder; no project module imports a Lambda's (``local`` loads lambda/predict's
handler from its folder at run time); no cycles inside a folder.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
LINT_IMPORTS = str(Path(sys.executable).with_name("lint-imports"))
PACKAGES = ("core", "stacks", "training", "client", "smoke", "local")
# Runs only in its own MXNet venv (local/model/golden); it imports no project module either way.
EXCLUDED = {Path("local/model/golden/make_golden.py")}


@dataclass(frozen=True)
class Import:
    file: Path  # relative to the root
    line: int
    module: str  # the imported module's full dotted name

    @property
    def top(self) -> str:
        return self.module.partition(".")[0]

    def __str__(self) -> str:
        return f"{self.file}:{self.line} imports {self.module}"


def imports_of(root: Path, file: Path) -> Iterator[Import]:
    """Every import in a file, at any depth (functions, TYPE_CHECKING blocks), plus
    ``importlib.import_module("name")`` and ``__import__("name")`` with a literal name."""
    relative = file.relative_to(root)
    tree = ast.parse(file.read_text(encoding="utf-8"), filename=str(file))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(relative, node.lineno, alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                yield Import(relative, node.lineno, "." * node.level + (node.module or ""))
            elif node.module:
                yield Import(relative, node.lineno, node.module)
        elif isinstance(node, ast.Call) and _is_dynamic_import(node.func) and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                yield Import(relative, node.lineno, first.value)


def _is_dynamic_import(func: ast.expr) -> bool:
    if isinstance(func, ast.Name):
        return func.id in ("__import__", "import_module")
    return isinstance(func, ast.Attribute) and func.attr == "import_module"


def lambda_folders(root: Path) -> dict[str, set[str]]:
    """Each Lambda folder's name -> the top-level modules it holds."""
    return {
        folder.name: {path.stem for path in folder.glob("*.py")}
        for folder in sorted((root / "lambda").iterdir())
        if folder.is_dir() and any(folder.glob("*.py"))
    }


def project_files(root: Path) -> Iterator[Path]:
    yield root / "app.py"
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            if path.relative_to(root) not in EXCLUDED:
                yield path


def lambda_violations(root: Path) -> list[str]:
    """Every break of the import rule that involves a Lambda folder, one line each."""
    folders = lambda_folders(root)
    owner = {module: name for name, modules in folders.items() for module in modules}
    problems = []
    for name, modules in folders.items():
        for module in sorted(modules):
            for imported in imports_of(root, root / "lambda" / name / f"{module}.py"):
                if imported.module.startswith("."):
                    problems.append(f"{imported}: a Lambda module is top-level, relative imports fail")
                elif imported.top in PACKAGES and imported.top != "core" or imported.top == "app":
                    problems.append(f"{imported}: lambda/{name} may import only core and lambda/{name}")
                elif imported.top in owner and owner[imported.top] != name:
                    problems.append(f"{imported}: that is lambda/{owner[imported.top]}'s module")
    for path in project_files(root):
        for imported in imports_of(root, path):
            if imported.top not in owner:
                continue
            # local serves lambda/predict's handler as it is, loaded from the folder at run time.
            if imported.file.parts[0] == "local" and owner[imported.top] == "predict":
                continue
            problems.append(f"{imported}: only the Lambda itself imports lambda/{owner[imported.top]}")
    problems += [
        f"lambda/{name}/{cycle[0]}.py: import cycle {' -> '.join(cycle)}"
        for name, cycle in lambda_cycles(root, folders)
    ]
    return problems


def lambda_cycles(root: Path, folders: dict[str, set[str]]) -> Iterator[tuple[str, list[str]]]:
    for name, modules in folders.items():
        edges = {
            module: {
                imported.top
                for imported in imports_of(root, root / "lambda" / name / f"{module}.py")
                if imported.top in modules and imported.top != module
            }
            for module in modules
        }
        for start in sorted(modules):
            path = _path_back(edges, start)
            if path:
                yield name, path
                break


def _path_back(edges: dict[str, set[str]], start: str) -> list[str] | None:
    """A chain of imports from start back to start, if there is one."""
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    seen: set[str] = set()
    while stack:
        module, path = stack.pop()
        for imported in sorted(edges[module]):
            if imported == start:
                return [*path, start]
            if imported not in seen:
                seen.add(imported)
                stack.append((imported, [*path, imported]))
    return None


# --- The Lambda folders -----------------------------------------------------------------------
def test_lambda_folders_import_only_core_and_themselves():
    assert lambda_violations(REPO) == []


def test_lambda_module_names_are_unique_and_shadow_no_package():
    # All three folders share one path in the tests; in a bundle a clash would shadow core.
    folders = lambda_folders(REPO)
    seen: dict[str, str] = {}
    for name, modules in folders.items():
        for module in modules:
            assert module not in PACKAGES, f"lambda/{name}/{module}.py shadows the {module} package"
            assert module not in seen, f"{module} is in lambda/{seen[module]} and lambda/{name}"
            seen[module] = name


@pytest.mark.parametrize(
    ("folder", "module", "line", "problem"),
    [
        (
            "training_check",
            "check_data",
            "import training.aws",
            "may import only core and lambda/training_check",
        ),
        ("training_check", "check_data", "import predict_request", "that is lambda/predict's module"),
        ("predict", "image_header", "from . import image_decode", "relative imports fail"),
        ("predict", "image_header", "import predict_request", "import cycle"),
        ("predict", "predict_handler", "import importlib\nimportlib.import_module('stacks')", "only core"),
    ],
)
def test_lambda_check_reports_a_violating_import(tmp_path, folder, module, line, problem):
    copy = _copy_tree(tmp_path)
    _inject(copy / "lambda" / folder / f"{module}.py", line)
    problems = lambda_violations(copy)
    assert any(problem in found and found.startswith(f"lambda/{folder}/") for found in problems), problems


def test_lambda_check_reports_a_project_module_importing_a_lambda(tmp_path):
    copy = _copy_tree(tmp_path)
    _inject(copy / "training" / "aws.py", "from check_data import handler")
    assert lambda_violations(copy) == [
        "training/aws.py:1 imports check_data: only the Lambda itself imports lambda/training_check"
    ]


# --- The type checker's strict part -----------------------------------------------------------
def test_every_core_and_lambda_module_is_type_checked_strictly():
    overrides = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["mypy"]["overrides"]
    strict = next(o for o in overrides if o.get("disallow_untyped_defs"))
    expected = {"core", "core.*"} | {m for modules in lambda_folders(REPO).values() for m in modules}
    missing = sorted(expected - set(strict["module"]))
    assert not missing, f"add {missing} to the strict override in pyproject.toml [tool.mypy]"
    assert set(strict["module"]) == expected


# --- The import contracts (pyproject.toml) can fail ------------------------------------------
def lint_imports(root: Path, *contracts: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache", "--no-logo", *(f"--contract={contract}" for contract in contracts)],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="module")
def before_injection(tmp_path_factory: pytest.TempPathFactory) -> str:
    """lint-imports' report on an untouched copy, every contract."""
    return lint_imports(_copy_tree(tmp_path_factory.mktemp("untouched"))).stdout


@pytest.mark.parametrize(
    ("contract", "file", "line", "reported"),
    [
        ("core", "core/layout.py", "import stacks", "core.layout -> stacks"),
        ("client", "client/images.py", "from training import aws", "client.images -> training.aws"),
        ("smoke", "smoke/outputs.py", "import client.api", "smoke.outputs -> client.api"),
        ("training", "training/errors.py", "import local.api_server", "training.errors -> local.api_server"),
        ("layers", "core/breeds.py", "import client.api", "core.breeds -> client.api"),
        ("acyclic", "core/breeds.py", "import core.model_pin", "No cycles are allowed in core"),
    ],
)
def test_import_contract_fails_on_a_violating_import(
    tmp_path, before_injection, contract, file, line, reported
):
    # Another break of the same contract must not make this test pass: the injection is reported.
    assert reported not in before_injection
    copy = _copy_tree(tmp_path)
    _inject(copy / file, line)
    result = lint_imports(copy, contract)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "BROKEN" in result.stdout
    assert reported in result.stdout


def _copy_tree(tmp_path: Path) -> Path:
    copy = tmp_path / "repo"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "golden")
    for package in PACKAGES:
        shutil.copytree(REPO / package, copy / package, ignore=ignore)
    shutil.copytree(REPO / "lambda", copy / "lambda", ignore=ignore)
    shutil.copy2(REPO / "app.py", copy / "app.py")
    shutil.copy2(REPO / "pyproject.toml", copy / "pyproject.toml")
    return copy


def _inject(path: Path, line: str) -> None:
    path.write_text(f"{line}\n{path.read_text(encoding='utf-8')}", encoding="utf-8")
