//! The parent side of the worker: spawn, request, deadline, respawn.
//!
//! One worker process serves requests sequentially. A reader thread turns its stdout into a
//! channel of lines so the parent can wait with a deadline (`recv_timeout`); the deadline is
//! per phase and restarts on every `progress` line. When the worker's stdout closes the
//! request is a crash (the exit signal is named, the tail of its stderr kept); when the
//! deadline passes the worker is killed and the request is a timeout. Either way the process
//! is dropped and the next request spawns a fresh one, so no kernel can take the tuner down.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use wait_timeout::ChildExt;

use crate::protocol::{Op, Reply, Request, Response};

/// Environment variable naming the worker binary.
pub const WORKER_ENV: &str = "COLT_WORKER";
/// The worker binary's file name.
pub const WORKER_BIN: &str = "colt-worker";
const STDERR_TAIL: usize = 4096;
/// Extra time a freshly spawned worker gets to send its first line.
const STARTUP_GRACE: Duration = Duration::from_secs(10);

/// How to start a worker: a program and its arguments. A binary embedding the worker (e.g. a
/// CLI with a hidden `worker` subcommand calling [`crate::worker::worker_main`]) can point
/// this at itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerCommand {
    /// The executable.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
}

/// Setup errors of the measurement side (kernels never produce these).
#[derive(Debug, thiserror::Error)]
pub enum MeasureError {
    /// The worker binary was not found.
    #[error(
        "cannot find the `{WORKER_BIN}` binary (looked at: {searched}); build it with \
         `cargo build -p colt-measure --bin {WORKER_BIN}` (add --release to match a release \
         build) or set ${WORKER_ENV} to its path"
    )]
    WorkerNotFound {
        /// The paths tried.
        searched: String,
    },
    /// Starting or talking to the worker failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// The workload's buffers do not fit in the memory available (checked before the
    /// worker allocates them).
    #[error(
        "the workload's tensors need {needed} (each buffer and its reference copy), more than the {available} of memory available"
    )]
    TooLarge {
        /// Memory needed, human-readable.
        needed: String,
        /// Memory available, human-readable.
        available: String,
    },
}

impl WorkerCommand {
    /// Run `program` without arguments.
    pub fn new(program: impl Into<PathBuf>) -> Self {
        WorkerCommand {
            program: program.into(),
            args: vec![],
        }
    }

    /// The running executable with `args`: for a binary that embeds the worker as a hidden
    /// subcommand calling [`crate::worker::worker_main`] (e.g. `colt worker`), which then
    /// needs no separate file.
    pub fn current_exe_with(args: &[&str]) -> Result<Self, MeasureError> {
        Ok(WorkerCommand {
            program: std::env::current_exe()?,
            args: args.iter().map(|a| a.to_string()).collect(),
        })
    }

    /// `$COLT_WORKER`, else `colt-worker` next to the current executable, else in its parent
    /// directory (test binaries live in `target/<profile>/deps`).
    pub fn locate() -> Result<Self, MeasureError> {
        let mut searched = vec![];
        if let Some(p) = std::env::var_os(WORKER_ENV).filter(|p| !p.is_empty()) {
            let p = PathBuf::from(p);
            if p.is_file() {
                return Ok(Self::new(p));
            }
            searched.push(format!("${WORKER_ENV}={}", p.display()));
        }
        if let Ok(exe) = std::env::current_exe() {
            let mut dir = exe.parent().map(|d| d.to_path_buf());
            for _ in 0..2 {
                let Some(d) = dir else { break };
                let candidate = d.join(WORKER_BIN);
                if candidate.is_file() {
                    return Ok(Self::new(candidate));
                }
                searched.push(candidate.display().to_string());
                dir = d.parent().map(|p| p.to_path_buf());
            }
        }
        Err(MeasureError::WorkerNotFound {
            searched: searched.join(", "),
        })
    }
}

/// What became of one request.
#[derive(Clone, Debug, PartialEq)]
pub enum RunReply {
    /// The worker answered.
    Done(Response),
    /// The worker died during the request (message names the signal or exit status).
    Crash(String),
    /// No progress within the deadline; the worker was killed.
    Timeout(String),
    /// The worker could not be started or spoke nonsense.
    Failed(String),
}

struct WorkerProcess {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<std::io::Result<String>>,
    stderr_tail: Arc<Mutex<VecDeque<u8>>>,
    stderr_done: Receiver<()>,
    served: u64,
}

impl WorkerProcess {
    fn stderr_tail(&self) -> String {
        // Let the reader drain what the dead process wrote.
        let _ = self.stderr_done.recv_timeout(Duration::from_millis(200));
        let tail = self.stderr_tail.lock().unwrap_or_else(|e| e.into_inner());
        let bytes: Vec<u8> = tail.iter().copied().collect();
        String::from_utf8_lossy(&bytes).trim().to_string()
    }

    /// Wait briefly for the exit status after stdout closed; kill if it lingers.
    fn reap(&mut self) -> Option<ExitStatus> {
        match self.child.wait_timeout(Duration::from_secs(2)) {
            Ok(Some(s)) => Some(s),
            _ => {
                let _ = self.child.kill();
                self.child.wait().ok()
            }
        }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Conventional name of a Linux signal number.
pub fn signal_name(sig: i32) -> String {
    let name = match sig {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGTRAP => "SIGTRAP",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGALRM => "SIGALRM",
        libc::SIGTERM => "SIGTERM",
        libc::SIGXCPU => "SIGXCPU",
        libc::SIGXFSZ => "SIGXFSZ",
        libc::SIGSYS => "SIGSYS",
        _ => return format!("signal {sig}"),
    };
    name.to_string()
}

/// Describe how a process ended: `killed by SIGSEGV (signal 11)` or `exited with code 3`.
pub fn describe_exit(status: Option<ExitStatus>) -> String {
    use std::os::unix::process::ExitStatusExt;
    match status {
        None => "exit status unknown".into(),
        Some(s) => match (s.signal(), s.code()) {
            (Some(sig), _) => format!("killed by {} (signal {sig})", signal_name(sig)),
            (None, Some(code)) => format!("exited with code {code}"),
            _ => s.to_string(),
        },
    }
}

/// A worker process manager.
pub struct Runner {
    command: WorkerCommand,
    env: Vec<(String, String)>,
    process: Option<WorkerProcess>,
    next_id: u64,
    /// Replace the worker after this many completed requests (bounds the number of
    /// libraries it keeps loaded). 0 = never.
    pub recycle_after: u64,
    spawns: u64,
}

impl Runner {
    /// `env` is added to the worker's environment (e.g. `OMP_NUM_THREADS`).
    pub fn new(command: WorkerCommand, env: Vec<(String, String)>) -> Self {
        Runner {
            command,
            env,
            process: None,
            next_id: 1,
            recycle_after: 2000,
            spawns: 0,
        }
    }

    /// Workers started so far.
    pub fn spawns(&self) -> u64 {
        self.spawns
    }

    fn spawn(&mut self) -> std::io::Result<WorkerProcess> {
        let mut child = crate::child::command(&self.command.program)
            .args(&self.command.args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        self.spawns += 1;
        let stdin = child.stdin.take().expect("piped");
        let stdout = child.stdout.take().expect("piped");
        let mut stderr = child.stderr.take().expect("piped");
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let stop = line.is_err();
                if tx.send(line).is_err() || stop {
                    break;
                }
            }
        });
        let stderr_tail = Arc::new(Mutex::new(VecDeque::new()));
        let tail = stderr_tail.clone();
        let (done_tx, stderr_done) = channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stderr.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let mut t = tail.lock().unwrap_or_else(|e| e.into_inner());
                t.extend(&buf[..n]);
                let excess = t.len().saturating_sub(STDERR_TAIL);
                t.drain(..excess);
            }
            let _ = done_tx.send(());
        });
        Ok(WorkerProcess {
            child,
            stdin,
            lines,
            stderr_tail,
            stderr_done,
            served: 0,
        })
    }

    fn crash_message(process: &mut WorkerProcess, phase: &str) -> String {
        let status = process.reap();
        let mut msg = format!(
            "worker {} (last completed phase: {phase})",
            describe_exit(status)
        );
        let tail = process.stderr_tail();
        if !tail.is_empty() {
            msg.push_str("; stderr: ");
            msg.push_str(&tail);
        }
        msg
    }

    /// Send one request and wait for its answer; `phase_timeout` is the longest silence
    /// allowed between two replies. A crash or timeout drops the worker (the next request
    /// spawns a fresh one).
    pub fn request(&mut self, op: Op, phase_timeout: Duration) -> RunReply {
        if let Err(msg) = self.ensure_worker() {
            return RunReply::Failed(msg);
        }
        let id = self.next_id;
        self.next_id += 1;
        let mut line = serde_json::to_vec(&Request { id, op }).expect("requests serialise");
        line.push(b'\n');
        let process = self.process.as_mut().expect("spawned");
        if process
            .stdin
            .write_all(&line)
            .and_then(|_| process.stdin.flush())
            .is_err()
        {
            let msg = Self::crash_message(process, "none, request write failed");
            self.process = None;
            return RunReply::Crash(msg);
        }
        let reply = Self::await_reply(process, id, phase_timeout);
        if !matches!(reply, RunReply::Done(_)) {
            self.process = None;
        }
        reply
    }

    /// A worker to send to: the current one, unless it has served `recycle_after`
    /// requests, else a fresh one (the error says why it cannot start).
    fn ensure_worker(&mut self) -> Result<(), String> {
        if let Some(p) = &self.process
            && self.recycle_after > 0
            && p.served >= self.recycle_after
        {
            self.shutdown();
        }
        if self.process.is_none() {
            match self.spawn() {
                Ok(p) => self.process = Some(p),
                Err(e) => {
                    return Err(format!(
                        "cannot start worker {}: {e}",
                        self.command.program.display()
                    ));
                }
            }
        }
        Ok(())
    }

    /// Read `process`'s replies until the answer to request `id` (progress lines restart the
    /// `phase_timeout` clock). Anything but [`RunReply::Done`] means the worker is gone (it
    /// crashed, or was killed for silence) and must be dropped.
    fn await_reply(process: &mut WorkerProcess, id: u64, phase_timeout: Duration) -> RunReply {
        let mut phase = String::from("none");
        // A fresh worker's first reply also waits for the process to start, which no kernel
        // controls and which a loaded machine can stretch past a short phase timeout.
        let startup = if process.served == 0 {
            STARTUP_GRACE
        } else {
            Duration::ZERO
        };
        let mut deadline = Instant::now() + phase_timeout + startup;
        let mut noise: Vec<String> = vec![];
        loop {
            let wait = deadline.saturating_duration_since(Instant::now());
            match process.lines.recv_timeout(wait) {
                Ok(Ok(text)) => {
                    let reply: Reply = match serde_json::from_str(&text) {
                        Ok(r) => r,
                        Err(_) => {
                            if noise.len() < 4 {
                                noise.push(text.chars().take(200).collect());
                            }
                            continue;
                        }
                    };
                    if reply.id != id && reply.id != 0 {
                        continue; // stale answer to an abandoned request
                    }
                    if let Some(p) = reply.progress {
                        phase = p;
                        deadline = Instant::now() + phase_timeout;
                    }
                    if let Some(done) = reply.done {
                        process.served += 1;
                        return RunReply::Done(done);
                    }
                }
                Ok(Err(_)) | Err(RecvTimeoutError::Disconnected) => {
                    let mut msg = Self::crash_message(process, &phase);
                    if !noise.is_empty() {
                        msg.push_str(&format!("; unparsed output: {noise:?}"));
                    }
                    return RunReply::Crash(msg);
                }
                Err(RecvTimeoutError::Timeout) => {
                    process.kill();
                    let msg = format!(
                        "no progress for {:.3} s (last completed phase: {phase}); worker killed",
                        phase_timeout.as_secs_f64()
                    );
                    return RunReply::Timeout(msg);
                }
            }
        }
    }

    /// Ask the worker to exit (killing it if it does not within a second).
    pub fn shutdown(&mut self) {
        if let Some(mut p) = self.process.take() {
            let line = serde_json::to_vec(&Request {
                id: 0,
                op: Op::Shutdown,
            })
            .expect("serialise");
            let _ = p
                .stdin
                .write_all(&line)
                .and_then(|_| p.stdin.write_all(b"\n"));
            let _ = p.stdin.flush();
            match p.child.wait_timeout(Duration::from_secs(1)) {
                Ok(Some(_)) => {}
                _ => p.kill(),
            }
        }
    }
}

impl Drop for Runner {
    fn drop(&mut self) {
        self.shutdown();
    }
}
