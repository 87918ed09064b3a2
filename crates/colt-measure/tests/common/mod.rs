#![allow(dead_code)]
use std::path::PathBuf;

use colt_measure::{BufSpec, Candidate, Compiler, MeasureConfig, Source, WorkerCommand};

pub const N: usize = 1024;

pub fn workdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("colt-measure-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

pub fn config(name: &str) -> MeasureConfig {
    MeasureConfig {
        workdir: workdir(name),
        worker: Some(WorkerCommand::new(env!("CARGO_BIN_EXE_colt-worker"))),
        timeout_s: 1.0,
        repeats: 3,
        min_repeat_ms: 0.2,
        omp_threads: 2,
        ..MeasureConfig::default()
    }
}

pub fn vadd_specs() -> Vec<BufSpec> {
    vec![
        BufSpec::input("a", N),
        BufSpec::input("b", N),
        BufSpec::output("c", N),
    ]
}

/// A vector-add kernel whose loop body is `body` (a, b, c, i in scope) plus `extra` code.
pub fn vadd_src(prelude: &str, body: &str) -> Source {
    Source::new(format!(
        "#include <stdlib.h>\n#include <stdio.h>\n{prelude}\n\
         void colt_kernel(float* const* bufs) {{\n\
           const float* a = bufs[0]; const float* b = bufs[1]; float* c = bufs[2];\n\
           for (int i = 0; i < {N}; i++) {{ {body} }}\n\
         }}\n"
    ))
}

pub fn reference() -> Source {
    vadd_src("", "c[i] = a[i] + b[i];")
}

pub fn cand(source: Source) -> Candidate {
    Candidate {
        source,
        compiler: Compiler::tuned(),
        buffers: vadd_specs(),
        flops: N as f64,
    }
}
