//! The vectorised loops of a register-tiled matmul become packed FMA instructions on whole
//! vector registers (ymm/zmm), with gcc (`$CC`) and with clang when installed. Skipped where
//! the host has no AVX2+FMA.

mod support;

use std::process::Command;
use support::*;

fn asm(cc: &str, code: &str, tag: &str) -> Option<String> {
    let dir = std::env::temp_dir().join(format!("colt-codegen-asm-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (c, s) = (dir.join("k.c"), dir.join("k.s"));
    std::fs::write(&c, code).unwrap();
    let out = Command::new(cc)
        .args(FLAGS)
        .arg("-S")
        .arg("-o")
        .arg(&s)
        .arg(&c)
        .output()
        .ok()?;
    assert!(
        out.status.success(),
        "{cc}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&s).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    Some(text)
}

/// The C compiler the kernels are built with (`$CC`, else `cc`), as the measurer picks it.
fn cc() -> String {
    std::env::var("CC")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .unwrap_or_else(|| "cc".to_string())
}

/// The compiler's predefined macros for `-march=native` after including `headers` (empty
/// when the compiler cannot be run).
fn predefined(headers: &[&str]) -> String {
    let mut args = vec!["-march=native", "-dM", "-E"];
    for h in headers {
        args.extend(["-include", h]);
    }
    args.extend(["-x", "c", "/dev/null"]);
    Command::new(cc())
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

fn host_has_avx2_fma() -> bool {
    let m = predefined(&[]);
    m.contains("__AVX2__") && m.contains("__FMA__")
}

#[test]
fn tiled_matmul_uses_packed_fma() {
    if !host_has_avx2_fma() {
        // Printed to stdout, so `cargo test` shows it with the test's result line.
        println!(
            "skipped: {} reports no AVX2+FMA for -march=native on this host",
            cc()
        );
        return;
    }
    let n = 256;
    let p = colt_ops::matmul(n, n, n);
    let f = colt_sched::apply_trace(&p, &colt_sched::Trace::tiled_matmul(n, 8, 32)).unwrap();
    let code = colt_codegen::emit_c(&f, "colt_kernel").unwrap();
    let cc = cc();
    let mut checked = 0;
    for compiler in [cc.as_str(), "clang-22", "clang"] {
        let Some(text) = asm(compiler, &code, compiler) else {
            continue;
        };
        let packed = text
            .lines()
            .filter(|l| {
                l.trim_start().starts_with("vfmadd")
                    && l.contains("ps")
                    && (l.contains("%zmm") || l.contains("%ymm"))
            })
            .count();
        // 8 rows x 32 columns: at least 16 (zmm) packed FMAs in the unrolled tile
        assert!(
            packed >= 16,
            "{compiler}: only {packed} packed FMA instructions"
        );
        checked += 1;
    }
    assert!(checked >= 1);
}

/// A ReLU and a max pool compile to inline code with packed instructions, not a call of
/// libm's `fmaxf` per element (which is what `fmaxf` is without `-ffinite-math-only`), and
/// compute what the interpreter does.
#[test]
fn relu_and_max_pool_are_inline_vector_code() {
    if !host_has_avx2_fma() {
        println!(
            "skipped: {} reports no AVX2+FMA for -march=native on this host",
            cc()
        );
        return;
    }
    let p = colt_ops::from_spec_str(
        r#"
name = "relu_pool"
[tensors]
X = { shape = [64, 64], role = "input" }
R = { shape = [64, 64], role = "temp" }
Y = { shape = [32, 32], role = "output" }
[[stage]]
compute = "R[i, j] = relu(X[i, j])"
[[stage]]
compute = "Y[i, j] max= R[i*2 + r, j*2 + s]"
extents = { r = 2, s = 2 }
"#,
    )
    .unwrap();
    let f = p.naive();
    let code = colt_codegen::emit_c(&f, "colt_kernel").unwrap();
    assert!(
        code.contains("colt_max") && !code.contains("fmaxf("),
        "{code}"
    );
    let text = asm(&cc(), &code, "relu-pool").unwrap();
    assert!(!text.contains("fmaxf"), "a call of fmaxf is left");
    let packed = text
        .lines()
        .map(str::trim_start)
        .filter(|l| l.starts_with('v') && l.contains("ps") && !l.starts_with("vmovups"))
        .filter(|l| l.contains("%ymm") || l.contains("%zmm"))
        .count();
    assert!(packed >= 1, "no packed instruction");
    assert_matches_interpreter(&f, "relu-pool");
}

/// glibc ≥ 2.35 on x86-64 with gcc: the libmvec variants of `expf`, `erff` and `tanhf` exist.
fn host_has_libmvec() -> bool {
    let m = predefined(&["math.h"]);
    let num = |name: &str| -> Option<u32> {
        m.lines()
            .find_map(|l| l.strip_prefix(&format!("#define {name} ")))
            .and_then(|v| v.trim().parse().ok())
    };
    let glibc = num("__GLIBC__").zip(num("__GLIBC_MINOR__"));
    !m.contains("__clang__")
        && m.contains("__x86_64__")
        && glibc.is_some_and(|(major, minor)| (major, minor) >= (2, 35))
}

/// A vectorised loop of `exp`, `erf` and `tanh` (softmax, GELU) calls glibc's vector math
/// (`_ZGV…expf` and so on: one call per vector) instead of the scalar libm function once per
/// lane, and computes what the interpreter does.
#[test]
fn transcendental_loops_call_vector_math() {
    if !host_has_libmvec() {
        println!("skipped: {} is not gcc on x86-64 glibc >= 2.35", cc());
        return;
    }
    let p = colt_ops::from_spec_str(
        r#"
name = "gelu_exp"
[tensors]
X = { shape = [64, 64], role = "input" }
Y = { shape = [64, 64], role = "output" }
[[stage]]
compute = "Y[i, j] = exp(X[i, j]) + erf(X[i, j]) * tanh(X[i, j])"
"#,
    )
    .unwrap();
    let f = p.naive();
    let code = colt_codegen::emit_c(&f, "colt_kernel").unwrap();
    let text = asm(&cc(), &code, "vector-math").unwrap();
    for name in ["expf", "erff", "tanhf"] {
        assert!(
            text.lines()
                .any(|l| l.contains("call") && l.contains("_ZGV") && l.contains(name)),
            "no vector call of {name}:\n{code}"
        );
    }
    assert_matches_interpreter(&f, "vector-math");
}

/// The blocked register tile with an unrolled reduction block (`support::blocked_unrolled_tile`)
/// keeps its accumulators in registers across the block: gcc stored each accumulator after
/// every FMA of the unrolled chain (one vector store per FMA: half the FMA rate on cores that
/// retire one vector store a cycle) until the promotion covered unrolled loops, and the
/// promoted copies went through `memcpy` until gcc was told to keep them as loops.
#[test]
fn unrolled_reduction_block_keeps_accumulators_in_registers() {
    if !host_has_avx2_fma() {
        println!(
            "skipped: {} reports no AVX2+FMA for -march=native on this host",
            cc()
        );
        return;
    }
    let code = colt_codegen::emit_c(&blocked_unrolled_tile(), "colt_kernel").unwrap();
    let text = asm(&cc(), &code, "blocked-unrolled").unwrap();
    let lines: Vec<&str> = text.lines().map(str::trim_start).collect();
    let vector = |l: &str| l.contains("%ymm") || l.contains("%zmm");
    let is_fma = |l: &str| l.starts_with("vfmadd") && l.contains("ps") && vector(l);
    // a vector store: `vmov{a,u}ps %reg, mem` (the memory operand last)
    let is_store = |l: &str| {
        (l.starts_with("vmovaps") || l.starts_with("vmovups"))
            && vector(l)
            && l.rsplit(',').next().is_some_and(|dst| dst.contains('('))
    };
    let first = lines.iter().position(|l| is_fma(l)).expect("no packed FMA");
    let last = lines.iter().rposition(|l| is_fma(l)).unwrap();
    let chain = &lines[first..=last];
    let fmas = chain.iter().filter(|l| is_fma(l)).count();
    let stores = chain.iter().filter(|l| is_store(l)).count();
    assert!(fmas >= 64, "only {fmas} packed FMAs:\n{text}");
    assert!(
        stores * 8 <= fmas,
        "{stores} vector stores among {fmas} packed FMAs: accumulators go through memory\n{text}"
    );
}
