//! `colt bench` end to end: the tiny suite with TVM's virtualenv absent (reported as skipped,
//! every TVM number and ratio null, the JSON rows in the documented shape, the CSV written),
//! one-line errors for bad arguments, and — only where scripts/setup-tvm has installed the
//! virtualenv — a real TVM MetaSchedule run (ignored by default: it takes minutes).

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn colt(cache: &Path) -> Command {
    let mut c = Command::cargo_bin("colt").expect("colt binary");
    c.env("COLT_CACHE", cache).env_remove("COLT_TVM_VENV");
    c
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("colt-bench-tests-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch dir");
    d
}

fn bench_json(cache: &Path, extra: &[&str]) -> Value {
    let db = cache.join("bench.db");
    let out = colt(cache)
        .args(["bench", "--suite", "tiny", "--json", "--db"])
        .arg(&db)
        .args(extra)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "colt bench failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

const REQUIRED: [&str; 11] = [
    "workload",
    "trials",
    "colt_strategy",
    "colt_best_us",
    "tvm_best_us",
    "latency_ratio_vs_tvm",
    "colt_wall_s",
    "tvm_wall_s",
    "wall_ratio_vs_tvm",
    "openblas_us",
    "strategies",
];

#[test]
fn tiny_suite_without_a_tvm_virtualenv_reports_tvm_skipped_and_null() {
    let dir = scratch("skip");
    let venv = dir.join("no-such-venv");
    let csv = dir.join("bench.csv");
    let v = bench_json(
        &dir,
        &[
            "--tvm-venv",
            venv.to_str().unwrap(),
            "--csv",
            csv.to_str().unwrap(),
        ],
    );
    let rows = v["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 1, "{v}");
    let r = &rows[0];
    for k in REQUIRED {
        assert!(r.get(k).is_some(), "row lacks {k}: {r}");
    }
    assert_eq!(r["workload"], "matmul");
    assert_eq!(r["scale"], "ci");
    assert_eq!(r["trials"], 8);
    assert_eq!(r["colt_strategy"], "evolutionary");
    assert!(r["colt_best_us"].as_f64().is_some_and(|x| x > 0.0), "{r}");
    assert!(r["colt_wall_s"].as_f64().is_some_and(|x| x > 0.0), "{r}");
    // TVM absent: skipped with the reason, and nothing that could read as a comparison.
    let status = r["tvm_status"].as_str().expect("tvm_status");
    assert!(
        status.starts_with("skipped: no TVM virtualenv at") && status.contains("no-such-venv"),
        "{status}"
    );
    for k in [
        "tvm_best_us",
        "tvm_wall_s",
        "tvm_gflops",
        "latency_ratio_vs_tvm",
        "wall_ratio_vs_tvm",
        "colt_trials_to_tvm",
    ] {
        assert!(r[k].is_null(), "{k} must be null without TVM: {}", r[k]);
    }
    assert!(r["strategies"]["evolutionary"]["latency_ratio_vs_tvm"].is_null());
    assert!(r["strategies"]["evolutionary"]["trials_to_tvm"].is_null());
    // The final timing: five fresh `colt measure` processes, whose median is the figure
    // compared; the tune's own re-timing kept beside it. The wall time is the command's.
    let run = &r["strategies"]["evolutionary"]["runs"][0];
    let rounds: Vec<f64> = run["final_rounds_us"]
        .as_array()
        .expect("final rounds")
        .iter()
        .map(|x| x.as_f64().expect("µs"))
        .collect();
    assert_eq!(rounds.len(), 5, "{run}");
    let mut sorted = rounds.clone();
    sorted.sort_by(f64::total_cmp);
    assert_eq!(run["best_us"].as_f64(), Some(sorted[2]), "{run}");
    assert!(run["in_run_us"].as_f64().is_some_and(|x| x > 0.0), "{run}");
    assert!(
        run["wall_s"].as_f64().unwrap() > run["search_wall_s"].as_f64().unwrap(),
        "the command's wall time includes the baselines: {run}"
    );
    // numpy/OpenBLAS: a time exactly when some python3 with numpy ran it, else skipped + null.
    match r["numpy_status"].as_str().expect("numpy_status") {
        "ok" => assert!(r["openblas_us"].as_f64().is_some_and(|x| x > 0.0), "{r}"),
        s => {
            assert!(s.starts_with("skipped") || s.starts_with("failed"), "{s}");
            assert!(r["openblas_us"].is_null());
        }
    }
    // The run is in the database the bench was pointed at.
    let run = r["strategies"]["evolutionary"]["runs"][0]["run"]
        .as_i64()
        .expect("run id");
    let runs = colt(&dir)
        .args(["runs", "--json", "--db"])
        .arg(dir.join("bench.db"))
        .output()
        .expect("runs");
    let runs: Value = serde_json::from_slice(&runs.stdout).expect("runs JSON");
    assert!(
        runs["runs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["run"] == run && x["strategy"] == "evolutionary")
    );
    // The CSV: a header and one line each for the strategy, TVM and numpy.
    let text = std::fs::read_to_string(&csv).expect("csv written");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(lines[0].starts_with("workload,scale,trials,who,best_of_row,status"));
    assert!(
        lines[1].starts_with("matmul,ci,8,evolutionary,true,ok,1,"),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].starts_with("matmul,ci,8,tvm,false,skipped: no TVM virtualenv"),
        "{}",
        lines[2]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_arguments_are_one_line_errors() {
    let dir = scratch("bad");
    for (args, needle) in [
        (vec!["bench", "--suite", "huge"], "unknown suite \"huge\""),
        (
            vec!["bench", "--suite", "tiny", "--strategies", "nosuch"],
            "--strategies nosuch",
        ),
        (
            vec![
                "bench",
                "--suite",
                "tiny",
                "--strategies",
                "single-llm:gpt-9",
            ],
            "\"gpt-9\" is not in the bucket",
        ),
        (
            vec!["bench", "--suite", "tiny", "--trials", "0"],
            "--trials",
        ),
        (vec!["bench", "--suite", "tiny", "--seeds", "0"], "--seeds"),
        (
            vec!["bench", "--workloads", "matmul:M=4,Q=2"],
            "--workloads: workload \"matmul:M=4,Q=2\": Q is not one of its shapes",
        ),
        (
            vec!["bench", "--workloads", "gemv,nosuch"],
            "unknown workload \"nosuch\"",
        ),
        (
            vec!["bench", "--suite", "tiny", "--llm-seeds", "0"],
            "--llm-seeds",
        ),
        (
            vec![
                "bench",
                "--suite",
                "tiny",
                "--config",
                "/nonexistent/colt.toml",
            ],
            "/nonexistent/colt.toml",
        ),
        // The LLVM bench refuses the flags it would ignore, and bad programs or objectives.
        (
            vec!["bench", "--space", "llvm", "--skip-tvm", "--suite", "tiny"],
            "does not take --suite, --skip-tvm",
        ),
        (
            vec!["bench", "--space", "llvm", "--objectives", "speed"],
            "--objectives speed",
        ),
        (
            vec!["bench", "--space", "llvm", "--programs", "no_such_program"],
            "neither a bundled program",
        ),
        (
            vec!["bench", "--space", "llvm", "--trials", "8,16"],
            "one --trials budget",
        ),
    ] {
        let out = colt(&dir).args(&args).output().expect("runs");
        assert!(!out.status.success(), "{args:?} should fail");
        let err = String::from_utf8_lossy(&out.stderr);
        let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "{args:?}: expected one line, got {err}");
        assert!(
            lines[0].contains(needle),
            "{args:?}: {:?} should mention {needle:?}",
            lines[0]
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_workload_outside_the_suite_with_its_own_shapes() {
    let dir = scratch("shapes");
    let csv = dir.join("bench.csv");
    let v = bench_json(
        &dir,
        &[
            "--workloads",
            "matmul:M=24,N=40,K=12",
            "--skip-tvm",
            "--trials",
            "4",
            "--final-rounds",
            "1",
            "--csv",
            csv.to_str().unwrap(),
        ],
    );
    let rows = v["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 1, "{v}");
    let r = &rows[0];
    assert_eq!(r["workload"], "matmul:M=24,N=40,K=12");
    assert_eq!(r["scale"], "ci");
    assert_eq!(r["flops"].as_f64(), Some(2.0 * 24.0 * 40.0 * 12.0), "{r}");
    assert!(r["colt_best_us"].as_f64().is_some_and(|x| x > 0.0), "{r}");
    let run = &r["strategies"]["evolutionary"]["runs"][0];
    assert_eq!(
        run["final_rounds_us"].as_array().map(Vec::len),
        Some(1),
        "{run}"
    );
    // numpy times the same shapes (its check against the reference would fail otherwise).
    match r["numpy_status"].as_str().expect("numpy_status") {
        "ok" => assert!(r["openblas_us"].as_f64().is_some_and(|x| x > 0.0), "{r}"),
        s => assert!(s.starts_with("skipped"), "{s}"),
    }
    let text = std::fs::read_to_string(&csv).expect("csv written");
    assert!(
        text.lines()
            .nth(1)
            .is_some_and(|l| l.starts_with("\"matmul:M=24,N=40,K=12\",ci,4,evolutionary,")),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Needs scripts/setup-tvm's virtualenv ($COLT_TVM_VENV or ~/.cache/colt/tvm-venv) and a few
/// minutes: `cargo test -p colt --test bench -- --ignored`.
#[test]
#[ignore]
fn tiny_suite_against_a_real_tvm() {
    let venv = std::env::var_os("COLT_TVM_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache/colt/tvm-venv")
        });
    // Asked for explicitly (`--ignored`), it fails rather than passing without TVM.
    assert!(
        venv.join("bin/python").is_file(),
        "no TVM virtualenv at {} (run scripts/setup-tvm)",
        venv.display()
    );
    let dir = scratch("tvm");
    let v = bench_json(&dir, &["--tvm-venv", venv.to_str().unwrap()]);
    let r = &v["rows"][0];
    assert_eq!(r["tvm_status"], "ok", "{r}");
    assert_eq!(r["tvm"]["correct"], true);
    let (colt_us, tvm_us) = (
        r["colt_best_us"].as_f64().unwrap(),
        r["tvm_best_us"].as_f64().unwrap(),
    );
    let ratio = r["latency_ratio_vs_tvm"].as_f64().unwrap();
    assert!((ratio - colt_us / tvm_us).abs() < 1e-9 * ratio.abs().max(1.0));
    assert!(
        r["tvm_wall_s"].as_f64().unwrap() > 0.0 && r["wall_ratio_vs_tvm"].as_f64().unwrap() > 0.0
    );
    assert!(r["tvm_trials"].as_u64().unwrap() >= 1);
    // TVM's exported kernel was checked and timed in five fresh processes.
    assert_eq!(
        r["tvm_final_rounds_us"].as_array().map(Vec::len),
        Some(5),
        "{r}"
    );
    assert!(r["tvm_in_run_us"].as_f64().is_some_and(|x| x > 0.0));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The LLVM bench over `colt tune` runs: a bundled program and a file of the user's, two
/// objectives (one of them memory), two seeds; rows, CSV and geometric means per objective.
#[test]
fn llvm_bench_runs_seeds_objectives_and_programs_from_files() {
    let dir = scratch("llvm-runs");
    let c = dir.join("mine.c");
    std::fs::write(
        &c,
        "#include <stdio.h>\nint main(void) { long s = 0; for (long i = 0; i < 3000000; i++) s += i % 11; printf(\"checksum %ld\\n\", s); return 0; }\n",
    )
    .unwrap();
    let csv = dir.join("llvm.csv");
    let programs = format!("const_poly,{}", c.display());
    let out = colt(&dir)
        .args([
            "bench",
            "--space",
            "llvm",
            "--programs",
            &programs,
            "--objectives",
            "size,memory",
            "--strategies",
            "random",
            "--seeds",
            "2",
            "--trials",
            "4",
            "--json",
            "--csv",
        ])
        .arg(&csv)
        .arg("--db")
        .arg(dir.join("llvm.db"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2 * 2 * 2, "{v}");
    for r in rows {
        assert_eq!(r["status"], "ok", "{r}");
        let ratio = r["ratio"]
            .as_f64()
            .unwrap_or_else(|| panic!("no ratio: {r}"));
        assert!(ratio > 0.0 && ratio.is_finite(), "{r}");
        if r["objective"] == "size" {
            // The search starts from the standard pipelines: never worse than clang -Oz.
            assert!(ratio <= 1.0 + 1e-9, "{r}");
        }
    }
    let g = v["geomeans"].as_array().unwrap();
    assert_eq!(g.len(), 2, "{v}");
    assert!(g.iter().all(|g| g["programs"] == 2), "{v}");
    assert_eq!(std::fs::read_to_string(&csv).unwrap().lines().count(), 9);
}
