//! Held-out ranking quality of the cost model on measured records, and the cost of the
//! per-candidate work the evolutionary search does (sample, mutate, lower, extract).
//! Input: a TSV of `latency_us<TAB>trace_json` lines (e.g. dumped from a colt database with
//! `sqlite3 DB "select coalesce(latency_median_us,-1) || char(9) || trace from candidates
//! where run_id=1"`). `cargo run --release -p colt-cost --example db_quality FILE WORKLOAD`.

use colt_cost::{Gbdt, GbdtParams, features, holdout_quality, labels_from_latencies};
use rand::SeedableRng;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(file), Some(name)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: db_quality FILE.tsv WORKLOAD");
        std::process::exit(2);
    };
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("cannot read {file}: {e}"));
    let p = colt_ops::build(name, colt_ops::Scale::Ci).expect("known workload");
    let (x, lat) = read_records(&p, &text);
    println!("{} records, {} features", x.len(), x[0].len());
    holdout_report(&x, &lat);
    replay_report(&x, &lat);
    cost_report(&p);
}

/// Features and latencies (NaN: not measured) of the `latency_us<TAB>trace_json` lines.
fn read_records(p: &colt_ir::Program, text: &str) -> (Vec<Vec<f32>>, Vec<f64>) {
    let mut x = vec![];
    let mut lat = vec![];
    for line in text.lines() {
        let Some((l, t)) = line.split_once('\t') else {
            continue;
        };
        let trace = colt_sched::Trace::from_json(t).expect("trace");
        let f = colt_sched::apply_trace(p, &trace).expect("lowers");
        x.push(features::extract(&f));
        let l: f64 = l.parse().unwrap_or(-1.0);
        lat.push(if l > 0.0 { l } else { f64::NAN });
    }
    (x, lat)
}

/// Mean held-out τ over 10 shuffles, per label kind (throughput, log) and model parameters.
fn holdout_report(x: &[Vec<f32>], lat: &[f64]) {
    let thr = labels_from_latencies(lat);
    let logl: Vec<f32> = thr
        .iter()
        .map(|&v| {
            if v > 0.0 {
                (1.0 + (v as f64).ln() / 1000f64.ln()).max(0.0) as f32
            } else {
                0.0
            }
        })
        .collect();
    for (lname, y) in [("throughput", &thr), ("log", &logl)] {
        for (pname, params) in variants(&["default", "mcw2", "d3"]) {
            let mut taus = vec![];
            for seed in 0..10 {
                let mut m = Gbdt::new(params.clone());
                taus.push(holdout_quality(&mut m, x, y, seed).kendall_tau);
            }
            let mean = taus.iter().sum::<f64>() / taus.len() as f64;
            println!("labels {lname:10} params {pname:8} mean held-out tau {mean:.3}");
        }
    }
}

/// Replay in record order: train on the first 8b records (labels against their best),
/// rank the next 8; report the mean τ and how often the top-predicted one is a
/// predicted-~1 record that measures at less than half the best throughput (a
/// "winner's curse" miss).
fn replay_report(x: &[Vec<f32>], lat: &[f64]) {
    for (pname, params) in variants(&["default", "mcw2", "mcw3", "mcw2r30"]) {
        let (mut taus, mut over) = (vec![], 0);
        let mut b = 1;
        while 8 * (b + 1) <= x.len() {
            let (tr, te) = (0..8 * b, 8 * b..8 * (b + 1));
            let y = labels_from_latencies(&lat[..8 * (b + 1)]);
            let mut m = Gbdt::new(params.clone());
            colt_cost::CostModel::fit(&mut m, &x[tr.clone()], &y[tr]);
            let p = colt_cost::CostModel::predict(&m, &x[te.clone()]);
            taus.push(colt_cost::kendall_tau(&p, &y[te.clone()]));
            over += p
                .iter()
                .zip(&y[te])
                .filter(|(p, y)| **p > 0.9 && **y < 0.5)
                .count();
            b += 1;
        }
        let tau = taus.iter().filter(|t| t.is_finite()).sum::<f64>() / taus.len() as f64;
        println!(
            "replay params {pname:8} mean next-batch tau {tau:.3}, predicted>0.9 but label<0.5: {over}"
        );
    }
}

/// The cost-model parameter variants compared, by name: the defaults, a minimum child
/// weight of 2 or 3 (`mcw2`, `mcw3`), depth 3 with weight 2 (`d3`), weight 2 with 30
/// rounds (`mcw2r30`).
fn variants<'a>(names: &[&'a str]) -> Vec<(&'a str, GbdtParams)> {
    let d = GbdtParams::default;
    names
        .iter()
        .map(|&n| {
            let p = match n {
                "mcw2" => GbdtParams {
                    min_child_weight: 2.0,
                    ..d()
                },
                "mcw3" => GbdtParams {
                    min_child_weight: 3.0,
                    ..d()
                },
                "d3" => GbdtParams {
                    max_depth: 3,
                    min_child_weight: 2.0,
                    ..d()
                },
                "mcw2r30" => GbdtParams {
                    min_child_weight: 2.0,
                    rounds: 30,
                    ..d()
                },
                "default" => d(),
                other => unreachable!("no parameter variant {other}"),
            };
            (n, p)
        })
        .collect()
}

/// Costs of the per-candidate work: sample, lower, extract, mutate (ms each, 200 draws).
fn cost_report(p: &colt_ir::Program) {
    let mut rng = rand_pcg::Pcg64::seed_from_u64(1);
    let n = 200;
    let t = Instant::now();
    let traces: Vec<_> = (0..n)
        .map(|_| colt_sched::sketch::sample(p, &mut rng))
        .collect();
    let sample_ms = t.elapsed().as_secs_f64() * 1e3 / n as f64;
    let t = Instant::now();
    let funcs: Vec<_> = traces
        .iter()
        .filter_map(|tr| colt_sched::apply_trace(p, tr).ok())
        .collect();
    let lower_ms = t.elapsed().as_secs_f64() * 1e3 / n as f64;
    let t = Instant::now();
    let _: Vec<_> = funcs.iter().map(features::extract).collect();
    let extract_ms = t.elapsed().as_secs_f64() * 1e3 / n as f64;
    let t = Instant::now();
    let _: Vec<_> = traces
        .iter()
        .map(|tr| colt_sched::mutate::mutate(p, tr, &mut rng))
        .collect();
    let mutate_ms = t.elapsed().as_secs_f64() * 1e3 / n as f64;
    println!(
        "per candidate: sample {sample_ms:.3} ms, lower {lower_ms:.3} ms, extract {extract_ms:.3} ms, mutate {mutate_ms:.3} ms"
    );
}
