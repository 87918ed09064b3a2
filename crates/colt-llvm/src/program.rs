//! Programs to tune: one or more C files (or an `.ll` file) with their build and run options
//! ([`RunOptions`]), prepared once: the start IR, the `-O0` build's output (the reference
//! every candidate must reproduce, as far as the output check goes) and a private work
//! directory.
//!
//! Start IR: `clang -O2 -Xclang -disable-llvm-passes -emit-llvm -S` per C file, joined with
//! `llvm-link` when there are several. Not `-O0`, which marks every function `optnone`, and
//! not `-O1` either: clang's `-O1` front end tags every loop `llvm.loop.unroll.disable`
//! (found on LLVM 14: it made `loop-unroll` a no-op and cost 5x on a stencil). The `-O2`
//! and `-O3` front ends emit the same IR. For the `size` objective the front end is `-Oz`'s
//! ([`start_flags`]): it marks every function `optsize minsize`, as `clang -Oz` does, so
//! that a candidate and `clang -Oz` are compared like for like.
//!
//! Codegen is the same for every build that is compared — candidates and the clang
//! baselines alike: the IR goes through `llc -O3 -filetype=obj -relocation-model=pic`
//! ([`CODEGEN_FLAGS`]) and the object is linked by clang (`-lm`). So the only difference
//! between two builds is the IR pass pipeline. (gcc baselines are gcc end to end.)

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use colt_search::OutcomeKind;
use serde::{Deserialize, Serialize};

use crate::env::Objective;
use crate::error::{LlvmError, first_line};
use crate::ir;
use crate::run::{Digester, LineFilter, Output, RunOptions};
use crate::tools::Toolchain;

/// clang flags of the start IR (see the module doc).
pub const START_FLAGS: &[&str] = &[
    "-O2",
    "-Xclang",
    "-disable-llvm-passes",
    "-emit-llvm",
    "-S",
    "-w",
];

/// clang flags of the start IR for `objective` (see the module doc).
pub fn start_flags(objective: Objective) -> Vec<&'static str> {
    let mut f = START_FLAGS.to_vec();
    if objective == Objective::Size {
        f[0] = "-Oz";
    }
    f
}

/// `llc` flags of every compared build.
pub const CODEGEN_FLAGS: &[&str] = &["-O3", "-filetype=obj", "-relocation-model=pic"];

/// Where a program comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Source {
    /// C files on disk (one of them defines `main`).
    CFiles(Vec<PathBuf>),
    /// An LLVM IR file on disk (no C baselines for gcc).
    Ll(PathBuf),
    /// C code held in memory (the benchmark programs).
    Embedded(String),
}

/// A program: a name, its source and how it is built and run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Program {
    /// Name, for reports and work directories.
    pub name: String,
    /// Where the code is.
    pub source: Source,
    /// Flags, arguments, standard input and output check.
    #[serde(default)]
    pub options: RunOptions,
}

impl Program {
    /// A program from files: `.c` files (several allowed) or one `.ll` file.
    pub fn from_files(files: &[PathBuf]) -> Result<Program, LlvmError> {
        let first = files.first().ok_or_else(|| LlvmError::Program {
            name: "?".into(),
            message: "no source file given".into(),
        })?;
        let name = first
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_else(|| "program".into());
        for f in files {
            if !f.is_file() {
                return Err(LlvmError::Program {
                    name,
                    message: format!("{} is not a readable file", f.display()),
                });
            }
        }
        let ext = |f: &PathBuf| {
            f.extension()
                .map(|e| e.to_string_lossy().to_string())
                .unwrap_or_default()
        };
        if files.iter().all(|f| ext(f) == "c") {
            return Ok(Program {
                name,
                source: Source::CFiles(files.to_vec()),
                options: RunOptions::default(),
            });
        }
        if files.len() == 1 && ext(first) == "ll" {
            return Ok(Program {
                name,
                source: Source::Ll(first.clone()),
                options: RunOptions::default(),
            });
        }
        Err(LlvmError::Program {
            name,
            message: "expected one or more .c files, or one .ll file".into(),
        })
    }

    /// A program from C code in memory.
    pub fn embedded(name: &str, code: &str) -> Program {
        Program {
            name: name.to_string(),
            source: Source::Embedded(code.to_string()),
            options: RunOptions::default(),
        }
    }

    /// The same program built and run with `options` (a bad output check or a missing
    /// standard-input file is an error).
    pub fn with_options(mut self, options: RunOptions) -> Result<Program, LlvmError> {
        options.check.compile()?;
        if let Some(p) = &options.stdin
            && !p.is_file()
        {
            return Err(LlvmError::BadOption {
                option: "--stdin".into(),
                message: format!("{} is not a readable file", p.display()),
            });
        }
        self.options = options;
        Ok(self)
    }
}

/// A private directory, removed when dropped.
#[derive(Debug)]
pub struct WorkDir(pub PathBuf);

impl WorkDir {
    /// A new directory under the system temp directory; `tag` becomes part of its name.
    pub fn new(tag: &str) -> Result<WorkDir, LlvmError> {
        static N: AtomicU64 = AtomicU64::new(0);
        let safe: String = tag
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let p = std::env::temp_dir().join(format!(
            "colt-llvm-{}-{}-{safe}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&p).map_err(|e| LlvmError::io(&p, e))?;
        Ok(WorkDir(p))
    }
    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Run a tool to completion; its stdout, or a one-line error.
pub fn run_tool(tool: &str, cmd: &mut Command) -> Result<Vec<u8>, LlvmError> {
    let out = cmd.output().map_err(|e| LlvmError::ToolFailed {
        tool: tool.to_string(),
        message: format!("cannot start: {e}"),
    })?;
    if !out.status.success() {
        return Err(LlvmError::ToolFailed {
            tool: tool.to_string(),
            message: first_line(&String::from_utf8_lossy(&out.stderr)),
        });
    }
    Ok(out.stdout)
}

/// How one run of an executable ended.
#[derive(Clone, Debug, PartialEq)]
pub enum RunEnd {
    /// Exited (status code) with this output; `cpu` is the child's user + system CPU time,
    /// `elapsed` its wall time, `max_rss_kib` its peak resident memory.
    Exited {
        /// Exit status (`None`: killed by a signal).
        code: Option<i32>,
        /// What it printed, as the output check sees it.
        output: Output,
        /// Wall time.
        elapsed: Duration,
        /// User + system CPU time.
        cpu: Duration,
        /// Peak resident set size in KiB (`ru_maxrss`).
        max_rss_kib: u64,
    },
    /// Killed at the time limit.
    TimedOut,
}

/// Run `exe` with the arguments and standard input of `opts` and a time limit (killed when
/// it passes); its output streams through `filter` (see [`crate::run`]). The child is reaped
/// with `wait4` to read its own CPU time and peak memory: on a shared machine wall time
/// mostly measures the other tenants, CPU time the program.
pub fn run_exe(
    exe: &Path,
    opts: &RunOptions,
    filter: &LineFilter,
    limit: Duration,
) -> Result<RunEnd, LlvmError> {
    let stdin = match &opts.stdin {
        Some(p) => Stdio::from(std::fs::File::open(p).map_err(|e| LlvmError::io(p, e))?),
        None => Stdio::null(),
    };
    let start = Instant::now();
    let mut child = Command::new(exe)
        .args(&opts.args)
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| LlvmError::io(exe, e))?;
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if rx.recv_timeout(limit).is_err() {
            // SAFETY: kill(2) on the child's pid: the child is not reaped before this thread
            // has answered (the main thread joins it first), so the pid is still ours.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
            return true;
        }
        false
    });
    let mut digester = Digester::new(filter);
    if let Some(mut s) = child.stdout.take() {
        use std::io::Read;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match s.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => digester.feed(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
        }
    }
    let output = digester.finish();
    // Stdout is closed: the child is exiting (or was killed). Wait for its exit without
    // reaping it (so the watchdog can never signal a recycled pid), stop the watchdog, then
    // reap it with its resource usage.
    wait_for_exit(pid);
    let elapsed = start.elapsed();
    let _ = tx.send(());
    let killed = watchdog.join().unwrap_or(false);
    let (status, usage) = reap(pid).map_err(|e| LlvmError::io(exe, e))?;
    if killed {
        return Ok(RunEnd::TimedOut);
    }
    let tv = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    let cpu = tv(usage.ru_utime) + tv(usage.ru_stime);
    let code = if libc::WIFEXITED(status) {
        Some(libc::WEXITSTATUS(status))
    } else {
        None
    };
    drop(child);
    Ok(RunEnd::Exited {
        code,
        output,
        elapsed,
        cpu,
        max_rss_kib: u64::try_from(usage.ru_maxrss).unwrap_or(0),
    })
}

/// Wait until child `pid` has exited, without reaping it.
fn wait_for_exit(pid: u32) {
    loop {
        // SAFETY: an all-zero siginfo_t is valid to be overwritten by waitid.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: waitid on our own, not yet reaped child with a valid pointer.
        let r = unsafe {
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOWAIT,
            )
        };
        if r == -1 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
            continue;
        }
        break;
    }
}

/// Reap child `pid`: its wait status and resource usage.
fn reap(pid: u32) -> std::io::Result<(libc::c_int, libc::rusage)> {
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero rusage is a valid value to be overwritten by wait4.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: wait4 on our own child's pid with valid pointers.
        let r = unsafe { libc::wait4(pid as libc::pid_t, &mut status, 0, &mut usage) };
        if r == -1 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        return Ok((status, usage));
    }
}

/// A program ready to tune.
#[derive(Debug)]
pub struct Prepared {
    /// The program's name.
    pub name: String,
    /// The work directory holding its files.
    pub dir: WorkDir,
    /// C files for the clang/gcc baselines (written out for embedded code; empty for `.ll`).
    pub c_files: Vec<PathBuf>,
    /// The starting IR as text (clang with [`START_FLAGS`], parts linked).
    pub start_ll: String,
    /// FNV-1a hash of the starting IR.
    pub start_hash: u64,
    /// Output of the `-O0` build: what every candidate must print (as far as the output
    /// check goes).
    pub expected: Output,
    /// How it is built and run.
    pub options: RunOptions,
    /// The output check, ready to use.
    pub filter: LineFilter,
    /// The front end's optimisation level of the start IR (see [`start_flags`]).
    pub objective: Objective,
    /// Run time of the `-O0` build (µs, one run): the basis of the time limit.
    pub o0_us: f64,
}

impl Prepared {
    /// Build the start IR (front end chosen by `objective`, see [`start_flags`]) and the
    /// reference output.
    pub fn new(
        tools: &Toolchain,
        program: &Program,
        objective: Objective,
    ) -> Result<Prepared, LlvmError> {
        let filter = program.options.check.compile()?;
        let dir = WorkDir::new(&program.name)?;
        let perr = |m: String| program_error(program, m);
        let c_files: Vec<PathBuf> = match &program.source {
            Source::CFiles(fs) => fs.clone(),
            Source::Ll(_) => Vec::new(),
            Source::Embedded(code) => {
                let p = dir.path().join(format!("{}.c", program.name));
                std::fs::write(&p, code).map_err(|e| LlvmError::io(&p, e))?;
                vec![p]
            }
        };
        let start_path = dir.path().join("start.ll");
        if let Source::Ll(p) = &program.source {
            std::fs::copy(p, &start_path).map_err(|e| LlvmError::io(p, e))?;
        } else {
            compile_start_ll(tools, program, objective, &dir, &c_files, &start_path)?;
        }
        let start_ll =
            std::fs::read_to_string(&start_path).map_err(|e| LlvmError::io(&start_path, e))?;
        if !start_ll
            .lines()
            .any(|l| l.starts_with("define") && l.contains("@main("))
        {
            return Err(perr(
                "no main function (the program must print its result from main)".into(),
            ));
        }
        let (expected, o0_us) =
            reference_run(tools, program, &filter, &dir, &c_files, &start_path)?;
        let start_hash = ir::fnv1a(start_ll.as_bytes());
        Ok(Prepared {
            name: program.name.clone(),
            dir,
            c_files,
            start_ll,
            start_hash,
            expected,
            options: program.options.clone(),
            filter,
            objective,
            o0_us,
        })
    }

    /// Where the starting IR is written.
    pub fn start_path(&self) -> PathBuf {
        self.dir.path().join("start.ll")
    }

    /// Time limit of one candidate run: generous against the -O0 run.
    pub fn run_limit(&self) -> Duration {
        Duration::from_secs_f64((self.o0_us * 1e-6 * 10.0 + 2.0).min(300.0))
    }
}

/// An error about `program`.
fn program_error(program: &Program, message: String) -> LlvmError {
    LlvmError::Program {
        name: program.name.clone(),
        message,
    }
}

/// Compile the C files to IR ([`start_flags`] and the program's cflags) and link them into
/// `start_path`.
fn compile_start_ll(
    tools: &Toolchain,
    program: &Program,
    objective: Objective,
    dir: &WorkDir,
    c_files: &[PathBuf],
    start_path: &Path,
) -> Result<(), LlvmError> {
    let perr = |m: String| program_error(program, m);
    let mut parts = Vec::new();
    for (i, c) in c_files.iter().enumerate() {
        let out = dir.path().join(format!("part{i}.ll"));
        run_tool(
            "clang",
            Command::new(&tools.clang)
                .args(start_flags(objective))
                .args(&program.options.cflags)
                .arg(c)
                .arg("-o")
                .arg(&out),
        )
        .map_err(|e| perr(e.to_string()))?;
        parts.push(out);
    }
    join_ll(tools, &parts, start_path, |e| perr(e.to_string()))
}

/// One `.ll` file at `out` from the per-C-file `parts`: the single part moved there, or
/// all of them joined by `llvm-link` (its failure passed through `link_err`).
pub(crate) fn join_ll(
    tools: &Toolchain,
    parts: &[PathBuf],
    out: &Path,
    link_err: impl FnOnce(LlvmError) -> LlvmError,
) -> Result<(), LlvmError> {
    if parts.len() == 1 {
        std::fs::rename(&parts[0], out).map_err(|e| LlvmError::io(out, e))?;
    } else {
        run_tool(
            "llvm-link",
            Command::new(&tools.llvm_link)
                .arg("-S")
                .args(parts)
                .arg("-o")
                .arg(out),
        )
        .map_err(link_err)?;
    }
    Ok(())
}

/// The reference: the -O0 build (of the C files, else of the start IR), run once. Its
/// output, whose checked part must not be empty, and its run time in µs.
fn reference_run(
    tools: &Toolchain,
    program: &Program,
    filter: &LineFilter,
    dir: &WorkDir,
    c_files: &[PathBuf],
    start_path: &Path,
) -> Result<(Output, f64), LlvmError> {
    let perr = |m: String| program_error(program, m);
    let ref_exe = dir.path().join("ref-O0");
    let mut cmd = Command::new(&tools.clang);
    cmd.args(["-O0", "-w"]);
    if c_files.is_empty() {
        cmd.arg(start_path);
    } else {
        cmd.args(&program.options.cflags).args(c_files);
    }
    cmd.arg("-lm").args(&program.options.ldflags);
    run_tool("clang", cmd.arg("-o").arg(&ref_exe)).map_err(|e| perr(e.to_string()))?;
    let ended = run_exe(&ref_exe, &program.options, filter, Duration::from_secs(120))?;
    let (expected, o0_us) = match ended {
        RunEnd::Exited {
            code: Some(0),
            output,
            elapsed,
            ..
        } => (output, elapsed.as_secs_f64() * 1e6),
        RunEnd::Exited { code, .. } => {
            return Err(perr(format!("the -O0 build exited with {code:?}")));
        }
        RunEnd::TimedOut => return Err(perr("the -O0 build ran longer than 120 s".into())),
    };
    if expected.bytes == 0 {
        return Err(perr(
            "the -O0 build printed nothing (print a checksum so that results can be checked)"
                .into(),
        ));
    }
    if expected.checked_lines == 0 {
        return Err(perr(format!(
            "the output check leaves no line of the -O0 build's output to check (it printed \"{}\")",
            expected.first_line()
        )));
    }
    Ok((expected, o0_us))
}

/// An executable built from IR and the `.text` bytes of its object.
#[derive(Debug)]
pub struct Built {
    /// The executable.
    pub exe: PathBuf,
    /// `.text` bytes of the object, if it could be read.
    pub text_bytes: Option<u64>,
}

/// IR file -> object (`llc` with [`CODEGEN_FLAGS`]) -> executable (clang link, with
/// `ldflags`).
pub fn build_from_ll(
    tools: &Toolchain,
    ll: &Path,
    stem: &Path,
    ldflags: &[String],
) -> Result<Built, LlvmError> {
    let obj = stem.with_extension("o");
    let exe = stem.with_extension("exe");
    run_tool(
        "llc",
        Command::new(&tools.llc)
            .args(CODEGEN_FLAGS)
            .arg(ll)
            .arg("-o")
            .arg(&obj),
    )?;
    run_tool(
        "clang",
        Command::new(&tools.clang)
            .arg(&obj)
            .arg("-lm")
            .args(ldflags)
            .arg("-o")
            .arg(&exe),
    )?;
    let bytes = std::fs::read(&obj).map_err(|e| LlvmError::io(&obj, e))?;
    Ok(Built {
        exe,
        text_bytes: ir::elf_text_bytes(&bytes),
    })
}

/// Medians over the timed runs of one executable.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RunStats {
    /// User + system CPU time, µs.
    pub cpu_us: f64,
    /// Peak resident memory, KiB.
    pub max_rss_kib: f64,
}

/// Why a run does not count.
#[derive(Clone, Debug, PartialEq)]
pub enum Check {
    /// Correct output; the medians of the runs.
    Ok(RunStats),
    /// Output differs from the `-O0` build; how.
    WrongAnswer(String),
    /// Nonzero exit or signal; how.
    Crash(String),
    /// Ran past the time limit.
    Timeout,
}

impl Check {
    /// The outcome class of the check and what went wrong (empty for `Ok`).
    pub fn outcome(self) -> (OutcomeKind, String) {
        match self {
            Check::Ok(_) => (OutcomeKind::Ok, String::new()),
            Check::WrongAnswer(m) => (OutcomeKind::WrongResult, m),
            Check::Crash(m) => (OutcomeKind::Crash, m),
            Check::Timeout => (OutcomeKind::Timeout, "ran past the time limit".into()),
        }
    }
}

/// Run `exe` `repeats` times (at least once) as `prog` says (arguments, standard input);
/// every run's output must agree with the `-O0` build's for the output check. The medians
/// of CPU time and peak memory when all agree.
pub fn check_and_time(exe: &Path, prog: &Prepared, repeats: usize) -> Result<Check, LlvmError> {
    let (mut times, mut rss) = (Vec::new(), Vec::new());
    for _ in 0..repeats.max(1) {
        match run_exe(exe, &prog.options, &prog.filter, prog.run_limit())? {
            RunEnd::TimedOut => return Ok(Check::Timeout),
            RunEnd::Exited {
                code,
                output,
                cpu,
                max_rss_kib,
                ..
            } => {
                if code != Some(0) {
                    return Ok(Check::Crash(format!("exit status {code:?}")));
                }
                if !output.same(&prog.expected) {
                    return Ok(Check::WrongAnswer(format!(
                        "printed \"{}\" ({} bytes), the -O0 build printed \"{}\" ({} bytes)",
                        output.first_line(),
                        output.bytes,
                        prog.expected.first_line(),
                        prog.expected.bytes
                    )));
                }
                times.push(cpu.as_secs_f64() * 1e6);
                rss.push(max_rss_kib as f64);
            }
        }
    }
    Ok(Check::Ok(RunStats {
        cpu_us: median(&mut times),
        max_rss_kib: median(&mut rss),
    }))
}

/// Median of `xs` (sorted in place); NaN when empty.
pub fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}
