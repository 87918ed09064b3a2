//! The HTML document: tables, inline SVG charts and the best kernel, in one file.
//!
//! The file must open anywhere, offline and years later, so it has no scripts, no external
//! style sheets, fonts or images: CSS is inline, charts are inline SVG. It is written as
//! polyglot markup (every element closed, attributes quoted, only XML's five entities) so
//! it parses both as HTML and as XML, and every text that comes from the database (model
//! names, answers, compiler messages, C code) goes through [`escape`].

use crate::ReportError;
use crate::data::RunData;
use crate::kernel::{self, BestKernel};
use crate::plots::{self, fmt_us};
use colt_llm::config::format_param_count;
use serde_json::Value;
use std::fmt::Write;
use std::path::Path;

/// One chart section of the page: `<section class="plot" id="...">` holding one inline
/// `<svg>`, its caption, and for some charts a table after it.
pub struct Plot {
    /// The section's HTML id.
    pub id: &'static str,
    /// The section heading.
    pub title: &'static str,
    /// Full size in pixels; a chart with nothing to draw gets a short frame instead.
    pub size: (u32, u32),
    /// Whether there is nothing to draw for these runs (the chart shows only its note).
    pub is_empty: fn(&[RunData]) -> bool,
    /// Draws the chart.
    pub draw: for<'a, 'b> fn(&'a plots::SvgArea<'b>, &[RunData]) -> plots::SvgResult,
    /// The caption below the chart.
    pub caption: fn(&[RunData]) -> String,
    /// What follows the figure inside the section (a table), if anything.
    pub after: Option<fn(&mut String, &[RunData])>,
}

/// The chart sections, in document order.
pub const PLOTS: [Plot; 8] = [
    Plot {
        id: "best-vs-trials",
        title: "Best latency vs trials",
        size: (1120, 560),
        is_empty: |runs| runs.iter().all(|r| r.measured().is_empty()),
        draw: |a, runs| plots::best_vs_trials(a, runs),
        caption: best_caption,
        after: None,
    },
    Plot {
        id: "predicted-vs-measured",
        title: "Cost-model quality",
        size: (1120, 520),
        is_empty: |runs| runs.iter().all(|r| r.predicted_vs_measured().is_empty()),
        draw: |a, runs| plots::predicted_vs_measured(a, runs),
        caption: tau_caption,
        after: None,
    },
    Plot {
        id: "roofline",
        title: "Roofline",
        size: (1120, 520),
        is_empty: |runs| runs.iter().all(|r| r.roofline_point().is_none()),
        draw: |a, runs| plots::roofline(a, runs),
        caption: roofline_caption,
        after: None,
    },
    Plot {
        id: "llm-usage",
        title: "LLM calls, tokens and cost per model",
        size: (1120, 400),
        is_empty: |runs| runs.iter().all(|r| r.calls.is_empty()),
        draw: |a, runs| plots::llm_usage(a, runs),
        caption: |_| {
            "Cumulative over each run's LLM calls, in call order; one line per model.".into()
        },
        after: Some(|h, runs| model_table(h, runs, false)),
    },
    Plot {
        id: "large-share",
        title: "Largest model's share of calls",
        size: (1120, 420),
        is_empty: |runs| {
            runs.iter()
                .all(|r| r.calls.is_empty() || r.largest_model().is_none())
        },
        draw: |a, runs| plots::large_share(a, runs),
        caption: share_caption,
        after: None,
    },
    Plot {
        id: "course-alterations",
        title: "Course alterations",
        size: (1120, 400),
        is_empty: |runs| runs.iter().all(|r| r.course_alterations().is_empty()),
        draw: |a, runs| plots::course_alterations(a, runs),
        caption: alteration_caption,
        after: Some(|h, runs| model_table(h, runs, true)),
    },
    Plot {
        id: "tree-shape",
        title: "Search tree shape",
        size: (1120, 400),
        is_empty: |runs| runs.iter().all(|r| r.nodes.is_empty()),
        draw: |a, runs| plots::tree_shape(a, runs),
        caption: tree_caption,
        after: None,
    },
    Plot {
        id: "failures",
        title: "Failures by class",
        size: (1120, 420),
        is_empty: |runs| {
            runs.iter()
                .all(|r| r.failures().values().all(|v| *v == 0) && r.llm_errors().is_empty())
        },
        draw: |a, runs| plots::failures(a, runs),
        caption: failure_caption,
        after: Some(failure_details),
    },
];

/// `s` with `& < > " '` replaced by entities (safe in text and quoted attributes).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters other than tab/newline are not allowed in XML text.
            c if c.is_control() && c != '\n' && c != '\t' && c != '\r' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

const CSS: &str = r#"
body { font-family: system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; color: #222;
       max-width: 1180px; margin: 24px auto; padding: 0 16px; background: #fafafa; }
h1 { font-size: 26px; margin-bottom: 4px; }
h2 { font-size: 20px; margin: 0 0 8px 0; }
h3 { font-size: 16px; margin: 16px 0 6px 0; }
section { background: #fff; border: 1px solid #e3e3e3; border-radius: 6px; padding: 16px 18px; margin: 18px 0; }
.meta { color: #666; font-size: 13px; }
.caption { color: #555; font-size: 14px; margin: 6px 0 0 0; }
figure { margin: 0; }
figure svg { width: 100%; height: auto; display: block; }
table { border-collapse: collapse; font-size: 13px; width: 100%; }
th, td { border-bottom: 1px solid #eee; padding: 4px 8px; text-align: right; white-space: nowrap; }
th { background: #f3f3f3; font-weight: 600; }
td.l, th.l { text-align: left; }
td.wrap { white-space: pre-wrap; text-align: left; font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; }
.scroll { overflow-x: auto; }
pre { background: #f6f8fa; border: 1px solid #e3e3e3; border-radius: 4px; padding: 10px; font-size: 12px;
      overflow: auto; max-height: 640px; line-height: 1.35; }
.bad { color: #b00020; }
"#;

/// A table cell with an optional number.
fn num(v: Option<f64>, f: impl Fn(f64) -> String) -> String {
    v.filter(|v| v.is_finite()).map_or("–".to_string(), f)
}

/// UTC `YYYY-MM-DD HH:MM` of milliseconds since the epoch.
pub fn utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60
    )
}

/// The whole document for the loaded `runs` of the database at `db_path`.
pub fn document(
    db_path: &Path,
    runs: &[RunData],
    rebuild: &kernel::Rebuild<'_>,
) -> Result<String, ReportError> {
    document_with(db_path, runs, rebuild, None)
}

/// The whole document, with a model run's section first when `model` is given (`runs`
/// are then its tasks' runs).
pub fn document_with(
    db_path: &Path,
    runs: &[RunData],
    rebuild: &kernel::Rebuild<'_>,
    model: Option<&crate::model::ModelData>,
) -> Result<String, ReportError> {
    let mut h = String::new();
    let ids: Vec<String> = runs.iter().map(|r| r.row.id.to_string()).collect();
    let title = match model {
        Some(m) => format!("colt tuning report: model run {}", m.row.id),
        None => format!(
            "colt tuning report: run{} {}",
            if ids.len() > 1 { "s" } else { "" },
            ids.join(", ")
        ),
    };
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n<title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<h1>{}</h1>\n<p class=\"meta\">database {} · colt-report {}</p>\n",
        escape(&title),
        escape(&title),
        escape(&db_path.display().to_string()),
        env!("CARGO_PKG_VERSION"),
    );
    if let Some(m) = model {
        crate::model::section(&mut h, m)?;
    }
    summary_table(&mut h, runs);

    for p in &PLOTS {
        let size = if (p.is_empty)(runs) {
            (p.size.0, 160)
        } else {
            p.size
        };
        let svg = plots::svg(p.id, size, |a| (p.draw)(a, runs))?;
        let _ = write!(
            h,
            "<section class=\"plot\" id=\"{}\">\n<h2>{}</h2>\n<figure>\n{svg}</figure>\n<p class=\"caption\">{}</p>\n",
            p.id,
            escape(p.title),
            escape(&(p.caption)(runs))
        );
        if let Some(after) = p.after {
            after(&mut h, runs);
        }
        h.push_str("</section>\n");
    }
    best_section(&mut h, kernel::best_kernel(runs, rebuild).as_ref());
    h.push_str("</body>\n</html>\n");
    Ok(h)
}

fn summary_table(h: &mut String, runs: &[RunData]) {
    h.push_str("<section id=\"summary\">\n<h2>Runs</h2>\n<div class=\"scroll\"><table>\n<tr><th>run</th><th class=\"l\">workload</th><th class=\"l\">strategy</th><th>seed</th><th class=\"l\">status</th><th>trials</th><th>best µs</th><th>GFLOP/s</th><th>naive gcc µs</th><th>× gcc</th><th>wall s</th><th>measure s</th><th>LLM s</th><th>overhead s</th><th>LLM calls</th><th>tokens in / cached / out</th><th>USD</th><th>largest share</th></tr>\n");
    for r in runs {
        let s = &r.row.spec;
        let best = r.best();
        let best_us = best.and_then(|b| b.candidate.latency_median_us);
        let gflops = best
            .and_then(|b| b.candidate.gflops)
            .or(r.summary_f64("best_gflops"));
        let gcc = r.summary_f64("naive_gcc_us");
        let share = r
            .summary_f64("large_model_share")
            .filter(|_| !r.calls.is_empty());
        let st = &r.stats;
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=\"l\">{} ({})</td><td class=\"l\">{}</td><td>{}</td><td class=\"l\">{}</td><td>{} / {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} / {} / {}</td><td>{}</td><td>{}</td></tr>",
            r.row.id,
            escape(&s.workload),
            escape(&s.scale),
            escape(&s.strategy),
            s.seed,
            escape(r.row.status.as_str()),
            st.candidates,
            s.trials,
            num(best_us, fmt_us),
            num(gflops, |g| format!("{g:.1}")),
            num(gcc, fmt_us),
            num(gcc.zip(best_us).map(|(g, b)| g / b), |x| format!("{x:.1}×")),
            num(r.summary_f64("wall_s"), |x| format!("{x:.1}")),
            num(r.summary_f64("measure_s"), |x| format!("{x:.1}")),
            num(r.summary_f64("llm_s"), |x| format!("{x:.1}")),
            num(r.summary_f64("search_overhead_s"), |x| format!("{x:.2}")),
            st.llm_calls,
            st.input_tokens,
            st.cached_tokens,
            st.output_tokens,
            format_args!("{:.4}", st.cost_usd),
            num(share, |x| format!("{:.0}%", x * 100.0)),
        );
    }
    h.push_str("</table></div>\n");
    for r in runs {
        let s = &r.row.spec;
        let _ = writeln!(
            h,
            "<p class=\"meta\">run {}: started {}{}, target {}, {}</p>",
            r.row.id,
            utc(r.row.created_at_ms),
            r.row
                .finished_at_ms
                .map_or(String::new(), |f| format!(", finished {}", utc(f))),
            escape(&s.target),
            escape(&s.versions)
        );
    }
    h.push_str("</section>\n");
}

fn best_caption(runs: &[RunData]) -> String {
    let parts: Vec<String> = runs
        .iter()
        .map(|r| {
            let best = r.best().and_then(|b| b.candidate.latency_median_us);
            let trial = r.best().map(|b| b.seq + 1);
            match (best, trial) {
                (Some(b), Some(t)) => format!("{}: best {} µs at trial {t}", r.label, fmt_us(b)),
                _ => format!("{}: no correct kernel", r.label),
            }
        })
        .collect();
    format!(
        "Lines: best latency so far; dots: every correct measurement. {}.",
        parts.join("; ")
    )
}

fn roofline_caption(runs: &[RunData]) -> String {
    if runs
        .iter()
        .any(|r| r.roofline_point().is_some_and(|(_, m)| m.is_some()))
    {
        "The line is the machine's bound min(peak, intensity × bandwidth), measured by \
         `colt machine`; a point's height under it is what its kernel leaves on the table."
            .into()
    } else {
        "The machine's limits are unknown to these runs: run `colt machine` once (per \
         database) and the next tunes are drawn against its bound."
            .into()
    }
}

fn tau_caption(runs: &[RunData]) -> String {
    let parts: Vec<String> = runs
        .iter()
        .map(|r| {
            let n = r.predicted_vs_measured().len();
            match r.kendall_tau() {
                Some(t) => format!("{}: Kendall τ = {t:.3} over {n} measurements", r.label),
                None => format!("{}: τ not defined ({n} predicted measurements)", r.label),
            }
        })
        .collect();
    format!(
        "Each dot is a measured candidate: the cost model's prediction when it was proposed against its measured throughput. τ = 1 means the model ranks candidates exactly as measured. {}.",
        parts.join("; ")
    )
}

fn share_caption(runs: &[RunData]) -> String {
    let parts: Vec<String> = runs
        .iter()
        .filter(|r| !r.calls.is_empty())
        .map(|r| {
            match (
                r.largest_model(),
                r.large_share_curve().and_then(|c| c.last().copied()),
            ) {
                (Some(m), Some((_, s))) => format!(
                    "{}: {m} made {:.0}% of {} calls",
                    r.label,
                    s * 100.0,
                    r.calls.len()
                ),
                _ => format!("{}: largest model unknown", r.label),
            }
        })
        .collect();
    if parts.is_empty() {
        "No LLM calls.".into()
    } else {
        format!(
            "Share of the calls so far made by the largest model (by parameter count); dashed: the policy's floor. {}.",
            parts.join("; ")
        )
    }
}

fn alteration_caption(runs: &[RunData]) -> String {
    let parts: Vec<String> = runs
        .iter()
        .filter(|r| !r.calls.is_empty())
        .map(|r| {
            let ca = r.course_alterations();
            let failed = ca.iter().filter(|c| !c.3).count();
            format!(
                "{}: {} course-alteration calls ({failed} failed)",
                r.label,
                ca.len()
            )
        })
        .collect();
    if parts.is_empty() {
        "No LLM calls.".into()
    } else {
        format!("{}.", parts.join("; "))
    }
}

fn tree_caption(runs: &[RunData]) -> String {
    let parts: Vec<String> = runs
        .iter()
        .map(|r| {
            let depth = r.nodes.iter().map(|n| n.depth).max();
            let internal: u64 = r.branching_histogram().values().sum();
            let terminal = r.nodes.iter().filter(|n| n.terminal).count();
            match depth {
                Some(d) => format!(
                    "{}: {} nodes, depth ≤ {d}, {internal} expanded, {terminal} terminal",
                    r.label,
                    r.nodes.len()
                ),
                None => format!("{}: no tree", r.label),
            }
        })
        .collect();
    format!("{}.", parts.join("; "))
}

fn failure_caption(runs: &[RunData]) -> String {
    let parts: Vec<String> = runs
        .iter()
        .map(|r| {
            let failed: u64 = r.failures().values().sum();
            format!(
                "{}: {failed} of {} candidates failed, {} of {} LLM calls failed",
                r.label,
                r.candidates.len(),
                r.stats.llm_errors,
                r.calls.len()
            )
        })
        .collect();
    format!("{}.", parts.join("; "))
}

/// Per-model accounting: the summary's model reports where the run finished, else the
/// database's call statistics.
fn model_table(h: &mut String, runs: &[RunData], alterations: bool) {
    if runs.iter().all(|r| {
        r.calls.is_empty()
            && r.summary
                .as_ref()
                .and_then(|s| s.get("models"))
                .and_then(Value::as_object)
                .is_none_or(|m| m.is_empty())
    }) {
        return;
    }
    if alterations {
        h.push_str("<h3>Per model</h3>\n<div class=\"scroll\"><table>\n<tr><th>run</th><th class=\"l\">model</th><th>regressions</th><th>course alterations triggered</th><th>course-alteration calls</th><th>wins</th><th>floor overrides</th><th>cap overrides</th><th>fallbacks</th></tr>\n");
    } else {
        h.push_str("<h3>Per model</h3>\n<div class=\"scroll\"><table>\n<tr><th>run</th><th class=\"l\">model</th><th>params</th><th>calls</th><th>ok</th><th class=\"l\">errors</th><th>hit rate</th><th>tokens in</th><th>cached</th><th>out</th><th>USD</th><th>mean latency ms</th></tr>\n");
    }
    for r in runs {
        let reports = r
            .summary
            .as_ref()
            .and_then(|s| s.get("models"))
            .and_then(Value::as_object);
        let mut names: Vec<String> = r.models();
        if let Some(m) = reports {
            names.extend(
                m.keys()
                    .filter(|k| !names.contains(k))
                    .cloned()
                    .collect::<Vec<_>>(),
            );
        }
        for name in names {
            let rep = reports.and_then(|m| m.get(&name));
            if alterations {
                alteration_row(h, r, &name, rep);
            } else {
                accounting_row(h, r, &name, rep);
            }
        }
    }
    h.push_str("</table></div>\n");
}

/// An unsigned count of a model report, or "–".
fn report_u64(v: Option<&Value>) -> String {
    v.and_then(Value::as_u64)
        .map_or("–".to_string(), |x| x.to_string())
}

/// One row of the course-alteration table: model `name` of run `r` (`rep`: its summary report).
fn alteration_row(h: &mut String, r: &RunData, name: &str, rep: Option<&Value>) {
    let f = |k: &str| rep.and_then(|v| v.get(k));
    let st = r.model_stats.get(name).cloned().unwrap_or_default();
    let _ = writeln!(
        h,
        "<tr><td>{}</td><td class=\"l\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        r.row.id,
        escape(name),
        report_u64(f("regressions")),
        report_u64(f("course_alterations")),
        st.course_alterations,
        report_u64(f("course_alteration_wins")),
        report_u64(f("floor_overrides")),
        report_u64(f("cap_overrides")),
        report_u64(f("fallbacks")),
    );
}

/// One row of the accounting table: model `name` of run `r` (`rep`: its summary report).
fn accounting_row(h: &mut String, r: &RunData, name: &str, rep: Option<&Value>) {
    let f = |k: &str| rep.and_then(|v| v.get(k));
    let st = r.model_stats.get(name).cloned().unwrap_or_default();
    let errors = model_errors(r, name, f("errors"));
    let params = f("params").and_then(Value::as_f64).filter(|p| *p > 0.0);
    let _ = writeln!(
        h,
        "<tr><td>{}</td><td class=\"l\">{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"l\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.4}</td><td>{}</td></tr>",
        r.row.id,
        escape(name),
        num(params, format_param_count),
        st.calls,
        st.ok,
        escape(if errors.is_empty() { "none" } else { &errors }),
        num(f("hit_rate").and_then(Value::as_f64), |x| format!("{x:.2}")),
        st.input_tokens,
        st.cached_tokens,
        st.output_tokens,
        st.cost_usd,
        if st.calls > 0 {
            format!("{:.0}", st.latency_ms / st.calls as f64)
        } else {
            "–".into()
        },
    );
}

/// A model's failed calls by kind ("kind: n, ..."): from the summary report's `errors` when
/// there is one ("none" when empty), else counted from the run's recorded calls.
fn model_errors(r: &RunData, name: &str, reported: Option<&Value>) -> String {
    match reported.and_then(Value::as_object) {
        Some(e) if !e.is_empty() => e
            .iter()
            .map(|(k, v)| format!("{k}: {}", v.as_u64().unwrap_or(0)))
            .collect::<Vec<_>>()
            .join(", "),
        Some(_) => "none".to_string(),
        None => r
            .calls
            .iter()
            .filter(|c| c.call.model == name && !c.call.ok)
            .fold(
                std::collections::BTreeMap::<String, u64>::new(),
                |mut m, c| {
                    *m.entry(
                        c.call
                            .error_kind
                            .clone()
                            .unwrap_or_else(|| "unknown".into()),
                    )
                    .or_default() += 1;
                    m
                },
            )
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// Cut `s` to `n` characters (on a character boundary).
fn excerpt(s: &str, n: usize) -> String {
    let mut out: String = s.chars().take(n).collect();
    if s.chars().count() > n {
        out.push('…');
    }
    out
}

/// The first messages of each failure class and the first failed LLM answers.
fn failure_details(h: &mut String, runs: &[RunData]) {
    let mut rows = String::new();
    for r in runs {
        let mut shown = std::collections::BTreeMap::<colt_db::OutcomeKind, usize>::new();
        for c in &r.candidates {
            let cand = &c.candidate;
            if cand.outcome == colt_db::OutcomeKind::Ok {
                continue;
            }
            let n = shown.entry(cand.outcome).or_default();
            if *n >= 3 {
                continue;
            }
            *n += 1;
            let _ = writeln!(
                rows,
                "<tr><td>{}</td><td>{}</td><td class=\"l\">{}</td><td class=\"l\">{}</td><td class=\"wrap\">{}</td></tr>",
                r.row.id,
                c.seq + 1,
                escape(cand.outcome.as_str()),
                escape(&cand.source),
                escape(&excerpt(cand.message.as_deref().unwrap_or(""), 400))
            );
        }
    }
    if !rows.is_empty() {
        h.push_str("<h3>Failed candidates (first three of each class)</h3>\n<div class=\"scroll\"><table>\n<tr><th>run</th><th>trial</th><th class=\"l\">outcome</th><th class=\"l\">proposer</th><th class=\"l\">message</th></tr>\n");
        h.push_str(&rows);
        h.push_str("</table></div>\n");
    }
    let mut rows = String::new();
    for r in runs {
        for c in r.calls.iter().filter(|c| !c.call.ok).take(8) {
            let _ = writeln!(
                rows,
                "<tr><td>{}</td><td>{}</td><td class=\"l\">{}</td><td class=\"l\">{}</td><td class=\"l\">{}</td><td class=\"wrap\">{}</td></tr>",
                r.row.id,
                c.call.seq,
                escape(&c.call.model),
                escape(&c.call.role),
                escape(c.call.error_kind.as_deref().unwrap_or("unknown")),
                escape(&excerpt(&c.call.answer, 300))
            );
        }
    }
    if !rows.is_empty() {
        h.push_str("<h3>Failed LLM calls (first eight per run)</h3>\n<div class=\"scroll\"><table>\n<tr><th>run</th><th>call</th><th class=\"l\">model</th><th class=\"l\">role</th><th class=\"l\">kind</th><th class=\"l\">answer</th></tr>\n");
        h.push_str(&rows);
        h.push_str("</table></div>\n");
    }
}

fn best_section(h: &mut String, best: Option<&BestKernel>) {
    h.push_str("<section id=\"best-kernel\">\n<h2>Best kernel</h2>\n");
    let Some(b) = best else {
        h.push_str("<p>No correct kernel in these runs.</p>\n</section>\n");
        return;
    };
    let _ = writeln!(
        h,
        "<p>run {}, trial {} ({} {}): <b>{} µs</b>{}, proposed by {}.</p>",
        b.run,
        b.trial,
        escape(&b.workload),
        escape(&b.scale),
        fmt_us(b.latency_us),
        b.gflops
            .map_or(String::new(), |g| format!(", {g:.1} GFLOP/s")),
        escape(&b.source)
    );
    match &b.rebuilt {
        Ok(k) => {
            let _ = write!(
                h,
                "<h3>Loop nest</h3>\n<pre id=\"loop-nest\">{}</pre>\n<h3>Transformations</h3>\n<pre id=\"history\">{}</pre>\n<h3>C source</h3>\n<pre id=\"c-source\">{}</pre>\n",
                escape(&k.loop_nest),
                escape(&k.history),
                escape(&k.c_source)
            );
        }
        Err(e) => {
            let _ = writeln!(
                h,
                "<p class=\"bad\">The kernel could not be rebuilt from its trace: {}</p>",
                escape(e)
            );
        }
    }
    let _ = write!(
        h,
        "<h3>Trace</h3>\n<pre id=\"trace\">{}</pre>\n</section>\n",
        escape(&b.trace_json)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_markup_quotes_and_control_characters() {
        assert_eq!(
            escape("<a href=\"x\">&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(escape("tab\tnew\nline\u{1}"), "tab\tnew\nline\u{fffd}");
        assert_eq!(escape("µs τ"), "µs τ");
    }

    #[test]
    fn utc_formats_epoch_milliseconds() {
        assert_eq!(utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(
            utc(951_782_400_000 + 3_600_000 + 120_000),
            "2000-02-29 01:02 UTC"
        );
        assert_eq!(utc(1_764_115_200_000), "2025-11-26 00:00 UTC");
    }

    #[test]
    fn parameter_counts_read_naturally() {
        assert_eq!(format_param_count(8e9), "8B");
        assert_eq!(format_param_count(1.5e12), "1.5T");
        assert_eq!(format_param_count(270e6), "270M");
    }
}
