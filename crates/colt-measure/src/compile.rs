//! Compiling C kernels to shared objects.
//!
//! Each source is compiled to `<dir>/<hash>.so` where the hash covers the compiler identity
//! (`cc --version`), the flags, the symbol and the code; an existing file is reused. The
//! object is written under a temporary name and renamed, so a concurrent compile of the same
//! source never exposes a half-written file. Several sources compile in parallel on scoped
//! threads, capped at the available cores.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use wait_timeout::ChildExt;

/// The default exported symbol of a kernel.
pub const DEFAULT_SYMBOL: &str = "colt_kernel";
/// Environment variable naming the clang used by [`Compiler::clang_o3`] (tried first).
pub const CLANG_ENV: &str = "COLT_CLANG";
/// The clang tried after `$COLT_CLANG` (then plain `clang`).
pub const DEFAULT_CLANG: &str = "clang-22";
/// Compiler stderr kept in errors, in bytes.
pub const STDERR_LIMIT: usize = 4096;

/// A C11 translation unit exporting `void <symbol>(float* const* bufs)`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Source {
    /// The C code.
    pub code: String,
    /// The exported function's name.
    pub symbol: String,
}

impl Source {
    /// A source exporting the default symbol `colt_kernel`.
    pub fn new(code: impl Into<String>) -> Self {
        Source {
            code: code.into(),
            symbol: DEFAULT_SYMBOL.to_string(),
        }
    }
    /// A source exporting `symbol`.
    pub fn with_symbol(code: impl Into<String>, symbol: impl Into<String>) -> Self {
        Source {
            code: code.into(),
            symbol: symbol.into(),
        }
    }
}

/// A C compiler command and its flags (the source, `-o` and `-lm` are added).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Compiler {
    /// The compiler command (`clang-22`, `gcc`, a path).
    pub cc: String,
    /// Its flags (`-O3 -march=native ...`).
    pub flags: Vec<String>,
}

/// Wall-clock limit for one compile.
pub const COMPILE_TIMEOUT: Duration = Duration::from_secs(60);

const SHARED: &[&str] = &["-fPIC", "-shared"];
const NAIVE_FLAGS: &[&str] = &["-O3", "-march=native", "-fPIC", "-shared", "-std=gnu11"];

fn default_cc() -> String {
    std::env::var("CC")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "cc".into())
}

/// The environment variable naming the target CPU of every kernel compile (`-march=`):
/// `native` when unset. `COLT_MARCH=haswell` on an AVX-512 machine restricts colt's kernels
/// (and the machine probe) to AVX2, to see how a schedule fares on that ISA.
pub const MARCH_ENV: &str = "COLT_MARCH";

/// `-march=$COLT_MARCH`, else `-march=native`.
pub fn march_flag() -> String {
    format!("-march={}", march_cpu().as_deref().unwrap_or("native"))
}

/// The CPU `$COLT_MARCH` names, or `None` when it is unset, empty or `native`.
pub fn march_cpu() -> Option<String> {
    cpu_of(std::env::var(MARCH_ENV).ok().as_deref())
}

fn cpu_of(value: Option<&str>) -> Option<String> {
    value
        .map(str::trim)
        .filter(|s| !s.is_empty() && *s != "native")
        .map(str::to_string)
}

/// The flags, with `-march=native` replaced by [`march_flag`].
fn strings(xs: &[&str]) -> Vec<String> {
    let march = march_flag();
    xs.iter()
        .map(|s| {
            if *s == "-march=native" {
                march.clone()
            } else {
                s.to_string()
            }
        })
        .collect()
}

impl Default for Compiler {
    fn default() -> Self {
        Compiler::tuned()
    }
}

impl Compiler {
    /// `$CC` (or `cc`) with [`colt_codegen::C_FLAGS`] and `-fPIC -shared`.
    pub fn tuned() -> Self {
        Compiler {
            cc: default_cc(),
            flags: strings(&[colt_codegen::C_FLAGS, SHARED].concat()),
        }
    }
    /// `$CC` (or `cc`) with `-O3 -march=native -fPIC -shared -std=gnu11`.
    pub fn naive() -> Self {
        Compiler {
            cc: default_cc(),
            flags: strings(NAIVE_FLAGS),
        }
    }
    /// The "GCC -O3" baseline: `gcc` with the naive flags.
    pub fn gcc_o3() -> Self {
        Compiler::naive().with_cc("gcc")
    }
    /// The "LLVM -O3" baseline: the naive flags with the first clang found among
    /// `$COLT_CLANG`, `clang-22` and `clang`. When none runs, the compiler is named
    /// `clang-22` and every compile with it is a [`CompileError::CompilerNotFound`]
    /// (measured as [`crate::OutcomeKind::Unavailable`], never a crash).
    pub fn clang_o3() -> Self {
        let from_env = std::env::var(CLANG_ENV)
            .ok()
            .filter(|s| !s.trim().is_empty());
        let mut names: Vec<String> = from_env.into_iter().collect();
        names.extend([DEFAULT_CLANG.to_string(), "clang".to_string()]);
        Compiler::naive().with_first_available(&names)
    }

    /// This compiler with `cc` set to the first of `names` that runs (`--version`), or to
    /// the first name when none does (its compiles then report it as not usable).
    pub fn with_first_available(self, names: &[String]) -> Self {
        let found = names
            .iter()
            .find(|cc| self.clone().with_cc(cc.as_str()).probe().is_ok());
        match found.or(names.first()) {
            Some(cc) => self.with_cc(cc.as_str()),
            None => self,
        }
    }
    /// The same flags with another compiler.
    pub fn with_cc(mut self, cc: impl Into<String>) -> Self {
        self.cc = cc.into();
        self
    }
    /// Builder: append a flag.
    pub fn with_flag(mut self, flag: impl Into<String>) -> Self {
        self.flags.push(flag.into());
        self
    }

    /// The first line of `cc --version`, memoised per process; a clear error when the
    /// compiler cannot be run.
    pub fn probe(&self) -> Result<String, CompileError> {
        static CACHE: OnceLock<Mutex<BTreeMap<String, Result<String, String>>>> = OnceLock::new();
        let cache = CACHE.get_or_init(|| Mutex::new(BTreeMap::new()));
        let mut guard = cache.lock().unwrap_or_else(|e| e.into_inner());
        let entry = guard.entry(self.cc.clone()).or_insert_with(|| {
            match crate::child::command(&self.cc)
                .arg("--version")
                .stdin(Stdio::null())
                .output()
            {
                Ok(out) if out.status.success() => Ok(String::from_utf8_lossy(&out.stdout)
                    .lines()
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_string()),
                Ok(out) => Err(format!(
                    "`{} --version` exited with {}",
                    self.cc, out.status
                )),
                Err(e) => Err(format!("cannot run `{}`: {e}", self.cc)),
            }
        });
        entry
            .clone()
            .map_err(|reason| CompileError::CompilerNotFound {
                cc: self.cc.clone(),
                reason,
                hint: compiler_hint(&self.cc),
            })
    }
}

fn compiler_hint(cc: &str) -> String {
    if cc.contains("clang") {
        format!(
            "install it (e.g. `apt-get install {cc}`) or name another clang with ${CLANG_ENV} \
             / Compiler::with_cc"
        )
    } else {
        "install a C compiler or set $CC / Compiler::with_cc".into()
    }
}

/// A compiled kernel.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Artifact {
    /// The shared object.
    pub path: PathBuf,
    /// The exported function's name.
    pub symbol: String,
    /// Hex content hash (compiler identity, flags, symbol, code).
    pub hash: String,
    /// True when an existing object was reused.
    pub cached: bool,
    /// Wall time of the compile (0 when cached).
    pub compile_ms: f64,
}

/// Why a source did not compile.
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    /// The compiler cannot be run.
    #[error("C compiler `{cc}` not usable ({reason}); {hint}")]
    CompilerNotFound {
        /// The compiler command.
        cc: String,
        /// Why it cannot be run.
        reason: String,
        /// How to install or choose one.
        hint: String,
    },
    /// The compiler rejected the source.
    #[error("`{cc}` failed ({status}):\n{stderr}")]
    Failed {
        /// The compiler command.
        cc: String,
        /// Its exit status.
        status: String,
        /// Its error output, cut to [`STDERR_LIMIT`] bytes.
        stderr: String,
    },
    /// The compile ran past [`COMPILE_TIMEOUT`].
    #[error("`{cc}` timed out after {secs} s")]
    Timeout {
        /// The compiler command.
        cc: String,
        /// The limit in seconds.
        secs: f64,
    },
    /// A file of the compile could not be read or written.
    #[error("i/o error on {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// 128-bit FNV-1a-style hash as hex (two independent 64-bit lanes); stable across versions.
pub fn content_hash(parts: &[&[u8]]) -> String {
    let mut a: u64 = 0xcbf2_9ce4_8422_2325;
    let mut b: u64 = 0x6c62_272e_07bb_0142;
    for part in parts {
        for &byte in part.iter().chain(&(part.len() as u64).to_le_bytes()) {
            a = (a ^ byte as u64).wrapping_mul(0x0000_0100_0000_01b3);
            b = (b ^ byte as u64)
                .wrapping_mul(0x0000_0100_0000_01b3)
                .rotate_left(5);
        }
    }
    format!(
        "{:016x}{:016x}",
        crate::inputs::mix64(a),
        crate::inputs::mix64(b ^ a)
    )
}

fn truncate(s: &str, limit: usize) -> String {
    if s.len() <= limit {
        return s.to_string();
    }
    let mut end = limit;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}\n... ({} bytes truncated)", &s[..end], s.len() - end)
}

/// [`crate::child::remove_stale_tmp`] of `dir`, the first time this process compiles there.
fn remove_stale_tmp_once(dir: &Path) {
    static SEEN: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());
    let first = SEEN
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(dir.to_path_buf());
    if first {
        crate::child::remove_stale_tmp(dir);
    }
}

/// Compile one source into `dir` (created if needed).
pub fn compile(source: &Source, compiler: &Compiler, dir: &Path) -> Result<Artifact, CompileError> {
    let version = compiler.probe()?;
    compile_with_version(source, compiler, &version, dir)
}

fn compile_with_version(
    source: &Source,
    compiler: &Compiler,
    version: &str,
    dir: &Path,
) -> Result<Artifact, CompileError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| CompileError::Io { path, source }
    };
    let flags = compiler.flags.join("\u{1f}");
    let hash = content_hash(&[
        compiler.cc.as_bytes(),
        version.as_bytes(),
        flags.as_bytes(),
        source.symbol.as_bytes(),
        source.code.as_bytes(),
    ]);
    let so = dir.join(format!("{hash}.so"));
    if so.is_file() {
        return Ok(Artifact {
            path: so,
            symbol: source.symbol.clone(),
            hash,
            cached: true,
            compile_ms: 0.0,
        });
    }
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    remove_stale_tmp_once(dir);
    let c_path = dir.join(format!("{hash}.c"));
    std::fs::write(&c_path, &source.code).map_err(io(&c_path))?;
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let tmp = dir.join(format!(
        "{hash}.so.tmp.{}.{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let compile_ms = run_compiler(compiler, &c_path, &tmp)?;
    let renamed = std::fs::rename(&tmp, &so);
    match &renamed {
        Ok(()) => crate::child::untrack_tmp(&tmp),
        Err(_) => crate::child::discard_tmp(&tmp),
    }
    renamed.map_err(io(&so))?;
    Ok(Artifact {
        path: so,
        symbol: source.symbol.clone(),
        hash,
        cached: false,
        compile_ms,
    })
}

/// Run `compiler` on `c_path` into `tmp` (tracked while it exists; discarded when the
/// compiler fails or times out); the compile time in ms.
fn run_compiler(compiler: &Compiler, c_path: &Path, tmp: &Path) -> Result<f64, CompileError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| CompileError::Io { path, source }
    };
    let start = Instant::now();
    crate::child::track_tmp(tmp);
    let mut cmd = crate::child::command(&compiler.cc);
    cmd.args(&compiler.flags)
        .arg("-o")
        .arg(tmp)
        .arg(c_path)
        .arg("-lm")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    // Its own process group: a timeout kills cc1 and as with the driver.
    let mut group = crate::child::GroupChild::spawn(&mut cmd).map_err(|e| {
        crate::child::untrack_tmp(tmp);
        CompileError::CompilerNotFound {
            cc: compiler.cc.clone(),
            reason: e.to_string(),
            hint: compiler_hint(&compiler.cc),
        }
    })?;
    let child = &mut group.child;
    let mut stderr_pipe = child.stderr.take().expect("piped stderr");
    let reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stderr_pipe.read_to_end(&mut buf);
        buf
    });
    let status = match child.wait_timeout(COMPILE_TIMEOUT).map_err(io(tmp))? {
        Some(status) => status,
        None => {
            group.kill_group();
            crate::child::discard_tmp(tmp);
            return Err(CompileError::Timeout {
                cc: compiler.cc.clone(),
                secs: COMPILE_TIMEOUT.as_secs_f64(),
            });
        }
    };
    let stderr = String::from_utf8_lossy(&reader.join().unwrap_or_default()).into_owned();
    let compile_ms = start.elapsed().as_secs_f64() * 1e3;
    drop(group);
    if !status.success() {
        crate::child::discard_tmp(tmp);
        return Err(CompileError::Failed {
            cc: compiler.cc.clone(),
            status: status.to_string(),
            stderr: truncate(&stderr, STDERR_LIMIT),
        });
    }
    Ok(compile_ms)
}

/// Threads used for parallel compiles: the available cores.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// Compile several sources with one compiler in parallel; results in input order.
pub fn compile_batch(
    sources: &[Source],
    compiler: &Compiler,
    dir: &Path,
) -> Vec<Result<Artifact, CompileError>> {
    let jobs: Vec<(&Source, &Compiler)> = sources.iter().map(|s| (s, compiler)).collect();
    compile_jobs(&jobs, dir, default_jobs())
}

/// Compile `(source, compiler)` pairs on at most `threads` threads; results in input order.
pub fn compile_jobs(
    jobs: &[(&Source, &Compiler)],
    dir: &Path,
    threads: usize,
) -> Vec<Result<Artifact, CompileError>> {
    let n = jobs.len();
    let mut slots: Vec<Mutex<Option<Result<Artifact, CompileError>>>> =
        (0..n).map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let threads = threads.clamp(1, n.max(1));
    let work = || {
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= n {
                break;
            }
            let (source, compiler) = jobs[i];
            let result = compiler
                .probe()
                .and_then(|v| compile_with_version(source, compiler, &v, dir));
            *slots[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(result);
        }
    };
    if threads == 1 {
        work();
    } else {
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(work);
            }
        });
    }
    slots
        .iter_mut()
        .map(|m| {
            m.get_mut()
                .unwrap_or_else(|e| e.into_inner())
                .take()
                .unwrap_or_else(|| {
                    Err(CompileError::Failed {
                        cc: String::new(),
                        status: "not run".into(),
                        stderr: "compile thread panicked".into(),
                    })
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_target_cpu_is_native_unless_colt_march_names_one() {
        assert_eq!(cpu_of(None), None);
        assert_eq!(cpu_of(Some("  ")), None);
        assert_eq!(cpu_of(Some("native")), None);
        assert_eq!(cpu_of(Some(" haswell ")).as_deref(), Some("haswell"));
        if std::env::var_os(MARCH_ENV).is_none() {
            assert!(
                Compiler::tuned()
                    .flags
                    .contains(&"-march=native".to_string())
            );
            assert!(
                Compiler::naive()
                    .flags
                    .contains(&"-march=native".to_string())
            );
        }
    }
}
