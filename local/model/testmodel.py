"""A small model in the algorithm's exact layout, with random weights: the local API's "test model".

Its symbol uses the operators of the algorithm's ResNet (bn_data with fix_gamma, a 7x7/2 convolution, batch
norm, ReLU, 3x3/2 max pooling, one residual unit with a projection shortcut and an elementwise add, global
average pooling, flatten, a fully connected layer and SoftmaxOutput). Its predictions mean nothing.
"""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import numpy as np

from local.model.params import dump_params
from local.model.symbol import infer_shapes, parse_symbol

TEST_MODEL_EPOCH = 7  # not 0: a training job's artifact carries the epoch of its best checkpoint
AUX_SUFFIXES = ("moving_mean", "moving_var")
PARAM_INPUTS = {
    "Convolution": ("weight", "bias"),
    "FullyConnected": ("weight", "bias"),
    "BatchNorm": ("gamma", "beta", "moving_mean", "moving_var"),
    "SoftmaxOutput": ("label",),
}


class SymbolBuilder:
    """Writes MXNet symbol JSON as ``Symbol.tojson()`` does: variables first, then the operator."""

    def __init__(self, data_name: str = "data") -> None:
        self.nodes: list[dict] = []
        self.data = self._add("null", data_name, [], {})

    def _add(self, op: str, name: str, inputs: list[int], attrs: dict[str, str]) -> int:
        node: dict = {"op": op, "name": name, "inputs": [[i, 0, 0] for i in inputs]}
        if attrs:
            node["attrs"] = attrs
        self.nodes.append(node)
        return len(self.nodes) - 1

    def op(self, op: str, name: str, *inputs: int, **attrs: object) -> int:
        text = {key: str(value) for key, value in attrs.items()}
        params = [self._add("null", f"{name}_{suffix}", [], {}) for suffix in self._params(op, text)]
        return self._add(op, name, [*inputs, *params], text)

    @staticmethod
    def _params(op: str, attrs: dict[str, str]) -> tuple[str, ...]:
        suffixes = PARAM_INPUTS.get(op, ())
        if attrs.get("no_bias") == "True":
            suffixes = tuple(s for s in suffixes if s != "bias")
        return suffixes

    def to_json(self, head: int) -> str:
        arg_nodes = [i for i, node in enumerate(self.nodes) if node["op"] == "null"]
        document = {
            "nodes": self.nodes,
            "arg_nodes": arg_nodes,
            "node_row_ptr": list(range(len(self.nodes) + 1)),
            "heads": [[head, 0, 0]],
            "attrs": {"mxnet_version": ["int", 10901]},
        }
        return json.dumps(document, indent=2)


def small_resnet_symbol(num_classes: int, filters: int = 8) -> str:
    """A one-unit ResNet (v2 unit, as symbols/resnet.py builds them) with the algorithm's names and attrs."""
    b = SymbolBuilder()
    bn = {"eps": "2e-05", "momentum": "0.9"}
    x = b.op("_copy", "id", b.data)
    x = b.op("BatchNorm", "bn_data", x, fix_gamma=True, **bn)
    x = b.op(
        "Convolution", "conv0", x, kernel=(7, 7), stride=(2, 2), pad=(3, 3), num_filter=filters, no_bias=True
    )
    x = b.op("BatchNorm", "bn0", x, fix_gamma=False, **bn)
    x = b.op("Activation", "relu0", x, act_type="relu")
    x = b.op("Pooling", "pooling0", x, kernel=(3, 3), stride=(2, 2), pad=(1, 1), pool_type="max")
    a = b.op("BatchNorm", "stage1_unit1_bn1", x, fix_gamma=False, **bn)
    a = b.op("Activation", "stage1_unit1_relu1", a, act_type="relu")
    y = b.op(
        "Convolution",
        "stage1_unit1_conv1",
        a,
        kernel=(3, 3),
        stride=(1, 1),
        pad=(1, 1),
        num_filter=2 * filters,
        no_bias=True,
    )
    y = b.op("BatchNorm", "stage1_unit1_bn2", y, fix_gamma=False, **bn)
    y = b.op("Activation", "stage1_unit1_relu2", y, act_type="relu")
    y = b.op(
        "Convolution",
        "stage1_unit1_conv2",
        y,
        kernel=(3, 3),
        stride=(1, 1),
        pad=(1, 1),
        num_filter=2 * filters,
        no_bias=True,
    )
    shortcut = b.op(
        "Convolution",
        "stage1_unit1_sc",
        a,
        kernel=(1, 1),
        stride=(1, 1),
        num_filter=2 * filters,
        no_bias=True,
    )
    x = b.op("elemwise_add", "_plus0", y, shortcut)
    x = b.op("BatchNorm", "bn1", x, fix_gamma=False, **bn)
    x = b.op("Activation", "relu1", x, act_type="relu")
    x = b.op("Pooling", "pool1", x, kernel=(7, 7), global_pool=True, pool_type="avg")
    x = b.op("Flatten", "flatten0", x)
    x = b.op("FullyConnected", "fc1", x, num_hidden=num_classes)
    return b.to_json(b.op("SoftmaxOutput", "softmax", x))


def random_params(
    symbol_json: str, image_shape: tuple[int, int, int], seed: int = 0
) -> dict[str, np.ndarray]:
    """Random weights of the right shapes for any supported symbol, named as MXNet saves them (arg:/aux:).
    Batch norm statistics are plausible (bn_data's match 0..255 pixels) so activations stay in range."""
    rng = np.random.default_rng(seed)
    _, shapes = infer_shapes(parse_symbol(symbol_json), "data", (1, *image_shape))
    arrays: dict[str, np.ndarray] = {}
    for name, shape in shapes.items():
        kind = "aux" if name.endswith(AUX_SUFFIXES) else "arg"
        if name.endswith("_weight"):
            value = rng.normal(0, np.sqrt(2.0 / np.prod(shape[1:])), shape)
        elif name.endswith("_gamma"):
            value = rng.uniform(0.5, 1.5, shape)
        elif name.endswith("_moving_mean"):
            value = rng.uniform(100, 140, shape) if name.startswith("bn_data") else rng.normal(0, 0.1, shape)
        elif name.endswith("_moving_var"):
            value = (
                rng.uniform(2500, 4500, shape) if name.startswith("bn_data") else rng.uniform(0.5, 2, shape)
            )
        else:  # beta, bias
            value = rng.normal(0, 0.1, shape)
        arrays[f"{kind}:{name}"] = value.astype(np.float32)
    return arrays


def model_shapes_json(image_shape: tuple[int, int, int]) -> str:
    return json.dumps([{"shape": [1, *image_shape], "name": "data"}])


def write_test_model(path: Path, *, num_classes: int = 120, seed: int = 0) -> Path:
    """Write a small model.tar.gz (a few hundred KB at most) in the algorithm's layout; returns ``path``."""
    path = Path(path)
    image_shape = (3, 224, 224)
    symbol = small_resnet_symbol(num_classes)
    files = {
        "image-classification-symbol.json": symbol.encode(),
        f"image-classification-{TEST_MODEL_EPOCH:04d}.params": dump_params(
            random_params(symbol, image_shape, seed)
        ),
        "model-shapes.json": model_shapes_json(image_shape).encode(),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(data))
    return path
