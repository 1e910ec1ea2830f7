"""A converted model run by ONNX Runtime on the CPU."""

from __future__ import annotations

import numpy as np
import onnxruntime

from local.model.artifact import Artifact
from local.model.convert import OUTPUT_NAME, to_onnx
from local.model.params import load_params
from local.model.preprocess import preprocess
from local.model.symbol import parse_symbol


class CpuModel:
    """The algorithm's network on the CPU. ``predict`` takes image bytes; ``forward`` preprocessed tensors."""

    def __init__(self, artifact: Artifact) -> None:
        symbol = parse_symbol(artifact.symbol_json, source=f"{artifact.source} (symbol)")
        params = load_params(artifact.params, source=f"{artifact.source}/{artifact.params_name}")
        self.onnx_model = to_onnx(
            symbol, params, data_name=artifact.data_name, image_shape=artifact.image_shape
        )
        self.source = artifact.source
        self.epoch = artifact.epoch
        self.params_name = artifact.params_name
        self.image_shape: tuple[int, int, int] = artifact.image_shape
        self.num_classes: int = int(self.onnx_model.graph.output[0].type.tensor_type.shape.dim[1].dim_value)
        self._input_name = artifact.data_name
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3  # errors only: the runtime's warnings are not the user's business
        self._session = onnxruntime.InferenceSession(
            self.onnx_model.SerializeToString(), options, providers=["CPUExecutionProvider"]
        )

    def __repr__(self) -> str:
        return (
            f"CpuModel({self.source!r}, epoch={self.epoch}, classes={self.num_classes}, "
            f"input={self.image_shape})"
        )

    def forward(self, batch: np.ndarray) -> np.ndarray:
        """(N, C, H, W) float32, already preprocessed -> (N, num_classes) probabilities."""
        batch = np.asarray(batch)
        if batch.ndim != 4 or tuple(batch.shape[1:]) != self.image_shape:
            raise ValueError(
                f"forward takes a batch of shape (N, {', '.join(map(str, self.image_shape))}); "
                f"got {batch.shape}"
            )
        batch = np.ascontiguousarray(batch, dtype=np.float32)
        (probabilities,) = self._session.run([OUTPUT_NAME], {self._input_name: batch})
        return probabilities

    def predict(self, image: bytes) -> list[float]:
        """Image bytes -> probabilities in class-id order (raises ImageDecodeError for non-images)."""
        return self.predict_batch([image])[0]

    def predict_batch(self, images: list[bytes]) -> list[list[float]]:
        if not images:
            return []
        batch = np.stack([preprocess(image, self.image_shape) for image in images])
        return [[float(p) for p in row] for row in self.forward(batch)]
