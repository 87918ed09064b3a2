//! colt-ir: the loop-nest IR of colt.
//!
//! Two levels, both plain owned data with dense integer ids:
//! - [`Program`]: *what* is computed — buffers and stages (`C[i, j] += A[i, k] * B[k, j]`
//!   over a rectangular domain). Operators (crate `colt-ops`) build programs.
//! - [`Func`]: *how* — a tree of loops (serial, parallel, vectorized, unrolled), local
//!   allocations and blocks. Schedules (crate `colt-sched`) lower a program to a `Func`;
//!   codegen emits C from it; the [`interp`] module executes it as the reference.
//!
//! Index expressions are quasi-affine ([`Idx`]): sums of variables times constants, floor
//! division and modulo by constants. That keeps bound inference exact interval arithmetic and
//! is all that tiling, fusion and packing of rectangular tensors need.

pub mod expr;
pub mod func;
pub mod interp;
pub mod lanes;
pub mod print;
pub mod program;
pub mod unfold;
pub mod verify;

pub use expr::{Access, Affine, BinOp, Bound, BufId, CmpOp, Idx, Interval, UnOp, Value, VarId};
pub use func::{Block, Func, Loop, LoopKind, Stmt, StoreOp};
pub use lanes::{DEFAULT_LANES, wide_lanes_for_narrow_rows};
pub use print::{PrintOptions, func_str, program_str};
pub use program::{BufKind, Buffer, IterKind, IterVar, Program, Reducer, Stage};
pub use unfold::unfold_strided_windows;
pub use verify::{VerifyError, VerifyErrors, verify};

/// The layout rewrites every program colt tunes goes through (built-in workloads, specs, ONNX
/// kernels), for a target whose vector registers hold `lanes` f32 values
/// ([`DEFAULT_LANES`] for none in particular): [`wide_lanes_for_narrow_rows`], then
/// [`unfold_strided_windows`] for the strided reads that still run across the lanes. Both keep
/// every value the program computes, and applying this twice (same lanes) changes nothing more.
pub fn layout_rewrites(p: &Program, lanes: i64) -> Program {
    unfold_strided_windows(&wide_lanes_for_narrow_rows(p, lanes))
}
