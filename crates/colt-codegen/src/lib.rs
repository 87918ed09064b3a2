//! colt-codegen: C emission for a lowered [`colt_ir::Func`].
//!
//! [`emit_c`] produces one self-contained C11 translation unit exporting
//! `void <symbol>(float* const* bufs)`, where `bufs[i]` is the `i`-th buffer of
//! [`Func::params`] (inputs, outputs, temps in buffer-table order), each 64-byte aligned and
//! row-major. [`emit_header`] gives the matching `.h` for exporting a kernel.
//!
//! The output is meant to be read (it ends up in reports and is shown to LLM proposers), so it
//! keeps the loop structure of the IR one to one: one C `for` per [`Loop`](colt_ir::Loop), a
//! pragma per loop kind, a block scope per local allocation, a comment per block. Emission is
//! a pure function: the same `Func` gives the same text.
//!
//! Compile with `-fopenmp` for parallel and simd loops (without it they run serially and
//! unvectorised pragmas are ignored); `-O3 -march=native` vectorises `#pragma omp simd` loops
//! with contiguous accesses.
//!
//! Modules: [`names`] (C identifiers), [`expr`] (indices, values), [`stmt`] (loops, blocks).

pub mod expr;
pub mod names;
pub mod promote;
pub mod stmt;

use colt_ir::{BufKind, Buffer, Func};
use expr::{Ctx, Needs};
use names::comment_safe;
use stmt::Emitter;

/// Why no C was produced. Emission itself cannot fail on a verified `Func`; these are the
/// caller's input problems, each a one-line message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CodegenError {
    /// The symbol is not a C identifier.
    #[error(
        "kernel symbol {0:?} is not a C identifier (letters, digits and `_`, not starting with a digit)"
    )]
    BadSymbol(String),
    /// The symbol is a C keyword or a name the generated code uses.
    #[error("kernel symbol {0:?} is a C keyword or a name the generated code uses")]
    ReservedSymbol(String),
    /// The loop nest failed verification.
    #[error("the loop nest of `{func}` is invalid: {err}")]
    Invalid {
        /// Name of the function.
        func: String,
        /// What the verifier found.
        err: colt_ir::VerifyErrors,
    },
}

/// The flags the emitted C is written for (gcc or clang; a shared object adds `-fPIC -shared`):
/// OpenMP for parallel loops, and the part of fast-math that lets reductions be reassociated
/// and vectorised without giving up NaN/infinity semantics. `-std=gnu11`, not `-std=c11`:
/// strict ISO mode turns floating-point contraction off in gcc, so `a*b + c` would never
/// become an FMA (measured: half the GFLOP/s of a tiled matmul).
pub const C_FLAGS: &[&str] = &[
    "-O3",
    "-march=native",
    "-fopenmp",
    "-fno-math-errno",
    "-fno-trapping-math",
    "-fassociative-math",
    "-fno-signed-zeros",
    "-std=gnu11",
];

/// A C translation unit computing `f`, exporting `void symbol(float* const* bufs)`.
///
/// `f` is verified first (an invalid nest is an error, never a panic or wrong C).
pub fn emit_c(f: &Func, symbol: &str) -> Result<String, CodegenError> {
    check_symbol(symbol)?;
    colt_ir::verify(f).map_err(|err| CodegenError::Invalid {
        func: f.name.clone(),
        err,
    })?;
    let promoted = promote::promote_accumulators(f);
    let any_promoted = promoted.buffers.len() > f.buffers.len();
    let f = &promoted;
    let mut em = Emitter {
        ctx: Ctx::new(f),
        out: String::new(),
        indent: 1,
    };
    for (i, b) in f.params().into_iter().enumerate() {
        let name = em.ctx.names.buf(b).to_string();
        em.line(&format!(
            "float* restrict {name} = (float*)__builtin_assume_aligned(bufs[{i}], 64);"
        ));
    }
    em.stmts(&f.body);
    let body = em.out;
    let needs = Needs {
        promoted: any_promoted,
        ..em.ctx.needs
    };

    let mut out = String::new();
    out.push_str(&buffer_comment(f, symbol));
    out.push_str("#include <math.h>\n#include <stdint.h>\n#include <stdlib.h>\n\n");
    out.push_str(&prelude(needs));
    out.push_str(&format!("void {symbol}(float* const* bufs) {{\n"));
    out.push_str(&body);
    out.push_str("}\n");
    Ok(out)
}

/// A C header declaring the kernel of [`emit_c`], with the buffer list as a comment.
pub fn emit_header(f: &Func, symbol: &str) -> Result<String, CodegenError> {
    check_symbol(symbol)?;
    let guard = format!("{}_H", symbol.to_ascii_uppercase());
    Ok(format!(
        "{}#ifndef {guard}\n#define {guard}\n\n#ifdef __cplusplus\nextern \"C\" {{\n#endif\n\n\
         void {symbol}(float* const* bufs);\n\n#ifdef __cplusplus\n}}\n#endif\n\n#endif  // {guard}\n",
        buffer_comment(f, symbol)
    ))
}

/// Check that `symbol` can name the exported kernel function.
pub fn check_symbol(symbol: &str) -> Result<(), CodegenError> {
    let ident = !symbol.is_empty()
        && !symbol.starts_with(|c: char| c.is_ascii_digit())
        && symbol
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !ident {
        return Err(CodegenError::BadSymbol(symbol.to_string()));
    }
    if names::is_reserved(symbol) {
        return Err(CodegenError::ReservedSymbol(symbol.to_string()));
    }
    Ok(())
}

fn role(b: &Buffer) -> &'static str {
    match b.kind {
        BufKind::Input => "input",
        BufKind::Output => "output",
        BufKind::Temp => "temp",
        BufKind::Local => "local",
    }
}

fn shape(b: &Buffer) -> String {
    let dims: Vec<String> = b.shape.iter().map(|d| d.to_string()).collect();
    format!("f32[{}]", dims.join(", "))
}

/// The top comment: function, signature, and what each `bufs[i]` is.
fn buffer_comment(f: &Func, symbol: &str) -> String {
    let mut s = format!(
        "// colt kernel for `{}`: void {symbol}(float* const* bufs)\n\
         // bufs[i]: row-major, 64-byte aligned\n",
        comment_safe(&f.name)
    );
    for (i, b) in f.params().into_iter().enumerate() {
        let b = f.buffer(b);
        s.push_str(&format!(
            "//   bufs[{i}] {} ({}): {}\n",
            comment_safe(&b.name),
            role(b),
            shape(b)
        ));
    }
    for b in f.buffers.iter().filter(|b| b.kind == BufKind::Local) {
        s.push_str(&format!(
            "//   local {}: {}\n",
            comment_safe(&b.name),
            shape(b)
        ));
    }
    s.push('\n');
    s
}

/// Vector versions of the libm functions kernels call. Without `-ffast-math` glibc's
/// `math.h` declares none, so gcc vectorises a loop calling `expf` with one scalar call per
/// lane (measured: exp + erf + tanh over 4 Mi floats, 122 ms scalar, 5.2 ms with these
/// declarations, AVX-512). The declarations name the variants glibc's libmvec has (expf,
/// logf, powf since 2.22; erff, tanhf since 2.35), which `-lm` links as needed (Debian's
/// `libm.so` pulls in `libmvec`); other compilers, targets and C libraries get none.
const VECTOR_MATH: &str = "\
// glibc's vector math (libmvec) for the calls in vectorised loops
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__GLIBC__)
#if __GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 22)
__attribute__((__simd__(\"notinbranch\"))) extern float expf(float);
__attribute__((__simd__(\"notinbranch\"))) extern float logf(float);
__attribute__((__simd__(\"notinbranch\"))) extern float powf(float, float);
#endif
#if __GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 35)
__attribute__((__simd__(\"notinbranch\"))) extern float erff(float);
__attribute__((__simd__(\"notinbranch\"))) extern float tanhf(float);
#endif
#endif

";

/// Promoted accumulators are copied into and out of a small local array around the
/// reduction loops (see [`promote`]). gcc's loop distribution turns those copy loops into
/// `memcpy` calls, expanded as 16-byte moves that the first 32-byte load of the reduction
/// cannot take from the store buffer, and the array then stays in memory. Kept as loops, the
/// copies vectorise at the reduction's width and the accumulators stay in registers
/// (measured, a 4-row × 2-vector register tile with an unrolled 8-step reduction block, AVX2,
/// 32×2048×8192 GEMM: 12.0 ms with the `memcpy`, 7.0 ms without; 8.3 ms unpromoted, where
/// gcc stored every accumulator after every FMA). gcc only; `#pragma GCC optimize` applies to
/// every function after it, so helpers and kernel keep the same options.
const KEEP_COPY_LOOPS: &str = "\
// keep the accumulator copies as loops (gcc would make them memcpy calls)
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize(\"no-tree-loop-distribute-patterns\")
#endif

";

/// Helper definitions, only those the body uses.
fn prelude(n: Needs) -> String {
    let mut s = String::new();
    if n.promoted {
        s.push_str(KEEP_COPY_LOOPS);
    }
    if n.unroll || n.simd || n.simd_reduce {
        s.push_str("#define COLT_PRAGMA_(x) _Pragma(#x)\n");
    }
    if n.unroll {
        s.push_str(
            "// fully unroll the next loop\n\
             #if defined(__clang__)\n\
             #define COLT_UNROLL(n) _Pragma(\"clang loop unroll(full)\")\n\
             #elif defined(__GNUC__)\n\
             #define COLT_UNROLL(n) COLT_PRAGMA_(GCC unroll n)\n\
             #else\n\
             #define COLT_UNROLL(n)\n\
             #endif\n\n",
        );
    }
    if n.simd {
        s.push_str(
            "// vectorise the next loop: w lanes, n vectors per iteration (clang hints; gcc\n\
             // needs only omp simd). Without -fopenmp / -fopenmp-simd it is a plain loop.\n\
             #if defined(__clang__)\n\
             #define COLT_SIMD(w, n) _Pragma(\"omp simd\") \\\n    \
             COLT_PRAGMA_(clang loop unroll(disable) vectorize_width(w) interleave_count(n))\n\
             #else\n\
             #define COLT_SIMD(w, n) _Pragma(\"omp simd\")\n\
             #endif\n\n",
        );
    }
    if n.simd_reduce {
        s.push_str(
            "// vectorise the next loop as a reduction into colt_acc with operator op: a partial\n\
             // result per lane, combined after the loop (clang hints as for COLT_SIMD)\n\
             #if defined(__clang__)\n\
             #define COLT_SIMD_REDUCE(op, w, n) COLT_PRAGMA_(omp simd reduction(op:colt_acc)) \\\n    \
             COLT_PRAGMA_(clang loop unroll(disable) vectorize_width(w) interleave_count(n))\n\
             #else\n\
             #define COLT_SIMD_REDUCE(op, w, n) COLT_PRAGMA_(omp simd reduction(op:colt_acc))\n\
             #endif\n\n",
        );
    }
    if n.floordiv {
        s.push_str(
            "// floor division by b > 0 (C's / truncates)\n\
             static inline int64_t colt_floordiv(int64_t a, int64_t b) {\n    \
             return a / b - (a % b < 0);\n}\n\n",
        );
    }
    if n.floormod {
        s.push_str(
            "// floor modulo by b > 0 (C's % truncates)\n\
             static inline int64_t colt_floormod(int64_t a, int64_t b) {\n    \
             int64_t r = a % b;\n    return r < 0 ? r + b : r;\n}\n\n",
        );
    }
    if n.vector_math {
        s.push_str(VECTOR_MATH);
    }
    if n.sigmoid {
        s.push_str(
            "static inline float colt_sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }\n\n",
        );
    }
    if n.silu {
        s.push_str("static inline float colt_silu(float x) { return x / (1.0f + expf(-x)); }\n\n");
    }
    if n.minmax {
        s.push_str(
            "// fmaxf/fminf (the operand that is not NaN), inline and vectorisable\n\
             static inline float colt_max(float a, float b) { return (a > b || b != b) ? a : b; }\n\
             static inline float colt_min(float a, float b) { return (a < b || b != b) ? a : b; }\n\n",
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use colt_ir::{BufKind, Buffer, Loop, LoopKind, Stmt, VarId};

    fn tiny(extent: i64) -> Func {
        Func {
            name: "f".into(),
            vars: vec!["i".into()],
            buffers: vec![Buffer {
                name: "Y".into(),
                shape: vec![4],
                kind: BufKind::Output,
            }],
            body: vec![Stmt::Loop(Loop {
                var: VarId(0),
                extent,
                kind: LoopKind::Serial,
                body: vec![],
            })],
        }
    }

    #[test]
    fn bad_symbols_are_errors_not_panics() {
        let f = tiny(4);
        assert!(emit_c(&f, "colt_kernel").is_ok());
        for bad in ["", "1abc", "a-b", "x y", "a\"b"] {
            let e = emit_c(&f, bad).unwrap_err();
            assert_eq!(e, CodegenError::BadSymbol(bad.into()));
            assert!(e.to_string().contains("not a C identifier"));
            assert!(emit_header(&f, bad).is_err());
        }
        for reserved in ["for", "expf", "colt_silu", "main", "COLT_SIMD"] {
            assert_eq!(
                emit_c(&f, reserved).unwrap_err(),
                CodegenError::ReservedSymbol(reserved.into())
            );
        }
    }

    #[test]
    fn invalid_nests_are_errors() {
        let e = emit_c(&tiny(0), "k").unwrap_err();
        assert!(matches!(e, CodegenError::Invalid { .. }));
        assert!(e.to_string().contains("loop i"), "{e}");
    }

    #[test]
    fn header_declares_the_symbol() {
        let h = emit_header(&tiny(4), "my_kernel").unwrap();
        assert!(h.contains("void my_kernel(float* const* bufs);"));
        assert!(h.contains("#ifndef MY_KERNEL_H"));
        assert!(h.contains("bufs[0] Y (output): f32[4]"));
    }

    #[test]
    fn prelude_only_what_is_needed() {
        let c = emit_c(&tiny(4), "k").unwrap();
        assert!(!c.contains("COLT_SIMD") && !c.contains("colt_floordiv"));
        let all = prelude(Needs {
            floordiv: true,
            floormod: true,
            sigmoid: true,
            silu: true,
            minmax: true,
            vector_math: true,
            unroll: true,
            simd: true,
            simd_reduce: true,
            promoted: true,
        });
        let others = [
            "COLT_UNROLL",
            "COLT_SIMD",
            "COLT_SIMD_REDUCE(op, w, n)",
            "no-tree-loop-distribute-patterns",
            "_simd__(\"notinbranch\"))) extern float expf(float);",
        ];
        for name in names::HELPERS.iter().chain(&others) {
            assert!(all.contains(name), "{name}");
        }
    }
}
