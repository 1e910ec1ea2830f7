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


def test_the_bundle_takes_only_what_the_handler_imports_from_the_pillow_wheel_and_the_libraries_it_links():
    imports = python_bundle.imported_modules(sorted(predict_function.HANDLER_DIR.glob("*.py")))

    with zipfile.ZipFile(python_bundle.lambda_wheel("pillow")) as archive:
        needed = python_bundle._members_needed(archive, imports)

    python_files = sorted(name for name in needed if name.startswith("PIL/"))
    libraries = sorted(name.split("/")[1].split("-")[0] for name in needed if name.startswith("pillow.libs/"))
    assert python_files == [
        "PIL/__init__.py",
        "PIL/_imaging.cpython-314-aarch64-linux-gnu.so",
        "PIL/_version.py",
    ]
    # _imaging links libjpeg, libopenjp2, libtiff, libxcb; libtiff links liblzma, libzstd; libxcb libXau.
    assert libraries == ["libXau", "libjpeg", "liblzma", "libopenjp2", "libtiff", "libxcb", "libzstd"]


def test_wheel_is_unpacked_down_to_the_modules_the_imports_reach(tmp_path):
    wheel = make_wheel(
        tmp_path / "w.whl",
        {
            "pkg/__init__.py": "from . import _version\n",
            "pkg/_version.py": "version = '1'\n",
            "pkg/used.py": "from .helpers.deep import thing\nimport json\n",
            "pkg/helpers/__init__.py": "",
            "pkg/helpers/deep.py": "thing = 1\n",
            "pkg/unused.py": "from . import used\n",
            "other/__init__.py": "",
            "pkg-1.0.dist-info/METADATA": "",
        },
    )
    out = tmp_path / "bundle"
    out.mkdir()
    imports = python_bundle.imported_modules([make_source(tmp_path, "from pkg import used\n")])

    python_bundle._unpack_wheel(wheel, out, imports)

    unpacked = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert unpacked == [
        "pkg/__init__.py",
        "pkg/_version.py",
        "pkg/helpers/__init__.py",
        "pkg/helpers/deep.py",
        "pkg/used.py",
    ]


def test_a_library_that_is_not_arm64_elf_is_refused_with_why():
    with pytest.raises(RuntimeError, match=r"^not a 64-bit little-endian ELF file: the Lambda runtime"):
        python_bundle.elf_needed(b"MZ\x90\x00")


def make_source(folder, text):
    path = folder / "handler.py"
    path.write_text(text)
    return path
