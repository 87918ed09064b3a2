//! End-to-end tests of the `colt` binary: stable JSON outputs, one-line errors for bad input,
//! and a real (CI-scale) measurement through the isolated worker.

use assert_cmd::Command;
use serde_json::Value;

fn colt() -> Command {
    let mut c = Command::cargo_bin("colt").expect("colt binary");
    c.env("COLT_CACHE", std::env::temp_dir().join("colt-cli-tests"));
    c
}

fn json_of(args: &[&str]) -> Value {
    let out = colt().args(args).output().expect("runs");
    assert!(
        out.status.success(),
        "colt {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("colt {args:?}: not JSON ({e})"))
}

/// Runs `args`, expects failure with exactly one line on stderr containing every `needle`.
fn one_line_error(args: &[&str], needles: &[&str]) {
    let out = colt().args(args).output().expect("runs");
    assert!(!out.status.success(), "colt {args:?} should fail");
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected one error line, got: {err}");
    for n in needles {
        assert!(
            lines[0].contains(n),
            "error {:?} should mention {n:?}",
            lines[0]
        );
    }
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn workloads_json_lists_the_five_serving_layers_with_flops() {
    let v = json_of(&["workloads", "--json", "--scale", "ci"]);
    let ws = v["workloads"].as_array().expect("array");
    for name in [
        "matmul",
        "llama3-8b-attention",
        "llama4-scout-mlp",
        "deepseek-r1-moe",
        "flux-attention",
        "flux-conv",
    ] {
        let w = ws
            .iter()
            .find(|w| w["name"] == name)
            .unwrap_or_else(|| panic!("{name} missing"));
        assert!(w["flops"].as_u64().unwrap() > 0);
        assert!(w["shapes"].as_object().is_some_and(|s| !s.is_empty()));
    }
}

/// Without a colt.toml the bucket is the two embedded models, of different sizes.
#[test]
fn models_list_json_without_a_config_lists_two_models_of_different_sizes() {
    let v = json_of(&["models", "list", "--json"]);
    let ms = v["models"].as_array().expect("models");
    let names: Vec<&str> = ms.iter().map(|m| m["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["smollm2-135m", "gemma-3-270m"], "{v}");
    let params: Vec<f64> = ms.iter().map(|m| m["params"].as_f64().unwrap()).collect();
    assert_eq!(params, [135e6, 270e6]);
    assert_eq!(v["largest"], "gemma-3-270m");
}

#[test]
fn show_prints_loop_nest_and_c() {
    let out = colt()
        .args(["show", "--workload", "matmul", "--c"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("# loop nest"));
    assert!(
        text.contains("void colt_kernel(float* const* bufs)"),
        "{text}"
    );
}

#[test]
fn unknown_workload_is_one_clear_line() {
    one_line_error(
        &["show", "--workload", "nosuch"],
        &["unknown workload", "nosuch", "matmul"],
    );
}

#[test]
fn malformed_spec_is_one_clear_line() {
    let dir = tempdir();
    let spec = dir.join("bad.toml");
    std::fs::write(&spec, "[tensors]\nA = { shape = [4, 4], role = \"input\" }\nC = { shape = [4, 4], role = \"output\" }\n\n[[stage]]\ncompute = \"C[i, j] += A[i, k] * Q[k, j]\"\n").unwrap();
    one_line_error(
        &["show", "--workload", spec.to_str().unwrap()],
        &["bad.toml", "Q"],
    );
}

#[test]
fn trace_for_another_workload_is_one_clear_line() {
    let dir = tempdir();
    let trace = dir.join("t.json");
    std::fs::write(
        &trace,
        r#"{"version": 1, "workload": "softmax", "insts": []}"#,
    )
    .unwrap();
    one_line_error(
        &[
            "show",
            "--workload",
            "matmul",
            "--trace",
            trace.to_str().unwrap(),
        ],
        &["softmax", "matmul"],
    );
}

#[test]
fn illegal_primitive_is_one_clear_line() {
    let dir = tempdir();
    let trace = dir.join("t.json");
    std::fs::write(
        &trace,
        r#"{"version": 1, "workload": "matmul", "insts": [{"inst": "split", "stage": "C", "loop": "i", "factors": [3, 5]}]}"#,
    )
    .unwrap();
    one_line_error(
        &[
            "show",
            "--workload",
            "matmul",
            "--trace",
            trace.to_str().unwrap(),
        ],
        &["split(C, i, [3, 5])"],
    );
}

#[test]
fn measure_json_has_the_stable_fields_and_is_correct() {
    let v = json_of(&[
        "measure",
        "--workload",
        "matmul",
        "--random",
        "3",
        "--seed",
        "1",
        "--json",
    ]);
    for k in [
        "workload",
        "naive_gcc_us",
        "naive_clang_us",
        "best_us",
        "best_gflops",
        "correct",
        "outcomes",
    ] {
        assert!(v.get(k).is_some(), "missing {k} in {v}");
    }
    assert_eq!(v["correct"], true, "{v}");
    assert!(v["naive_gcc_us"].as_f64().unwrap() > 0.0);
    assert!(v["best_us"].as_f64().unwrap() > 0.0);
    let total: u64 = v["outcomes"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(total, 3);
}

#[test]
fn measure_skips_the_baselines_when_asked_and_takes_its_timing_settings() {
    let dir = tempdir();
    let trace = dir.join("best.json");
    let t = trace.to_str().unwrap();
    let sampled = save_sampled_best("1", t);
    assert_eq!(sampled["correct"], true, "{sampled}");
    let v = json_of(&[
        "measure",
        "--workload",
        "matmul",
        "--trace",
        t,
        "--skip-baselines",
        "--repeats",
        "3",
        "--min-repeat-ms",
        "2",
        "--json",
    ]);
    assert_eq!(v["correct"], true, "{v}");
    assert!(v["best_us"].as_f64().is_some_and(|x| x > 0.0), "{v}");
    for k in [
        "naive_gcc_us",
        "naive_clang_us",
        "naive_gcc",
        "speedup_vs_gcc",
    ] {
        assert!(v[k].is_null(), "{k} must be null without baselines: {v}");
    }
    one_line_error(
        &[
            "measure",
            "--workload",
            "matmul",
            "--trace",
            t,
            "--repeats",
            "0",
        ],
        &["--repeats"],
    );
}

/// Several `--trace` files are measured side by side, and with `--rounds` timed again
/// together round-robin in one worker: each one's figure, in order, named by its file.
#[test]
fn measure_times_several_traces_together_in_rounds() {
    let dir = tempdir();
    let files: Vec<String> = (1..=2)
        .map(|seed| {
            let f = dir
                .join(format!("t{seed}.json"))
                .to_str()
                .unwrap()
                .to_string();
            let v = save_sampled_best(&seed.to_string(), &f);
            assert_eq!(v["correct"], true, "{v}");
            f
        })
        .collect();
    let v = json_of(&[
        "measure",
        "--workload",
        "matmul",
        "--trace",
        &files[0],
        "--trace",
        &files[1],
        "--rounds",
        "3",
        "--repeats",
        "2",
        "--min-repeat-ms",
        "1",
        "--skip-baselines",
        "--json",
    ]);
    assert_eq!(v["rounds"], 3, "{v}");
    let each = v["schedules_measured"]
        .as_array()
        .expect("one entry per trace");
    assert_eq!(each.len(), 2, "{v}");
    for (e, f) in each.iter().zip(&files) {
        assert_eq!(e["trace"], f.as_str(), "{v}");
        assert_eq!(e["kind"], "ok", "{v}");
        let (median, min) = (e["median_us"].as_f64(), e["min_us"].as_f64());
        assert!(median.is_some_and(|x| x > 0.0), "{v}");
        assert!(min.is_some_and(|m| m > 0.0 && m <= median.unwrap()), "{v}");
        assert_eq!(
            e["repeats_us"].as_array().map(Vec::len),
            Some(3),
            "one per round: {v}"
        );
    }
    let fastest = each
        .iter()
        .map(|e| e["median_us"].as_f64().unwrap())
        .fold(f64::INFINITY, f64::min);
    assert_eq!(v["best_us"].as_f64(), Some(fastest), "{v}");
    one_line_error(
        &[
            "measure",
            "--workload",
            "matmul",
            "--trace",
            &files[0],
            "--rounds",
            "0",
        ],
        &["--rounds"],
    );
}

/// `colt measure` of two matmul schedules sampled with `seed`, the faster's trace saved to
/// `file`: its JSON.
fn save_sampled_best(seed: &str, file: &str) -> Value {
    json_of(&[
        "measure",
        "--workload",
        "matmul",
        "--random",
        "2",
        "--seed",
        seed,
        "--skip-baselines",
        "--save-best",
        file,
        "--json",
    ])
}

fn tempdir() -> std::path::PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let d = std::env::temp_dir().join(format!(
        "colt-cli-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn report_of_a_missing_run_is_one_clear_line() {
    let dir = tempdir();
    let db = dir.join("r.db");
    colt_db::Db::open(&db).unwrap();
    one_line_error(&["report", "999", "--db", db.to_str().unwrap()], &["999"]);
}

#[test]
fn machine_json_reports_peak_and_bandwidth_and_keeps_them_in_the_database() {
    let dir = tempdir();
    let db = dir.join("machine.db");
    let db = db.to_str().unwrap();
    let first = json_of(&["machine", "--json", "--db", db]);
    for k in ["peak_gflops", "peak_gflops_one_core", "bandwidth_gbs"] {
        assert!(first[k].as_f64().is_some_and(|v| v > 0.0), "{k}: {first}");
    }
    assert!(first["cores"].as_u64().is_some_and(|c| c >= 1), "{first}");
    assert!(
        first["isa"].is_string() && first["vector_lanes"].is_u64(),
        "{first}"
    );
    assert_eq!(first["cached"], false);
    // The second call reads the stored limits instead of measuring again.
    let second = json_of(&["machine", "--json", "--db", db]);
    assert_eq!(second["cached"], true);
    assert_eq!(second["peak_gflops"], first["peak_gflops"]);
    let again = json_of(&["machine", "--json", "--remeasure", "--db", db]);
    assert_eq!(again["cached"], false);
}

fn onnx_model(name: &str) -> String {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../colt-onnx/tests/models");
    dir.join(name).display().to_string()
}

#[test]
fn model_tasks_json_lists_fused_deduplicated_kernels() {
    let mlp = onnx_model("mlp.onnx");
    let v = json_of(&["model", "tasks", &mlp, "--shape", "x=4,64", "--json"]);
    assert_eq!(v["tasks"], 3);
    let ks = v["kernels"].as_array().unwrap();
    let ops: Vec<&str> = ks.iter().map(|k| k["op"].as_str().unwrap()).collect();
    assert_eq!(ops, ["Gemm+Relu", "MatMul+Add+Relu", "Gemm"]);
    assert_eq!(
        ks[0]["inputs"],
        serde_json::json!([[4, 64], [128, 64], [128]])
    );
    assert_eq!(ks[0]["output"], serde_json::json!([4, 128]));
    // 4×128×64 multiply-adds, then bias and ReLU per output element
    assert_eq!(ks[0]["flops"], 4 * 128 * 64 * 2 + 4 * 128 * 2);
    let t = json_of(&["model", "tasks", &onnx_model("transformer.onnx"), "--json"]);
    assert_eq!(t["tasks"], 11);
    assert!(
        t["kernels"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["count"] == 2)
    );
}

#[test]
fn model_build_writes_the_header_sources_and_library() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("cnn");
    let cnn = onnx_model("cnn.onnx");
    let v = json_of(&[
        "model",
        "build",
        &cnn,
        "--out",
        dir.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(v["kernels"], 8);
    for f in [
        "model.h",
        "model.c",
        "libmodel.a",
        "kernels/k0.c",
        "kernels/k7.c",
    ] {
        assert!(dir.join(f).exists(), "{f} missing");
    }
    let h = std::fs::read_to_string(dir.join("model.h")).unwrap();
    assert!(h.contains("int model_run(const float* const* inputs, float* const* outputs);"));
}

#[test]
fn model_errors_are_one_clear_line() {
    let mlp = onnx_model("mlp.onnx");
    one_line_error(&["model", "tasks", &mlp], &["tensor `x`", "--shape x="]);
    one_line_error(
        &["model", "tasks", &mlp, "--shape", "x=4;64"],
        &["--shape \"x=4;64\""],
    );
    let bad = onnx_model("unsupported-op.onnx");
    one_line_error(
        &["model", "tasks", &bad],
        &["node `hardmax_1`", "Hardmax", "supported: Abs"],
    );
    let old = onnx_model("bad-opset.onnx");
    one_line_error(
        &["model", "build", &old, "--out", "/nonexistent"],
        &["opset 7"],
    );
}

/// A spec file fixes its own shapes: `--scale` with one is refused in one line by every
/// command that takes it (tune before any run exists, and on resume of a spec run), and the
/// spec alone works.
#[test]
fn scale_with_a_spec_file_is_one_clear_line() {
    let dir = tempdir();
    let spec = dir.join("mm.toml");
    std::fs::write(
        &spec,
        "[tensors]\nA = { shape = [4, 4], role = \"input\" }\nB = { shape = [4, 4], role = \"input\" }\nC = { shape = [4, 4], role = \"output\" }\n\n[[stage]]\ncompute = \"C[i, j] += A[i, k] * B[k, j]\"\n",
    )
    .unwrap();
    let (s, db) = (spec.to_str().unwrap(), dir.join("t.db"));
    let db_s = db.to_str().unwrap();
    let needles = ["--scale paper", "mm.toml", "fixes its own"];
    one_line_error(&["show", "--workload", s, "--scale", "paper"], &needles);
    one_line_error(&["measure", "--workload", s, "--scale", "paper"], &needles);
    let tune = [
        "tune",
        "--workload",
        s,
        "--scale",
        "paper",
        "--strategy",
        "random",
    ];
    one_line_error(
        &[&tune[..], &["--trials", "1", "--db", db_s]].concat(),
        &needles,
    );
    assert!(!db.exists(), "a refused tune created the database");
    let h = colt_db::Db::open(&db).unwrap();
    let run = h
        .create_run(&colt_db::NewRun {
            strategy: "random".into(),
            workload: s.into(),
            space: "tensor".into(),
            scale: "ci".into(),
            seed: 1,
            trials: 1,
            config: String::new(),
            versions: String::new(),
            target: String::new(),
            inputs: Default::default(),
        })
        .unwrap();
    let resume = ["tune", "--resume", &run.to_string(), "--scale", "paper"];
    one_line_error(&[&resume[..], &["--db", db_s]].concat(), &needles);
    let out = colt().args(["show", "--workload", s]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
