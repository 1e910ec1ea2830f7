"""The prediction bundle's native packages: unpacked from the Lambda-platform wheel that scripts/setup
downloads, never fetched at synth."""

from __future__ import annotations

import zipfile

import pytest

from stacks import python_bundle
from stacks.constructs import predict_function


def make_wheel(path, files):
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return path


def test_bundle_takes_pillow_from_a_wheel_and_no_package_from_this_environment():
    # Nothing compiled on each cold start but the handler's own modules (no Powertools, no jmespath).
    assert predict_function.BUNDLED_WHEELS == ("pillow",)
    assert predict_function.BUNDLED_PACKAGES == ()


def test_missing_wheel_fails_synth_with_what_to_run(tmp_path, monkeypatch):
    monkeypatch.setattr(python_bundle, "LAMBDA_WHEELS_DIR", tmp_path / ".cache" / "lambda-wheels")
    monkeypatch.setattr(python_bundle, "REPO_ROOT", tmp_path)
    (tmp_path / "requirements.txt").write_text("boto3==1.0\npillow==13.0.0\n")

    with pytest.raises(RuntimeError) as raised:
        python_bundle.lambda_wheel("pillow")

    assert str(raised.value) == (
        "the Lambda bundle needs pillow 13.0.0 built for python3.14 on arm64, but .cache/lambda-wheels/ "
        "holds no pillow-13.0.0-cp314-*aarch64*.whl: run scripts/setup once with network access "
        "(synth itself never downloads)"
    )


def test_wheel_for_another_platform_or_version_is_not_taken(tmp_path, monkeypatch):
    wheels = tmp_path / ".cache" / "lambda-wheels"
    wheels.mkdir(parents=True)
    monkeypatch.setattr(python_bundle, "LAMBDA_WHEELS_DIR", wheels)
    monkeypatch.setattr(python_bundle, "REPO_ROOT", tmp_path)
    (tmp_path / "requirements.txt").write_text("pillow==13.0.0\n")
    for name in (
        "pillow-13.0.0-cp314-cp314-manylinux_2_28_x86_64.whl",
        "pillow-13.0.0-cp313-cp313-manylinux_2_28_aarch64.whl",
        "pillow-12.0.0-cp314-cp314-manylinux_2_28_aarch64.whl",
    ):
        make_wheel(wheels / name, {})
    with pytest.raises(RuntimeError, match="holds no pillow-13.0.0-cp314"):
        python_bundle.lambda_wheel("pillow")

    right = make_wheel(
        wheels / "pillow-13.0.0-cp314-cp314-manylinux_2_27_aarch64.manylinux_2_28_aarch64.whl", {}
    )

    assert python_bundle.lambda_wheel("pillow") == right


def test_wheel_is_unpacked_without_metadata_or_bytecode(tmp_path):
    wheel = make_wheel(
        tmp_path / "w.whl",
        {
            "PIL/__init__.py": "x = 1\n",
            "PIL/_imaging.cpython-314-aarch64-linux-gnu.so": b"\x7fELF",
            "PIL/__pycache__/__init__.cpython-314.pyc": b"",
            "PIL/Image.pyi": "",
            "PIL/py.typed": "",
            "pillow.libs/libjpeg-1.so.62": b"\x7fELF",
            "pillow-13.0.0.dist-info/METADATA": "",
        },
    )
    out = tmp_path / "bundle"
    out.mkdir()

    python_bundle._unpack_wheel(wheel, out)

    unpacked = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert unpacked == [
        "PIL/__init__.py",
        "PIL/_imaging.cpython-314-aarch64-linux-gnu.so",
        "pillow.libs/libjpeg-1.so.62",
    ]


def test_the_downloaded_pillow_wheel_is_the_pinned_one_for_the_lambda_platform():
    wheel = python_bundle.lambda_wheel("pillow")  # scripts/setup downloaded it

    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    assert "PIL/JpegImagePlugin.py" in names
    assert any(name.startswith("PIL/_imaging.cpython-314-aarch64-linux-gnu") for name in names)
