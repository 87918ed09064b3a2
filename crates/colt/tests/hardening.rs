//! Careless and hostile use of the `colt` binary (issue 13's probes): every one ends in one
//! clear error line or a correct result, never a phantom run, a corrupted run, a stack
//! overflow, an exhausted machine or a process left behind. Offline: the only network is
//! loopback, and nothing is asked of an LLM.

use assert_cmd::Command;
use colt_db::{Db, NewRun, RunId, RunStatus};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn tempdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("colt-hard-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn colt(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("colt").unwrap();
    c.env("COLT_CACHE", dir.join("cache")).current_dir(dir);
    c
}

/// Runs `args` in `dir`; expects failure with exactly one non-empty stderr line containing
/// every needle. Returns that line.
fn one_line_error(dir: &Path, args: &[&str], needles: &[&str]) -> String {
    let out = colt(dir).args(args).output().expect("runs");
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success(), "colt {args:?} should fail: {err}");
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(
        lines.len(),
        1,
        "colt {args:?}: expected one error line, got: {err}"
    );
    for n in needles {
        assert!(
            lines[0].contains(n),
            "error {:?} should mention {n:?}",
            lines[0]
        );
    }
    assert!(!err.contains("panicked"), "{err}");
    lines[0].to_string()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A run as `colt tune` records it, created directly in the database.
fn recorded_run(db: &Path, workload: &str, inputs: BTreeMap<String, String>) -> RunId {
    let db = Db::open(db).unwrap();
    db.create_run(&NewRun {
        strategy: "random".into(),
        workload: workload.into(),
        space: "tensor".into(),
        scale: "ci".into(),
        seed: 3,
        trials: 2,
        config: String::new(),
        versions: "colt test".into(),
        target: "test".into(),
        inputs,
    })
    .unwrap()
}

const SPEC: &str = "name = \"copy\"\n[tensors]\nA = { shape = [64, 32], role = \"input\" }\nC = { shape = [64, 32], role = \"output\" }\n[[stage]]\ncompute = \"C[i, j] = A[i, j] * 2\"\n";

fn run_count(db: &Path) -> usize {
    if !db.exists() {
        return 0;
    }
    Db::open(db).unwrap().list_runs().unwrap().len()
}

// ---------------------------------------------------------------- integrity

#[test]
fn an_unknown_workload_or_a_bad_bucket_leaves_no_phantom_run() {
    let dir = tempdir("phantom");
    let db = dir.join("r.db");
    one_line_error(
        &dir,
        &[
            "tune",
            "--workload",
            "nosuch",
            "--strategy",
            "random",
            "--db",
            s(&db),
        ],
        &["unknown workload", "nosuch"],
    );
    let cfg = dir.join("bad.toml");
    std::fs::write(
        &cfg,
        "[[models]]\nname = \"m\"\nprovider = \"nosuch\"\nendpoint = \"http://127.0.0.1:9\"\nmodel = \"m\"\nparams = \"8B\"\n",
    )
    .unwrap();
    // The bad [[models]] entry is named with the file it is in (not "built-in defaults").
    one_line_error(
        &dir,
        &[
            "tune",
            "--workload",
            "matmul",
            "--strategy",
            "colt",
            "--config",
            s(&cfg),
            "--db",
            s(&db),
        ],
        &["bad.toml", "nosuch"],
    );
    // [search] type errors name the field.
    let cfg2 = dir.join("search.toml");
    std::fs::write(&cfg2, "[search]\nlambda = \"high\"\n").unwrap();
    one_line_error(
        &dir,
        &[
            "tune",
            "--workload",
            "matmul",
            "--strategy",
            "random",
            "--config",
            s(&cfg2),
            "--db",
            s(&db),
        ],
        &["[search]", "lambda"],
    );
    assert_eq!(run_count(&db), 0, "a refused tune created a run");
}

#[test]
fn resume_refuses_a_finished_run_and_conflicting_flags() {
    let dir = tempdir("finished");
    let db = dir.join("r.db");
    let run = recorded_run(&db, "matmul", BTreeMap::new());
    // Conflicting flags are refused (the run is `running`, i.e. killed without a trace).
    one_line_error(
        &dir,
        &["tune", "--resume", "1", "--trials", "8", "--db", s(&db)],
        &["--trials 8", "run 1", "2"],
    );
    one_line_error(
        &dir,
        &[
            "tune",
            "--resume",
            "1",
            "--workload",
            "softmax",
            "--db",
            s(&db),
        ],
        &["--workload softmax", "matmul"],
    );
    one_line_error(
        &dir,
        &["tune", "--resume", "1", "--seed", "4", "--db", s(&db)],
        &["--seed 4"],
    );
    one_line_error(
        &dir,
        &[
            "tune",
            "--workload",
            "matmul",
            "--use-recorded",
            "--db",
            s(&db),
        ],
        &["--use-recorded", "--resume"],
    );
    let h = Db::open(&db).unwrap();
    h.finish_run(run, r#"{"best_us": 12.5}"#).unwrap();
    one_line_error(
        &dir,
        &["tune", "--resume", "1", "--db", s(&db)],
        &["run 1 is finished"],
    );
    let row = h.run(run).unwrap();
    assert_eq!(row.status, RunStatus::Finished);
    assert_eq!(row.summary.as_deref(), Some(r#"{"best_us": 12.5}"#));
}

#[test]
fn a_run_records_its_spec_and_resume_refuses_an_edited_one() {
    let dir = tempdir("spec");
    let db = dir.join("r.db");
    let spec = dir.join("copy.toml");
    std::fs::write(&spec, SPEC).unwrap();
    // A new run records the spec's text under its absolute path (a relative path is given).
    let out = colt(&dir)
        .args([
            "tune",
            "--workload",
            "copy.toml",
            "--strategy",
            "random",
            "--trials",
            "2",
            "--db",
            s(&db),
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let h = Db::open(&db).unwrap();
    let first = h.run(RunId(1)).unwrap();
    let abs = spec.display().to_string();
    assert_eq!(first.spec.workload, abs);
    assert_eq!(first.spec.inputs.get(&abs).map(String::as_str), Some(SPEC));

    // A killed run whose spec was edited since: refused, naming the file.
    let id = recorded_run(&db, &abs, [(abs.clone(), SPEC.to_string())].into());
    std::fs::write(&spec, SPEC.replace("[64, 32]", "[128, 32]")).unwrap();
    one_line_error(
        &dir,
        &["tune", "--resume", &id.to_string(), "--db", s(&db)],
        &[
            "copy.toml",
            "changed since the run was recorded",
            "--use-recorded",
        ],
    );
    std::fs::remove_file(&spec).unwrap();
    one_line_error(
        &dir,
        &["tune", "--resume", &id.to_string(), "--db", s(&db)],
        &["cannot read", "--use-recorded"],
    );
    assert_eq!(h.candidate_count(id).unwrap(), 0, "nothing was measured");
    // --use-recorded tunes the recorded copy: the file is gone, the run finishes.
    let out = colt(&dir)
        .args([
            "tune",
            "--resume",
            &id.to_string(),
            "--use-recorded",
            "--db",
            s(&db),
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["workload"], "copy", "{v}");
    assert_eq!(h.run(id).unwrap().status, RunStatus::Finished);
}

#[test]
fn sigint_marks_the_run_killed_and_says_how_to_resume() {
    let dir = tempdir("sigint");
    let db = dir.join("r.db");
    let bin = assert_cmd::cargo::cargo_bin("colt");
    let child = std::process::Command::new(&bin)
        .args([
            "tune",
            "--workload",
            "matmul",
            "--strategy",
            "random",
            "--trials",
            "500",
            "--json",
            "--db",
            s(&db),
        ])
        .env("COLT_CACHE", dir.join("cache"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        assert!(
            Instant::now() < deadline,
            "the run never recorded a measurement"
        );
        if let Ok(h) = Db::open(&db)
            && h.candidate_count(RunId(1)).is_ok_and(|n| n >= 1)
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(
        err.contains(&format!(
            "resume with: colt tune --resume 1 --db {}",
            db.display()
        )),
        "{err}"
    );
    assert_eq!(
        Db::open(&db).unwrap().run(RunId(1)).unwrap().status,
        RunStatus::Killed
    );
    // No half-written kernel is left in the cache.
    let stale: Vec<_> = walk(&dir.join("cache"))
        .into_iter()
        .filter(|p| p.to_string_lossy().contains(".so.tmp."))
        .collect();
    assert!(stale.is_empty(), "{stale:?}");
}

fn walk(d: &Path) -> Vec<PathBuf> {
    let mut out = vec![];
    for e in std::fs::read_dir(d).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn a_run_whose_every_trial_failed_for_a_tool_reason_exits_non_zero() {
    let dir = tempdir("nocc");
    let db = dir.join("r.db");
    let out = colt(&dir)
        .env("CC", "/nonexistent/cc")
        .args([
            "tune",
            "--workload",
            "matmul",
            "--strategy",
            "random",
            "--trials",
            "2",
            "--json",
            "--db",
            s(&db),
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "exit 0 with no kernel compiled: {err}"
    );
    assert!(err.contains("failed for a tool reason"), "{err}");
    assert!(err.contains("/nonexistent/cc"), "{err}");
    // The run and its summary are recorded all the same.
    assert_eq!(
        Db::open(&db).unwrap().run(RunId(1)).unwrap().status,
        RunStatus::Finished
    );
}

#[test]
fn a_colt_run_too_short_for_any_llm_call_says_so() {
    let dir = tempdir("warmup");
    let cfg = dir.join("colt.toml");
    std::fs::write(
        &cfg,
        "[[models]]\nname = \"a\"\nprovider = \"openai\"\nendpoint = \"http://127.0.0.1:9\"\nmodel = \"a\"\nparams = \"8B\"\nprices = { input = 0, cached_input = 0, output = 0 }\n\n[[models]]\nname = \"b\"\nprovider = \"openai\"\nendpoint = \"http://127.0.0.1:9\"\nmodel = \"b\"\nparams = \"70B\"\nprices = { input = 0, cached_input = 0, output = 0 }\n",
    )
    .unwrap();
    let out = colt(&dir)
        .args([
            "tune",
            "--workload",
            "softmax",
            "--strategy",
            "colt",
            "--trials",
            "8",
            "--json",
            "--config",
            s(&cfg),
            "--db",
            s(&dir.join("r.db")),
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("no LLM call will be made"), "{err}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["trials"], 8);
}

// ---------------------------------------------------------------- exhaustion and crashes

#[test]
fn endless_and_oversized_input_files_are_refused() {
    let dir = tempdir("big");
    one_line_error(
        &dir,
        &["measure", "--workload", "matmul", "--trace", "/dev/zero"],
        &["/dev/zero", "larger than 1 MiB"],
    );
    one_line_error(
        &dir,
        &["tune", "--workload", "matmul", "--config", "/dev/zero"],
        &["/dev/zero", "larger than 1 MiB"],
    );
    let big = dir.join("big.toml");
    std::fs::write(&big, format!("{SPEC}{}", "#".repeat(1 << 20))).unwrap();
    one_line_error(
        &dir,
        &["show", "--workload", s(&big)],
        &["big.toml", "larger than 1 MiB"],
    );
    one_line_error(
        &dir,
        &["measure", "--workload", "matmul", "--random", "1000000000"],
        &["--random 1000000000", "10000"],
    );
    one_line_error(
        &dir,
        &["tune", "--workload", "matmul", "--trials", "1000000000"],
        &["--trials 1000000000", "100000"],
    );
    let help = colt(&dir).args(["tune", "--help"]).output().unwrap();
    assert!(String::from_utf8_lossy(&help.stdout).contains("at most 1 MiB"));
}

#[test]
fn a_tensor_larger_than_memory_is_refused_before_allocating() {
    let dir = tempdir("huge");
    let spec = dir.join("huge.toml");
    // 2^40 elements each (4 TiB of f32): within the spec's element cap.
    std::fs::write(
        &spec,
        "[tensors]\nA = { shape = [1048576, 1048576], role = \"input\" }\nC = { shape = [1048576, 1048576], role = \"output\" }\n[[stage]]\ncompute = \"C[i, j] = A[i, j]\"\n",
    )
    .unwrap();
    one_line_error(
        &dir,
        &["measure", "--workload", s(&spec)],
        &["TiB", "more than", "memory available"],
    );
    let db = dir.join("r.db");
    one_line_error(
        &dir,
        &[
            "tune",
            "--workload",
            s(&spec),
            "--strategy",
            "random",
            "--db",
            s(&db),
        ],
        &["memory available"],
    );
    assert_eq!(run_count(&db), 0);
}

#[test]
fn a_14000_term_expression_is_an_error_not_a_stack_overflow() {
    let dir = tempdir("deep");
    let spec = dir.join("deep.toml");
    std::fs::write(
        &spec,
        format!(
            "[tensors]\nA = {{ shape = [4], role = \"input\" }}\nC = {{ shape = [4], role = \"output\" }}\n[[stage]]\ncompute = \"C[i] = A[i]{}\"\n",
            " + A[i]".repeat(14_000)
        ),
    )
    .unwrap();
    one_line_error(
        &dir,
        &["show", "--workload", s(&spec)],
        &["deep.toml", "more than 1024 terms"],
    );
}

#[test]
fn a_split_with_100001_factors_or_an_overflowing_product_is_an_error() {
    let dir = tempdir("split");
    let t = dir.join("t.json");
    let mut factors = vec!["1"; 100_000];
    factors.push("256");
    std::fs::write(
        &t,
        format!(
            r#"{{"version": 1, "workload": "matmul", "insts": [{{"inst": "split", "stage": "matmul", "loop": "i", "factors": [{}]}}]}}"#,
            factors.join(", ")
        ),
    )
    .unwrap();
    one_line_error(
        &dir,
        &["show", "--workload", "matmul", "--trace", s(&t)],
        &["at most 8 loops"],
    );
    // 2^62 * 2^62 * 2^8 wraps to 0 in i64; with a final 256 the old check accepted it.
    std::fs::write(
        &t,
        r#"{"version": 1, "workload": "matmul", "insts": [{"inst": "split", "stage": "matmul", "loop": "i", "factors": [4611686018427387904, 4611686018427387904, 16, 256]}]}"#,
    )
    .unwrap();
    one_line_error(
        &dir,
        &["show", "--workload", "matmul", "--trace", s(&t)],
        &["multiply past"],
    );
}

#[test]
fn spec_validation_is_linear_in_its_size() {
    let dir = tempdir("linear");
    let spec = dir.join("many.toml");
    // ~28,000 tensors in just under 1 MiB: quadratic validation took minutes here.
    let mut text = String::from("[tensors]\n");
    let mut n = 0;
    while text.len() < (1 << 20) - 200 {
        text += &format!("t{n} = {{ shape = [1], role = \"input\" }}\n");
        n += 1;
    }
    text += "C = { shape = [1], role = \"output\" }\n[[stage]]\ncompute = \"C[i] = t0[i]\"\n";
    std::fs::write(&spec, text).unwrap();
    let start = Instant::now();
    one_line_error(&dir, &["show", "--workload", s(&spec)], &["never read"]);
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "{:?} for {n} tensors",
        start.elapsed()
    );
}

// ---------------------------------------------------------------- smaller

#[test]
fn the_largest_seed_is_accepted() {
    let dir = tempdir("seed");
    let out = colt(&dir)
        .args([
            "tune",
            "--workload",
            "softmax",
            "--strategy",
            "random",
            "--trials",
            "1",
            "--seed",
            "18446744073709551615",
            "--json",
            "--db",
            s(&dir.join("r.db")),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["seed"], u64::MAX, "{v}");
}

#[test]
fn databases_are_listed_read_only_and_typos_create_nothing() {
    let dir = tempdir("runsdb");
    let typo = dir.join("typo/dir/x.db");
    one_line_error(&dir, &["runs", "--db", s(&typo)], &["no such file"]);
    assert!(
        !dir.join("typo").exists(),
        "colt runs created the directory"
    );
    // Control characters from the database are shown escaped, never sent to the terminal.
    let db = dir.join("r.db");
    recorded_run(&db, "evil\u{1b}[2J\u{7}name", BTreeMap::new());
    let out = colt(&dir).args(["runs", "--db", s(&db)]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{7}'),
        "{text:?}"
    );
    assert!(text.contains("evil\\u{1b}[2J\\u{7}name"), "{text}");
}

#[test]
fn report_png_without_an_extension_is_one_line() {
    let dir = tempdir("png");
    let db = dir.join("r.db");
    recorded_run(&db, "matmul", BTreeMap::new());
    one_line_error(
        &dir,
        &[
            "report",
            "1",
            "--db",
            s(&db),
            "--png",
            s(&dir.join("chart")),
        ],
        &["chart", "must end in .png"],
    );
}

/// Makes a path immutable (`chattr +i`, which holds even for root, like a read-only mount)
/// and mutable again when dropped.
struct Immutable(Vec<PathBuf>);

impl Immutable {
    fn new(paths: &[&Path]) -> Option<Immutable> {
        let mut done = Immutable(vec![]);
        for p in paths {
            let ok = std::process::Command::new("chattr")
                .arg("+i")
                .arg(p)
                .status()
                .is_ok_and(|s| s.success());
            if !ok {
                return None;
            }
            done.0.push(p.to_path_buf());
        }
        Some(done)
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = std::process::Command::new("chattr")
                .arg("-i")
                .arg(p)
                .status();
        }
    }
}

#[test]
fn a_database_that_cannot_be_written_is_listed() {
    let dir = tempdir("rodb");
    let sub = dir.join("ro");
    std::fs::create_dir_all(&sub).unwrap();
    let db = sub.join("r.db");
    recorded_run(&db, "matmul", BTreeMap::new());
    let Some(_guard) = Immutable::new(&[&db, &sub]) else {
        eprintln!(
            "skipped: chattr +i is not available here (needs root and ext4-like file systems)"
        );
        return;
    };
    assert!(
        std::fs::write(sub.join("probe"), "x").is_err(),
        "the directory is still writable"
    );
    let out = colt(&dir)
        .args(["runs", "--db", s(&db), "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["runs"][0]["workload"], "matmul", "{v}");
}
