//! Time the naive loop nest of every named workload compiled with `$CC -O3 -march=native`.
//!
//! This is how the shapes in `workloads.rs` were chosen (one naive run 0.1-2 s at paper scale,
//! under 50 ms at CI scale). It emits C for `Program::naive()` with colt-codegen, links it with
//! a tiny C driver that fills the inputs with seeded values and reports the minimum of a few
//! runs, and prints a markdown table.
//!
//! ```text
//! cargo run --release -p colt-ops --example naive_times [-- --scale ci|paper] [-- NAME...]
//! ```

use colt_ir::BufKind;
use colt_ops::{Scale, build, list};
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

fn driver(f: &colt_ir::Func, symbol: &str) -> String {
    let params = f.params();
    let mut s = String::from("#include <stdio.h>\n#include <stdlib.h>\n#include <time.h>\n\n");
    writeln!(s, "void {symbol}(float* const* bufs);").unwrap();
    s.push_str("static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }\n");
    s.push_str("int main(int argc, char** argv) {\n  unsigned x = 12345u;\n");
    writeln!(s, "  float* bufs[{}];", params.len().max(1)).unwrap();
    for (i, &b) in params.iter().enumerate() {
        let buf = f.buffer(b);
        let n = buf.len();
        let bytes = n.div_ceil(16) * 64;
        writeln!(s, "  bufs[{i}] = aligned_alloc(64, {bytes});").unwrap();
        if buf.kind == BufKind::Input {
            writeln!(
                s,
                "  for (long e = 0; e < {n}L; e++) {{ x = x * 1664525u + 1013904223u; bufs[{i}][e] = (float)(x >> 8) / 16777216.0f - 0.5f; }}"
            )
            .unwrap();
        } else {
            writeln!(s, "  for (long e = 0; e < {n}L; e++) bufs[{i}][e] = 0.0f;").unwrap();
        }
    }
    s.push_str("  int reps = argc > 1 ? atoi(argv[1]) : 3;\n  double best = 1e30;\n");
    writeln!(
        s,
        "  for (int r = 0; r < reps; r++) {{ double t0 = now(); {symbol}(bufs); double t = now() - t0; if (t < best) best = t; if (t > 1.0) break; }}"
    )
    .unwrap();
    let last = params.len().saturating_sub(1);
    writeln!(
        s,
        "  printf(\"%.9f %g\\n\", best, (double)bufs[{last}][0]);\n  return 0;\n}}"
    )
    .unwrap();
    s
}

fn time(name: &str, scale: Scale, dir: &Path, cc: &str) -> Result<f64, String> {
    let p = build(name, scale).map_err(|e| e.to_string())?;
    let f = p.naive();
    let symbol = p.name.clone();
    let stem = format!("{}_{}", symbol, scale.as_str());
    let kc = dir.join(format!("{stem}_kernel.c"));
    let dc = dir.join(format!("{stem}_driver.c"));
    let exe = dir.join(&stem);
    let code = colt_codegen::emit_c(&f, &symbol).map_err(|e| e.to_string())?;
    std::fs::write(&kc, code).map_err(|e| e.to_string())?;
    std::fs::write(&dc, driver(&f, &symbol)).map_err(|e| e.to_string())?;
    let out = Command::new(cc)
        .args(["-O3", "-march=native", "-fopenmp", "-o"])
        .arg(&exe)
        .arg(&kc)
        .arg(&dc)
        .arg("-lm")
        .output()
        .map_err(|e| format!("{cc}: {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let out = Command::new(&exe)
        .arg("3")
        .output()
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace()
        .next()
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| format!("bad driver output {text:?}"))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut scales = vec![Scale::Ci, Scale::Paper];
    let mut names = vec![];
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--scale" {
            scales = vec![
                it.next()
                    .and_then(|s| s.parse().ok())
                    .expect("--scale ci|paper"),
            ];
        } else {
            names.push(a.clone());
        }
    }
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());
    let dir = std::env::temp_dir().join(format!("colt_naive_times_{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    println!("| workload | scale | shape | GFLOP | naive {cc} -O3 (ms) |");
    println!("|---|---|---|---|---|");
    for scale in scales {
        for w in list(scale) {
            if !names.is_empty() && !names.iter().any(|n| n == w.name) {
                continue;
            }
            let shape: Vec<String> = w.shapes.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let t = match time(w.name, scale, &dir, &cc) {
                Ok(t) => format!("{:.1}", t * 1e3),
                Err(e) => format!("error: {}", e.lines().next().unwrap_or("")),
            };
            println!(
                "| {} | {} | {} | {:.4} | {} |",
                w.name,
                scale,
                shape.join(" "),
                w.flops as f64 / 1e9,
                t
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
