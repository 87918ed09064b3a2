//! Print the C of a hand-scheduled matmul (scratch for performance work).
use colt_sched::{Inst, Trace};

fn main() {
    let n: i64 = std::env::args()
        .nth(1)
        .map(|s| s.parse().unwrap())
        .unwrap_or(1024);
    let p = colt_ops::matmul(n, n, n);
    let mut t = Trace::new("matmul");
    let s = |x: &str| x.to_string();
    let st = s("matmul");
    t.insts = vec![
        Inst::Pack {
            stage: st.clone(),
            buffer: s("B"),
            dim: 1,
            factor: 32,
        },
        Inst::Split {
            stage: st.clone(),
            loop_: s("i"),
            factors: vec![n / 8, 8],
        },
        Inst::Split {
            stage: st.clone(),
            loop_: s("j"),
            factors: vec![n / 32, 32],
        },
        Inst::Reorder {
            stage: st.clone(),
            order: vec![s("j0"), s("i0"), s("k"), s("i1"), s("j1")],
        },
        Inst::Parallel {
            stage: st.clone(),
            loop_: s("j0"),
        },
        Inst::Vectorize {
            stage: st.clone(),
            loop_: s("j1"),
        },
        Inst::Unroll {
            stage: st.clone(),
            loop_: s("i1"),
        },
        Inst::CacheWrite {
            stage: st.clone(),
            loop_: s("i0"),
        },
        Inst::Parallel {
            stage: s("pack_B"),
            loop_: s("o"),
        },
        Inst::Vectorize {
            stage: s("pack_B"),
            loop_: s("v"),
        },
    ];
    match colt_sched::apply_trace(&p, &t) {
        Ok(f) => {
            eprintln!("{}", colt_ir::func_str(&f));
            println!("{}", colt_codegen::emit_c(&f, "colt_kernel").unwrap());
        }
        Err(e) => eprintln!("error: {e}"),
    }
}
