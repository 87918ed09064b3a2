//! Compiling the sources into `libmodel.a`: each file with `$CC` (the measurer's compiler
//! choice, [`colt_measure::Compiler::tuned`]) and the kernels' flags, then `ar`.

use crate::error::{OnnxError, Result, one_line};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Compile `sources` to objects in `dir` and archive them as `dir/libmodel.a`.
pub fn compile_library(dir: &Path, sources: &[PathBuf]) -> Result<PathBuf> {
    let compiler = colt_measure::Compiler::tuned();
    compiler.probe().map_err(|e| OnnxError::Build {
        what: "libmodel.a".into(),
        msg: one_line(&e.to_string()),
    })?;
    let flags: Vec<&String> = compiler.flags.iter().filter(|f| *f != "-shared").collect();
    let mut objects = vec![];
    for src in sources {
        let obj = src.with_extension("o");
        let out = Command::new(&compiler.cc)
            .args(&flags)
            .arg("-c")
            .arg(src)
            .arg("-o")
            .arg(&obj)
            .output();
        check(out, &compiler.cc, src)?;
        objects.push(obj);
    }
    let lib = dir.join("libmodel.a");
    let _ = std::fs::remove_file(&lib);
    let ar = std::env::var("AR")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "ar".into());
    let out = Command::new(&ar)
        .arg("rcs")
        .arg(&lib)
        .args(&objects)
        .output();
    check(out, &ar, &lib)?;
    for obj in objects {
        let _ = std::fs::remove_file(obj);
    }
    Ok(lib)
}

/// Link the C program `source` (a `main` calling `model_run`) with `dir/libmodel.a` into
/// the executable `dir/<name>` (its source `dir/<name>.c`), with the library's compiler.
pub fn link_program(dir: &Path, name: &str, source: &str) -> Result<PathBuf> {
    let src = dir.join(format!("{name}.c"));
    std::fs::write(&src, source).map_err(crate::error::io(&src))?;
    let cc = colt_measure::Compiler::tuned().cc;
    let exe = dir.join(name);
    let out = Command::new(&cc)
        .arg("-O2")
        .arg(&src)
        .arg(dir.join("libmodel.a"))
        .args(["-fopenmp", "-lm", "-o"])
        .arg(&exe)
        .output();
    check(out, &cc, &src)?;
    Ok(exe)
}

/// A tool run's failure as one line naming the file.
fn check(out: std::io::Result<std::process::Output>, tool: &str, file: &Path) -> Result<()> {
    let fail = |msg: String| OnnxError::Build {
        what: file.display().to_string(),
        msg,
    };
    match out {
        Err(e) => Err(fail(format!("cannot run `{tool}`: {e}"))),
        Ok(o) if !o.status.success() => {
            let text = one_line(&String::from_utf8_lossy(&o.stderr));
            let cut: String = text.chars().take(600).collect();
            Err(fail(format!("`{tool}` failed ({}): {cut}", o.status)))
        }
        Ok(_) => Ok(()),
    }
}
