//! The report of small but realistic runs: a `colt` run with two LLMs (calls, failures,
//! course alterations, a tree), an `evolutionary` run without LLMs or tree, and a run
//! killed before any correct measurement. The HTML is parsed strictly (it is written as
//! polyglot markup, so an XML parser must accept it), every chart section must hold a
//! drawn SVG, database text must come out escaped, the best kernel must be the one the
//! recorded trace rebuilds, and headless Chromium must paint a non-blank page.

use colt_db::{Db, NewCandidate, NewLlmCall, NewRun, Node, OutcomeKind, RunId};
use colt_report::{Inputs, PLOTS, PNG_SIZE, ReportError};
use colt_sched::Trace;
use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const EVIL_MODEL: &str = "small<script>alert('x')</script>&co";
const EVIL_ANSWER: &str = "<script>alert(\"pwned\")</script> I would tile & unroll";

fn program() -> colt_ir::Program {
    colt_ops::build("matmul", colt_ops::Scale::Ci).expect("matmul builds")
}

/// Distinct sampled traces of matmul at CI scale.
fn traces(n: usize, seed: u64) -> Vec<Trace> {
    let p = program();
    let mut rng = Pcg64::seed_from_u64(seed);
    let mut out: Vec<Trace> = vec![];
    let mut keys = std::collections::BTreeSet::new();
    for _ in 0..n * 20 {
        let t = colt_sched::sample(&p, &mut rng);
        if keys.insert(colt_sched::trace_key(&t)) {
            out.push(t);
        }
        if out.len() == n {
            break;
        }
    }
    assert_eq!(out.len(), n, "enough distinct traces");
    out
}

fn new_run(strategy: &str, seed: u64, config: &str) -> NewRun {
    NewRun {
        strategy: strategy.into(),
        workload: "matmul".into(),
        space: "tensor".into(),
        scale: "ci".into(),
        seed,
        trials: 48,
        config: config.into(),
        versions: "colt 0.1.0".into(),
        target: "Test CPU (2 cores, x86_64)".into(),
        inputs: Default::default(),
    }
}

const COLT_CONFIG: &str = r#"
[[models]]
name = "small<script>alert('x')</script>&co"
provider = "openai"
endpoint = "http://127.0.0.1:9"
model = "small-8b"
params = "8B"

[[models]]
name = "large"
provider = "openai"
endpoint = "http://127.0.0.1:9"
model = "large-1t"
params = "1T"

[search]
large_share_floor = 0.25
"#;

/// Record `n` candidates; latencies improve noisily, a few fail. Returns the best
/// (latency, trace) pair.
fn candidates(db: &Db, run: RunId, traces: &[Trace], seed: u64, sources: &[&str]) -> (f64, Trace) {
    let mut rng = Pcg64::seed_from_u64(seed);
    let mut best = (f64::INFINITY, traces[0].clone());
    for (i, t) in traces.iter().enumerate() {
        let trend = 900.0 * (-(i as f64) / 18.0).exp() + 60.0;
        let us = trend * rng.random_range(0.8..1.6);
        let (outcome, message) = match i % 11 {
            3 => (
                OutcomeKind::CompileError,
                Some("kernel.c:12: error: expected ';' before '}' token <in> & more".to_string()),
            ),
            7 => (
                OutcomeKind::WrongResult,
                Some("max abs error 3.2e-2 > 1e-3 at c[4][7]".to_string()),
            ),
            9 if i > 20 => (OutcomeKind::Timeout, Some("exceeded 2000 ms".to_string())),
            _ => (OutcomeKind::Ok, None),
        };
        let ok = outcome == OutcomeKind::Ok;
        // The cost model ranks throughput roughly right: prediction = noisy 1/latency.
        let predicted = (i >= 4).then(|| (60.0 / us) * rng.random_range(0.7..1.3));
        let c = NewCandidate {
            key: colt_sched::trace_key(t).to_string(),
            trace: t.to_json(),
            predicted,
            outcome,
            latency_median_us: ok.then_some(us),
            latency_min_us: ok.then_some(us * 0.97),
            gflops: ok.then_some(2.0 * 64.0 * 64.0 * 64.0 / us / 1e3),
            message,
            source: sources[i % sources.len()].to_string(),
        };
        db.insert_candidate(run, &c).expect("insert candidate");
        if ok && us < best.0 {
            best = (us, t.clone());
        }
    }
    best
}

struct Fixture {
    db: Db,
    colt: RunId,
    evo: RunId,
    killed: RunId,
    best_colt: (f64, Trace),
    best_evo: (f64, Trace),
}

fn fixture() -> Fixture {
    let db = Db::open_in_memory().expect("db");
    let all = traces(84, 11);

    // A colt run: two models, a tree, course alterations and failed calls.
    let colt = db.create_run(&new_run("colt", 1, COLT_CONFIG)).unwrap();
    let best_colt = candidates(
        &db,
        colt,
        &all[..48],
        1,
        &[EVIL_MODEL, "large", "mutation", "warmup"],
    );
    let mut rng = Pcg64::seed_from_u64(5);
    for seq in 0..36u64 {
        let large = seq % 4 == 3 || (seq > 10 && seq % 9 == 0);
        let model = if large { "large" } else { EVIL_MODEL };
        let role = if large && seq % 8 == 3 {
            "course_alteration"
        } else {
            "expand"
        };
        let (ok, kind, answer) = match seq % 10 {
            4 => (false, Some("no_json"), EVIL_ANSWER.to_string()),
            8 => (false, Some("rate_limit"), String::new()),
            _ => (true, None, r#"{"transformations": [{"action": "tile", "stage": "matmul", "loop": "i", "middle": 2, "inner": 4}], "next_model": "small"}"#.to_string()),
        };
        let (tin, tout) = (rng.random_range(800..1400u64), rng.random_range(30..90u64));
        let price = if large { (1.25, 10.0) } else { (0.1, 0.4) };
        db.insert_llm_call(
            colt,
            &NewLlmCall {
                seq,
                model: model.into(),
                role: role.into(),
                ok,
                error_kind: kind.map(str::to_string),
                latency_ms: rng.random_range(200.0..2500.0),
                input_tokens: tin,
                cached_tokens: tin * 3 / 4,
                output_tokens: tout,
                cost_usd: (tin as f64 * price.0 + tout as f64 * price.1) / 1e6,
                attempts: 1 + u32::from(kind == Some("rate_limit")),
                prefix_hash: "9f3a".into(),
                answer,
                action: None,
                record: None,
            },
        )
        .unwrap();
    }
    let mut depth = vec![0u32];
    let mut nodes = vec![Node {
        node_id: 0,
        parent: None,
        depth: 0,
        model: Some("root".into()),
        state: Trace::new("matmul").to_json(),
        visits: 40,
        value: 0.4,
        predicted: Some(0.1),
        measured: Some(1450.0),
        terminal: false,
    }];
    for (i, t) in all[..40].iter().enumerate() {
        let id = i as u64 + 1;
        let parent = rng.random_range(0..id.min(12));
        let d = depth[parent as usize] + 1;
        depth.push(d);
        nodes.push(Node {
            node_id: id,
            parent: Some(parent),
            depth: d,
            model: Some(if i % 3 == 0 { "large" } else { EVIL_MODEL }.into()),
            state: t.to_json(),
            visits: rng.random_range(1..8),
            value: rng.random_range(0.0..1.0),
            predicted: Some(rng.random_range(0.0..1.0)),
            measured: (i % 2 == 0).then(|| rng.random_range(60.0..900.0)),
            terminal: i % 7 == 6,
        });
    }
    db.upsert_nodes(colt, &nodes).unwrap();
    let summary = json!({
        "run": colt.0, "workload": "matmul", "scale": "ci", "strategy": "colt", "seed": 1,
        "stop": "trials", "trials": 48, "best_us": best_colt.0, "naive_gcc_us": 1450.0,
        "naive_clang_us": 1380.0, "speedup_vs_gcc": 1450.0 / best_colt.0, "wall_s": 95.2,
        "measure_s": 40.1, "llm_s": 51.7, "search_overhead_s": 0.21,
        "llm_calls": {EVIL_MODEL: 27, "large": 9}, "large_model_share": 0.25,
        "tokens_in": 39000, "tokens_cached": 29000, "tokens_out": 2100, "cost_usd": 0.0312,
        "models": {
            EVIL_MODEL: {"params": 8e9, "phi_small": 1.0, "calls": 27, "ok": 21, "expand_calls": 27,
                "course_alteration_calls": 0, "errors": {"no_json": 3, "illegal_action": 1},
                "children": 26, "hits": 9, "hit_rate": 0.35, "regressions": 14, "course_alterations": 3,
                "course_alteration_wins": 0, "floor_overrides": 0, "fallbacks": 2},
            "large": {"params": 1e12, "phi_small": 0.0, "calls": 9, "ok": 8, "expand_calls": 6,
                "course_alteration_calls": 3, "errors": {"rate_limit": 1}, "children": 14, "hits": 7,
                "hit_rate": 0.5, "regressions": 3, "course_alterations": 0, "course_alteration_wins": 2,
                "floor_overrides": 2, "fallbacks": 0}
        },
        "best_trace": serde_json::from_str::<serde_json::Value>(&best_colt.1.to_json()).unwrap(),
        // On the roofline: matmul 64^3 (2·64³ FLOP over 3·64²·4 bytes), a measured machine.
        "best_gflops": 2.0 * 64f64.powi(3) / best_colt.0 / 1e3,
        "intensity_flop_per_byte": 2.0 * 64f64.powi(3) / (3.0 * 64f64.powi(2) * 4.0),
        "machine": {"peak_gflops": 320.0, "bandwidth_gbs": 45.0, "isa": "avx512", "cores": 2},
    });
    db.finish_run(colt, &summary.to_string()).unwrap();

    // An evolutionary run: no LLM, no tree.
    let evo = db.create_run(&new_run("evolutionary", 2, "")).unwrap();
    let best_evo = candidates(
        &db,
        evo,
        &all[20..68],
        2,
        &["evolution", "random", "mutation"],
    );
    let summary = json!({"best_us": best_evo.0, "naive_gcc_us": 1450.0, "wall_s": 41.0, "measure_s": 39.5,
        "best_gflops": 2.0 * 64f64.powi(3) / best_evo.0 / 1e3,
        "intensity_flop_per_byte": 2.0 * 64f64.powi(3) / (3.0 * 64f64.powi(2) * 4.0),
        "llm_s": 0.0, "search_overhead_s": 0.08, "llm_calls": {}, "large_model_share": 0.0, "models": {}});
    db.finish_run(evo, &summary.to_string()).unwrap();

    // A run killed after a few failed measurements (no summary, nothing correct).
    let killed = db.create_run(&new_run("mcts", 3, "")).unwrap();
    for (i, t) in all[70..74].iter().enumerate() {
        let c = NewCandidate {
            key: format!("k{i}"),
            trace: t.to_json(),
            predicted: None,
            outcome: if i % 2 == 0 {
                OutcomeKind::Crash
            } else {
                OutcomeKind::CompileError
            },
            latency_median_us: None,
            latency_min_us: None,
            gflops: None,
            message: Some("signal 11".into()),
            source: "random".into(),
        };
        db.insert_candidate(killed, &c).unwrap();
    }
    Fixture {
        db,
        colt,
        evo,
        killed,
        best_colt,
        best_evo,
    }
}

/// A scratch directory removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let p =
            std::env::temp_dir().join(format!("colt-report-test-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Scratch(p)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Strict parse of the report (it must be well-formed; the HTML5 doctype is allowed).
fn parse(html: &str) -> roxmltree::Document<'_> {
    let opt = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    roxmltree::Document::parse_with_options(html, opt)
        .unwrap_or_else(|e| panic!("the report is not well-formed: {e}"))
}

fn section<'a>(doc: &'a roxmltree::Document<'a>, id: &str) -> roxmltree::Node<'a, 'a> {
    doc.descendants()
        .find(|n| n.has_tag_name("section") && n.attribute("id") == Some(id))
        .unwrap_or_else(|| panic!("section #{id} is missing"))
}

fn svg_of<'a>(sec: roxmltree::Node<'a, 'a>) -> roxmltree::Node<'a, 'a> {
    sec.descendants()
        .find(|n| n.tag_name().name() == "svg")
        .unwrap_or_else(|| panic!("no svg in section"))
}

/// Drawn shapes and text runs of an SVG.
fn marks(svg: roxmltree::Node) -> usize {
    svg.descendants()
        .filter(|n| {
            matches!(
                n.tag_name().name(),
                "path" | "polyline" | "line" | "rect" | "circle" | "text" | "polygon"
            )
        })
        .count()
}

fn svg_text(svg: roxmltree::Node) -> String {
    svg.descendants()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .collect::<Vec<_>>()
        .join(" ")
}

/// What `colt report` hands the report: colt-tensor's rebuild, the search's default floor,
/// the cost model's Kendall τ.
fn rebuild(
    workload: &str,
    scale: &str,
    trace: &str,
) -> Result<colt_report::kernel::Rebuilt, String> {
    colt_tensor::kernel_text(workload, scale, trace).map(|k| colt_report::kernel::Rebuilt {
        loop_nest: k.loop_nest,
        history: k.history,
        c_source: k.c_source,
    })
}

fn inputs() -> Inputs<'static> {
    Inputs {
        rebuild: &rebuild,
        default_large_share_floor: colt_search::SearchConfig::default().large_share_floor,
        rank_correlation: colt_cost::kendall_tau,
        peers: &[],
    }
}

fn render_html(db: &Db, runs: &[RunId]) -> Result<String, ReportError> {
    colt_report::render_html(db, runs, &inputs())
}

fn render_png(db: &Db, runs: &[RunId], path: &Path) -> Result<(), ReportError> {
    colt_report::render_png(db, runs, path, &inputs())
}

#[test]
fn every_plot_section_holds_a_drawn_svg() {
    let f = fixture();
    let html = render_html(&f.db, &[f.colt, f.evo]).expect("report renders");
    let doc = parse(&html);
    for p in &PLOTS {
        let (id, heading) = (p.id, p.title);
        let sec = section(&doc, id);
        assert_eq!(sec.attribute("class"), Some("plot"));
        let h2 = sec
            .descendants()
            .find(|n| n.has_tag_name("h2"))
            .expect("heading");
        assert_eq!(h2.text(), Some(heading));
        let svg = svg_of(sec);
        assert!(svg.attribute("viewBox").is_some(), "#{id}: svg scales");
        assert!(marks(svg) >= 20, "#{id}: only {} marks drawn", marks(svg));
    }
    // Both runs are in the main chart's legend, with the gcc baseline.
    let main = svg_text(svg_of(section(&doc, "best-vs-trials")));
    assert!(
        main.contains(&format!("colt seed 1 (run {})", f.colt)),
        "{main}"
    );
    assert!(
        main.contains(&format!("evolutionary seed 2 (run {})", f.evo)),
        "{main}"
    );
    assert!(main.contains("naive gcc -O3"), "{main}");
    // The colt run's data shows where it should.
    let share = svg_text(svg_of(section(&doc, "large-share")));
    assert!(
        share.contains("share floor 25%") && share.contains("large"),
        "{share}"
    );
    let usage = svg_text(svg_of(section(&doc, "llm-usage")));
    assert!(
        usage.contains(EVIL_MODEL) && usage.contains("Cost per model"),
        "{usage}"
    );
    let fails = svg_text(svg_of(section(&doc, "failures")));
    for k in ["compile_error", "wrong_result", "no_json", "rate_limit"] {
        assert!(fails.contains(k), "failures chart lacks {k}: {fails}");
    }
    let tree = svg_text(svg_of(section(&doc, "tree-shape")));
    assert!(
        tree.contains("Nodes per depth") && tree.contains("Branching factor"),
        "{tree}"
    );
}

#[test]
fn runs_table_and_kendall_tau_come_from_the_database() {
    let f = fixture();
    let html = render_html(&f.db, &[f.colt, f.evo]).unwrap();
    let doc = parse(&html);
    let rows: Vec<_> = section(&doc, "summary")
        .descendants()
        .filter(|n| n.has_tag_name("tr"))
        .collect();
    assert_eq!(rows.len(), 3, "header and one row per run");
    let cells: Vec<String> = rows[1]
        .children()
        .filter(|n| n.has_tag_name("td"))
        .map(|n| n.text().unwrap_or("").to_string())
        .collect();
    assert_eq!(cells[0], f.colt.to_string());
    assert_eq!(cells[2], "colt");
    assert_eq!(
        cells[6],
        colt_report::plots::fmt_us(f.best_colt.0),
        "best latency cell"
    );
    // τ in the caption is colt-cost's Kendall τ of the recorded predictions.
    let cands = f.db.candidates(f.colt).unwrap();
    let pairs: Vec<(f32, f32)> = cands
        .iter()
        .filter(|c| c.candidate.outcome == OutcomeKind::Ok)
        .filter_map(|c| {
            Some((
                c.candidate.predicted? as f32,
                (f.best_colt.0 / c.candidate.latency_median_us?) as f32,
            ))
        })
        .collect();
    let tau = colt_cost::kendall_tau(
        &pairs.iter().map(|p| p.0).collect::<Vec<_>>(),
        &pairs.iter().map(|p| p.1).collect::<Vec<_>>(),
    );
    assert!(
        tau > 0.3,
        "the fixture's predictions rank roughly right (τ = {tau})"
    );
    let caption = section(&doc, "predicted-vs-measured")
        .descendants()
        .find(|n| n.attribute("class") == Some("caption"))
        .and_then(|n| n.text())
        .unwrap()
        .to_string();
    assert!(
        caption.contains(&format!(
            "Kendall τ = {tau:.3} over {} measurements",
            pairs.len()
        )),
        "{caption}"
    );
}

#[test]
fn database_text_is_escaped_and_the_page_is_self_contained() {
    let f = fixture();
    let html = render_html(&f.db, &[f.colt]).unwrap();
    assert!(
        !html.contains("<script"),
        "a model name or answer was not escaped"
    );
    let doc = parse(&html);
    for n in doc.descendants().filter(|n| n.is_element()) {
        let tag = n.tag_name().name();
        assert!(
            !matches!(
                tag,
                "script" | "link" | "img" | "iframe" | "object" | "embed" | "image"
            ),
            "<{tag}> in the page"
        );
        for a in n.attributes() {
            assert!(
                !matches!(a.name(), "src" | "href"),
                "<{tag} {}> refers to another resource",
                a.name()
            );
            if a.name() != "xmlns" {
                assert!(
                    !a.value().contains("://"),
                    "<{tag} {}=\"{}\"> is a URL",
                    a.name(),
                    a.value()
                );
            }
        }
    }
    let style: String = doc
        .descendants()
        .filter(|n| n.has_tag_name("style"))
        .filter_map(|n| n.text())
        .collect();
    assert!(
        !style.contains("url(") && !style.contains("@import"),
        "CSS loads nothing"
    );
    // The escaped texts read back exactly.
    let texts: Vec<&str> = doc.descendants().filter_map(|n| n.text()).collect();
    assert!(
        texts.contains(&EVIL_MODEL),
        "model name shown verbatim in a table cell"
    );
    assert!(
        texts.iter().any(|t| t.contains(EVIL_ANSWER)),
        "failed answer shown verbatim"
    );
    assert!(
        texts
            .iter()
            .any(|t| t.contains("expected ';' before '}' token <in> & more")),
        "compiler message shown"
    );
}

#[test]
fn best_kernel_is_the_recorded_best_trace_rebuilt() {
    let f = fixture();
    let html = render_html(&f.db, &[f.colt, f.evo]).unwrap();
    let doc = parse(&html);
    let (us, trace) = if f.best_colt.0 <= f.best_evo.0 {
        &f.best_colt
    } else {
        &f.best_evo
    };
    let kernel = colt_tensor::Kernel::scheduled(&program(), trace).unwrap();
    let pre = |id: &str| {
        section(&doc, "best-kernel")
            .descendants()
            .find(|n| n.attribute("id") == Some(id))
            .and_then(|n| n.text())
            .unwrap_or_else(|| panic!("pre#{id} missing"))
            .to_string()
    };
    assert_eq!(pre("c-source"), kernel.source.code);
    assert_eq!(pre("loop-nest"), colt_ir::func_str(&kernel.func));
    assert_eq!(Trace::from_json(&pre("trace")).unwrap(), *trace);
    assert!(pre("c-source").contains("for ("), "C loops");
    let intro: String = section(&doc, "best-kernel")
        .descendants()
        .filter_map(|n| n.text())
        .collect();
    assert!(intro.contains(&colt_report::plots::fmt_us(*us)), "{intro}");
}

#[test]
fn runs_without_measurements_llm_or_tree_still_render_every_section() {
    let f = fixture();
    let html = render_html(&f.db, &[f.killed]).expect("a killed run renders");
    let doc = parse(&html);
    for p in &PLOTS {
        let id = p.id;
        let svg = svg_of(section(&doc, id));
        assert!(marks(svg) >= 2, "#{id} draws at least its frame and note");
    }
    assert!(svg_text(svg_of(section(&doc, "best-vs-trials"))).contains("no correct measurement"));
    assert!(svg_text(svg_of(section(&doc, "llm-usage"))).contains("no LLM calls"));
    assert!(svg_text(svg_of(section(&doc, "tree-shape"))).contains("no search tree"));
    let fails = svg_text(svg_of(section(&doc, "failures")));
    assert!(fails.contains("crash"), "{fails}");
    let best: String = section(&doc, "best-kernel")
        .descendants()
        .filter_map(|n| n.text())
        .collect();
    assert!(best.contains("No correct kernel"), "{best}");
}

#[test]
fn bad_run_lists_are_clear_errors() {
    let f = fixture();
    let e = render_html(&f.db, &[]).unwrap_err();
    assert!(matches!(e, ReportError::NoRuns), "{e}");
    let e = render_html(&f.db, &[f.colt, RunId(999)])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("run 999 does not exist") && !e.contains('\n'),
        "{e}"
    );
    let e = render_png(&f.db, &[RunId(998)], Path::new("/tmp/never.png"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("run 998"), "{e}");
}

/// Decoded RGB(A) pixels of a PNG file as (width, height, RGB triples).
fn decode(path: &Path) -> (u32, u32, Vec<[u8; 3]>) {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut dec = png::Decoder::new(std::io::BufReader::new(file));
    dec.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = dec.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("a frame");
    let ch = info.color_type.samples();
    assert!(ch >= 3, "colour PNG, got {:?}", info.color_type);
    let px = buf[..info.buffer_size()]
        .chunks(ch)
        .map(|c| [c[0], c[1], c[2]])
        .collect();
    (info.width, info.height, px)
}

/// Share of pixels that are not (near) white, and pixels near `rgb`.
fn ink(px: &[[u8; 3]], rgb: [u8; 3]) -> (f64, usize) {
    let non_white = px.iter().filter(|p| p.iter().any(|c| *c < 235)).count();
    let near = px
        .iter()
        .filter(|p| {
            p.iter()
                .zip(rgb)
                .all(|(a, b)| (*a as i32 - b as i32).abs() <= 12)
        })
        .count();
    (non_white as f64 / px.len() as f64, near)
}

fn palette(i: usize) -> [u8; 3] {
    let c = colt_report::plots::color(i);
    [c.0, c.1, c.2]
}

#[test]
fn png_of_the_main_chart_is_drawn() {
    let f = fixture();
    let dir = Scratch::new("png");
    let path = dir.0.join("best.png");
    render_png(&f.db, &[f.colt, f.evo], &path).expect("png renders");
    let (w, h, px) = decode(&path);
    assert_eq!((w, h), PNG_SIZE);
    let (share, first) = ink(&px, palette(0));
    let (_, second) = ink(&px, palette(1));
    assert!(share > 0.02 && share < 0.6, "ink share {share}");
    assert!(
        first > 100 && second > 100,
        "both runs' curves are drawn ({first}, {second} pixels)"
    );
    let e = render_png(&f.db, &[f.colt], &dir.0.join("missing/dir/x.png"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("cannot write PNG") && e.contains("does not exist"),
        "{e}"
    );
}

/// `$COLT_CHROMIUM`, else the first Chromium/Chrome on PATH.
fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("COLT_CHROMIUM").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    for name in [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
        "chrome",
    ] {
        for dir in std::env::split_paths(&path) {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

#[test]
fn headless_chromium_paints_the_report() {
    let browser = chromium().expect(
        "headless Chromium is required for this test and was not found: install it (Debian: apt-get install -y chromium, as scripts/setup does) or set COLT_CHROMIUM",
    );
    let f = fixture();
    let dir = Scratch::new("chromium");
    let page = dir.0.join("report.html");
    std::fs::write(&page, render_html(&f.db, &[f.colt, f.evo]).unwrap()).unwrap();
    let shot = dir.0.join("shot.png");
    let profile = dir.0.join("profile");
    let mut child = Command::new(&browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            "--window-size=1200,2000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", browser.display()));
    let deadline = Instant::now() + Duration::from_secs(180);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{} did not finish the screenshot within 180 s",
                browser.display()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let mut stderr = String::new();
    use std::io::Read;
    let _ = child.stderr.take().unwrap().read_to_string(&mut stderr);
    assert!(
        status.success() && shot.is_file(),
        "{} failed ({status}): {stderr}",
        browser.display()
    );
    let (w, h, px) = decode(&shot);
    assert_eq!((w, h), (1200, 2000));
    let (share, first) = ink(&px, palette(0));
    assert!(
        share > 0.03,
        "the screenshot is blank ({:.2}% ink)",
        share * 100.0
    );
    assert!(
        first > 200,
        "the main chart's first curve is not painted ({first} pixels)"
    );
}

/// A model run of `colt model tune` over two kernels (two tuning runs of 24 and 12
/// trials, one naive latency measured, the other not yet), with its rounds.
fn model_fixture() -> (Db, colt_db::ModelRunId, [(f64, Trace); 2]) {
    let db = Db::open_in_memory().expect("db");
    let spec = colt_db::NewModelRun {
        model: "/models/<evil>&cnn.onnx".into(),
        model_hash: "abc".into(),
        shapes: "{}".into(),
        strategy: "evolutionary".into(),
        seed: 4,
        trials: 40,
        config: String::new(),
        versions: "colt 0.1.0".into(),
        target: "Test CPU (2 cores, x86_64)".into(),
    };
    let task = |kernel: u64, label: &str, count: u64| colt_db::NewModelTask {
        kernel,
        run: new_run("evolutionary", 4, ""),
        label: label.into(),
        count,
    };
    let (id, tasks) = db
        .create_model_run(&spec, &[task(0, "Conv+Relu", 2), task(3, "Gemm<&>", 1)])
        .unwrap();
    let all = traces(36, 21);
    let a = candidates(&db, tasks[0].run, &all[..24], 1, &["evolution"]);
    let b = candidates(&db, tasks[1].run, &all[24..], 2, &["random"]);
    db.set_model_task_naive(id, 0, 1450.0).unwrap();
    for (seq, (kernel, trials)) in [(0, 8), (3, 8), (0, 16), (0, 24), (3, 12)]
        .iter()
        .enumerate()
    {
        let r = colt_db::ModelRound {
            seq: seq as u64,
            kernel: *kernel,
            trials: *trials,
            best_us: None,
            at_ms: 0,
        };
        db.insert_model_round(id, &r).unwrap();
    }
    (db, id, [a, b])
}

#[test]
fn a_model_run_shows_its_tasks_trials_and_latency_before_and_after() {
    let (db, id, best) = model_fixture();
    let html = colt_report::render_model_html(&db, id, &inputs()).expect("report renders");
    assert!(!html.contains("<evil>"), "the model path was not escaped");
    let doc = parse(&html);
    let sec = section(&doc, "model-run");
    let svg = svg_of(sec);
    assert!(marks(svg) >= 12, "only {} marks drawn", marks(svg));
    let text = svg_text(svg);
    assert!(
        text.contains("naive") && text.contains("tuned") && text.contains("k3"),
        "{text}"
    );
    let rows: Vec<Vec<String>> = sec
        .descendants()
        .filter(|n| n.has_tag_name("tr"))
        .skip(1)
        .map(|tr| {
            tr.children()
                .filter(|n| n.has_tag_name("td"))
                .map(|n| n.text().unwrap_or("").to_string())
                .collect()
        })
        .collect();
    assert_eq!(rows.len(), 2, "one row per task");
    // kernel, operators, count, run, trials, rounds, naive, tuned, speedup, shares
    assert_eq!(rows[0][..6], ["0", "Conv+Relu", "2", "1", "24", "3"]);
    assert_eq!(rows[1][..6], ["3", "Gemm<&>", "1", "2", "12", "2"]);
    let fmt = colt_report::plots::fmt_us;
    assert_eq!(rows[0][6], fmt(1450.0));
    assert_eq!(rows[0][7], fmt(best[0].0.min(1450.0)));
    assert_eq!(
        (rows[1][6].as_str(), rows[1][7].clone()),
        ("–", fmt(best[1].0))
    );
    // Shares after tuning are of the estimated model time, count × latency.
    let total = 2.0 * best[0].0.min(1450.0) + best[1].0;
    let share = format!("{:.1}%", 100.0 * best[1].0 / total);
    assert_eq!(rows[1][10], share);
    // The tasks' runs follow with the usual sections.
    let runs = section(&doc, "summary")
        .descendants()
        .filter(|n| n.has_tag_name("tr"))
        .count();
    assert_eq!(runs, 3, "header and the two task runs");
    for p in &PLOTS {
        section(&doc, p.id);
    }
    let e = colt_report::render_model_html(&db, colt_db::ModelRunId(9), &inputs()).unwrap_err();
    assert!(e.to_string().contains("model run 9 does not exist"), "{e}");
}

/// A report over many runs (a bench of several layers × seeds) keeps the roofline's legend
/// inside the chart: one colour and one line per workload, naming its runs and best point,
/// instead of a line per run.
#[test]
fn a_roofline_of_many_runs_has_a_legend_line_per_workload() {
    let db = Db::open_in_memory().expect("db");
    let mut ids = vec![];
    for (w, intensity) in [("matmul", 170.0), ("softmax", 0.5)] {
        for seed in 1..=7u64 {
            let id = db
                .create_run(&NewRun {
                    workload: w.into(),
                    ..new_run("evolutionary", seed, "")
                })
                .unwrap();
            let summary = json!({"best_us": 100.0 + seed as f64, "wall_s": 1.0,
                "best_gflops": 10.0 * seed as f64, "intensity_flop_per_byte": intensity,
                "machine": {"peak_gflops": 320.0, "bandwidth_gbs": 45.0}});
            db.finish_run(id, &summary.to_string()).unwrap();
            ids.push(id);
        }
    }
    let peers = [
        colt_report::Peer {
            workload: "matmul".into(),
            scale: "ci".into(),
            name: "TVM MetaSchedule".into(),
            gflops: 50.0,
        },
        colt_report::Peer {
            workload: "softmax".into(),
            scale: "ci".into(),
            name: "numpy/OpenBLAS".into(),
            gflops: 5.0,
        },
    ];
    let html = colt_report::render_html(
        &db,
        &ids,
        &Inputs {
            peers: &peers,
            ..inputs()
        },
    )
    .unwrap();
    let doc = parse(&html);
    let svg = svg_of(section(&doc, "roofline"));
    let text = svg_text(svg);
    assert!(text.contains("TVM MetaSchedule (square"), "{text}");
    assert!(text.contains("numpy/OpenBLAS (cross"), "{text}");
    let without = parse(&render_html(&db, &ids).unwrap())
        .descendants()
        .find(|n| n.attribute("id") == Some("roofline"))
        .map(|n| marks(svg_of(n)))
        .unwrap();
    assert!(
        marks(svg) > without,
        "{} marks with peers, {without} without",
        marks(svg)
    );
    assert!(text.contains("matmul ci: 7 runs, best 70"), "{text}");
    assert!(text.contains("softmax ci: 7 runs, best 70"), "{text}");
    assert!(!text.contains("seed 3"), "{text}");
    // a few runs keep their own lines
    let text = svg_text(svg_of(section(
        &parse(&render_html(&db, &ids[..3]).unwrap()),
        "roofline",
    )));
    assert!(text.contains("seed 3"), "{text}");
}
