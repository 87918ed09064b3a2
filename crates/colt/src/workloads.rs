//! `colt workloads`: the built-in workloads with their shapes and FLOPs.

use crate::out;
use serde_json::json;

#[derive(clap::Args)]
pub struct Args {
    /// ci (seconds in tests) or paper (the experiment shapes); both when omitted.
    #[arg(long)]
    scale: Option<String>,
    #[arg(long)]
    json: bool,
}

pub fn run(a: Args) -> anyhow::Result<()> {
    let scales = match &a.scale {
        Some(s) => vec![out::scale(s)?],
        None => colt_ops::Scale::ALL.to_vec(),
    };
    let mut rows = vec![];
    for scale in scales {
        for w in colt_ops::list(scale) {
            rows.push((scale, w));
        }
    }
    if a.json {
        let ws: Vec<_> = rows
            .iter()
            .map(|(s, w)| {
                json!({"name": w.name, "scale": s.as_str(), "shapes": w.shapes, "flops": w.flops,
                       "description": w.description, "source": w.source})
            })
            .collect();
        out::print_json(&json!({ "workloads": ws }));
        return Ok(());
    }
    println!("{:<22} {:<6} {:>14}  shapes", "workload", "scale", "GFLOP");
    for (s, w) in rows {
        let shapes: Vec<String> = w.shapes.iter().map(|(k, v)| format!("{k}={v}")).collect();
        println!(
            "{:<22} {:<6} {:>14.3}  {}",
            w.name,
            s.as_str(),
            w.flops as f64 / 1e9,
            shapes.join(" ")
        );
    }
    Ok(())
}
