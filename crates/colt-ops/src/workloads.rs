//! The named workloads: a fixed operator and shape at each [`Scale`].
//!
//! FLOPs are computed from the built program ([`colt_ir::Program::flops`]), so the table and
//! the IR can never disagree. Every extent is chosen with many small divisors (mostly powers
//! of two) because the schedule space tiles perfectly; the one exception is the zero-padded
//! input of the convolutions (`H + 2`), which only the small `pad` stage iterates over.
//!
//! Sizes follow the model configurations named in each `source`; the free dimensions
//! (sequence length, tokens, batch) are chosen so that one run of the naive loop nest compiled
//! with `cc -O3 -march=native` takes 0.1-2 s at paper scale and under 50 ms at CI scale, as
//! measured by `cargo run -p colt-ops --example naive_times`. The one exception is the paper
//! `matmul`, fixed at 1024^3 by the benchmark it reproduces (its naive run takes several seconds).
//!
//! The last four ([`OUT_OF_SUITE`]: `mlp-up-proj`, `depthwise-conv`, `rmsnorm`, `gemv`) are
//! common layers added after the search was developed, so the benchmark can report how it does
//! on operators it was never tuned on. Their paper shapes are the real serving shapes of the
//! model named in `source` as they are; the memory-bound three (depthwise, norm, matrix-vector)
//! run in milliseconds even naively.

use crate::builders::{self, Conv2dShape};
use crate::{OpsError, Scale, WorkloadInfo};
use colt_ir::{Program, UnOp};
use std::collections::BTreeMap;

struct Workload {
    name: &'static str,
    description: &'static str,
    source: &'static str,
    /// The shapes at CI scale.
    ci: &'static [(&'static str, i64)],
    /// The shapes at paper scale.
    paper: &'static [(&'static str, i64)],
    /// The program at the given shapes (`build` names it after the workload).
    build: fn(&BTreeMap<String, i64>) -> Program,
}

/// Where the dense layers' shapes come from.
const DENSE_SOURCE: &str = "a 1024 -> 1024 fully connected layer on a batch of 64 rows";

/// The dense layers' shapes at CI scale: 32×512→512.
const DENSE_CI: &[(&str, i64)] = &[("M", 32), ("K", 512), ("N", 512)];

/// The dense layers' shapes at paper scale: 64×1024→1024.
const DENSE_PAPER: &[(&str, i64)] = &[("M", 64), ("K", 1024), ("N", 1024)];

fn conv_shape(s: &BTreeMap<String, i64>) -> Conv2dShape {
    Conv2dShape {
        n: s["N"],
        c: s["C"],
        h: s["H"],
        w: s["W"],
        f: s["F"],
        kernel: s["kernel"],
        stride: s["stride"],
        pad: s["pad"],
    }
}

const WORKLOADS: &[Workload] = &[
    Workload {
        name: "matmul",
        description: "square matrix multiplication C[i, j] += A[i, k] * B[k, j]",
        source: "the standard GEMM benchmark of tensor-program auto-schedulers (1024^3 in the paper setting)",
        ci: &[("M", 256), ("N", 256), ("K", 256)],
        paper: &[("M", 1024), ("N", 1024), ("K", 1024)],
        build: |s| builders::matmul(s["M"], s["N"], s["K"]),
    },
    Workload {
        name: "batch_matmul",
        description: "batched matrix multiplication C[b, i, j] += A[b, i, k] * B[b, k, j]",
        source: "batched GEMM as in per-head attention products: 16 batches of 256^3",
        ci: &[("B", 4), ("M", 128), ("N", 128), ("K", 64)],
        paper: &[("B", 16), ("M", 256), ("N", 256), ("K", 256)],
        build: |s| builders::batch_matmul(s["B"], s["M"], s["N"], s["K"]),
    },
    Workload {
        name: "conv2d",
        description: "2-D convolution, NCHW, 3x3, stride 1, zero padding 1 (pad stage + conv stage)",
        source: "ResNet-18 conv2_x layer: 64 -> 64 channels at 56x56, 3x3, stride 1, pad 1 (He et al., 2016), \
                 batch 4; CI scale: 16 channels, batch 1",
        ci: &[
            ("N", 1),
            ("C", 16),
            ("H", 56),
            ("W", 56),
            ("F", 16),
            ("kernel", 3),
            ("stride", 1),
            ("pad", 1),
        ],
        paper: &[
            ("N", 4),
            ("C", 64),
            ("H", 56),
            ("W", 56),
            ("F", 64),
            ("kernel", 3),
            ("stride", 1),
            ("pad", 1),
        ],
        build: |s| builders::conv2d(conv_shape(s)),
    },
    Workload {
        name: "dense-bias-relu",
        description: "dense layer with fused epilogue Y = relu(X·W + b)",
        source: DENSE_SOURCE,
        ci: DENSE_CI,
        paper: DENSE_PAPER,
        build: |s| builders::dense(s["M"], s["N"], s["K"], Some(UnOp::Relu)),
    },
    Workload {
        name: "dense-bias-silu",
        description: "dense layer with fused epilogue Y = silu(X·W + b)",
        source: DENSE_SOURCE,
        ci: DENSE_CI,
        paper: DENSE_PAPER,
        build: |s| builders::dense(s["M"], s["N"], s["K"], Some(UnOp::Silu)),
    },
    Workload {
        name: "softmax",
        description: "row softmax in four stages: max, exp, sum, norm",
        source: "8192 rows of 4096 attention scores (two heads of a 4096-token sequence)",
        ci: &[("rows", 256), ("cols", 1024)],
        paper: &[("rows", 8192), ("cols", 4096)],
        build: |s| builders::softmax(s["rows"], s["cols"]),
    },
    Workload {
        name: "llama3-8b-attention",
        description: "multi-head attention softmax(Q·Kᵀ/sqrt(128))·V, prefill, no causal mask",
        source: "Llama-3-8B config: num_attention_heads=32, head_dim=128 (hidden_size 4096); \
                 prefill of a 256-token prompt; no causal mask; K and V are given per query head \
                 (the 8 grouped KV heads already broadcast)",
        ci: &[("heads", 32), ("seq", 32), ("head_dim", 128)],
        paper: &[("heads", 32), ("seq", 256), ("head_dim", 128)],
        build: |s| builders::attention(s["heads"], s["seq"], s["head_dim"]),
    },
    Workload {
        name: "flux-attention",
        description: "multi-head attention softmax(Q·Kᵀ/sqrt(128))·V of the FLUX.1 transformer, no mask",
        source: "FLUX.1 transformer: 24 heads x head_dim 128 (hidden 3072); the real joint sequence \
                 is 4096 image + 512 text tokens at 1024x1024, scaled down to 256 tokens here",
        ci: &[("heads", 24), ("seq", 32), ("head_dim", 128)],
        paper: &[("heads", 24), ("seq", 256), ("head_dim", 128)],
        build: |s| builders::attention(s["heads"], s["seq"], s["head_dim"]),
    },
    Workload {
        name: "llama4-scout-mlp",
        description: "SwiGLU MLP: gate and up projections, silu(G) * U, down projection",
        source: "Llama-4-Scout-17B-16E config: hidden_size=5120, intermediate_size=8192 (the width of \
                 each expert and of the shared expert); 2 tokens, a small decode batch",
        ci: &[("tokens", 4), ("hidden", 512), ("intermediate", 1024)],
        paper: &[("tokens", 2), ("hidden", 5120), ("intermediate", 8192)],
        build: |s| builders::swiglu_mlp(s["tokens"], s["hidden"], s["intermediate"]),
    },
    Workload {
        name: "deepseek-r1-moe",
        description: "routed MoE experts as a grouped GEMM: per-expert SwiGLU MLP on its gathered \
                      tokens, scaled by the routing weights (gather/scatter outside the kernel)",
        source: "DeepSeek-R1 config: hidden_size=7168, moe_intermediate_size=2048, 8 routed experts \
                 per token (of 256); here 2 experts x 2 gathered tokens each",
        ci: &[
            ("experts", 4),
            ("tokens", 4),
            ("hidden", 512),
            ("intermediate", 256),
        ],
        paper: &[
            ("experts", 2),
            ("tokens", 2),
            ("hidden", 7168),
            ("intermediate", 2048),
        ],
        build: |s| builders::moe_experts(s["experts"], s["tokens"], s["hidden"], s["intermediate"]),
    },
    Workload {
        name: "flux-conv",
        description: "3x3 convolution, 128 -> 128 channels, stride 1, pad 1 (pad stage + conv stage)",
        source: "FLUX.1 VAE decoder 3x3 conv at the 64x64 latent resolution (a 512x512 image); the \
                 decoder's widths are 128/256/512/512 and its mid block runs at 512 channels, \
                 scaled to 128 here",
        ci: &[
            ("N", 1),
            ("C", 32),
            ("H", 32),
            ("W", 32),
            ("F", 32),
            ("kernel", 3),
            ("stride", 1),
            ("pad", 1),
        ],
        paper: &[
            ("N", 1),
            ("C", 128),
            ("H", 64),
            ("W", 64),
            ("F", 128),
            ("kernel", 3),
            ("stride", 1),
            ("pad", 1),
        ],
        build: |s| builders::conv2d(conv_shape(s)),
    },
    Workload {
        name: "mlp-up-proj",
        description: "MLP up projection, a GEMM with K << N: C[i, j] += A[i, k] * B[k, j]",
        source: "Llama-3.2-1B config: hidden_size=2048 -> intermediate_size=8192 on a 32-token \
                 chunk; CI scale: 128 -> 2048 on 16 tokens (out-of-suite: not used to develop \
                 the search)",
        ci: &[("M", 16), ("K", 128), ("N", 2048)],
        paper: &[("M", 32), ("K", 2048), ("N", 8192)],
        build: |s| builders::matmul(s["M"], s["N"], s["K"]),
    },
    Workload {
        name: "depthwise-conv",
        description: "depthwise 3x3 convolution (groups = channels), NCHW, stride 1, zero padding 1 \
                      (pad stage + conv stage)",
        source: "MobileNet-style depthwise 3x3, stride 1, pad 1 at 56x56 (MobileNet-V1 runs its \
                 128-channel depthwise layer at this resolution), 256 channels, batch 1; CI scale: \
                 64 channels (out-of-suite: not used to develop the search)",
        ci: &[
            ("N", 1),
            ("C", 64),
            ("H", 56),
            ("W", 56),
            ("kernel", 3),
            ("stride", 1),
            ("pad", 1),
        ],
        paper: &[
            ("N", 1),
            ("C", 256),
            ("H", 56),
            ("W", 56),
            ("kernel", 3),
            ("stride", 1),
            ("pad", 1),
        ],
        build: |s| {
            builders::depthwise_conv2d(Conv2dShape {
                n: s["N"],
                c: s["C"],
                h: s["H"],
                w: s["W"],
                f: s["C"],
                kernel: s["kernel"],
                stride: s["stride"],
                pad: s["pad"],
            })
        },
    },
    Workload {
        name: "rmsnorm",
        description: "RMSNorm Y = X / sqrt(mean(X^2) + 1e-5) * g per row, in three stages: sumsq, \
                      rstd, norm",
        source: "Llama-3-8B config: hidden_size=4096, rms_norm_eps=1e-5, on a 2048-token prefill; \
                 CI scale: 256 rows of 1024 (out-of-suite: not used to develop the search)",
        ci: &[("rows", 256), ("cols", 1024)],
        paper: &[("rows", 2048), ("cols", 4096)],
        build: |s| builders::rmsnorm(s["rows"], s["cols"], RMSNORM_EPS),
    },
    Workload {
        name: "gemv",
        description: "matrix-vector product y[i] += W[i, k] * x[k], W in the [out, in] layout",
        source: "Llama-3-8B attention output projection (4096 x 4096) for one decode token; CI \
                 scale: 1024 x 1024 (out-of-suite: not used to develop the search)",
        ci: &[("M", 1024), ("K", 1024)],
        paper: &[("M", 4096), ("K", 4096)],
        build: |s| builders::gemv(s["M"], s["K"]),
    },
];

/// The `eps` of the `rmsnorm` workload (Llama-3's `rms_norm_eps`).
pub const RMSNORM_EPS: f32 = 1e-5;

/// The workloads added after the search was developed, benchmarked apart as the
/// out-of-suite set: the search's heuristics and prompts were never tuned on them.
pub const OUT_OF_SUITE: [&str; 4] = ["mlp-up-proj", "depthwise-conv", "rmsnorm", "gemv"];

fn shapes_of(w: &Workload, scale: Scale) -> BTreeMap<String, i64> {
    let shapes = match scale {
        Scale::Ci => w.ci,
        Scale::Paper => w.paper,
    };
    shapes.iter().map(|&(k, v)| (k.to_string(), v)).collect()
}

/// Names of the built-in workloads, in table order.
pub fn names() -> Vec<&'static str> {
    WORKLOADS.iter().map(|w| w.name).collect()
}

/// Every built-in workload at `scale`, with its shapes and FLOPs.
pub fn list(scale: Scale) -> Vec<WorkloadInfo> {
    WORKLOADS
        .iter()
        .map(|w| {
            let shapes = shapes_of(w, scale);
            let flops = (w.build)(&shapes).flops();
            info_of(w, shapes, flops)
        })
        .collect()
}

fn info_of(w: &Workload, shapes: BTreeMap<String, i64>, flops: u64) -> WorkloadInfo {
    WorkloadInfo {
        name: w.name,
        description: w.description,
        source: w.source,
        shapes,
        flops,
    }
}

/// Build the named workload at `scale`. `name` may carry shape overrides after a colon,
/// `matmul:M=197,N=768,K=768`: the scale's shapes with those replaced (see [`info`]). The
/// layout is for no target in particular ([`colt_ir::DEFAULT_LANES`]; see [`build_for`]).
pub fn build(name: &str, scale: Scale) -> Result<Program, OpsError> {
    build_for(name, scale, colt_ir::DEFAULT_LANES)
}

/// [`build`] with the layout for vector registers of `lanes` f32 values
/// ([`colt_ir::layout_rewrites`]).
pub fn build_for(name: &str, scale: Scale, lanes: i64) -> Result<Program, OpsError> {
    let (w, shapes) = resolve(name, scale)?;
    let mut p = colt_ir::layout_rewrites(&(w.build)(&shapes), lanes);
    p.name = w.name.replace('-', "_");
    Ok(p)
}

/// The workload `name` (optionally with shape overrides, as [`build`] takes it) at `scale`:
/// its base name, description, source, the shapes after the overrides and the FLOPs.
pub fn info(name: &str, scale: Scale) -> Result<WorkloadInfo, OpsError> {
    let (w, shapes) = resolve(name, scale)?;
    let flops = (w.build)(&shapes).flops();
    Ok(info_of(w, shapes, flops))
}

/// The largest value a shape override may take.
pub const MAX_SHAPE: i64 = 1 << 20;

/// Most elements one buffer of an overridden workload may have, and most points one stage's
/// iteration domain may have (so that sizes and FLOPs cannot overflow).
const MAX_ELEMENTS: u64 = 1 << 40;
const MAX_DOMAIN: u64 = 1 << 52;

fn resolve(
    spec: &str,
    scale: Scale,
) -> Result<(&'static Workload, BTreeMap<String, i64>), OpsError> {
    let (name, overrides) = match spec.split_once(':') {
        Some((n, o)) => (n, Some(o)),
        None => (spec, None),
    };
    let w = WORKLOADS
        .iter()
        .find(|w| w.name == name)
        .ok_or_else(|| OpsError::UnknownWorkload {
            name: name.to_string(),
            known: names().join(", "),
        })?;
    let mut shapes = shapes_of(w, scale);
    if let Some(o) = overrides {
        let bad = |msg: String| OpsError::Shape {
            workload: spec.to_string(),
            msg,
        };
        override_shapes(&mut shapes, o).map_err(&bad)?;
        check_shapes(w, &shapes).map_err(&bad)?;
    }
    Ok((w, shapes))
}

/// Apply `K=V,K=V` to `shapes`: only known names, each once, integers in range.
fn override_shapes(shapes: &mut BTreeMap<String, i64>, o: &str) -> Result<(), String> {
    let known = shapes_list(shapes);
    let mut seen = Vec::new();
    for item in o.split(',') {
        let (k, v) = item
            .split_once('=')
            .ok_or_else(|| format!("{item:?} is not NAME=VALUE (its shapes: {known})"))?;
        let (k, v) = (k.trim(), v.trim());
        if seen.contains(&k) {
            return Err(format!("{k} is given twice"));
        }
        seen.push(k);
        let min = if k == "pad" { 0 } else { 1 };
        let v: i64 = v
            .parse()
            .ok()
            .filter(|v| (min..=MAX_SHAPE).contains(v))
            .ok_or_else(|| format!("{k}={v} must be an integer from {min} to {MAX_SHAPE}"))?;
        *shapes
            .get_mut(k)
            .ok_or_else(|| format!("{k} is not one of its shapes ({known})"))? = v;
    }
    Ok(())
}

fn shapes_list(shapes: &BTreeMap<String, i64>) -> String {
    let v: Vec<String> = shapes.iter().map(|(k, v)| format!("{k}={v}")).collect();
    v.join(", ")
}

/// What the builders would panic on, as a message: a convolution window larger than the
/// padded input, a padding as wide as the window; and sizes that could overflow.
fn check_shapes(w: &Workload, s: &BTreeMap<String, i64>) -> Result<(), String> {
    if let (Some(&k), Some(&pad)) = (s.get("kernel"), s.get("pad")) {
        for d in ["H", "W"] {
            if k > s[d] + 2 * pad {
                return Err(format!(
                    "kernel={k} is larger than the padded input ({d}={} with pad={pad})",
                    s[d]
                ));
            }
        }
        if pad >= k {
            return Err(format!("pad={pad} must be smaller than kernel={k}"));
        }
    }
    let p = (w.build)(s);
    for b in &p.buffers {
        let n = b
            .shape
            .iter()
            .try_fold(1u64, |a, &d| a.checked_mul(d as u64));
        if n.is_none_or(|n| n > MAX_ELEMENTS) {
            return Err(format!(
                "tensor {} of shape {:?} has more than {MAX_ELEMENTS} elements",
                b.name, b.shape
            ));
        }
    }
    for st in &p.stages {
        let n = st
            .iters
            .iter()
            .try_fold(1u64, |a, i| a.checked_mul(i.extent as u64));
        if n.is_none_or(|n| n > MAX_DOMAIN) {
            return Err(format!(
                "stage {} iterates over more than {MAX_DOMAIN} points",
                st.name
            ));
        }
    }
    Ok(())
}
