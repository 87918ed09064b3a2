//! Print the C of a hand-scheduled matmul (scratch for performance work):
//! `cargo run -p colt-codegen --example emit_matmul -- [N [MR NR]]`.
use colt_sched::Trace;

fn main() {
    let arg = |i: usize, default: i64| {
        std::env::args()
            .nth(i)
            .map(|s| s.parse().unwrap_or(default))
            .unwrap_or(default)
    };
    let (n, mr, nr) = (arg(1, 1024), arg(2, 8), arg(3, 32));
    let p = colt_ops::matmul(n, n, n);
    match colt_sched::apply_trace(&p, &Trace::tiled_matmul(n, mr, nr)) {
        Ok(f) => {
            eprintln!("{}", colt_ir::func_str(&f));
            println!("{}", colt_codegen::emit_c(&f, "colt_kernel").unwrap());
        }
        Err(e) => eprintln!("error: {e}"),
    }
}
