#!/usr/bin/env python3
"""The ONNX Runtime peer of `colt model bench`.

`colt model bench` runs this script with the Python of the ONNX virtualenv
(scripts/setup-onnxruntime), once per round in a fresh process, on the same input file its
own builds of the model read, and compares the outputs and the latency.

Input: one JSON object as argv[1]:
    {"model": "/abs/model.onnx",
     "inputs": "/dir/inputs.bin",            # raw little-endian float32, inputs back to back
     "input_tensors": [{"name": "x", "shape": [4, 64]}, ...],    # in that order
     "outputs": "/dir/ort.out.bin",          # written: the outputs back to back
     "output_tensors": [{"name": "y", "shape": [4, 10]}, ...],   # in that order
     "threads": 2,                           # intra-op threads (colt's OpenMP threads)
     "repeats": 20, "min_repeat_ms": 2.0}
Output: exactly one JSON line on stdout:
    {"median_us", "min_us", "calls_per_repeat", "repeats", "version", "providers", "error"}
(`error` null, or one line saying why nothing was timed). Exit status 0 whenever the JSON
line was printed.

Timing: the default CPU execution provider with every graph optimisation on (ONNX Runtime's
defaults), `threads` intra-op threads, one inter-op thread. Inputs and preallocated outputs
are bound once (IOBinding), so a call is `run_with_iobinding` with no conversion of arrays.
One warm-up call, then `repeats` timed repeats that each call the model back to back for at
least `min_repeat_ms`; the median and minimum per-call times are reported, as colt's timing
driver reports its own.
"""

import json
import sys
import time


def answer(**fields):
    base = {"median_us": None, "min_us": None, "calls_per_repeat": None, "repeats": None,
            "version": None, "providers": None, "error": None}
    base.update(fields)
    print(json.dumps(base), flush=True)


def read_inputs(np, req):
    """The input arrays, read from the file in the listed order."""
    raw = np.fromfile(req["inputs"], dtype="<f4")
    arrays, offset = {}, 0
    for t in req["input_tensors"]:
        n = int(np.prod(t["shape"])) if t["shape"] else 1
        if offset + n > raw.size:
            raise ValueError(f"{req['inputs']} holds {raw.size} floats, fewer than the inputs need")
        arrays[t["name"]] = raw[offset:offset + n].reshape(t["shape"]).astype(np.float32)
        offset += n
    return arrays


def session(ort, req):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = int(req["threads"])
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(req["model"], opts, providers=["CPUExecutionProvider"])


def bind(np, sess, inputs, req):
    """An IOBinding of the inputs and of preallocated outputs (returned in order)."""
    io = sess.io_binding()
    for name, arr in inputs.items():
        io.bind_cpu_input(name, arr)
    outs = []
    for t in req["output_tensors"]:
        arr = np.empty(t["shape"], dtype=np.float32)
        io.bind_output(t["name"], "cpu", 0, np.float32, list(arr.shape), arr.ctypes.data)
        outs.append(arr)
    return io, outs


def time_calls(sess, io, repeats, min_repeat_s):
    """Median and minimum per-call µs over `repeats` repeats of back-to-back calls."""
    sess.run_with_iobinding(io)
    calls, start = 0, time.perf_counter()
    while True:
        sess.run_with_iobinding(io)
        calls += 1
        if time.perf_counter() - start >= min_repeat_s:
            break
    per = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(calls):
            sess.run_with_iobinding(io)
        per.append((time.perf_counter() - t0) / calls * 1e6)
    per.sort()
    n = len(per)
    median = per[n // 2] if n % 2 else (per[n // 2 - 1] + per[n // 2]) / 2
    return median, per[0], calls


def main():
    req = json.loads(sys.argv[1])
    try:
        import numpy as np
        import onnxruntime as ort
    except ImportError as e:
        answer(error=f"cannot import {e.name} (install it with scripts/setup-onnxruntime)")
        return
    try:
        sess = session(ort, req)
        io, outs = bind(np, sess, read_inputs(np, req), req)
        median, best, calls = time_calls(sess, io, int(req["repeats"]),
                                         float(req["min_repeat_ms"]) / 1e3)
        with open(req["outputs"], "wb") as f:
            for arr in outs:
                f.write(arr.astype("<f4").tobytes())
    except Exception as e:  # one line for colt, whatever failed
        answer(error=" ".join(f"{type(e).__name__}: {e}".split()), version=ort.__version__)
        return
    answer(median_us=median, min_us=best, calls_per_repeat=calls,
           repeats=int(req["repeats"]), version=ort.__version__,
           providers=sess.get_providers())


if __name__ == "__main__":
    main()
