"""MXNet's symbol JSON (``*-symbol.json``): the graph, its attributes and the shapes of its parameters.

The file is ``{"nodes": [...], "arg_nodes": [...], "heads": [[node, output, version]], ...}``. Each node has
``op`` (``"null"`` for a variable: the input, the label or a parameter), ``name``, ``inputs`` (entries
``[node_index, output_index, version]``, nodes listed in topological order) and string-valued attributes
under ``attrs`` (``attr`` and ``param`` in files older than MXNet 1.0). Attributes left at their default are
not written, so every default below is MXNet 1.x's.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

from local.model.errors import ModelLoadError

SUPPORTED_OPS = (
    "Activation",
    "BatchNorm",
    "BlockGrad",
    "Cast",
    "Convolution",
    "Dropout",
    "Flatten",
    "FullyConnected",
    "Pooling",
    "SoftmaxActivation",
    "SoftmaxOutput",
    "_Plus",
    "_copy",
    "_plus",
    "elemwise_add",
    "identity",
    "softmax",
)
PASS_THROUGH_OPS = {"identity", "_copy", "Dropout", "BlockGrad", "Cast"}
ADD_OPS = {"elemwise_add", "_Plus", "_plus"}
SOFTMAX_OPS = {"SoftmaxOutput", "softmax", "SoftmaxActivation"}


class SymbolError(ModelLoadError):
    """The symbol JSON is malformed, uses an unsupported operator, or does not fit its parameters."""


@dataclass(frozen=True)
class Node:
    index: int
    op: str
    name: str
    inputs: tuple[tuple[int, int], ...]
    attrs: dict[str, str] = field(default_factory=dict)

    def text(self, key: str, default: str) -> str:
        return self.attrs.get(key, default)

    def flag(self, key: str, default: bool) -> bool:
        value = self.attrs.get(key)
        return default if value is None else value.strip().lower() in ("true", "1")

    def number(self, key: str, default: float) -> float:
        value = self.attrs.get(key)
        return default if value is None else float(value)

    def ints(self, key: str, default: tuple[int, ...]) -> tuple[int, ...]:
        value = self.attrs.get(key)
        if value is None or value.strip() in ("", "()", "[]", "None"):
            return default
        return tuple(int(part) for part in value.strip("()[] ").split(",") if part.strip())


@dataclass(frozen=True)
class Symbol:
    nodes: tuple[Node, ...]
    head: tuple[int, int]

    def node(self, entry: tuple[int, int]) -> Node:
        return self.nodes[entry[0]]


def parse_symbol(text: str, source: str = "symbol") -> Symbol:
    try:
        document = json.loads(text)
        raw_nodes = document["nodes"]
        heads = document["heads"]
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise SymbolError(f"{source}: not an MXNet symbol JSON ({error})") from error
    nodes = []
    for index, raw in enumerate(raw_nodes):
        attrs: dict[str, str] = {}
        for key in ("param", "attr", "attrs"):
            attrs.update({name: str(value) for name, value in (raw.get(key) or {}).items()})
        inputs = tuple((int(entry[0]), int(entry[1])) for entry in raw.get("inputs", []))
        if any(source_index >= index for source_index, _ in inputs):
            raise SymbolError(f"{source}: node {raw.get('name')!r} uses a later node; nodes must be in order")
        nodes.append(Node(index, str(raw["op"]), str(raw["name"]), inputs, attrs))
    if not heads:
        raise SymbolError(f"{source}: the symbol has no output (empty 'heads')")
    unknown = sorted({node.op for node in nodes if node.op != "null" and node.op not in SUPPORTED_OPS})
    if unknown:
        raise SymbolError(
            f"{source}: unsupported MXNet operator(s) {', '.join(unknown)}; local/model converts only "
            f"{', '.join(SUPPORTED_OPS)} (the operators of the algorithm's ResNet)"
        )
    head = (int(heads[0][0]), int(heads[0][1]))
    output = nodes[head[0]]
    if output.op not in SOFTMAX_OPS:
        raise SymbolError(
            f"{source}: the output is {output.op} {output.name!r}, not a softmax, so it would not give "
            "probabilities; the algorithm's symbols end with SoftmaxOutput"
        )
    return Symbol(tuple(nodes), head)


def _spatial(node: Node, key: str, default: int) -> tuple[int, int]:
    values = node.ints(key, (default, default))
    if len(values) != 2:
        raise SymbolError(
            f"{node.op} {node.name!r}: {key}={values} is not 2-D; only 2-D images are supported"
        )
    return values[0], values[1]


def pooling_output(node: Node, size: int, axis: int) -> int:
    kernel, stride, pad = (_spatial(node, "kernel", 1)[axis], _spatial(node, "stride", 1)[axis], 0)
    pad = _spatial(node, "pad", 0)[axis]
    convention = node.text("pooling_convention", "valid")
    span = size + 2 * pad - kernel
    if convention == "valid":
        return span // stride + 1
    if convention == "full":
        return math.ceil(span / stride) + 1
    raise SymbolError(f"Pooling {node.name!r}: pooling_convention={convention!r} is not supported")


def infer_shapes(
    symbol: Symbol, data_name: str, data_shape: tuple[int, ...]
) -> tuple[dict[tuple[int, int], tuple[int, ...]], dict[str, tuple[int, ...]]]:
    """Shapes of every node output, and of every parameter variable (by name), for one input shape."""
    shapes: dict[tuple[int, int], tuple[int, ...]] = {}
    params: dict[str, tuple[int, ...]] = {}

    def need(node: Node, position: int, shape: tuple[int, ...]) -> None:
        if position < len(node.inputs):
            variable = symbol.node(node.inputs[position])
            if variable.op == "null":
                params[variable.name] = shape
                shapes[node.inputs[position]] = shape

    for node in symbol.nodes:
        if node.op == "null":
            if node.name == data_name:
                shapes[(node.index, 0)] = tuple(data_shape)
            continue
        x = shapes.get(node.inputs[0]) if node.inputs else None
        if x is None:
            raise SymbolError(
                f"{node.op} {node.name!r}: its input {symbol.node(node.inputs[0]).name!r} "
                f"is neither the data input {data_name!r} nor computed"
            )
        if node.op == "Convolution":
            kernel, stride = _spatial(node, "kernel", 1), _spatial(node, "stride", 1)
            pad, dilate = _spatial(node, "pad", 0), _spatial(node, "dilate", 1)
            filters, groups = int(node.number("num_filter", 0)), int(node.number("num_group", 1))
            if len(x) != 4 or x[1] % groups:
                raise SymbolError(
                    f"Convolution {node.name!r}: input shape {x} does not fit num_group={groups}"
                )
            need(node, 1, (filters, x[1] // groups, *kernel))
            if not node.flag("no_bias", False):
                need(node, 2, (filters,))
            out = [
                (x[2 + i] + 2 * pad[i] - dilate[i] * (kernel[i] - 1) - 1) // stride[i] + 1 for i in range(2)
            ]
            shapes[(node.index, 0)] = (x[0], filters, *out)
        elif node.op == "BatchNorm":
            if int(node.number("axis", 1)) != 1:
                raise SymbolError(f"BatchNorm {node.name!r}: only axis=1 (channels) is supported")
            for position in range(1, 5):
                need(node, position, (x[1],))
            shapes[(node.index, 0)] = x
        elif node.op == "Pooling":
            if node.flag("global_pool", False):
                shapes[(node.index, 0)] = (x[0], x[1], 1, 1)
            else:
                shapes[(node.index, 0)] = (
                    x[0],
                    x[1],
                    pooling_output(node, x[2], 0),
                    pooling_output(node, x[3], 1),
                )
        elif node.op == "Flatten":
            shapes[(node.index, 0)] = (x[0], math.prod(x[1:]))
        elif node.op == "FullyConnected":
            hidden = int(node.number("num_hidden", 0))
            if not node.flag("flatten", True):
                raise SymbolError(f"FullyConnected {node.name!r}: flatten=False is not supported")
            need(node, 1, (hidden, math.prod(x[1:])))
            if not node.flag("no_bias", False):
                need(node, 2, (hidden,))
            shapes[(node.index, 0)] = (x[0], hidden)
        elif node.op in ADD_OPS:
            other = shapes.get(node.inputs[1])
            if other != x:
                raise SymbolError(f"{node.op} {node.name!r}: adds shapes {x} and {other}, which differ")
            shapes[(node.index, 0)] = x
        else:  # pass-through, activation and softmax keep the shape
            shapes[(node.index, 0)] = x
    return shapes, params
