//! A model run of `colt model tune` in the report: its tasks (one per distinct kernel), the
//! trials and rounds the scheduler gave each, and each kernel's latency before (the naive
//! nest) and after (the best tuned kernel, where it beats the naive one), weighted by how
//! often the model runs it; the page's other sections then show the tasks' tuning runs.

use crate::ReportError;
use crate::font::FAMILY;
use crate::html::escape;
use crate::plots::{self, color, fmt_us};
use colt_db::{Db, ModelRound, ModelRunId, ModelRunRow, RunId};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::fmt::Write;

/// One task of a model run, as the report shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskData {
    /// The kernel's index in the model.
    pub kernel: u64,
    /// The operators it fuses.
    pub label: String,
    /// How many tasks of the model run it.
    pub count: u64,
    /// Its tuning run.
    pub run: RunId,
    /// Trials measured (the run's candidates).
    pub trials: u64,
    /// Rounds the scheduler gave it.
    pub rounds: usize,
    /// The naive nest's latency (µs), once measured.
    pub naive_us: Option<f64>,
    /// The best tuned kernel's latency (µs), if one is correct.
    pub best_us: Option<f64>,
}

impl TaskData {
    /// The latency in the built model: the faster of the naive nest and the best kernel.
    pub fn after_us(&self) -> Option<f64> {
        match (self.naive_us, self.best_us) {
            (Some(n), Some(b)) => Some(n.min(b)),
            (n, b) => n.or(b),
        }
    }
}

/// A model run with its tasks and rounds.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelData {
    /// The model run's row.
    pub row: ModelRunRow,
    /// Its tasks, by kernel.
    pub tasks: Vec<TaskData>,
    /// The scheduler's rounds, in order.
    pub rounds: Vec<ModelRound>,
}

impl ModelData {
    /// The model's estimated time, `count × latency` summed, before and after tuning.
    pub fn estimated_us(&self) -> (f64, f64) {
        let sum = |f: &dyn Fn(&TaskData) -> Option<f64>| -> f64 {
            self.tasks
                .iter()
                .filter_map(|t| f(t).map(|l| l * t.count as f64))
                .sum()
        };
        (sum(&|t| t.naive_us), sum(&TaskData::after_us))
    }

    /// The tasks' tuning runs.
    pub fn runs(&self) -> Vec<RunId> {
        self.tasks.iter().map(|t| t.run).collect()
    }
}

/// Read model run `id`.
pub fn load(db: &Db, id: ModelRunId) -> Result<ModelData, ReportError> {
    let row = db.model_run(id)?;
    let rounds = db.model_rounds(id)?;
    let mut tasks = vec![];
    for t in db.model_tasks(id)? {
        tasks.push(TaskData {
            kernel: t.kernel,
            label: t.label,
            count: t.count,
            run: t.run,
            trials: db.run_stats(t.run)?.candidates,
            rounds: rounds.iter().filter(|r| r.kernel == t.kernel).count(),
            naive_us: t.naive_us,
            best_us: db
                .best_in_run(t.run)?
                .and_then(|c| c.candidate.latency_median_us),
        });
    }
    Ok(ModelData { row, tasks, rounds })
}

/// Each task's share of the model's time before and after (count × latency, log scale).
pub fn chart<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    m: &ModelData,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let weighted = |t: &TaskData, l: Option<f64>| l.map(|l| l * t.count as f64);
    let values: Vec<f64> = (m.tasks.iter())
        .flat_map(|t| [weighted(t, t.naive_us), weighted(t, t.after_us())])
        .flatten()
        .filter(|v| *v > 0.0)
        .collect();
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(0.0, f64::max);
    if values.is_empty() {
        return area.draw(&Text::new(
            "no latency measured yet",
            (20, 40),
            (FAMILY, 16).into_font(),
        ));
    }
    let n = m.tasks.len();
    let mut chart = ChartBuilder::on(area)
        .caption("Time per task in the model: naive → tuned", (FAMILY, 18))
        .margin(14)
        .x_label_area_size(44)
        .y_label_area_size(70)
        .build_cartesian_2d(-0.5..n as f64 - 0.5, ((lo / 1.5)..(hi * 2.0)).log_scale())?;
    let names: Vec<String> = m.tasks.iter().map(|t| format!("k{}", t.kernel)).collect();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n + 1)
        .x_label_formatter(&|v| {
            let i = v.round();
            let on = (v - i).abs() < 1e-6 && i >= 0.0;
            on.then(|| names.get(i as usize).cloned())
                .flatten()
                .unwrap_or_default()
        })
        .x_desc("kernel")
        .y_desc("count × latency (µs)")
        .y_label_formatter(&|v| fmt_us(*v))
        .label_style((FAMILY, 13))
        .draw()?;
    for (g, (name, after)) in [("naive", false), ("tuned", true)].into_iter().enumerate() {
        let c = color(g);
        let bars = m.tasks.iter().enumerate().filter_map(|(i, t)| {
            let v = weighted(t, if after { t.after_us() } else { t.naive_us })?;
            let x = i as f64 - 0.4 + g as f64 * 0.4;
            Some(Rectangle::new([(x, lo / 1.5), (x + 0.37, v)], c.filled()))
        });
        chart
            .draw_series(bars)?
            .label(name)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], c.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .label_font((FAMILY, 13))
        .draw()
}

/// The model run's section: heading, chart, caption and the table of tasks.
pub fn section(h: &mut String, m: &ModelData) -> Result<(), ReportError> {
    let svg = plots::svg("model-run", (1120, 460), |a| chart(a, m))?;
    let s = &m.row.spec;
    let (before, after) = m.estimated_us();
    let trials: u64 = m.tasks.iter().map(|t| t.trials).sum();
    let _ = write!(
        h,
        "<section class=\"plot\" id=\"model-run\">\n<h2>Model run {}</h2>\n<p class=\"meta\">{} · {} · seed {} · {} of {} trials in {} rounds · {}</p>\n<figure>\n{svg}</figure>\n<p class=\"caption\">Each kernel's latency times how often the model runs it, before (naive nest) and after tuning (the best kernel, where it beats the naive one); estimated model time {} µs → {} µs.</p>\n",
        m.row.id,
        escape(&s.model),
        escape(&s.strategy),
        s.seed,
        trials,
        s.trials,
        m.rounds.len(),
        escape(m.row.status.as_str()),
        fmt_us(before),
        fmt_us(after)
    );
    h.push_str("<div class=\"scroll\"><table>\n<tr><th>kernel</th><th class=\"l\">operators</th><th>count</th><th>run</th><th>trials</th><th>rounds</th><th>naive µs</th><th>tuned µs</th><th>speedup</th><th>share before</th><th>share after</th></tr>\n");
    let num = |v: Option<f64>, f: &dyn Fn(f64) -> String| v.map_or("–".to_string(), f);
    for t in &m.tasks {
        let share = |l: Option<f64>, total: f64| l.map(|l| l * t.count as f64 / total);
        let pct = |x: f64| format!("{:.1}%", 100.0 * x);
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=\"l\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            t.kernel,
            escape(&t.label),
            t.count,
            t.run,
            t.trials,
            t.rounds,
            num(t.naive_us, &fmt_us),
            num(t.after_us(), &fmt_us),
            num(
                t.naive_us.zip(t.after_us()).map(|(n, a)| n / a),
                &|x| format!("{x:.1}×")
            ),
            num(share(t.naive_us, before), &pct),
            num(share(t.after_us(), after), &pct),
        );
    }
    h.push_str("</table></div>\n</section>\n");
    Ok(())
}
