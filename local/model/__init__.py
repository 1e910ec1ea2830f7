"""The SageMaker built-in image-classification algorithm's model, run on a CPU without MXNet.

    model = load("model.tar.gz")          # or a folder, s3://bucket/.../model.tar.gz, or a training job name
    model.predict(open("dog.jpg", "rb").read())   # probabilities in class-id order

The MXNet symbol and ``.params`` are converted to ONNX (local/model/convert.py) and run by ONNX Runtime;
tests/local/golden holds MXNet 1.9.1's own outputs that prove the conversion (scripts/mxnet-golden).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from local.model.artifact import read_artifact
from local.model.errors import ImageDecodeError, ModelLoadError
from local.model.runtime import CpuModel
from local.model.sources import download_s3, is_training_job_name, training_job_artifact
from local.model.testmodel import write_test_model

__all__ = ["CpuModel", "ImageDecodeError", "ModelLoadError", "load", "write_test_model"]


def load(source: str | Path, *, region: str | None = None) -> CpuModel:
    """Load a model.tar.gz path, an extracted folder, an ``s3://`` URL of a model.tar.gz (downloaded with
    boto3, progress on stderr) or a SageMaker training job name (its ModelArtifacts.S3ModelArtifacts)."""
    text = str(source)
    if text.startswith("s3://"):
        return _load_s3(text, region)
    path = Path(source).expanduser()
    if path.exists():
        return CpuModel(read_artifact(path))
    if is_training_job_name(text):
        return _load_s3(training_job_artifact(text, region), region)
    raise ModelLoadError(f"{text}: no such file or folder (nor an s3:// URL or a training job name)")


def _load_s3(url: str, region: str | None) -> CpuModel:
    with tempfile.TemporaryDirectory(prefix="model-") as folder:
        return CpuModel(read_artifact(download_s3(url, Path(folder), region)))
