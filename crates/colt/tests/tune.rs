//! End-to-end tuning runs through the `colt` binary: every strategy on a CI-scale workload
//! with scripted LLMs on a loopback HTTP server (good answers, garbage, illegal actions,
//! rate limits), and kill -9 in the middle of a run followed by `--resume`.

use assert_cmd::Command;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// An OpenAI-compatible endpoint on 127.0.0.1 that cycles through scripted replies.
struct Server {
    url: String,
    calls: Arc<AtomicUsize>,
}

fn answer(content: &str) -> String {
    json!({
        "id": "x", "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 900, "completion_tokens": 40, "prompt_tokens_details": {"cached_tokens": 800}}
    })
    .to_string()
}

fn start_server() -> Server {
    let server = tiny_http::Server::http("127.0.0.1:0").expect("bind loopback");
    let url = format!("http://{}", server.server_addr().to_ip().expect("ip"));
    let calls = Arc::new(AtomicUsize::new(0));
    let n = Arc::clone(&calls);
    let script: Vec<(u16, String)> = vec![
        (
            200,
            answer(
                r#"{"transformations": [{"action": "unroll", "stage": "matmul", "step": 64}], "next_model": "small"}"#,
            ),
        ),
        (
            200,
            answer(
                r#"{"transformations": [{"action": "tile", "stage": "matmul", "loop": "j", "middle": 1, "inner": 16}], "next_model": "large"}"#,
            ),
        ),
        (200, answer("I would tile the loops, probably.")),
        (
            200,
            answer(
                r#"{"transformations": [{"action": "vectorize", "stage": "matmul", "on": "on"}], "next_model": "small"}"#,
            ),
        ),
        (429, r#"{"error": "slow down"}"#.to_string()),
        (
            200,
            answer(
                r#"{"transformations": [{"action": "tile", "stage": "matmul", "loop": "i", "middle": 2, "inner": 4}], "next_model": "small"}"#,
            ),
        ),
        (
            200,
            answer(
                r#"{"transformations": [{"action": "nosuch", "stage": "matmul"}], "next_model": "small"}"#,
            ),
        ),
    ];
    std::thread::spawn(move || {
        for mut rq in server.incoming_requests() {
            let mut body = String::new();
            let _ = rq.as_reader().read_to_string(&mut body);
            let i = n.fetch_add(1, Ordering::SeqCst);
            let (status, text) = script[i % script.len()].clone();
            let mut resp = tiny_http::Response::from_string(text).with_status_code(status);
            resp.add_header(
                tiny_http::Header::from_bytes("Content-Type", "application/json").unwrap(),
            );
            if status == 429 {
                resp.add_header(tiny_http::Header::from_bytes("Retry-After", "0").unwrap());
            }
            let _ = rq.respond(resp);
        }
    });
    Server { url, calls }
}

fn config(dir: &Path, url: &str) -> PathBuf {
    let text = format!(
        r#"
[[models]]
name = "small"
provider = "openai"
endpoint = "{url}"
model = "small-8b"
params = "8B"
prices = {{ input = 0.1, cached_input = 0.01, output = 0.4 }}
retry = {{ max_attempts = 2, base_backoff_ms = 1, max_backoff_ms = 5 }}
timeout_s = 10

[[models]]
name = "large"
provider = "openai"
endpoint = "{url}"
model = "large-1t"
params = "1T"
prices = {{ input = 1.25, cached_input = 0.125, output = 10.0 }}
retry = {{ max_attempts = 2, base_backoff_ms = 1, max_backoff_ms = 5 }}
timeout_s = 10

[search]
batch_size = 4
# Remote models: a round's expansions are asked together and their calls run concurrently
# (so the kill -9 / resume test below covers the concurrent path).
llm_concurrency = 8
"#
    );
    let p = dir.join("colt.toml");
    std::fs::write(&p, text).unwrap();
    p
}

fn tempdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("colt-tune-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn colt(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("colt").unwrap();
    c.env("COLT_CACHE", dir.join("cache"));
    c
}

fn tune(dir: &Path, args: &[&str]) -> Value {
    let out = colt(dir)
        .arg("tune")
        .args(args)
        .arg("--json")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "colt tune {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON summary")
}

#[test]
fn every_strategy_tunes_with_scripted_llms() {
    let dir = tempdir("strategies");
    let server = start_server();
    let cfg = config(&dir, &server.url);
    let db = dir.join("t.db");
    for strategy in ["random", "evolutionary", "mcts", "single-llm", "colt"] {
        let v = tune(
            &dir,
            &[
                "--workload",
                "matmul",
                "--strategy",
                strategy,
                "--trials",
                "8",
                "--seed",
                "3",
                "--config",
                cfg.to_str().unwrap(),
                "--db",
                db.to_str().unwrap(),
            ],
        );
        assert_eq!(v["trials"], 8, "{strategy}: {v}");
        // Two models of different sizes: no downgrade.
        assert_eq!(v["effective_strategy"], strategy, "{v}");
        let best = v["best_us"]
            .as_f64()
            .unwrap_or_else(|| panic!("{strategy}: no best in {v}"));
        // Whether it beats the naive nest is a timing (benchmarks check that, not tests): here
        // the best must be a correct, measured kernel.
        assert!(
            best > 0.0 && v["naive_gcc_us"].as_f64().is_some(),
            "{strategy}: {v}"
        );
        // The best kernel is timed once more after the search (what colt bench compares).
        assert!(
            v["retimed_us"].as_f64().is_some_and(|r| r > 0.0),
            "{strategy}: no re-timing in {v}"
        );
        // ... together with the search's next best (the final timing), one of which is the
        // result.
        assert!(
            v["retimed_rank"]
                .as_u64()
                .is_some_and(|r| (1..=3).contains(&r))
                && v["best_trace"].is_object(),
            "{strategy}: no final choice in {v}"
        );
        for k in [
            "search_overhead_s",
            "wall_s",
            "large_model_share",
            "tokens_in",
            "tokens_cached",
            "tokens_out",
            "cost_usd",
        ] {
            assert!(v.get(k).is_some(), "{strategy}: missing {k}");
        }
        let calls: u64 = v["llm_calls"]
            .as_object()
            .unwrap()
            .values()
            .map(|c| c.as_u64().unwrap())
            .sum();
        if strategy == "single-llm" || strategy == "colt" {
            assert!(calls > 0, "{strategy} made no LLM calls: {v}");
            assert!(
                v["tokens_in"].as_u64().unwrap() > 0 && v["cost_usd"].as_f64().unwrap() > 0.0,
                "{strategy}: {v}"
            );
            // The scripted garbage and unknown actions are counted as the models' errors.
            let errors: u64 = v["models"]
                .as_object()
                .unwrap()
                .values()
                .flat_map(|m| {
                    m["errors"]
                        .as_object()
                        .unwrap()
                        .values()
                        .map(|e| e.as_u64().unwrap())
                })
                .sum();
            assert!(
                errors > 0,
                "{strategy}: no errors recorded in {}",
                v["models"]
            );
        } else {
            assert_eq!(calls, 0, "{strategy} must not call LLMs");
        }
    }
    assert!(server.calls.load(Ordering::SeqCst) > 0);
    // The database lists the five runs, and the best kernel exports as C.
    let out = colt(&dir)
        .args(["runs", "--json", "--db", db.to_str().unwrap()])
        .output()
        .unwrap();
    let runs: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(runs["runs"].as_array().unwrap().len(), 5);
    let export = dir.join("export");
    let out = colt(&dir)
        .args([
            "best",
            "--workload",
            "matmul",
            "--out",
            export.to_str().unwrap(),
            "--db",
            db.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let c = std::fs::read_to_string(export.join("matmul.c")).unwrap();
    let h = std::fs::read_to_string(export.join("matmul.h")).unwrap();
    assert!(
        c.contains("void colt_matmul(float* const* bufs)")
            && h.contains("void colt_matmul(float* const* bufs);")
    );
}

/// A colt run on a bucket of one model is single-LLM search: one warning line says so (also
/// with --json) and the summary's `effective_strategy` is `single-llm`.
#[test]
fn colt_on_a_one_model_bucket_says_it_is_single_llm() {
    let dir = tempdir("one-model");
    let server = start_server();
    // The two-model config less its first model ("small"): "large" and [search] are left.
    let two = std::fs::read_to_string(config(&dir, &server.url)).unwrap();
    let (_, rest) = two.split_once("[[models]]\nname = \"large\"").unwrap();
    let cfg = dir.join("one.toml");
    std::fs::write(&cfg, format!("[[models]]\nname = \"large\"{rest}")).unwrap();
    let db = dir.join("o.db");
    let out = colt(&dir)
        .args([
            "tune",
            "--workload",
            "matmul",
            "--strategy",
            "colt",
            "--trials",
            "8",
            "--seed",
            "1",
            "--json",
        ])
        .args([
            "--config",
            cfg.to_str().unwrap(),
            "--db",
            db.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON summary");
    assert_eq!(
        (v["strategy"].as_str(), v["effective_strategy"].as_str()),
        (Some("colt"), Some("single-llm")),
        "{v}"
    );
    let warnings: Vec<&str> = err.lines().filter(|l| l.contains("single-LLM")).collect();
    assert_eq!(warnings.len(), 1, "one warning line: {err}");
    assert!(
        warnings[0].starts_with("warning: the LLM bucket has one model (large)"),
        "{}",
        warnings[0]
    );
    // The requested single-llm strategy is not a downgrade: no warning.
    let out = colt(&dir)
        .args([
            "tune",
            "--workload",
            "matmul",
            "--strategy",
            "single-llm",
            "--trials",
            "8",
            "--seed",
            "1",
            "--json",
        ])
        .args([
            "--config",
            cfg.to_str().unwrap(),
            "--db",
            db.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success() && !String::from_utf8_lossy(&out.stderr).contains("warning:"));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["effective_strategy"], "single-llm");
}

/// The models are remote (loopback), so the run asks its expansions in concurrent rounds
/// (`llm_concurrency`); the resumed run replays the recorded answers in the order they were
/// applied, whatever order they arrived in.
#[test]
fn kill_9_then_resume_loses_and_duplicates_nothing() {
    let dir = tempdir("resume");
    let server = start_server();
    let cfg = config(&dir, &server.url);
    let db_path = dir.join("r.db");
    let args = [
        "tune",
        "--workload",
        "matmul",
        "--strategy",
        "colt",
        "--trials",
        "24",
        "--seed",
        "5",
        "--json",
        "--config",
        cfg.to_str().unwrap(),
        "--db",
        db_path.to_str().unwrap(),
    ];
    let bin = assert_cmd::cargo::cargo_bin("colt");
    let mut child = std::process::Command::new(&bin)
        .args(args)
        .env("COLT_CACHE", dir.join("cache"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let run = colt_db::RunId(1);
    let deadline = Instant::now() + Duration::from_secs(120);
    let before = loop {
        assert!(
            Instant::now() < deadline,
            "the run never recorded 10 measurements"
        );
        if let Ok(db) = colt_db::Db::open(&db_path)
            && let Ok(c) = db.candidates(run)
            && c.len() >= 10
        {
            break c;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    let _ = child.wait();
    let db = colt_db::Db::open(&db_path).unwrap();
    let at_kill = db.candidates(run).unwrap();
    let calls_before_kill = db.llm_calls(run).unwrap();
    let calls_at_kill = calls_before_kill.len();
    assert!(
        at_kill.len() >= before.len() && at_kill.len() < 24,
        "killed too late: {}",
        at_kill.len()
    );

    let v = tune(
        &dir,
        &[
            "--resume",
            "1",
            "--config",
            cfg.to_str().unwrap(),
            "--db",
            db_path.to_str().unwrap(),
        ],
    );
    assert_eq!(v["trials"], 24, "{v}");
    if calls_at_kill > 0 {
        assert!(
            v["replayed_llm_calls"].as_u64().unwrap() > 0,
            "recorded LLM answers were not replayed: {v}"
        );
    }
    let after = db.candidates(run).unwrap();
    assert_eq!(after.len(), 24, "every trial recorded exactly once");
    let mut keys: Vec<&str> = after.iter().map(|c| c.candidate.key.as_str()).collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 24, "no duplicated record");
    for (i, c) in after.iter().enumerate() {
        assert_eq!(c.seq, i as u64, "gap-free sequence");
    }
    for old in &at_kill {
        assert_eq!(
            &after[old.seq as usize], old,
            "a record from before the kill changed"
        );
    }
    // The recorded calls stay as they were (replayed, not re-asked or stored twice), and the
    // resumed run's calls follow them.
    let calls_after = db.llm_calls(run).unwrap();
    assert!(calls_after.len() >= calls_at_kill);
    assert_eq!(&calls_after[..calls_at_kill], &calls_before_kill[..]);
    for (i, c) in calls_after.iter().enumerate() {
        assert_eq!(c.call.seq, i as u64, "gap-free call sequence");
    }
    assert_eq!(db.run(run).unwrap().status, colt_db::RunStatus::Finished);
}

/// With no `[[models]]` in colt.toml, the LLM strategies use the two embedded models,
/// SmolLM2 135M and Gemma 3 270M, each in its own llama.cpp context (feature `local`;
/// `scripts/setup` installs both files), and a colt run asks both.
#[cfg(feature = "local")]
#[test]
fn colt_runs_on_the_two_embedded_models_without_a_config() {
    for (path, var) in [
        (colt_llm::config::smollm2_model_path(), "COLT_SMOLLM2_PATH"),
        (
            colt_llm::config::model_cache_dir().join(colt_llm::config::GEMMA_MODEL_FILE),
            "COLT_MODEL_PATH",
        ),
    ] {
        if std::env::var_os(var).is_none() {
            assert!(
                path.is_file(),
                "the embedded model is not installed at {}: run scripts/setup-model.sh (or set {var})",
                path.display()
            );
        }
    }
    let dir = tempdir("embedded");
    let db = dir.join("e.db");
    // Only [search]: the bucket is the default one. The first batch (4) is the root and random
    // warm-up samples; the models expand in the second, 4 calls (not the default 2), so that
    // a model is asked more than once and its KV cache is reused.
    let cfg = dir.join("colt.toml");
    std::fs::write(
        &cfg,
        "[search]\nbatch_size = 4\nllm_expansions_per_batch = 4\n",
    )
    .unwrap();
    let v = tune(
        &dir,
        &[
            "--workload",
            "matmul",
            "--strategy",
            "colt",
            "--trials",
            "8",
            "--seed",
            "2",
            "--config",
            cfg.to_str().unwrap(),
            "--db",
            db.to_str().unwrap(),
        ],
    );
    assert_eq!(v["trials"], 8, "{v}");
    assert_eq!(v["effective_strategy"], "colt", "{v}");
    assert!(v["best_us"].as_f64().is_some(), "{v}");
    for m in ["smollm2-135m", "gemma-3-270m"] {
        let calls = v["llm_calls"][m].as_u64().unwrap_or(0);
        assert!(calls > 0, "{m} was never asked: {v}");
        assert!(
            v["models"][m]["ok"].as_u64().unwrap() > 0,
            "{m}: no valid answer: {}",
            v["models"]
        );
    }
    assert!(
        v["tokens_in"].as_u64().unwrap() > 0 && v["tokens_cached"].as_u64().unwrap() > 0,
        "{v}"
    );
    assert_eq!(v["cost_usd"].as_f64().unwrap(), 0.0);
}

/// The LLVM pass-ordering space goes through the same driver, database and engine.
#[test]
fn llvm_space_tunes_a_c_program_and_exports_the_pipeline() {
    let dir = tempdir("llvm");
    let db = dir.join("l.db");
    let out = dir.join("export");
    let prog =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../colt-llvm/programs/const_poly.c");
    let v = tune(
        &dir,
        &[
            "--space",
            "llvm",
            "--program",
            prog.to_str().unwrap(),
            "--objective",
            "size",
            "--strategy",
            "evolutionary",
            "--trials",
            "8",
            "--db",
            db.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(v["trials"], 8, "{v}");
    let best = v["best"].as_f64().expect("a best pass sequence");
    let o0 = v["baselines"]["clang -O0"]
        .as_f64()
        .expect("clang -O0 baseline");
    assert!(best < o0, "the best sequence should shrink the -O0 IR: {v}");
    let pipeline = v["export"]["pipeline"].as_str().unwrap();
    assert!(!pipeline.is_empty());
    assert!(std::path::Path::new(v["export"]["ll"].as_str().unwrap()).is_file());
    let show = colt(&dir)
        .args(["show", "--space", "llvm"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&show.stdout);
    for pass in ["instcombine", "loop-unroll", "slp-vectorizer", "mergefunc"] {
        assert!(text.contains(pass), "{pass} missing from the vocabulary");
    }
}

#[test]
fn llvm_bench_reports_geomeans_against_oz_and_o3() {
    let dir = tempdir("llvm-bench");
    let out = colt(&dir)
        .args([
            "bench",
            "--space",
            "llvm",
            "--programs",
            "const_poly",
            "--trials",
            "4",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    for k in ["size_vs_oz", "runtime_vs_o3"] {
        let g = v["geomean"][k]
            .as_f64()
            .unwrap_or_else(|| panic!("{k} missing in {v}"));
        assert!(g > 0.0 && g.is_finite(), "{k} = {g}");
    }
}

/// A program from elsewhere: two files that need a define, an argument, standard input and
/// a timing line the output check ignores; the run time result comes from the final
/// round-robin timing against clang -O3, and a resume with other flags is refused.
#[test]
fn llvm_space_takes_flags_args_stdin_and_an_output_check() {
    let dir = tempdir("llvm-options");
    let db = dir.join("o.db");
    let main = dir.join("main.c");
    let work = dir.join("work.c");
    let input = dir.join("input.txt");
    std::fs::write(
        &main,
        "#include <stdio.h>\n#include <stdlib.h>\n#include <time.h>\nlong work(long n);\nint main(int argc, char **argv) {\n  long k = argc > 1 ? atol(argv[1]) : 0, s = 0, x;\n  while (scanf(\"%ld\", &x) == 1) s += x;\n  struct timespec ts;\n  clock_gettime(CLOCK_MONOTONIC, &ts);\n  printf(\"time %ld.%09ld\\n\", (long)ts.tv_sec, (long)ts.tv_nsec);\n  printf(\"checksum %ld %ld\\n\", work(N + k), s);\n  return 0;\n}\n",
    )
    .unwrap();
    std::fs::write(
        &work,
        "long work(long n) { long s = 0; for (long i = 0; i < n * 20000; i++) s += (i * i) % 13; return s; }\n",
    )
    .unwrap();
    std::fs::write(&input, "7 8\n").unwrap();
    let out_dir = dir.join("out");
    let args = [
        "--space",
        "llvm",
        "--program",
        main.to_str().unwrap(),
        work.to_str().unwrap(),
        "--cflags",
        "-DN=50",
        "--args",
        "3",
        "--stdin",
        input.to_str().unwrap(),
        "--check",
        "ignore-lines ^time",
        "--objective",
        "runtime",
        "--strategy",
        "random",
        "--trials",
        "4",
        "--db",
        db.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
    ];
    let v = tune(&dir, &args);
    assert_eq!(v["trials"], 4, "{v}");
    let f = &v["final_timing"];
    let origins: Vec<&str> = f["contenders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["origin"].as_str().unwrap())
        .collect();
    assert!(origins.iter().any(|o| o.contains("default<O3>")), "{f}");
    let ratio = v["retimed_ratio"].as_f64().expect("a ratio to clang -O3");
    assert!(ratio > 0.0 && ratio.is_finite(), "{v}");
    assert!(v["export"]["pipeline"].as_str().is_some(), "{v}");
    // The options are recorded with the run; resuming (a copy of it that is still
    // `running`, i.e. killed) with another define is refused, naming the flags.
    let h = colt_db::Db::open(&db).unwrap();
    let spec = h.run(colt_db::RunId(1)).unwrap().spec;
    assert!(
        spec.inputs["colt:llvm-options"].contains("-DN=50"),
        "{spec:?}"
    );
    let killed = h.create_run(&spec).unwrap();
    let out = colt(&dir)
        .args([
            "tune",
            "--resume",
            &killed.to_string(),
            "--cflags",
            "-DN=60",
            "--db",
        ])
        .arg(&db)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--cflags") && err.contains("-DN=50"), "{err}");
    // On the tensor space these flags are refused.
    let out = colt(&dir)
        .args(["tune", "--workload", "matmul", "--cflags", "-O1", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--space llvm only"));
}

/// The register-tile prior's target is detected from the compiler, recorded with the run and
/// used again on resume; `--no-register-prior` records none and samples other schedules.
#[test]
fn the_register_prior_target_is_recorded_and_replayed() {
    let dir = tempdir("register-prior");
    let db = dir.join("r.db");
    let db_s = db.to_str().unwrap();
    let base = [
        "--workload",
        "matmul",
        "--strategy",
        "random",
        "--trials",
        "6",
        "--seed",
        "3",
        "--db",
        db_s,
    ];
    tune(&dir, &base);
    let mut off = base.to_vec();
    off.push("--no-register-prior");
    tune(&dir, &off);
    let h = colt_db::Db::open(&db).unwrap();
    let spec = |id| h.run(colt_db::RunId(id)).unwrap().spec;
    let target: Value = serde_json::from_str(&spec(1).inputs["colt:vector-target"]).unwrap();
    assert_eq!(spec(2).inputs["colt:vector-target"], "null");
    let traces = |id| -> Vec<String> {
        h.candidates(colt_db::RunId(id))
            .unwrap()
            .into_iter()
            .map(|r| r.candidate.trace)
            .collect()
    };
    // Every x86-64 compiler targets at least SSE2, so the prior is on by default there.
    if cfg!(target_arch = "x86_64") {
        assert!(target["lanes"].as_i64().unwrap() >= 4, "{target}");
        assert_ne!(traces(1), traces(2), "the prior changed no sample");
    }
    // A resumed copy of run 1 samples with the recorded target: the same candidates.
    let copy = h.create_run(&spec(1)).unwrap();
    tune(&dir, &["--resume", &copy.to_string(), "--db", db_s]);
    assert_eq!(traces(copy.0), traces(1));
    // Resuming it without the prior is refused, naming the flag.
    let again = h.create_run(&spec(1)).unwrap();
    let out = colt(&dir)
        .args([
            "tune",
            "--resume",
            &again.to_string(),
            "--no-register-prior",
            "--db",
            db_s,
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--no-register-prior"));
}
