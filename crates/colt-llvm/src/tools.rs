//! Finding the LLVM tools (`opt`, `clang`, `llc`, `llvm-link`) and gcc.
//!
//! The environment is written for LLVM 22 but works with any LLVM from 14 on (the pass
//! vocabulary is validated against the `opt` found). Order, per tool: the environment
//! variable (`$COLT_OPT`, `$COLT_CLANG`, `$COLT_LLC`, `$COLT_LLVM_LINK`, `$COLT_GCC`), then
//! `<tool>-22` on `PATH`, then the newest `<tool>-N` on `PATH` or in `/usr/lib/llvm-N/bin`,
//! then a plain `<tool>` on `PATH`. The versions found go into every report.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};

use crate::error::{LlvmError, first_line};

/// The LLVM release the environment targets.
pub const PREFERRED_MAJOR: u32 = 22;
/// The oldest LLVM accepted.
pub const MIN_MAJOR: u32 = 14;

/// The tools in use and their versions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Toolchain {
    /// `opt`.
    pub opt: PathBuf,
    /// `clang`.
    pub clang: PathBuf,
    /// `llc`.
    pub llc: PathBuf,
    /// `llvm-link`.
    pub llvm_link: PathBuf,
    /// `None` when gcc is absent (the gcc baselines are then skipped).
    pub gcc: Option<PathBuf>,
    /// First line of `--version` (or the LLVM version line) of each tool.
    pub opt_version: String,
    /// The same for `clang`.
    pub clang_version: String,
    /// The same for `llc`.
    pub llc_version: String,
    /// The same for `gcc`.
    pub gcc_version: Option<String>,
    /// Major LLVM version of `opt`.
    pub major: u32,
}

fn install_hint(tool: &str, var: &str) -> String {
    format!(
        "install LLVM {PREFERRED_MAJOR} (apt-get install llvm-{PREFERRED_MAJOR} clang-{PREFERRED_MAJOR} on Debian trixie; \
         on Debian bookworm apt-get install llvm-14 clang-14) or set ${var} to a {tool} binary; LLVM {MIN_MAJOR}+ also works"
    )
}

/// `name` resolved against `PATH` (or as given when it contains a slash).
pub fn which(name: &str) -> Option<PathBuf> {
    if name.contains('/') {
        let p = PathBuf::from(name);
        return is_executable(&p).then_some(p);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The newest `<tool>-N` on `PATH` or `/usr/lib/llvm-N/bin/<tool>` (N >= [`MIN_MAJOR`]).
pub fn newest_versioned(tool: &str) -> Option<(u32, PathBuf)> {
    let mut found: Vec<(u32, PathBuf)> = Vec::new();
    let prefix = format!("{tool}-");
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let Ok(rd) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in rd.flatten() {
                let name = e.file_name().to_string_lossy().to_string();
                if let Some(v) = name
                    .strip_prefix(&prefix)
                    .and_then(|v| v.parse::<u32>().ok())
                    && is_executable(&e.path())
                {
                    found.push((v, e.path()));
                }
            }
        }
    }
    if let Ok(rd) = std::fs::read_dir("/usr/lib") {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if let Some(v) = name
                .strip_prefix("llvm-")
                .and_then(|v| v.parse::<u32>().ok())
            {
                let p = e.path().join("bin").join(tool);
                if is_executable(&p) {
                    found.push((v, p));
                }
            }
        }
    }
    found.retain(|(v, _)| *v >= MIN_MAJOR);
    // Highest version; among equals the PATH entry (found first) wins.
    let best = found.iter().map(|(v, _)| *v).max()?;
    found.into_iter().find(|(v, _)| *v == best)
}

/// Find one tool: `$var`, `<tool>-22`, newest `<tool>-N`, plain `<tool>`.
pub fn find_tool(tool: &str, var: &str) -> Result<PathBuf, LlvmError> {
    if let Some(v) = std::env::var_os(var).filter(|v| !v.is_empty()) {
        let v = v.to_string_lossy().to_string();
        return which(&v).ok_or_else(|| LlvmError::ToolMissing {
            tool: tool.to_string(),
            hint: format!(
                "${var} is set to \"{v}\", which is not an executable; {}",
                install_hint(tool, var)
            ),
        });
    }
    if let Some(p) = which(&format!("{tool}-{PREFERRED_MAJOR}")) {
        return Ok(p);
    }
    if let Some((_, p)) = newest_versioned(tool) {
        return Ok(p);
    }
    which(tool).ok_or_else(|| LlvmError::ToolMissing {
        tool: format!("{tool}-{PREFERRED_MAJOR}"),
        hint: install_hint(tool, var),
    })
}

/// First line of `<path> --version` mentioning a version, or an error.
pub fn version_line(tool: &str, path: &Path) -> Result<String, LlvmError> {
    let out =
        Command::new(path)
            .arg("--version")
            .output()
            .map_err(|e| LlvmError::ToolUnusable {
                tool: tool.to_string(),
                path: path.to_path_buf(),
                message: format!("cannot run: {e}"),
            })?;
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| l.to_lowercase().contains("version"))
        .unwrap_or("")
        .to_string();
    if !out.status.success() || line.is_empty() {
        return Err(LlvmError::ToolUnusable {
            tool: tool.to_string(),
            path: path.to_path_buf(),
            message: format!("`--version` failed: {}", first_line(&text)),
        });
    }
    Ok(line)
}

/// The major version in a version line ("... version 14.0.6 ..." -> 14).
pub fn major_of(line: &str) -> Option<u32> {
    let i = line.to_lowercase().find("version")?;
    line[i + 7..]
        .split_whitespace()
        .next()?
        .split('.')
        .next()?
        .parse()
        .ok()
}

impl Toolchain {
    /// Find every tool (see the module doc); one clear error when a required one is missing.
    pub fn discover() -> Result<Toolchain, LlvmError> {
        let opt = find_tool("opt", "COLT_OPT")?;
        let opt_version = version_line("opt", &opt)?;
        let major = major_of(&opt_version).ok_or_else(|| LlvmError::ToolUnusable {
            tool: "opt".into(),
            path: opt.clone(),
            message: format!("no LLVM version in \"{opt_version}\""),
        })?;
        if major < MIN_MAJOR {
            return Err(LlvmError::ToolUnusable {
                tool: "opt".into(),
                path: opt,
                message: format!(
                    "LLVM {major} is too old (need {MIN_MAJOR}+; {})",
                    install_hint("opt", "COLT_OPT")
                ),
            });
        }
        let clang = find_tool("clang", "COLT_CLANG")?;
        let clang_version = version_line("clang", &clang)?;
        let llc = find_tool("llc", "COLT_LLC")?;
        let llc_version = version_line("llc", &llc)?;
        let llvm_link = find_tool("llvm-link", "COLT_LLVM_LINK")?;
        let gcc = match std::env::var_os("COLT_GCC").filter(|v| !v.is_empty()) {
            Some(v) => which(&v.to_string_lossy()),
            None => which("gcc"),
        };
        let gcc_version = gcc.as_ref().and_then(|g| {
            let out = Command::new(g).arg("--version").output().ok()?;
            Some(first_line(&String::from_utf8_lossy(&out.stdout)))
        });
        Ok(Toolchain {
            opt,
            clang,
            llc,
            llvm_link,
            gcc,
            opt_version,
            clang_version,
            llc_version,
            gcc_version,
            major,
        })
    }

    /// One line for reports: `opt <path> (<version>), clang ..., llc ..., gcc ...`.
    pub fn describe(&self) -> String {
        format!(
            "opt {} ({}); clang {} ({}); llc {} ({}); gcc {}",
            self.opt.display(),
            self.opt_version,
            self.clang.display(),
            self.clang_version,
            self.llc.display(),
            self.llc_version,
            self.gcc_version.as_deref().unwrap_or("absent")
        )
    }
}
