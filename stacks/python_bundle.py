"""Python Lambdas: code bundles assembled on this machine at synth (no Docker, no download), and
the function itself with the product's conventions: newest runtime, arm64, its own log group and
a role that may write only there.

A function's runtime code imports only the shared core and its own folder (the import rule), so
its bundle is derived from that rule, not from a list of file names: the handler folder's ``*.py``
files and the whole ``core`` package. Beside them: generated files (such as the class list),
pure-Python packages copied from this environment, where requirements.txt pins them, and binary
packages unpacked from wheels built for the Lambda runtime, which scripts/setup downloads into
``LAMBDA_WHEELS_DIR`` at the version requirements.txt pins (synth never downloads).
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import zipfile
from collections.abc import Mapping, Sequence
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
        for distribution in self._wheels:
            _unpack_wheel(lambda_wheel(distribution), out)
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


def _unpack_wheel(wheel: Path, out: Path) -> None:
    """A wheel's importable files (a wheel is a zip laid out as site-packages), without metadata."""
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.namelist():
            top = member.split("/", 1)[0]
            name = member.rsplit("/", 1)[-1]
            if top.endswith(".dist-info") or any(Path(name).match(pattern) for pattern in _IGNORE_NAMES):
                continue
            if "__pycache__" in member.split("/"):
                continue
            archive.extract(member, out)


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
