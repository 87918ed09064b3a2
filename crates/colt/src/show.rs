//! `colt show`: a workload's loop nest, optionally scheduled by a trace, and its C code.

use crate::out;
use anyhow::Context;
use colt_tensor::Kernel;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    w: out::WorkloadArg,
    /// A schedule trace (JSON) to apply.
    #[arg(long)]
    trace: Option<PathBuf>,
    /// Also print the generated C.
    #[arg(long)]
    c: bool,
}

pub fn run(a: Args) -> anyhow::Result<()> {
    let program = a.w.program()?;
    println!("# program\n{}", colt_ir::program_str(&program));
    let kernel = match &a.trace {
        None => Kernel::naive(&program),
        Some(path) => {
            let trace = out::read_trace(path)?;
            println!("# trace\n{}\n", trace.text());
            Kernel::scheduled(&program, &trace).with_context(|| format!("trace {}", path.display()))?
        }
    };
    println!("# loop nest\n{}", colt_ir::func_str(&kernel.func));
    if a.c {
        println!("# C\n{}", kernel.source.code);
    }
    Ok(())
}
