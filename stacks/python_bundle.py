"""Python Lambdas: code bundles assembled on this machine at synth (no Docker, no download), and
the function itself with the product's conventions: newest runtime, arm64, its own log group and
a role that may write only there.

A function's runtime code imports only the shared core and its own folder (the import rule), so
its bundle is derived from that rule, not from a list of file names: the handler folder's ``*.py``
files and the whole ``core`` package. Beside them: generated files (such as the class list),
pure-Python packages copied from this environment, where requirements.txt pins them, and binary
packages unpacked from wheels built for the Lambda runtime, which scripts/setup downloads into
``LAMBDA_WHEELS_DIR`` at the version requirements.txt pins (synth never downloads). Of a wheel, only
what the handler's imports reach is unpacked, with the shared libraries its extension modules link
(for the prediction function: 3 of Pillow's files and 7 of its 17 libraries, 7.7 of 21.5 MB).
"""

from __future__ import annotations

import ast
import importlib.util
import re
import shutil
import struct
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, Duration, ILocalBundling, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.nag import CDK_ROLE_DEPENDENCY, ignore_cfn_lint

REPO_ROOT = Path(__file__).resolve().parents[1]
LAMBDA_WHEELS_DIR = REPO_ROOT / ".cache" / "lambda-wheels"
# The project's packages every function may import besides its own folder (the import rule).
SHARED_PACKAGES = ("core",)
# The runtime python_function deploys: CPython 3.14 on arm64 (Amazon Linux 2023, glibc 2.34).
LAMBDA_WHEEL_TAG = re.compile(r"-cp314-cp314-[^/]*manylinux[^/]*_aarch64\.whl$")
_IGNORE_NAMES = ("__pycache__", "*.pyc", "*.pyi", "py.typed")
_IGNORE = shutil.ignore_patterns(*_IGNORE_NAMES)


@jsii.implements(ILocalBundling)
class _LocalBundle:
    def __init__(
        self,
        handler_dir: Path,
        generated: Mapping[str, str],
        packages: Sequence[str],
        wheels: Sequence[str],
    ) -> None:
        self._handler_dir = handler_dir
        self._generated = dict(generated)
        self._packages = tuple(packages)
        self._wheels = tuple(wheels)

    def try_bundle(self, output_dir: str, *args, **kwargs) -> bool:  # noqa: ARG002 - jsii's signature
        out = Path(output_dir)
        for source in sorted(self._handler_dir.glob("*.py")):
            shutil.copy2(source, out / source.name)
        for package in SHARED_PACKAGES:
            shutil.copytree(REPO_ROOT / package, out / package, ignore=_IGNORE)
        for relative, text in self._generated.items():
            (out / relative).write_text(text, encoding="utf-8")
        for package in self._packages:
            _copy_installed_package(package, out)
        handler_imports = imported_modules(sorted(self._handler_dir.glob("*.py")))
        for distribution in self._wheels:
            _unpack_wheel(lambda_wheel(distribution), out, handler_imports)
        return True


def pinned_version(distribution: str) -> str:
    """The version requirements.txt pins for ``distribution`` (``name==version``)."""
    pins = (REPO_ROOT / "requirements.txt").read_text(encoding="utf-8")
    match = re.search(rf"^{re.escape(distribution)}==(\S+)", pins, re.MULTILINE | re.IGNORECASE)
    if match is None:
        raise RuntimeError(
            f"requirements.txt pins no version of {distribution} (expected {distribution}==X.Y.Z)"
        )
    return match.group(1)


def lambda_wheel(distribution: str) -> Path:
    """The downloaded wheel of ``distribution``, at its pinned version, built for the Lambda runtime."""
    version = pinned_version(distribution)
    candidates = sorted(
        path
        for path in LAMBDA_WHEELS_DIR.glob(f"{distribution}-{version}-*.whl")
        if LAMBDA_WHEEL_TAG.search(path.name)
    )
    if not candidates:
        raise RuntimeError(
            f"the Lambda bundle needs {distribution} {version} built for python3.14 on arm64, but "
            f"{LAMBDA_WHEELS_DIR.relative_to(REPO_ROOT)}/ holds no "
            f"{distribution}-{version}-cp314-*aarch64*.whl: "
            "run scripts/setup once with network access (synth itself never downloads)"
        )
    return candidates[-1]


def _unpack_wheel(wheel: Path, out: Path, imports: set[str] | None = None) -> None:
    """A wheel's importable files (a wheel is a zip laid out as site-packages), without metadata.

    With ``imports`` (module names the handler imports), only what those need: their modules, the
    modules those import in turn, and the shared libraries the extension modules link.
    """
    with zipfile.ZipFile(wheel) as archive:
        wanted = None if imports is None else _members_needed(archive, imports)
        for member in archive.namelist():
            top = member.split("/", 1)[0]
            name = member.rsplit("/", 1)[-1]
            if top.endswith(".dist-info") or any(Path(name).match(pattern) for pattern in _IGNORE_NAMES):
                continue
            if "__pycache__" in member.split("/") or (wanted is not None and member not in wanted):
                continue
            archive.extract(member, out)


def imported_modules(sources: Iterable[Path]) -> set[str]:
    """The modules ``sources`` import by absolute name (``from X import y`` adds ``X`` and ``X.y``)."""
    names: set[str] = set()
    for source in sources:
        names |= _imports_of(ast.parse(source.read_text(encoding="utf-8")), package="")
    return names


def _imports_of(tree: ast.Module, package: str) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the package, one level up per extra dot
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(filter(None, [*parts, node.module]))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def _members_needed(archive: zipfile.ZipFile, imports: set[str]) -> set[str]:
    """The wheel members that importing ``imports`` loads, and the libraries those link."""
    modules: dict[str, str] = {}  # dotted module name -> member
    libraries: dict[str, str] = {}  # file name -> member, for auditwheel's <distribution>.libs/
    for member in archive.namelist():
        folder, _, name = member.rpartition("/")
        if folder.endswith(".libs"):
            libraries[name] = member
        elif name.endswith((".py", ".so")):
            module = f"{folder}/{name.split('.', 1)[0]}".strip("/").replace("/", ".")
            modules[module.removesuffix(".__init__")] = member
    needed: set[str] = set()
    pending = [name for name in imports if name in modules]
    while pending:
        name = pending.pop()
        member = modules[name]
        if member in needed:
            continue
        needed.add(member)
        parent = name.rpartition(".")[0]
        pending += [parent] if parent in modules else []
        if member.endswith(".py"):
            package = name if member.endswith("/__init__.py") else parent
            tree = ast.parse(archive.read(member))
            pending += [n for n in _imports_of(tree, package) if n in modules]
        else:
            needed |= _libraries_needed(archive, member, libraries)
    return needed


def _libraries_needed(archive: zipfile.ZipFile, member: str, libraries: Mapping[str, str]) -> set[str]:
    """The bundled libraries ``member`` links, directly or through each other (the system's are not)."""
    needed: set[str] = set()
    pending = [member]
    while pending:
        for name in elf_needed(archive.read(pending.pop())):
            library = libraries.get(name)
            if library is not None and library not in needed:
                needed.add(library)
                pending.append(library)
    return needed


def elf_needed(binary: bytes) -> list[str]:
    """The DT_NEEDED entries of a 64-bit little-endian ELF file (the libraries it links)."""
    if binary[:6] != b"\x7fELF\x02\x01":
        raise RuntimeError("not a 64-bit little-endian ELF file: the Lambda runtime (arm64) loads no other")
    section_offset, section_size, section_count = struct.unpack_from("<Q10xHH", binary, 0x28)
    sections = [struct.unpack_from("<4xI16xQQI", binary, section_offset + i * section_size)
                for i in range(section_count)]  # fmt: skip
    needed = []
    for kind, offset, size, link in sections:
        if kind != 6:  # SHT_DYNAMIC
            continue
        strings_offset = sections[link][1]
        for tag, value in struct.iter_unpack("<qQ", binary[offset : offset + size]):
            if tag == 0:  # DT_NULL
                break
            if tag == 1:  # DT_NEEDED
                start = strings_offset + value
                needed.append(binary[start : binary.index(b"\x00", start)].decode())
    return needed


def _copy_installed_package(package: str, out: Path) -> None:
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise RuntimeError(f"{package} is not installed: run scripts/setup (it installs requirements.txt)")
    origin = Path(spec.origin)
    if origin.name == "__init__.py":
        shutil.copytree(origin.parent, out / origin.parent.name, ignore=_IGNORE)
    else:
        shutil.copy2(origin, out / origin.name)


def python_bundle(
    handler_dir: Path,
    *,
    generated: Mapping[str, str] | None = None,
    packages: Sequence[str] = (),
    wheels: Sequence[str] = (),
) -> lambda_.Code:
    """The Lambda code for ``handler_dir`` and the shared core, hashed by its output so any change
    redeploys it.

    ``packages`` are copied from this environment (pure Python); ``wheels`` name distributions
    unpacked from their Lambda-platform wheel in ``LAMBDA_WHEELS_DIR`` (native code).
    """
    return lambda_.Code.from_asset(
        str(handler_dir),
        asset_hash_type=AssetHashType.OUTPUT,
        bundling=BundlingOptions(
            # Never pulled: the local bundle always succeeds. Required by the API.
            image=DockerImage.from_registry("public.ecr.aws/sam/build-python3.14"),
            local=_LocalBundle(handler_dir, generated or {}, packages, wheels),
        ),
    )


def python_function(
    scope: Construct,
    id_prefix: str,
    *,
    code: lambda_.Code,
    handler: str,
    description: str,
    log_retention: logs.RetentionDays,
    timeout: Duration,
    memory_mb: int = 256,
    role_description: str | None = None,
    tracing: lambda_.Tracing | None = None,
    environment: Mapping[str, str] | None = None,
    reserved_concurrency: int | None = None,
) -> lambda_.Function:
    """A function with constructs ``<id_prefix>LogGroup``, ``<id_prefix>Role``, ``<id_prefix>Function``.

    An explicit role instead of CDK's default one with the AWSLambdaBasicExecutionRole managed
    policy: it may write to its own, declared log group only (which ``cdk destroy`` deletes).
    """
    log_group = logs.LogGroup(
        scope, f"{id_prefix}LogGroup", retention=log_retention, removal_policy=RemovalPolicy.DESTROY
    )
    role = iam.Role(
        scope,
        f"{id_prefix}Role",
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        description=role_description,
    )
    log_group.grant_write(role)
    function = lambda_.Function(
        scope,
        f"{id_prefix}Function",
        description=description,
        runtime=lambda_.Runtime.PYTHON_3_14,
        architecture=lambda_.Architecture.ARM_64,
        handler=handler,
        code=code,
        role=role,
        timeout=timeout,
        memory_size=memory_mb,
        tracing=tracing,
        log_group=log_group,
        environment=dict(environment or {}),
        reserved_concurrent_executions=reserved_concurrency,
    )
    ignore_cfn_lint(function.node.default_child, "W3005", CDK_ROLE_DEPENDENCY)
    return function


def function_role(function: lambda_.Function) -> iam.IRole:
    """The role ``python_function`` gave ``function`` (``lambda_.Function.role`` is typed optional)."""
    if function.role is None:
        raise ValueError(f"{function.node.path} has no role: build it with python_function")
    return function.role
