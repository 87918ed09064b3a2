//! `colt show`: a workload's loop nest, optionally scheduled by a trace, and its C code; with
//! `--space llvm`, the pass vocabulary of the LLVM pass-ordering space.

use crate::out;
use crate::space::Space;
use anyhow::Context;
use colt_tensor::Kernel;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// tensor (a workload's loop nest) or llvm (the pass vocabulary).
    #[arg(long, value_enum, default_value_t)]
    space: Space,
    /// Built-in workload name or path of a custom operator spec (.toml).
    #[arg(long, required_unless_present = "space")]
    workload: Option<String>,
    /// ci or paper shapes of a built-in workload (not with a spec file). [default: ci]
    #[arg(long)]
    scale: Option<String>,
    /// A schedule trace (JSON) to apply.
    #[arg(long)]
    trace: Option<PathBuf>,
    /// Also print the generated C.
    #[arg(long)]
    c: bool,
}

pub fn run(a: Args) -> anyhow::Result<()> {
    match a.space {
        Space::Tensor => {}
        Space::Llvm => {
            let tools = colt_llvm::Toolchain::discover()?;
            println!("{}", tools.describe());
            print!("{}", colt_llvm::passes::validate(&tools.opt).table());
            return Ok(());
        }
    }
    let workload = a.workload.as_deref().context("--workload is required")?;
    let scale = out::workload_scale(workload, a.scale.as_deref())?;
    let program = colt_tensor::resolve_for(workload, scale, crate::tune::layout_lanes())?;
    println!("# program\n{}", colt_ir::program_str(&program));
    let kernel = match &a.trace {
        None => Kernel::naive(&program),
        Some(path) => {
            let trace = out::read_trace(path)?;
            println!("# trace\n{}\n", trace.text());
            Kernel::scheduled(&program, &trace)
                .with_context(|| format!("trace {}", path.display()))?
        }
    };
    println!("# loop nest\n{}", colt_ir::func_str(&kernel.func));
    if a.c {
        println!("# C\n{}", kernel.source.code);
    }
    Ok(())
}
