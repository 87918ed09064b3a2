//! `colt bench --space llvm` over `colt tune` runs: every (program, objective, strategy,
//! seed) is one `colt tune --space llvm --json` of this executable, recorded in the bench's
//! database, so LLM strategies (`colt` on the embedded bucket, `single-llm:<model>`, ...)
//! and any program (a bundled name, a `.c` file, `a.c+b.c`, or a directory of `.c` files)
//! run exactly as a user's `colt tune` would. Per program and objective: each strategy's
//! result over clang's (IR instructions and `.text` bytes against `clang -Oz`; run time and
//! memory against `clang -O3` in the final round-robin timing), median and spread over the
//! seeds, wall time and LLM calls and tokens; then the geometric means per objective and
//! strategy.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use serde::Serialize;
use serde_json::Value;

use super::colt_run::ModelUse;
use super::report::Spread;
use super::strategies::BenchStrategy;
use crate::space::Space;
use colt_llvm::Objective;

/// A program to bench: its name and files.
#[derive(Clone, Debug, PartialEq)]
pub struct ProgramRef {
    /// Name in the report (the bundled name or the first file's stem).
    pub name: String,
    /// Its C files.
    pub files: Vec<PathBuf>,
}

/// The programs `--programs` names (every bundled one without it): bundled names are
/// written into `tmp`; a directory stands for each `.c` file in it; `a.c+b.c` is one program
/// of several files.
pub fn resolve_programs(names: &[String], tmp: &Path) -> anyhow::Result<Vec<ProgramRef>> {
    let bundled = |name: &str| -> anyhow::Result<ProgramRef> {
        let b = colt_llvm::programs::find(name).context("not bundled")?;
        let p = tmp.join(format!("{name}.c"));
        std::fs::write(&p, b.source).with_context(|| format!("cannot write {}", p.display()))?;
        Ok(ProgramRef {
            name: name.to_string(),
            files: vec![p],
        })
    };
    if names.is_empty() {
        return colt_llvm::programs::BENCHMARKS
            .iter()
            .map(|b| bundled(b.name))
            .collect();
    }
    let mut out = Vec::new();
    for n in names {
        if colt_llvm::programs::find(n).is_some() {
            out.push(bundled(n)?);
            continue;
        }
        let path = Path::new(n);
        if path.is_dir() {
            let mut cs: Vec<PathBuf> = std::fs::read_dir(path)
                .with_context(|| format!("cannot read {}", path.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "c"))
                .collect();
            cs.sort();
            if cs.is_empty() {
                bail!("--programs {n}: the directory holds no .c file");
            }
            out.extend(cs.into_iter().map(|c| ProgramRef {
                name: stem(&c),
                files: vec![c],
            }));
            continue;
        }
        let files: Vec<PathBuf> = n.split('+').map(PathBuf::from).collect();
        if let Some(f) = files.iter().find(|f| !f.is_file()) {
            let known: Vec<&str> = colt_llvm::programs::BENCHMARKS
                .iter()
                .map(|b| b.name)
                .collect();
            bail!(
                "--programs {n}: {} is neither a bundled program ({}) nor a file or directory",
                f.display(),
                known.join(", ")
            );
        }
        out.push(ProgramRef {
            name: stem(&files[0]),
            files,
        });
    }
    Ok(out)
}

fn stem(p: &Path) -> String {
    p.file_stem()
        .map_or("program".into(), |s| s.to_string_lossy().to_string())
}

/// One `colt tune` of the bench.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct LlvmRow {
    pub program: String,
    pub objective: Objective,
    pub strategy: String,
    pub seed: u64,
    /// `ok`, or why the run gave no result.
    pub status: String,
    pub run: Option<i64>,
    /// The result: the search's best IR count (size), the final timing's choice (run
    /// time in µs, memory in KiB).
    pub value: Option<f64>,
    /// The clang build it is compared with (`clang -Oz` for size, `clang -O3` otherwise).
    pub reference_name: String,
    pub reference: Option<f64>,
    /// value / reference (for run time and memory: in the same final timing).
    pub ratio: Option<f64>,
    /// Size: the result's `.text` bytes over `clang -Oz`'s.
    pub text_ratio: Option<f64>,
    pub wall_s: Option<f64>,
    /// LLM calls, tokens and USD of the run (all models).
    #[serde(flatten)]
    pub llm: ModelUse,
    pub large_model_share: Option<f64>,
}

impl LlvmRow {
    /// The row of a `colt tune --json` summary.
    pub fn from_summary(base: LlvmRow, v: &Value) -> LlvmRow {
        let f = |k: &str| v[k].as_f64();
        let u = |k: &str| v[k].as_u64().unwrap_or(0);
        let size = base.objective == Objective::Size;
        let reference_name = if size { "clang -Oz" } else { "clang -O3" };
        let (value, reference, ratio) = if size {
            let value = f("best");
            let reference = v["baselines"][reference_name].as_f64();
            let ratio = value.zip(reference).map(|(a, b)| a / b);
            (value, reference, ratio)
        } else {
            let ft = &v["final_timing"];
            let value = ft["chosen"]
                .as_u64()
                .and_then(|i| ft["contenders"][i as usize]["value"].as_f64());
            (value, ft["reference"].as_f64(), f("retimed_ratio"))
        };
        let text_ratio = if size {
            v["best_text_bytes"]
                .as_f64()
                .zip(v["baseline_text_bytes"][reference_name].as_f64())
                .map(|(a, b)| a / b)
        } else {
            None
        };
        let llm_calls = match &v["llm_calls"] {
            Value::Object(m) => m.values().filter_map(Value::as_u64).sum(),
            other => other.as_u64().unwrap_or(0),
        };
        LlvmRow {
            status: if value.is_some() { "ok" } else { "no result" }.into(),
            run: v["run"].as_i64(),
            value,
            reference_name: reference_name.into(),
            reference,
            ratio,
            text_ratio,
            wall_s: f("wall_s"),
            llm: ModelUse {
                calls: llm_calls,
                tokens_in: u("tokens_in"),
                tokens_cached: u("tokens_cached"),
                tokens_out: u("tokens_out"),
                usd: f("cost_usd").unwrap_or(0.0),
            },
            large_model_share: if llm_calls > 0 {
                f("large_model_share")
            } else {
                None
            },
            ..base
        }
    }
}

/// What the bench runs.
pub struct LlvmBench {
    pub exe: PathBuf,
    pub db: PathBuf,
    pub trials: usize,
    pub seeds: u64,
    pub llm_seeds: Option<u64>,
    pub objectives: Vec<Objective>,
    /// Each strategy with the config its runs get.
    pub strategies: Vec<(BenchStrategy, Option<PathBuf>)>,
}

impl LlvmBench {
    /// Every run, one row each, in order (program, objective, strategy, seed).
    pub fn run(&self, programs: &[ProgramRef], quiet: bool) -> Vec<LlvmRow> {
        let mut rows = Vec::new();
        for p in programs {
            for o in &self.objectives {
                for (s, config) in &self.strategies {
                    let n = super::seeds_for(s.uses_llm(), self.seeds, self.llm_seeds);
                    for seed in 1..=n {
                        if !quiet {
                            eprintln!(
                                "bench: {} ({o}), {} trials: {} seed {seed}...",
                                p.name, self.trials, s.label
                            );
                        }
                        rows.push(self.one(p, *o, s, config.as_deref(), seed));
                    }
                }
            }
        }
        rows
    }

    fn one(
        &self,
        p: &ProgramRef,
        objective: Objective,
        s: &BenchStrategy,
        config: Option<&Path>,
        seed: u64,
    ) -> LlvmRow {
        let base = LlvmRow {
            program: p.name.clone(),
            objective,
            strategy: s.label.clone(),
            seed,
            ..LlvmRow::default()
        };
        let mut cmd = Command::new(&self.exe);
        let space = Space::Llvm.to_string();
        cmd.args(["tune", "--json", "--space", space.as_str(), "--program"]);
        cmd.args(&p.files);
        cmd.args([
            "--objective",
            objective.as_str(),
            "--strategy",
            s.tune.as_str(),
        ]);
        cmd.args([
            "--trials",
            &self.trials.to_string(),
            "--seed",
            &seed.to_string(),
        ]);
        cmd.arg("--db").arg(&self.db);
        let out_dir = tempfile::tempdir();
        if let Ok(d) = &out_dir {
            cmd.arg("--out").arg(d.path());
        }
        if let Some(c) = config {
            cmd.arg("--config").arg(c);
        }
        let failed = |why: String| LlvmRow {
            status: why,
            ..base.clone()
        };
        let out = match super::colt_run::run_tune(&self.exe, &mut cmd) {
            Ok(o) => o,
            Err(why) => return failed(why),
        };
        match serde_json::from_slice::<Value>(&out) {
            Ok(v) => LlvmRow::from_summary(base.clone(), &v),
            Err(e) => failed(format!("colt tune printed no JSON summary ({e})")),
        }
    }
}

/// Per (objective, strategy): the geometric mean over programs of each program's median
/// ratio, and of the `.text` ratios (size).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Geomean {
    pub objective: Objective,
    pub strategy: String,
    pub reference: String,
    pub programs: usize,
    pub ratio: Option<f64>,
    pub text_ratio: Option<f64>,
    /// Median wall time of one run.
    pub wall_s: Option<f64>,
    /// LLM calls over all runs.
    pub llm_calls: u64,
}

/// The per-program median ratios of `rows` for one objective and strategy.
fn medians(rows: &[&LlvmRow], pick: impl Fn(&LlvmRow) -> Option<f64>) -> Vec<f64> {
    let mut programs: Vec<&str> = rows.iter().map(|r| r.program.as_str()).collect();
    programs.dedup();
    programs
        .iter()
        .filter_map(|p| {
            Spread::of(
                rows.iter()
                    .filter(|r| r.program == *p)
                    .filter_map(|r| pick(r)),
            )
            .map(|s| s.median)
        })
        .collect()
}

/// The geometric means of `rows` (see [`Geomean`]).
pub fn geomeans(rows: &[LlvmRow]) -> Vec<Geomean> {
    let mut keys: Vec<(Objective, String)> = Vec::new();
    for r in rows {
        let k = (r.objective, r.strategy.clone());
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    keys.into_iter()
        .map(|(o, s)| {
            let rs: Vec<&LlvmRow> = rows
                .iter()
                .filter(|r| r.objective == o && r.strategy == s)
                .collect();
            let ratios = medians(&rs, |r| r.ratio);
            let texts = medians(&rs, |r| r.text_ratio);
            Geomean {
                reference: rs
                    .first()
                    .map_or(String::new(), |r| r.reference_name.clone()),
                programs: ratios.len(),
                ratio: colt_llvm::bench::geomean(&ratios),
                text_ratio: colt_llvm::bench::geomean(&texts),
                wall_s: Spread::of(rs.iter().filter_map(|r| r.wall_s)).map(|s| s.median),
                llm_calls: rs.iter().map(|r| r.llm.calls).sum(),
                objective: o,
                strategy: s,
            }
        })
        .collect()
}

/// The table: one line per (program, objective, strategy) with the median ratio and its
/// spread over the seeds, then the geometric means.
pub fn table(rows: &[LlvmRow]) -> String {
    let mut t = format!(
        "{:<16} {:<8} {:<26} {:>5} {:>26} {:>8} {:>8} {:>6}\n",
        "program",
        "object.",
        "strategy",
        "seeds",
        "ratio vs clang (min-max)",
        ".text",
        "wall s",
        "calls"
    );
    let mut seen: Vec<(&str, Objective, &str)> = Vec::new();
    for r in rows {
        let k = (r.program.as_str(), r.objective, r.strategy.as_str());
        if seen.contains(&k) {
            continue;
        }
        seen.push(k);
        let rs: Vec<&LlvmRow> = rows
            .iter()
            .filter(|x| (x.program.as_str(), x.objective, x.strategy.as_str()) == k)
            .collect();
        let ratio = Spread::of(rs.iter().filter_map(|x| x.ratio)).map_or_else(
            || {
                let why = rs
                    .iter()
                    .find(|x| x.status != "ok")
                    .map_or("-", |x| x.status.as_str());
                why.chars().take(26).collect()
            },
            |s| format!("{:.3} ({:.3}-{:.3})", s.median, s.min, s.max),
        );
        let text = Spread::of(rs.iter().filter_map(|x| x.text_ratio))
            .map_or("-".into(), |s| format!("{:.3}", s.median));
        let wall = Spread::of(rs.iter().filter_map(|x| x.wall_s))
            .map_or("-".into(), |s| format!("{:.1}", s.median));
        let calls: u64 = rs.iter().map(|x| x.llm.calls).sum();
        t += &format!(
            "{:<16} {:<8} {:<26} {:>5} {:>26} {:>8} {:>8} {:>6}\n",
            r.program,
            r.objective,
            r.strategy,
            rs.len(),
            ratio,
            text,
            wall,
            calls
        );
    }
    t += "\ngeometric means (per program: the median over seeds):\n";
    for g in geomeans(rows) {
        t += &format!(
            "  {:<8} {:<26} vs {:<10} {} over {} programs{}; median wall {}; LLM calls {}\n",
            g.objective,
            g.strategy,
            g.reference,
            g.ratio.map_or("-".into(), |r| format!("{r:.3}")),
            g.programs,
            g.text_ratio
                .map_or(String::new(), |r| format!(", .text {r:.3}")),
            g.wall_s.map_or("-".into(), |w| format!("{w:.1} s")),
            g.llm_calls
        );
    }
    t
}

/// The rows as CSV.
pub fn csv(rows: &[LlvmRow]) -> String {
    let mut s = String::from(
        "program,objective,strategy,seed,status,run,value,reference_name,reference,ratio,text_ratio,wall_s,calls,tokens_in,tokens_cached,tokens_out,usd,large_model_share\n",
    );
    let o = |x: Option<f64>| x.map_or(String::new(), |v| format!("{v}"));
    for r in rows {
        s += &format!(
            "{},{},{},{},\"{}\",{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
            r.program,
            r.objective,
            r.strategy,
            r.seed,
            r.status.replace('"', "'"),
            r.run.map_or(String::new(), |v| v.to_string()),
            o(r.value),
            r.reference_name,
            o(r.reference),
            o(r.ratio),
            o(r.text_ratio),
            o(r.wall_s),
            r.llm.calls,
            r.llm.tokens_in,
            r.llm.tokens_cached,
            r.llm.tokens_out,
            r.llm.usd,
            o(r.large_model_share)
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(program: &str, objective: Objective, seed: u64, v: &Value) -> LlvmRow {
        LlvmRow::from_summary(
            LlvmRow {
                program: program.into(),
                objective,
                strategy: "colt".into(),
                seed,
                ..LlvmRow::default()
            },
            v,
        )
    }

    #[test]
    fn a_size_summary_is_compared_with_clang_oz_and_a_runtime_one_with_the_final_timing() {
        let size = json!({"run": 1, "best": 90.0, "baselines": {"clang -Oz": 100.0},
            "best_text_bytes": 450, "baseline_text_bytes": {"clang -Oz": 500},
            "wall_s": 12.0, "llm_calls": {"a": 3, "b": 1}, "large_model_share": 0.25});
        let r = row("p", Objective::Size, 1, &size);
        assert_eq!(r.ratio, Some(0.9));
        assert_eq!(r.text_ratio, Some(0.9));
        assert_eq!(r.llm.calls, 4);
        assert_eq!(r.large_model_share, Some(0.25));
        let rt = json!({"run": 2, "best": 5.0, "retimed_ratio": 0.8,
            "final_timing": {"chosen": 1, "reference": 10.0,
                "contenders": [{"value": 9.0}, {"value": 8.0}]}});
        let r = row("p", Objective::Runtime, 1, &rt);
        assert_eq!(
            (r.value, r.reference, r.ratio),
            (Some(8.0), Some(10.0), Some(0.8))
        );
        assert_eq!(r.reference_name, "clang -O3");
        assert_eq!(r.status, "ok");
        assert_eq!(
            row("p", Objective::Runtime, 1, &json!({})).status,
            "no result"
        );
    }

    #[test]
    fn geomeans_take_each_programs_median_over_seeds() {
        let mk = |p: &str, seed: u64, best: f64| {
            row(
                p,
                Objective::Size,
                seed,
                &json!({"best": best, "baselines": {"clang -Oz": 100.0}}),
            )
        };
        let rows = vec![
            mk("a", 1, 50.0),
            mk("a", 2, 80.0),
            mk("a", 3, 200.0),
            mk("b", 1, 200.0),
        ];
        let g = geomeans(&rows);
        assert_eq!(g.len(), 1);
        // a: median 0.8; b: 2.0; geomean sqrt(1.6).
        assert!((g[0].ratio.unwrap() - 1.6f64.sqrt()).abs() < 1e-12);
        assert_eq!(g[0].programs, 2);
        let t = table(&rows);
        assert!(t.contains("0.800 (0.500-2.000)"), "{t}");
        assert_eq!(csv(&rows).lines().count(), 5);
    }

    #[test]
    fn programs_are_bundled_names_files_joined_files_or_directories() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("progs");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("x.c"), "int main(void){return 0;}").unwrap();
        std::fs::write(dir.join("y.c"), "int main(void){return 0;}").unwrap();
        std::fs::write(dir.join("notes.txt"), "").unwrap();
        let a = dir.join("x.c").display().to_string();
        let b = dir.join("y.c").display().to_string();
        let ps = resolve_programs(
            &[
                "const_poly".into(),
                dir.display().to_string(),
                format!("{a}+{b}"),
            ],
            tmp.path(),
        )
        .unwrap();
        let names: Vec<&str> = ps.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["const_poly", "x", "y", "x"]);
        assert_eq!(ps[3].files.len(), 2);
        assert!(ps[0].files[0].is_file());
        let e = resolve_programs(&["nope".into()], tmp.path()).unwrap_err();
        assert!(e.to_string().contains("neither a bundled program"), "{e}");
        assert_eq!(
            resolve_programs(&[], tmp.path()).unwrap().len(),
            colt_llvm::programs::BENCHMARKS.len()
        );
    }
}
