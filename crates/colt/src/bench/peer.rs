//! The peers of `colt bench`, run through Python: TVM MetaSchedule (from the virtualenv that
//! scripts/setup-tvm installs) and numpy/OpenBLAS. The peer script (bench/tvm_peer.py) is
//! embedded in the binary and written to the cache directory before it runs, so an installed
//! `colt` needs no checkout; TVM stays a benchmark peer, never a dependency of colt.
//!
//! A peer that cannot run is *skipped* with its reason, one that runs and fails (or whose
//! kernel does not match numpy) is *failed*: both leave every number null, never a guess.

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// The peer script, the same file as bench/tvm_peer.py of the repository.
const SCRIPT: &str = include_str!("../../../../bench/tvm_peer.py");

/// What one peer produced. `status` is `ok`, `skipped: <reason>` or `failed: <reason>`.
#[derive(Clone, Debug, Default)]
pub struct PeerResult {
    pub status: String,
    /// The latency the bench compares: the median of the final timing's rounds once that
    /// ran (see [`super::final_timing`]), else the peer's own timing in its tuning process.
    pub best_us: Option<f64>,
    /// The peer's own timing, inside the process that tuned (TVM) or timed (numpy) it.
    pub in_run_us: Option<f64>,
    /// The final timing's rounds (µs, one fresh process each); empty when it did not run.
    pub final_rounds_us: Vec<f64>,
    /// Wall time of the whole peer process (Python start, imports, tuning, timing).
    pub wall_s: Option<f64>,
    pub trials: Option<u64>,
    /// The peer's whole JSON answer (target, design space, errors), for the JSON report.
    pub raw: Value,
}

impl PeerResult {
    pub fn skipped(reason: impl Into<String>) -> PeerResult {
        PeerResult {
            status: format!("skipped: {}", reason.into()),
            ..Default::default()
        }
    }
    fn failed(reason: impl Into<String>, raw: Value) -> PeerResult {
        PeerResult {
            status: format!("failed: {}", reason.into()),
            raw,
            ..Default::default()
        }
    }
    pub fn ok(&self) -> bool {
        self.status == "ok"
    }
}

/// `--tvm-venv`, else `$COLT_TVM_VENV`, else `<cache>/tvm-venv` (where scripts/setup-tvm
/// installs it).
pub fn venv_dir(flag: Option<&Path>) -> PathBuf {
    if let Some(p) = flag {
        return p.to_path_buf();
    }
    if let Some(p) = std::env::var_os("COLT_TVM_VENV").filter(|p| !p.is_empty()) {
        return p.into();
    }
    crate::out::cache_dir().join("tvm-venv")
}

/// The virtualenv's Python, or why there is none.
pub fn venv_python(venv: &Path) -> Result<PathBuf, String> {
    python_in(venv).ok_or_else(|| {
        format!(
            "no TVM virtualenv at {} (install it with scripts/setup-tvm)",
            venv.display()
        )
    })
}

/// The Python of virtualenv `venv`, if it has one.
pub fn python_in(venv: &Path) -> Option<PathBuf> {
    let py = venv.join("bin").join("python");
    py.is_file().then_some(py)
}

/// A Python with numpy for the OpenBLAS timing: the virtualenv's, else `python3` on PATH.
pub fn numpy_python(venv_py: Option<&Path>) -> Result<PathBuf, String> {
    let candidates: Vec<PathBuf> = venv_py
        .map(Path::to_path_buf)
        .into_iter()
        .chain([PathBuf::from("python3")])
        .collect();
    for py in candidates {
        let ok = Command::new(&py)
            .args(["-c", "import numpy"])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if ok {
            return Ok(py);
        }
    }
    Err("no Python with numpy (neither the TVM virtualenv nor python3)".into())
}

/// A peer script as a file (TVMScript reads the source of the functions it parses, so
/// `python -c` cannot run it): `<cache>/bench/<name>`, rewritten when it differs.
pub fn script_file(name: &str, text: &str) -> Result<PathBuf, String> {
    let path = crate::out::cache_dir().join("bench").join(name);
    if std::fs::read_to_string(&path).ok().as_deref() != Some(text) {
        let dir = path.parent().expect("a file in a directory");
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let tmp = dir.join(format!("{name}.{}", std::process::id()));
        std::fs::write(&tmp, text).map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
        std::fs::rename(&tmp, &path)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(path)
}

/// Run the TVM peer script with `request` (see bench/tvm_peer.py for the fields).
fn call(python: &Path, request: &Value, limit: Option<Duration>) -> Result<(Value, f64), String> {
    call_script(python, "tvm_peer.py", SCRIPT, request, limit)
}

/// Run peer script `name` (its text `text`) with `request` as its argument: its JSON answer
/// (the last JSON line it printed) and the wall time of the whole process. A process still
/// running after `limit` is killed, and that is the error.
pub fn call_script(
    python: &Path,
    name: &str,
    text: &str,
    request: &Value,
    limit: Option<Duration>,
) -> Result<(Value, f64), String> {
    let script = script_file(name, text)?;
    // Files, not pipes: TVM writes a lot to stderr, and the process is polled for its limit.
    let out = tempfile::tempfile().map_err(|e| format!("cannot create a temporary file: {e}"))?;
    let err = tempfile::tempfile().map_err(|e| format!("cannot create a temporary file: {e}"))?;
    let started = std::time::Instant::now();
    let mut child = Command::new(python)
        .arg(&script)
        .arg(request.to_string())
        .stdin(Stdio::null())
        .stdout(out.try_clone().map_err(|e| e.to_string())?)
        .stderr(err.try_clone().map_err(|e| e.to_string())?)
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if limit.is_some_and(|l| started.elapsed() > l) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "timed out: still running after {:.0} s (the bench's --peer-timeout-s)",
                    started.elapsed().as_secs_f64()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(100)),
            Err(e) => return Err(format!("cannot wait for {}: {e}", python.display())),
        }
    };
    let wall_s = started.elapsed().as_secs_f64();
    let (stdout, stderr) = (read_all(out), read_all(err));
    match stdout
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('{'))
    {
        Some(line) => serde_json::from_str(line)
            .map(|v| (v, wall_s))
            .map_err(|e| format!("peer printed bad JSON ({e})")),
        None => {
            let last = stderr
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("no output");
            Err(format!(
                "peer exited with {status} without a result: {last}"
            ))
        }
    }
}

/// Everything written to `f` (a temporary file the child wrote to), lossily as text.
fn read_all(mut f: std::fs::File) -> String {
    use std::io::{Read, Seek};
    let mut bytes = vec![];
    let _ = f.rewind().and_then(|_| f.read_to_end(&mut bytes));
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The request for one workload.
pub fn request(
    workload: &str,
    shapes: &std::collections::BTreeMap<String, i64>,
    trials: usize,
    seed: u64,
) -> Value {
    // TVM targets the CPU colt's kernels are compiled for: `$COLT_MARCH` when set (an LLVM
    // CPU name such as `haswell`), else the host's.
    let mcpu = colt_measure::compile::march_cpu();
    json!({
        "workload": workload, "shapes": shapes, "trials": trials, "seed": seed,
        "num_cores": std::thread::available_parallelism().map_or(1, |n| n.get()),
        "repeats": 5, "min_repeat_ms": 1.0, "mcpu": mcpu,
    })
}

/// Tune with TVM MetaSchedule (the request's `trials`), time the best kernel and check it;
/// with `export`, its best kernel is also written there as a shared library.
pub fn tvm(
    python: &Path,
    mut req: Value,
    export: Option<&Path>,
    limit: Option<Duration>,
) -> PeerResult {
    req["tvm"] = json!(true);
    req["numpy"] = json!(false);
    if let Some(p) = export {
        req["export"] = json!(p);
    }
    let (v, wall) = match call(python, &req, limit) {
        Ok(v) => v,
        Err(e) => return PeerResult::failed(e, Value::Null),
    };
    match checked_tvm_us(&v) {
        Ok(best) => PeerResult {
            status: "ok".into(),
            best_us: Some(best),
            in_run_us: Some(best),
            wall_s: Some(wall),
            trials: v["trials"].as_u64(),
            raw: v,
            ..Default::default()
        },
        Err(why) => PeerResult::failed(why, v),
    }
}

/// TVM's kernel latency from the peer's answer, once it says the kernel matched numpy.
fn checked_tvm_us(v: &Value) -> Result<f64, String> {
    if let Some(e) = v["error"].as_str() {
        return Err(e.to_string());
    }
    if v["correct"] != json!(true) {
        let err = v["max_rel_err"]
            .as_f64()
            .map_or(String::new(), |e| format!(" (max relative error {e:.2e})"));
        return Err(format!("TVM's best kernel does not match numpy{err}"));
    }
    match v["best_us"].as_f64() {
        Some(best) if best > 0.0 => Ok(best),
        _ => Err("the peer reported no latency".into()),
    }
}

/// Check and time, in a fresh Python process, the library an earlier [`tvm`] call exported.
pub fn tvm_time(python: &Path, mut req: Value, lib: &Path) -> Result<f64, String> {
    req["load"] = json!(lib);
    req["numpy"] = json!(false);
    checked_tvm_us(&call(python, &req, None)?.0)
}

/// Time the numpy (OpenBLAS) implementation of the workload.
pub fn numpy(python: &Path, mut req: Value) -> PeerResult {
    req["tvm"] = json!(false);
    req["numpy"] = json!(true);
    let (v, wall) = match call(python, &req, None) {
        Ok(v) => v,
        Err(e) => return PeerResult::failed(e, Value::Null),
    };
    if let Some(e) = v["error"].as_str() {
        return PeerResult::failed(e.to_string(), v);
    }
    match v["openblas_us"].as_f64() {
        Some(us) if us > 0.0 => PeerResult {
            status: "ok".into(),
            best_us: Some(us),
            in_run_us: Some(us),
            wall_s: Some(wall),
            raw: v,
            ..Default::default()
        },
        _ => PeerResult::failed("the peer reported no numpy time", v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_virtualenv_is_a_reason_not_a_python() {
        let e = venv_python(Path::new("/nonexistent/colt-tvm-venv")).unwrap_err();
        assert!(
            e.contains("/nonexistent/colt-tvm-venv") && e.contains("scripts/setup-tvm"),
            "{e}"
        );
        assert_eq!(venv_dir(Some(Path::new("/x/v"))), PathBuf::from("/x/v"));
    }

    #[test]
    fn a_peer_past_its_limit_is_killed_and_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let sleeper = dir.path().join("python");
        std::fs::write(&sleeper, "#!/bin/sh\nsleep 30\n").unwrap();
        std::fs::set_permissions(
            &sleeper,
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        let started = std::time::Instant::now();
        let r = tvm(
            &sleeper,
            json!({"workload": "matmul"}),
            None,
            Some(Duration::from_millis(300)),
        );
        assert!(started.elapsed() < Duration::from_secs(10));
        assert!(r.status.starts_with("failed: timed out"), "{}", r.status);
        assert!(r.best_us.is_none() && r.wall_s.is_none());
    }

    #[test]
    fn the_embedded_script_is_the_peer() {
        assert!(SCRIPT.contains("ms.tune_tir(") && SCRIPT.contains("time_evaluator"));
        let st = PeerResult::skipped("--skip-tvm");
        assert_eq!(st.status, "skipped: --skip-tvm");
        assert!(!st.ok() && st.best_us.is_none());
    }
}
