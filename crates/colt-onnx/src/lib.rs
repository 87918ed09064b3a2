//! colt-onnx: compile a whole ONNX model with colt.
//!
//! - **Import** ([`import`]): the protobuf is decoded by `prost` from the ONNX 1.23.2
//!   `onnx.proto`, vendored and compiled at build time by `protox` (pure Rust, no `protoc`).
//!   Float32 inference graphs of ai.onnx opsets 13 to 25 import into a [`Graph`] with static
//!   shapes: dynamic input dimensions are fixed by [`ImportOptions::shapes`]. Each node
//!   becomes an [`Op`]: elementwise (arithmetic with broadcasting, activations, batch norm
//!   as a per-channel scale and shift, views) or an anchor with a reduction (MatMul, Conv,
//!   pools, Reduce*, Softmax, LayerNormalization). Subgraphs of constants are evaluated at
//!   import, a batch norm after a Conv with constant weights is folded into them, and the
//!   decomposed layer norm (ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div) becomes one
//!   LayerNorm node.
//! - **Tasks** ([`Model`]): nodes are fused TVM-style, one anchor per task with its
//!   elementwise prologue and epilogue (Conv+BatchNormalization+Relu, MatMul+Add+Gelu);
//!   each task is a colt [`colt_ir::Program`] whose buffers are its inputs (activations and
//!   weights), temporaries and output, in the order (and with the loop order) of a
//!   custom-operator spec, so `colt_ops::to_spec` can print it for a tuner; identical
//!   programs are one [`Kernel`].
//!   Views (Transpose, Reshape, Flatten, Squeeze, Unsqueeze, Slice, Concat, Gather on
//!   constant indices) are elementwise nodes whose loads carry the index mapping; fused
//!   into their consumer (or producer) they become its index expressions, so the multi-head
//!   split of attention costs no copy; a view that fits no task is a copy task of its own.
//! - **Build** ([`build()`]): one C library: a kernel per distinct task (the naive
//!   nest from `colt_codegen::emit_c`, or a tuned kernel's C given by the caller),
//!   `model.c` with the embedded weights and a static memory plan of the intermediates,
//!   `model.h` declaring `int model_run(const float* const* inputs, float* const* outputs)`,
//!   and `libmodel.a` compiled with `colt_codegen::C_FLAGS`.
//! - **Reference** ([`run`]): the model task by task in colt's interpreter.

pub mod error;
pub mod graph;
pub mod import;
pub mod library;
pub mod ops;
mod proto;
pub mod run;
pub mod tasks;

pub use error::{OnnxError, Result};
pub use graph::{Data, Graph, Node, Tensor, TensorId};
pub use import::{ImportOptions, import_bytes, import_file};
pub use library::{BuildOutput, KernelSource, build};
pub use ops::Op;
pub use tasks::{Kernel, KernelSummary, Model, Task};
