#!/usr/bin/env python3
"""Writes the test models of colt-onnx and ONNX Runtime's results for them.

Run with the virtualenv of scripts/setup-onnxruntime:

    "$(scripts/setup-onnxruntime)/bin/python" scripts/onnx-models.py

For each model NAME it writes, under crates/colt-onnx/tests/models/:
  NAME.onnx      the model (fixed seeds: the same bytes on every run with these pins);
  NAME.ref.bin   raw little-endian float32: seeded inputs, then ONNX Runtime's value of
                 every float tensor the graph computes (its outputs included);
  NAME.ref.json  the manifest: shapes given to the importer, and per tensor its name, role
                 (input, output, value), shape and offset (in floats) into NAME.ref.bin.
It also writes the bad files of the error tests: bad-opset.onnx (opset 7) and
unsupported-op.onnx (a Hardmax node).

ONNX Runtime runs with every graph optimisation off and one thread: the reference is the
operators' plain semantics.
"""

import json
import pathlib
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

ONNX_VERSION = "1.23.2"
ORT_VERSION = "1.32.0"
OPSET = 20
IR_VERSION = 10
OUT = pathlib.Path(__file__).resolve().parent.parent / "crates/colt-onnx/tests/models"


class Builder:
    """A graph under construction: nodes, seeded initializers, fresh names."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.nodes, self.inits, self.count = [], [], 0

    def name(self, prefix):
        self.count += 1
        return f"{prefix}{self.count}"

    def weight(self, prefix, shape, scale=None, value=None):
        """A float32 initializer: `value`, or normal noise scaled by 1/sqrt(fan-in)."""
        if value is None:
            fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else shape[0]
            scale = scale if scale is not None else 1.0 / np.sqrt(fan_in)
            value = self.rng.normal(0.0, scale, size=shape)
        name = self.name(prefix)
        self.inits.append(numpy_helper.from_array(np.asarray(value, dtype=np.float32), name))
        return name

    def ints(self, prefix, values):
        name = self.name(prefix)
        self.inits.append(numpy_helper.from_array(np.asarray(values, dtype=np.int64), name))
        return name

    def op(self, op_type, inputs, **attrs):
        out = self.name(op_type.lower() + "_")
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=out, **attrs))
        return out

    def model(self, name, inputs, outputs):
        graph = helper.make_graph(self.nodes, name, inputs, outputs, self.inits)
        model = helper.make_model(
            graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="colt onnx-models.py"
        )
        model.ir_version = IR_VERSION
        onnx.checker.check_model(model, full_check=True)
        return model


def f32(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def mlp():
    """3-layer MLP 64 -> 128 -> 128 -> 10 with a dynamic batch (fixed to 4 by --shape)."""
    b = Builder(1)
    h = b.op("Gemm", ["x", b.weight("w", [128, 64]), b.weight("b", [128], 0.1)], transB=1)
    h = b.op("Relu", [h])
    h = b.op("MatMul", [h, b.weight("w", [128, 128])])
    h = b.op("Add", [h, b.weight("b", [128], 0.1)])
    h = b.op("Relu", [h])
    y = b.op("Gemm", [h, b.weight("w", [128, 10]), b.weight("b", [10], 0.1)])
    model = b.model("mlp", [f32("x", ["N", 64])], [f32(y, ["N", 10])])
    return model, {"x": [4, 64]}


def conv_bn_relu(b, x, cin, cout, k, stride=1, pad=0, group=1):
    w = b.weight("w", [cout, cin // group, k, k])
    y = b.op("Conv", [x, w], kernel_shape=[k, k], strides=[stride, stride],
             pads=[pad] * 4, group=group)
    bn = [b.weight("g", [cout], value=b.rng.uniform(0.5, 1.5, cout)),
          b.weight("beta", [cout], 0.1),
          b.weight("mean", [cout], 0.1),
          b.weight("var", [cout], value=b.rng.uniform(0.5, 1.5, cout))]
    y = b.op("BatchNormalization", [y] + bn, epsilon=1e-5)
    return b.op("Relu", [y])


def cnn():
    """Conv/BN/ReLU, max pool, depthwise conv, 1x1 conv, average pool, strided conv with
    bias, global average pool, flatten, dense: 3x32x32 -> 10."""
    b = Builder(2)
    h = conv_bn_relu(b, "x", 3, 16, 3, pad=1)
    h = b.op("MaxPool", [h], kernel_shape=[2, 2], strides=[2, 2])
    h = conv_bn_relu(b, h, 16, 16, 3, pad=1, group=16)
    h = conv_bn_relu(b, h, 16, 32, 1)
    h = b.op("AveragePool", [h], kernel_shape=[2, 2], strides=[2, 2])
    h = b.op("Conv", [h, b.weight("w", [32, 32, 3, 3]), b.weight("b", [32], 0.1)],
             kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    h = b.op("Relu", [h])
    h = b.op("GlobalAveragePool", [h])
    h = b.op("Flatten", [h], axis=1)
    y = b.op("Gemm", [h, b.weight("w", [10, 32]), b.weight("b", [10], 0.1)], transB=1)
    return b.model("cnn", [f32("x", [1, 3, 32, 32])], [f32(y, [1, 10])]), {}


def heads(b, x, w, bias, perm):
    """x @ w + bias split into 4 heads of 16: [1, 16, 64] -> transposed by perm."""
    h = b.op("Add", [b.op("MatMul", [x, w]), bias])
    h = b.op("Reshape", [h, b.ints("shape", [1, 16, 4, 16])])
    return b.op("Transpose", [h], perm=perm)


def layer_norm_decomposed(b, x, d):
    """LayerNormalization written out as exporters do: mean, centre, square, mean, eps,
    sqrt, divide, scale, shift."""
    axes = b.ints("axes", [-1])
    mean = b.op("ReduceMean", [x, axes], keepdims=1)
    centred = b.op("Sub", [x, mean])
    var = b.op("ReduceMean", [b.op("Pow", [centred, b.weight("two", [], value=2.0)]), axes], keepdims=1)
    std = b.op("Sqrt", [b.op("Add", [var, b.weight("eps", [], value=1e-5)])])
    y = b.op("Div", [centred, std])
    y = b.op("Mul", [y, b.weight("gamma", [d], value=b.rng.uniform(0.5, 1.5, d))])
    return b.op("Add", [y, b.weight("beta", [d], 0.1)])


def transformer():
    """Pre-norm encoder block, seq 16, d 64, 4 heads, ff 128: LayerNormalization, attention
    (softmax), residual, decomposed layer norm, GELU MLP (Erf form), residual."""
    b = Builder(3)
    d, ff = 64, 128
    ln = b.op("LayerNormalization", ["x", b.weight("gamma", [d], value=b.rng.uniform(0.5, 1.5, d)),
                                     b.weight("beta", [d], 0.1)], axis=-1, epsilon=1e-5)
    q = heads(b, ln, b.weight("wq", [d, d]), b.weight("bq", [d], 0.1), [0, 2, 1, 3])
    k = heads(b, ln, b.weight("wk", [d, d]), b.weight("bk", [d], 0.1), [0, 2, 3, 1])
    v = heads(b, ln, b.weight("wv", [d, d]), b.weight("bv", [d], 0.1), [0, 2, 1, 3])
    s = b.op("Div", [b.op("MatMul", [q, k]), b.weight("scale", [], value=4.0)])
    p = b.op("Softmax", [s], axis=-1)
    o = b.op("Transpose", [b.op("MatMul", [p, v])], perm=[0, 2, 1, 3])
    o = b.op("Reshape", [o, b.ints("shape", [1, 16, d])])
    o = b.op("Add", [b.op("MatMul", [o, b.weight("wo", [d, d])]), b.weight("bo", [d], 0.1)])
    h = b.op("Add", ["x", o])
    ln2 = layer_norm_decomposed(b, h, d)
    u = b.op("Add", [b.op("MatMul", [ln2, b.weight("w1", [d, ff])]), b.weight("b1", [ff], 0.1)])
    half = b.op("Mul", [u, b.weight("half", [], value=0.5)])
    erf = b.op("Erf", [b.op("Div", [u, b.weight("sqrt2", [], value=np.sqrt(2.0))])])
    g = b.op("Mul", [half, b.op("Add", [erf, b.weight("one", [], value=1.0)])])
    f = b.op("Add", [b.op("MatMul", [g, b.weight("w2", [ff, d])]), b.weight("b2", [d], 0.1)])
    y = b.op("Add", [h, f])
    return b.model("transformer", [f32("x", [1, 16, d])], [f32(y, [1, 16, d])]), {}


def ops():
    """The other supported operators, each once, on small shapes."""
    b = Builder(4)
    x = "x"  # [2, 8, 6]
    g1 = b.op("Gelu", [x])
    g2 = b.op("Gelu", [x], approximate="tanh")
    c = b.op("Concat", [g1, g2, b.op("LeakyRelu", [x], alpha=0.2)], axis=1)  # [2, 24, 6]
    c = b.op("Slice", [c, b.ints("s", [1, 0]), b.ints("e", [23, 6]), b.ints("a", [1, 2]),
                       b.ints("st", [2, 1])])  # [2, 11, 6]
    c = b.op("Gather", [c, b.ints("i", [0, 1, 2, 7, 3])], axis=1)  # [2, 5, 6]
    c = b.op("Clip", [b.op("Tanh", [c]), b.weight("lo", [], value=-0.5), b.weight("hi", [], value=0.6)])
    c = b.op("Sigmoid", [b.op("Sub", [c, b.op("Abs", [b.op("Neg", [c])])])])
    m = b.op("ReduceMax", [c, b.ints("ax", [2])], keepdims=0)  # [2, 5]
    m = b.op("Unsqueeze", [m, b.ints("ax", [1])])  # [2, 1, 5]
    m = b.op("Expand", [m, b.ints("sh", [2, 3, 5])])
    ls = b.op("LogSoftmax", [b.op("Max", [m, b.op("Exp", [m])])], axis=1)
    sm = b.op("ReduceSum", [ls, b.ints("ax", [0])], keepdims=1)  # [1, 3, 5]
    sq = b.op("Squeeze", [sm, b.ints("ax", [0])])  # [3, 5]
    lg = b.op("Log", [b.op("Sqrt", [b.op("Reciprocal", [b.op("Add", [b.op("Abs", [sq]), b.weight("one", [], value=1.0)])])])])
    img = b.op("Reshape", [x, b.ints("sh", [1, 2, 8, 6])])
    ap = b.op("AveragePool", [img], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    mp = b.op("MaxPool", [img], kernel_shape=[3, 2], strides=[1, 2], pads=[1, 0, 1, 0], dilations=[2, 1])
    gm = b.op("GlobalMaxPool", [b.op("Min", [mp, b.weight("c", [], value=0.3)])])
    mn = b.op("ReduceMin", [ap, b.ints("ax", [2, 3])], keepdims=1)
    t = b.op("Mul", [b.op("Sum", [gm, mn, b.weight("w", [1, 2, 1, 1])]), b.weight("two", [], value=2.0)])
    y1 = b.op("Identity", [lg])
    y2 = b.op("Flatten", [t], axis=0)
    model = b.model("ops", [f32("x", [2, 8, 6])], [f32(y1, [3, 5]), f32(y2, [1, 2])])
    return model, {}


def bad_files():
    """A model of opset 7 and one with an operator colt-onnx does not import."""
    x, y = f32("x", [2, 3]), f32("y", [2, 3])
    relu = helper.make_graph([helper.make_node("Relu", ["x"], ["y"], name="relu")], "bad", [x], [y])
    old = helper.make_model(relu, opset_imports=[helper.make_opsetid("", 7)])
    old.ir_version = 3
    onnx.save(old, OUT / "bad-opset.onnx")
    hard = helper.make_graph([helper.make_node("Hardmax", ["x"], ["y"], name="hardmax_1")], "bad", [x], [y])
    model = helper.make_model(hard, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = IR_VERSION
    onnx.save(model, OUT / "unsupported-op.onnx")


def float_values(model):
    """Names of every float tensor a node computes, in node order."""
    inferred = onnx.shape_inference.infer_shapes(model)
    types = {v.name: v.type.tensor_type.elem_type for v in inferred.graph.value_info}
    types.update({v.name: v.type.tensor_type.elem_type for v in inferred.graph.output})
    return [o for n in model.graph.node for o in n.output if types.get(o) == TensorProto.FLOAT]


def reference(name, model, shapes):
    """Run ONNX Runtime on seeded inputs; write NAME.ref.bin and NAME.ref.json."""
    rng = np.random.default_rng(100)
    inputs = {}
    for vi in model.graph.input:
        dims = shapes.get(vi.name) or [d.dim_value for d in vi.type.tensor_type.shape.dim]
        inputs[vi.name] = rng.normal(0.0, 1.0, size=dims).astype(np.float32)
    outputs = [o.name for o in model.graph.output]
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    values = float_values(model)
    for v in values:
        if v not in outputs:
            probe.graph.output.append(helper.make_empty_tensor_value_info(v))
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(probe.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    results = dict(zip(names, sess.run(names, inputs)))
    tensors, blobs, offset = [], [], 0
    entries = [(n, "input", a) for n, a in inputs.items()]
    entries += [(n, "output" if n in outputs else "value", results[n]) for n in outputs + [v for v in values if v not in outputs]]
    for n, role, arr in entries:
        arr = np.ascontiguousarray(arr, dtype="<f4")
        tensors.append({"name": n, "role": role, "shape": list(arr.shape), "offset": offset})
        blobs.append(arr.tobytes())
        offset += arr.size
    (OUT / f"{name}.ref.bin").write_bytes(b"".join(blobs))
    manifest = {"model": f"{name}.onnx", "onnx": ONNX_VERSION, "onnxruntime": ORT_VERSION,
                "shapes": shapes, "tensors": tensors}
    (OUT / f"{name}.ref.json").write_text(json.dumps(manifest, indent=1) + "\n")


def main():
    if onnx.__version__ != ONNX_VERSION or ort.__version__ != ORT_VERSION:
        sys.exit(f"onnx-models.py: needs onnx {ONNX_VERSION} and onnxruntime {ORT_VERSION} "
                 f"(found {onnx.__version__}, {ort.__version__}); run scripts/setup-onnxruntime")
    OUT.mkdir(parents=True, exist_ok=True)
    for name, make in [("mlp", mlp), ("cnn", cnn), ("transformer", transformer), ("ops", ops)]:
        model, shapes = make()
        onnx.save(model, OUT / f"{name}.onnx")
        reference(name, model, shapes)
        size = (OUT / f"{name}.onnx").stat().st_size
        print(f"{name}.onnx: {len(model.graph.node)} nodes, {size} bytes", file=sys.stderr)
    bad_files()


if __name__ == "__main__":
    main()
