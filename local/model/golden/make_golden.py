"""Golden outputs from real Apache MXNet 1.9.1 for tests/local/model (run by scripts/mxnet-golden, in an
isolated venv: this file imports mxnet and never runs in .venv).

Writes to OUT_DIR:
- small-resnet/: a one-unit ResNet (bn_data with fix_gamma=True and a gamma that is NOT 1, conv, bn, relu,
  max pooling, elementwise add, global average pooling, flatten, fc, SoftmaxOutput), random weights, saved
  with mx.model.save_checkpoint under the algorithm's names at epoch 3; input 3x224x224.
- variants/: the other attribute cases (avg pooling with padding, count_include_pad False, the "full"
  pooling convention, grouped convolution with bias, a default-attribute BatchNorm, sigmoid), input 3x34x34.
- images/: exact-224.png, exact-224.jpg (the input size: no resize), wide-300x200.jpg (resized by MXNet),
  wide-300x200.mxnet-resized.png (MXNet's decoded and resized pixels), variants-input.npy.
- golden.json: MXNet's probabilities for each case, and how MXNet got its input tensor.
- resnet50-120/: the ResNet-50 (v2) symbol with 120 classes as the algorithm builds it, and model-shapes.json.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import mxnet as mx
import numpy as np

BN = {"eps": 2e-5, "momentum": 0.9}
EPOCH = 3


def small_resnet(num_classes: int, filters: int = 8) -> mx.sym.Symbol:
    data = mx.sym.identity(mx.sym.Variable("data"), name="id")
    x = mx.sym.BatchNorm(data, fix_gamma=True, name="bn_data", **BN)
    x = mx.sym.Convolution(
        x, kernel=(7, 7), stride=(2, 2), pad=(3, 3), num_filter=filters, no_bias=True, name="conv0"
    )
    x = mx.sym.Activation(
        mx.sym.BatchNorm(x, fix_gamma=False, name="bn0", **BN), act_type="relu", name="relu0"
    )
    x = mx.sym.Pooling(x, kernel=(3, 3), stride=(2, 2), pad=(1, 1), pool_type="max")
    a = mx.sym.BatchNorm(x, fix_gamma=False, name="stage1_unit1_bn1", **BN)
    a = mx.sym.Activation(a, act_type="relu", name="stage1_unit1_relu1")
    y = mx.sym.Convolution(
        a, kernel=(3, 3), pad=(1, 1), num_filter=2 * filters, no_bias=True, name="stage1_unit1_conv1"
    )
    y = mx.sym.BatchNorm(y, fix_gamma=False, name="stage1_unit1_bn2", **BN)
    y = mx.sym.Activation(y, act_type="relu", name="stage1_unit1_relu2")
    y = mx.sym.Convolution(
        y, kernel=(3, 3), pad=(1, 1), num_filter=2 * filters, no_bias=True, name="stage1_unit1_conv2"
    )
    shortcut = mx.sym.Convolution(
        a, kernel=(1, 1), num_filter=2 * filters, no_bias=True, name="stage1_unit1_sc"
    )
    x = y + shortcut
    x = mx.sym.Activation(
        mx.sym.BatchNorm(x, fix_gamma=False, name="bn1", **BN), act_type="relu", name="relu1"
    )
    x = mx.sym.Flatten(mx.sym.Pooling(x, kernel=(7, 7), global_pool=True, pool_type="avg", name="pool1"))
    return mx.sym.SoftmaxOutput(mx.sym.FullyConnected(x, num_hidden=num_classes, name="fc1"), name="softmax")


def variants(num_classes: int) -> mx.sym.Symbol:
    x = mx.sym.BatchNorm(mx.sym.Variable("data"), name="bn_data")  # every attribute at its default
    x = mx.sym.Convolution(x, kernel=(3, 3), num_filter=6, name="conv_bias")
    x = mx.sym.Convolution(x, kernel=(3, 3), pad=(1, 1), num_filter=6, num_group=2, name="conv_grouped")
    x = mx.sym.Activation(x, act_type="sigmoid", name="sigmoid")
    a = mx.sym.Pooling(x, kernel=(3, 3), stride=(2, 2), pad=(1, 1), pool_type="avg", name="avg_padded")
    b = mx.sym.Pooling(
        x,
        kernel=(3, 3),
        stride=(2, 2),
        pad=(1, 1),
        pool_type="avg",
        count_include_pad=False,
        name="avg_exclude_pad",
    )
    c = mx.sym.Pooling(
        x, kernel=(3, 3), stride=(2, 2), pooling_convention="full", pool_type="max", name="max_full"
    )
    x = mx.sym.elemwise_add(mx.sym.elemwise_add(a, b), c)
    x = mx.sym.FullyConnected(mx.sym.Activation(x, act_type="tanh"), num_hidden=num_classes, name="fc1")
    return mx.sym.SoftmaxOutput(x, name="softmax")


def residual_unit(data, num_filter, stride, dim_match, name):
    """A bottleneck pre-activation unit, as example/image-classification/symbols/resnet.py builds it."""
    bn1 = mx.sym.BatchNorm(data, fix_gamma=False, name=name + "_bn1", **BN)
    act1 = mx.sym.Activation(bn1, act_type="relu", name=name + "_relu1")
    conv1 = mx.sym.Convolution(
        act1,
        num_filter=num_filter // 4,
        kernel=(1, 1),
        stride=(1, 1),
        pad=(0, 0),
        no_bias=True,
        workspace=256,
        name=name + "_conv1",
    )
    bn2 = mx.sym.BatchNorm(conv1, fix_gamma=False, name=name + "_bn2", **BN)
    act2 = mx.sym.Activation(bn2, act_type="relu", name=name + "_relu2")
    conv2 = mx.sym.Convolution(
        act2,
        num_filter=num_filter // 4,
        kernel=(3, 3),
        stride=stride,
        pad=(1, 1),
        no_bias=True,
        workspace=256,
        name=name + "_conv2",
    )
    bn3 = mx.sym.BatchNorm(conv2, fix_gamma=False, name=name + "_bn3", **BN)
    act3 = mx.sym.Activation(bn3, act_type="relu", name=name + "_relu3")
    conv3 = mx.sym.Convolution(
        act3,
        num_filter=num_filter,
        kernel=(1, 1),
        stride=(1, 1),
        pad=(0, 0),
        no_bias=True,
        workspace=256,
        name=name + "_conv3",
    )
    if dim_match:
        shortcut = data
    else:
        shortcut = mx.sym.Convolution(
            act1,
            num_filter=num_filter,
            kernel=(1, 1),
            stride=stride,
            no_bias=True,
            workspace=256,
            name=name + "_sc",
        )
    return conv3 + shortcut


def resnet50(num_classes: int) -> mx.sym.Symbol:
    units, filters = [3, 4, 6, 3], [64, 256, 512, 1024, 2048]
    data = mx.sym.identity(mx.sym.Variable("data"), name="id")
    data = mx.sym.BatchNorm(data, fix_gamma=True, name="bn_data", **BN)
    body = mx.sym.Convolution(
        data,
        num_filter=filters[0],
        kernel=(7, 7),
        stride=(2, 2),
        pad=(3, 3),
        no_bias=True,
        name="conv0",
        workspace=256,
    )
    body = mx.sym.BatchNorm(body, fix_gamma=False, name="bn0", **BN)
    body = mx.sym.Activation(body, act_type="relu", name="relu0")
    body = mx.sym.Pooling(body, kernel=(3, 3), stride=(2, 2), pad=(1, 1), pool_type="max")
    for stage in range(4):
        stride = (1, 1) if stage == 0 else (2, 2)
        body = residual_unit(body, filters[stage + 1], stride, False, f"stage{stage + 1}_unit1")
        for unit in range(units[stage] - 1):
            body = residual_unit(body, filters[stage + 1], (1, 1), True, f"stage{stage + 1}_unit{unit + 2}")
    bn1 = mx.sym.BatchNorm(body, fix_gamma=False, name="bn1", **BN)
    relu1 = mx.sym.Activation(bn1, act_type="relu", name="relu1")
    pool1 = mx.sym.Pooling(relu1, global_pool=True, kernel=(7, 7), pool_type="avg", name="pool1")
    fc1 = mx.sym.FullyConnected(mx.sym.Flatten(pool1), num_hidden=num_classes, name="fc1")
    return mx.sym.SoftmaxOutput(fc1, name="softmax")


def random_params(symbol, image_shape, rng):
    arg_shapes, _, aux_shapes = symbol.infer_shape(data=(1, *image_shape))
    args, aux = {}, {}
    for name, shape in zip(symbol.list_arguments(), arg_shapes, strict=True):
        if name in ("data", "softmax_label"):
            continue
        if name.endswith("_weight"):
            value = rng.normal(0, np.sqrt(2.0 / np.prod(shape[1:])), shape)
            if name == "fc1_weight":
                value *= 0.1  # a spread-out softmax shows logit errors that a peaked one would hide
        elif name.endswith("_gamma"):
            value = rng.uniform(0.5, 1.5, shape)  # bn_data's too: fix_gamma must make MXNet ignore it
        else:
            value = rng.normal(0, 0.1, shape)
        args[name] = mx.nd.array(value.astype(np.float32))
    for name, shape in zip(symbol.list_auxiliary_states(), aux_shapes, strict=True):
        data_bn = name.startswith("bn_data") and image_shape[1] > 100
        if name.endswith("_moving_mean"):
            value = rng.uniform(100, 140, shape) if data_bn else rng.normal(0, 0.2, shape)
        else:
            value = rng.uniform(2500, 4500, shape) if data_bn else rng.uniform(0.5, 2, shape)
        aux[name] = mx.nd.array(value.astype(np.float32))
    return args, aux


def forward(symbol, args, aux, batch: np.ndarray) -> list[float]:
    module = mx.mod.Module(symbol, data_names=["data"], label_names=["softmax_label"], context=mx.cpu())
    module.bind(data_shapes=[("data", batch.shape)], for_training=False)
    module.set_params(args, aux)
    module.forward(mx.io.DataBatch([mx.nd.array(batch)]), is_train=False)
    return [float(p) for p in module.get_outputs()[0].asnumpy()[0]]


def save_model(folder: Path, symbol, args, aux, image_shape) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    mx.model.save_checkpoint(str(folder / "image-classification"), EPOCH, symbol, args, aux)
    (folder / "model-shapes.json").write_text(json.dumps([{"shape": [1, *image_shape], "name": "data"}]))


def test_images(folder: Path, rng) -> None:
    """Synthetic photos: smooth gradients, blocks and noise, so that resizing and JPEG have work to do."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, (height, width) in {"exact-224": (224, 224), "wide-300x200": (200, 300)}.items():
        yy, xx = np.mgrid[0:height, 0:width]
        image = np.stack(
            [255 * xx / width, 255 * yy / height, 128 + 100 * np.sin(xx / 9.0) * np.cos(yy / 13.0)], -1
        )
        image[height // 4 : height // 2, width // 3 : width // 2] = (250, 30, 60)
        image = np.clip(image + rng.normal(0, 12, image.shape), 0, 255).astype(np.uint8)
        bgr = image[:, :, ::-1]
        import cv2

        if name == "exact-224":
            cv2.imwrite(str(folder / "exact-224.png"), bgr)
        cv2.imwrite(str(folder / f"{name}.jpg"), bgr, [cv2.IMWRITE_JPEG_QUALITY, 90])


def mxnet_tensor(path: Path, image_shape) -> tuple[np.ndarray, np.ndarray]:
    """What the hosted container is believed to do: mx.image decoding (RGB), resize, channels first."""
    rgb = mx.image.imdecode(path.read_bytes(), to_rgb=1)
    if rgb.shape[:2] != tuple(image_shape[1:]):
        rgb = mx.image.imresize(rgb, image_shape[2], image_shape[1], interp=1)
    pixels = rgb.asnumpy()
    return pixels, pixels.transpose(2, 0, 1)[None].astype(np.float32)


def main(out: Path) -> None:
    rng = np.random.default_rng(20260101)
    golden = {"mxnet_version": mx.__version__, "numpy_version": np.__version__, "cases": []}
    shape = (3, 224, 224)
    symbol = small_resnet(num_classes=10)
    args, aux = random_params(symbol, shape, rng)
    save_model(out / "small-resnet", symbol, args, aux, shape)
    test_images(out / "images", rng)
    for image in ("exact-224.png", "exact-224.jpg", "wide-300x200.jpg"):
        pixels, tensor = mxnet_tensor(out / "images" / image, shape)
        if image.startswith("wide"):
            import cv2

            cv2.imwrite(str(out / "images" / "wide-300x200.mxnet-resized.png"), pixels[:, :, ::-1])
        golden["cases"].append(
            {
                "model": "small-resnet",
                "image": image,
                "input": "mx.image.imdecode(to_rgb=1), imresize(interp=1) if not 224x224, HWC->CHW float32",
                "tensor_sha256": hashlib.sha256(tensor.tobytes()).hexdigest(),
                "probabilities": forward(symbol, args, aux, tensor),
            }
        )
    vshape = (3, 34, 34)
    vsymbol = variants(num_classes=5)
    vargs, vaux = random_params(vsymbol, vshape, rng)
    # variances near the default eps (1e-3) make a wrong eps visible in the output
    vaux["bn_data_moving_var"] = mx.nd.array(rng.uniform(0.002, 0.02, (3,)).astype(np.float32))
    save_model(out / "variants", vsymbol, vargs, vaux, vshape)
    tensor = rng.uniform(-0.3, 0.3, (1, *vshape)).astype(np.float32)
    np.save(out / "images" / "variants-input.npy", tensor)
    golden["cases"].append(
        {
            "model": "variants",
            "tensor": "variants-input.npy",
            "probabilities": forward(vsymbol, vargs, vaux, tensor),
        }
    )
    (out / "golden.json").write_text(json.dumps(golden, indent=1) + "\n")
    resnet = out / "resnet50-120"
    resnet.mkdir(parents=True, exist_ok=True)
    resnet50(120).save(str(resnet / "image-classification-symbol.json"))
    (resnet / "model-shapes.json").write_text(json.dumps([{"shape": [1, *shape], "name": "data"}]))
    print(f"wrote {out}: {len(golden['cases'])} golden cases with MXNet {mx.__version__}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
