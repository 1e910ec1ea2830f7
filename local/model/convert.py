"""An MXNet symbol plus its parameters, converted into an ONNX graph with the ``onnx`` package's helpers.

Only inference semantics matter: BatchNorm uses its moving statistics (and a gamma of 1 where
``fix_gamma`` is set, MXNet's default), Dropout is an identity, and SoftmaxOutput is a softmax over the
classes (its label input is ignored). Everything runs in float32.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from local.model.symbol import ADD_OPS, PASS_THROUGH_OPS, Node, Symbol, SymbolError, infer_shapes

OPSET = 17
IR_VERSION = 8  # the IR that opset 17 came with: every onnxruntime since 1.11 reads it
OUTPUT_NAME = "probabilities"
ACTIVATIONS = {
    "relu": "Relu",
    "sigmoid": "Sigmoid",
    "tanh": "Tanh",
    "softrelu": "Softplus",
    "softsign": "Softsign",
}


def _parameter(params: dict[str, np.ndarray], name: str) -> np.ndarray | None:
    return params.get(f"arg:{name}", params.get(f"aux:{name}", params.get(name)))


def to_onnx(
    symbol: Symbol, params: dict[str, np.ndarray], *, data_name: str, image_shape: tuple[int, int, int]
) -> onnx.ModelProto:
    """The ONNX model: input ``data_name`` (N, C, H, W) float32, output ``probabilities`` (N, classes)."""
    shapes, wanted = infer_shapes(symbol, data_name, (1, *image_shape))
    initializers: list[TensorProto] = []
    for name, shape in wanted.items():
        value = _parameter(params, name)
        if value is None:
            raise SymbolError(f"the .params file has no arg:{name} (or aux:{name}), which the symbol needs")
        if tuple(value.shape) != shape:
            raise SymbolError(f"parameter {name} has shape {tuple(value.shape)}; the symbol needs {shape}")
        initializers.append(numpy_helper.from_array(value.astype(np.float32), name))

    def tensor(entry: tuple[int, int]) -> str:
        node = symbol.node(entry)
        return node.name if node.op == "null" else f"{node.name}:{entry[1]}"

    nodes: list[onnx.NodeProto] = []
    for node in symbol.nodes:
        if node.op != "null":
            nodes.extend(
                _convert(
                    node,
                    [tensor(entry) for entry in node.inputs],
                    f"{node.name}:0",
                    initializers,
                    shapes[node.inputs[0]],
                )
            )
    head = symbol.node(symbol.head)
    nodes.append(helper.make_node("Identity", [tensor(symbol.head)], [OUTPUT_NAME], name="output"))
    classes = shapes[symbol.head][1] if len(shapes[symbol.head]) > 1 else None
    graph = helper.make_graph(
        nodes,
        f"mxnet:{head.name}",
        [helper.make_tensor_value_info(data_name, TensorProto.FLOAT, ["N", *image_shape])],
        [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, ["N", classes])],
        initializer=initializers,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="local.model"
    )
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model)
    return model


def _pairs(node: Node, key: str, default: int) -> list[int]:
    values = node.ints(key, (default, default))
    return [int(v) for v in values]


def _convert(
    node: Node, inputs: list[str], output: str, initializers: list[TensorProto], input_shape: tuple[int, ...]
) -> list[onnx.NodeProto]:
    op, name = node.op, node.name
    if op == "Convolution":
        pad = _pairs(node, "pad", 0)
        count = 2 if node.flag("no_bias", False) else 3
        return [
            helper.make_node(
                "Conv",
                inputs[:count],
                [output],
                name=name,
                kernel_shape=_pairs(node, "kernel", 1),
                strides=_pairs(node, "stride", 1),
                dilations=_pairs(node, "dilate", 1),
                pads=pad + pad,
                group=int(node.number("num_group", 1)),
            )
        ]
    if op == "BatchNorm":
        scale = inputs[1]
        if node.flag("fix_gamma", True):
            scale = f"{name}:gamma_fixed_to_1"
            initializers.append(numpy_helper.from_array(np.ones(input_shape[1], dtype=np.float32), scale))
        return [
            helper.make_node(
                "BatchNormalization",
                [inputs[0], scale, *inputs[2:5]],
                [output],
                name=name,
                epsilon=node.number("eps", 1e-3),
            )
        ]
    if op == "Activation":
        act = node.text("act_type", "relu")
        if act not in ACTIVATIONS:
            raise SymbolError(
                f"Activation {name!r}: act_type={act!r} is not supported ({', '.join(ACTIVATIONS)})"
            )
        return [helper.make_node(ACTIVATIONS[act], inputs[:1], [output], name=name)]
    if op == "Pooling":
        kind = node.text("pool_type", "max")
        if kind not in ("max", "avg"):
            raise SymbolError(f"Pooling {name!r}: pool_type={kind!r} is not supported (max, avg)")
        if node.flag("global_pool", False):
            return [
                helper.make_node(
                    "GlobalMaxPool" if kind == "max" else "GlobalAveragePool", inputs[:1], [output], name=name
                )
            ]
        pad = _pairs(node, "pad", 0)
        attributes: dict[str, Any] = {
            "kernel_shape": _pairs(node, "kernel", 1),
            "strides": _pairs(node, "stride", 1),
            "pads": pad + pad,
            "ceil_mode": int(node.text("pooling_convention", "valid") == "full"),
        }
        if kind == "avg":
            attributes["count_include_pad"] = int(node.flag("count_include_pad", True))
            return [helper.make_node("AveragePool", inputs[:1], [output], name=name, **attributes)]
        return [helper.make_node("MaxPool", inputs[:1], [output], name=name, **attributes)]
    if op in ADD_OPS:
        return [helper.make_node("Add", inputs[:2], [output], name=name)]
    if op == "Flatten":
        return [helper.make_node("Flatten", inputs[:1], [output], name=name, axis=1)]
    if op == "FullyConnected":
        flat = f"{name}:flat"
        count = 2 if node.flag("no_bias", False) else 3
        return [
            helper.make_node("Flatten", inputs[:1], [flat], name=f"{name}_flatten", axis=1),
            helper.make_node("Gemm", [flat, *inputs[1:count]], [output], name=name, transB=1),
        ]
    if op in ("SoftmaxOutput", "SoftmaxActivation", "softmax"):
        if len(input_shape) != 2:
            raise SymbolError(f"{op} {name!r}: softmax over a {len(input_shape)}-D input is not supported")
        return [helper.make_node("Softmax", inputs[:1], [output], name=name, axis=1)]
    if op in PASS_THROUGH_OPS:
        return [helper.make_node("Identity", inputs[:1], [output], name=name)]
    raise SymbolError(f"unsupported MXNet operator {op!r} (node {name!r})")
