//! The report's charts, drawn with plotters on any backend.
//!
//! Every chart is a function of the loaded runs onto a drawing area, generic over the
//! backend, so the HTML report (SVG strings) and the README picture (PNG file) draw the
//! same main chart with the same code. A chart with nothing to show (a run without LLM
//! calls or tree nodes) still draws its frame and says why it is empty, so each report
//! section always holds a picture and never a silent gap.

use crate::ReportError;
use crate::data::RunData;
use crate::font::FAMILY;
use plotters::chart::MeshStyle;
use plotters::coord::Shift;
use plotters::coord::ranged1d::ValueFormatter;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::collections::BTreeSet;

type R<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// Tableau 10: distinguishable, print- and colour-blind-friendly series colours.
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(78, 121, 167),
    RGBColor(242, 142, 43),
    RGBColor(225, 87, 89),
    RGBColor(118, 183, 178),
    RGBColor(89, 161, 79),
    RGBColor(237, 201, 72),
    RGBColor(176, 122, 161),
    RGBColor(255, 157, 167),
    RGBColor(156, 117, 95),
    RGBColor(186, 176, 172),
];

/// Colour of series `i`.
pub fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

const GRID: RGBColor = RGBColor(226, 226, 226);
const LIGHT_GRID: RGBColor = RGBColor(244, 244, 244);
const AXIS: RGBColor = RGBColor(90, 90, 90);
const NOTE: RGBColor = RGBColor(110, 110, 110);
const RULE: RGBColor = RGBColor(120, 120, 120);

/// The drawing area of an SVG chart, and what drawing into it returns.
pub type SvgArea<'b> = DrawingArea<SVGBackend<'b>, Shift>;
/// What drawing into an [`SvgArea`] returns.
pub type SvgResult = Result<(), DrawingAreaErrorKind<std::io::Error>>;

/// Draw `f` into an SVG of `size` pixels and return the SVG text.
pub fn svg(
    plot: &'static str,
    size: (u32, u32),
    f: impl for<'b> FnOnce(&SvgArea<'b>) -> SvgResult,
) -> Result<String, ReportError> {
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, size).into_drawing_area();
        let err = |e: DrawingAreaErrorKind<_>| ReportError::Plot {
            plot,
            message: e.to_string(),
        };
        root.fill(&WHITE).map_err(err)?;
        f(&root).map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(buf)
}

/// The legend box every chart uses, at `pos`, in `font_px` text.
fn legend<'a, DB: DrawingBackend + 'a, CT: plotters::coord::CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    pos: SeriesLabelPosition,
    font_px: u32,
) -> R<DB> {
    chart
        .configure_series_labels()
        .position(pos)
        .background_style(WHITE.mix(0.85))
        .border_style(GRID)
        .label_font((FAMILY, font_px))
        .draw()
}

/// Latency in µs with a readable number of digits.
pub fn fmt_us(v: f64) -> String {
    if !v.is_finite() {
        return "–".into();
    }
    if v >= 1e5 {
        format!("{:.0} ms", v / 1e3)
    } else if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    }
}

/// A compact count: 1234 → 1.2k, 2_500_000 → 2.5M.
pub fn fmt_count(v: f64) -> String {
    let a = v.abs();
    if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e4 {
        format!("{:.0}k", v / 1e3)
    } else if a >= 1e3 {
        format!("{:.1}k", v / 1e3)
    } else if (v - v.round()).abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// The mesh every chart shares (major grid, axis, label and description styles); with
/// `light` the minor grid, at most that many lines between major ones (`usize::MAX`: as
/// plotters draws them), else none.
fn mesh<'a, 'b, DB, XT, YT, X, Y>(
    chart: &'b mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    light: Option<usize>,
    desc_size: u32,
) -> MeshStyle<'a, 'b, X, Y, DB>
where
    DB: DrawingBackend,
    X: Ranged<ValueType = XT> + ValueFormatter<XT>,
    Y: Ranged<ValueType = YT> + ValueFormatter<YT>,
{
    let mut m = chart.configure_mesh();
    match light {
        Some(n) => {
            m.light_line_style(LIGHT_GRID);
            if n != usize::MAX {
                m.max_light_lines(n);
            }
        }
        None => {
            m.light_line_style(TRANSPARENT);
        }
    }
    m.bold_line_style(GRID)
        .axis_style(AXIS)
        .label_style(label_font())
        .axis_desc_style((FAMILY, desc_size));
    m
}

/// A chart builder on `area` titled `title`, framed as a full-size chart (caption 20,
/// margin 16, x labels 48) or, `small`, as one of a grid (18, 14, 44), with `y_labels` pixels
/// for the y labels.
fn frame<'a, 'b, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    title: &str,
    small: bool,
    y_labels: u32,
) -> ChartBuilder<'a, 'b, DB> {
    let (caption, margin, x_labels) = if small { (18, 14, 44) } else { (20, 16, 48) };
    let mut b = ChartBuilder::on(area);
    b.caption(title, (FAMILY, caption))
        .margin(margin)
        .x_label_area_size(x_labels)
        .y_label_area_size(y_labels);
    b
}

fn label_font() -> TextStyle<'static> {
    (FAMILY, 14).into_font().color(&AXIS)
}

/// The chart's frame with a title and a centred note instead of data.
fn placeholder<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    note: &str,
) -> R<DB> {
    let inner = area.titled(title, (FAMILY, 20))?;
    let (w, h) = inner.dim_in_pixel();
    inner.draw(&Rectangle::new(
        [(10, 4), (w as i32 - 10, h as i32 - 10)],
        GRID.stroke_width(2),
    ))?;
    let style = (FAMILY, 16)
        .into_font()
        .color(&NOTE)
        .pos(Pos::new(HPos::Center, VPos::Center));
    inner.draw(&Text::new(
        note.to_string(),
        (w as i32 / 2, h as i32 / 2),
        style,
    ))?;
    Ok(())
}

/// Round tick values for a log axis over `lo..hi`: 1-2-5 per decade (every 1..9 when the
/// range spans less than a few of those, powers of ten only over many decades).
pub fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let ticks = |ms: &[f64]| -> Vec<f64> {
        let mut v = vec![];
        for k in lo.log10().floor() as i32..=hi.log10().ceil() as i32 {
            for m in ms {
                let t = m * 10f64.powi(k);
                if t >= lo && t <= hi {
                    v.push(t);
                }
            }
        }
        v
    };
    let v = ticks(&[1.0, 2.0, 5.0]);
    if v.len() < 4 {
        let v = ticks(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]);
        if v.len() >= 2 {
            return v;
        }
        // A narrow range: three values rounded to two significant digits.
        let round2 = |x: f64| {
            let p = 10f64.powi(x.log10().floor() as i32 - 1);
            (x / p).round() * p
        };
        let mut v: Vec<f64> = [lo * 1.05, (lo * hi).sqrt(), hi / 1.05]
            .map(round2)
            .into_iter()
            .filter(|t| *t >= lo && *t <= hi)
            .collect();
        v.dedup();
        v
    } else if v.len() > 12 {
        ticks(&[1.0])
    } else {
        v
    }
}

/// Main chart: best latency so far against trials, one step curve per run (log scale),
/// every correct measurement as a faint dot, the naive gcc -O3 baseline dashed.
pub fn best_vs_trials<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    runs: &[RunData],
) -> R<DB> {
    let title = "Best latency vs trials";
    let mut values: Vec<f64> = runs
        .iter()
        .flat_map(|r| r.measured().into_iter().map(|p| p.1))
        .collect();
    if values.is_empty() {
        return placeholder(area, title, "no correct measurement in these runs yet");
    }
    let baselines = gcc_baselines(runs);
    values.extend(baselines.iter().map(|b| b.1));
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min) * 0.8;
    let hi = values.iter().copied().fold(0.0, f64::max) * 1.25;
    let xmax = runs
        .iter()
        .map(|r| r.candidates.len() as u64)
        .max()
        .unwrap_or(1)
        .max(1)
        + 1;

    let mut chart = frame(area, title, false, 78).build_cartesian_2d(
        0u64..xmax,
        (lo..hi).log_scale().with_key_points(log_ticks(lo, hi)),
    )?;
    mesh(&mut chart, None, 15)
        .x_desc("trial")
        .y_desc("latency (µs, log scale)")
        .y_label_formatter(&|v| fmt_us(*v))
        .draw()?;
    for (label, g) in &baselines {
        chart
            .draw_series(DashedLineSeries::new(
                vec![(0, *g), (xmax, *g)],
                8,
                6,
                RULE.stroke_width(2),
            ))?
            .label(label.clone())
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], RULE.stroke_width(2)));
    }
    for (i, r) in runs.iter().enumerate() {
        let c = color(i);
        chart.draw_series(
            r.measured()
                .into_iter()
                .map(|p| Circle::new(p, 3, c.mix(0.4).filled())),
        )?;
        let curve = r.best_curve();
        chart
            .draw_series(LineSeries::new(curve.clone(), c.stroke_width(3)))?
            .label(r.label.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], c.stroke_width(3)));
        if let Some(&last) = curve.last() {
            chart.draw_series(std::iter::once(Circle::new(last, 4, c.filled())))?;
        }
    }
    legend(&mut chart, SeriesLabelPosition::UpperRight, 14)?;
    Ok(())
}

/// The naive gcc -O3 baselines (label, µs) of [`best_vs_trials`]: one per workload, from the
/// first run of it that measured one; the label names the workload when the runs mix several.
fn gcc_baselines(runs: &[RunData]) -> Vec<(String, f64)> {
    let mut seen = BTreeSet::new();
    runs.iter()
        .filter_map(|r| {
            let g = r.summary_f64("naive_gcc_us").filter(|g| *g > 0.0)?;
            let key = (r.row.spec.workload.clone(), r.row.spec.scale.clone());
            let label = if runs
                .iter()
                .any(|o| (&o.row.spec.workload, &o.row.spec.scale) != (&key.0, &key.1))
            {
                format!("naive gcc -O3 ({} {})", key.0, key.1)
            } else {
                "naive gcc -O3".to_string()
            };
            seen.insert(key).then_some((label, g))
        })
        .collect()
}

/// Cost-model quality: predicted against measured throughput, Kendall τ per run.
pub fn predicted_vs_measured<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    runs: &[RunData],
) -> R<DB> {
    let title = "Cost model: predicted vs measured throughput";
    let pts: Vec<Vec<(f64, f64)>> = runs.iter().map(RunData::predicted_vs_measured).collect();
    let xs: Vec<f64> = pts.iter().flatten().map(|p| p.0).collect();
    if xs.is_empty() {
        return placeholder(
            area,
            title,
            "no measured candidate carries a cost-model prediction",
        );
    }
    let (mut x0, mut x1) = (
        xs.iter().copied().fold(f64::INFINITY, f64::min),
        xs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    );
    let pad = if x1 > x0 { (x1 - x0) * 0.05 } else { 0.5 };
    (x0, x1) = (x0 - pad, x1 + pad);
    let mut chart = frame(area, title, false, 64).build_cartesian_2d(x0..x1, 0.0..1.08)?;
    mesh(&mut chart, Some(2), 15)
        .x_desc("predicted throughput (cost model, normalised)")
        .y_desc("measured throughput (run best = 1)")
        .x_label_formatter(&|v| format!("{v:.2}"))
        .y_label_formatter(&|v| format!("{v:.1}"))
        .draw()?;
    for (i, (r, p)) in runs.iter().zip(&pts).enumerate() {
        let c = color(i);
        let tau = r
            .kendall_tau()
            .map_or("n/a".to_string(), |t| format!("{t:.2}"));
        chart
            .draw_series(p.iter().map(|&q| Circle::new(q, 3, c.mix(0.55).filled())))?
            .label(format!("{}: τ = {tau}, n = {}", r.label, p.len()))
            .legend(move |(x, y)| Circle::new((x + 10, y), 4, c.filled()));
    }
    legend(&mut chart, SeriesLabelPosition::LowerRight, 14)?;
    Ok(())
}

/// The roofline: each run's best kernel at its arithmetic intensity against the machine's
/// bound `min(peak, intensity × bandwidth)`, on log-log axes.
pub fn roofline<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, runs: &[RunData]) -> R<DB> {
    let title = "Roofline: best kernel of each run against the machine's limits";
    let pts: Vec<(usize, (f64, f64))> = runs
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r.roofline_point().map(|(p, _)| (i, p)))
        .filter(|(_, p)| p.0 > 0.0 && p.1 > 0.0)
        .collect();
    if pts.is_empty() {
        return placeholder(
            area,
            title,
            "no run has a correct kernel with a known intensity",
        );
    }
    let machine = runs
        .iter()
        .find_map(|r| r.roofline_point().and_then(|(_, m)| m));
    // other tools' kernels at their workload's intensity, once per workload and tool
    let mut peers: Vec<(usize, &crate::Peer, (f64, f64))> = vec![];
    for (i, p) in &pts {
        for q in runs[*i].peers.iter().filter(|q| q.gflops > 0.0) {
            if !peers.iter().any(|(_, o, _)| *o == q) {
                peers.push((*i, q, (p.0, q.gflops)));
            }
        }
    }
    let mut xs: Vec<f64> = pts.iter().map(|p| p.1.0).collect();
    let mut ys: Vec<f64> = pts.iter().map(|p| p.1.1).collect();
    ys.extend(peers.iter().map(|p| p.2.1));
    if let Some((peak, bw)) = machine {
        xs.push(peak / bw);
        ys.push(peak);
    }
    let lo = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = |v: &[f64]| v.iter().copied().fold(0.0f64, f64::max);
    let (x0, x1) = (lo(&xs) / 4.0, hi(&xs) * 4.0);
    let (y0, y1) = (lo(&ys) / 4.0, hi(&ys) * 2.0);
    let mut chart = frame(area, title, false, 72)
        .build_cartesian_2d((x0..x1).log_scale(), (y0..y1).log_scale())?;
    mesh(&mut chart, Some(usize::MAX), 15)
        .x_desc("arithmetic intensity (FLOP per byte of compulsory traffic)")
        .y_desc("GFLOP/s")
        .x_label_formatter(&|v| fmt_count(*v))
        .y_label_formatter(&|v| fmt_count(*v))
        .draw()?;
    if let Some((peak, bw)) = machine {
        let steps = 64;
        let roof: Vec<(f64, f64)> = (0..=steps)
            .map(|k| {
                let x = x0 * (x1 / x0).powf(k as f64 / steps as f64);
                (x, peak.min(x * bw))
            })
            .collect();
        chart
            .draw_series(LineSeries::new(roof, RULE.stroke_width(2)))?
            .label(format!(
                "machine: {} GFLOP/s peak, {} GB/s",
                fmt_count(peak),
                fmt_count(bw)
            ))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RULE.stroke_width(2)));
    }
    let share = |p: &(f64, f64)| {
        machine.map_or(String::new(), |(peak, bw)| {
            format!(" ({:.0}% of bound)", 100.0 * p.1 / peak.min(p.0 * bw))
        })
    };
    // Many runs: one colour and legend line per workload (its best point labelled), so the
    // legend stays inside the chart.
    let workload = |i: usize| format!("{} {}", runs[i].row.spec.workload, runs[i].row.spec.scale);
    let mut groups: Vec<String> = vec![];
    if pts.len() > RUN_LEGEND_MAX {
        for (i, _) in &pts {
            if !groups.contains(&workload(*i)) {
                groups.push(workload(*i));
            }
        }
    }
    // a run's colour: its workload's when the legend names workloads
    let group = |i: usize| groups.iter().position(|w| *w == workload(i));
    let colour = |i: usize| group(i).map_or(color(i), color);
    // per workload, the first of its best points: the one its legend line labels
    let labelled: Vec<usize> = (0..groups.len())
        .filter_map(|g| {
            let mine = pts.iter().filter(|(j, _)| group(*j) == Some(g));
            let best = hi(&mine.clone().map(|(_, q)| q.1).collect::<Vec<_>>());
            mine.clone().find(|(_, q)| q.1 == best).map(|(j, _)| *j)
        })
        .collect();
    for (i, p) in &pts {
        let c = colour(*i);
        let drawn = chart.draw_series(std::iter::once(Circle::new(*p, 5, c.filled())))?;
        // a legend line per run, or per workload at its labelled point
        let label = match group(*i) {
            None => Some(format!(
                "{}: {} GFLOP/s{}",
                runs[*i].label,
                fmt_count(p.1),
                share(p)
            )),
            Some(g) if labelled.contains(i) => Some(format!(
                "{}: {} runs, best {} GFLOP/s{}",
                groups[g],
                pts.iter().filter(|(j, _)| group(*j) == Some(g)).count(),
                fmt_count(p.1),
                share(p)
            )),
            Some(_) => None,
        };
        if let Some(label) = label {
            drawn
                .label(label)
                .legend(move |(x, y)| Circle::new((x + 10, y), 4, c.filled()));
        }
    }
    // a hollow mark per tool, in the colour of its workload's runs
    let mut tools: Vec<&str> = vec![];
    for (i, q, at) in &peers {
        let c = colour(*i);
        let first = !tools.contains(&q.name.as_str());
        if first {
            tools.push(&q.name);
        }
        let k = tools.iter().position(|t| *t == q.name).unwrap_or(0);
        let style = c.stroke_width(2);
        let drawn = if k % 2 == 0 {
            chart.draw_series(std::iter::once(
                EmptyElement::at(*at) + Rectangle::new([(-5, -5), (5, 5)], style),
            ))?
        } else {
            chart.draw_series(std::iter::once(
                EmptyElement::at(*at) + Cross::new((0, 0), 5, style),
            ))?
        };
        if first && k % 2 == 0 {
            drawn
                .label(format!("{} (square, colour of its workload)", q.name))
                .legend(move |(x, y)| {
                    EmptyElement::at((x + 10, y))
                        + Rectangle::new([(-4, -4), (4, 4)], RULE.stroke_width(2))
                });
        } else if first {
            drawn
                .label(format!("{} (cross, colour of its workload)", q.name))
                .legend(move |(x, y)| {
                    EmptyElement::at((x + 10, y)) + Cross::new((0, 0), 4, RULE.stroke_width(2))
                });
        }
    }
    legend(&mut chart, SeriesLabelPosition::LowerRight, 14)?;
    Ok(())
}

/// Above this many points the roofline's legend names workloads instead of runs.
const RUN_LEGEND_MAX: usize = 12;

/// One line of a line chart.
pub struct Series {
    /// Legend text.
    pub label: String,
    /// Line colour.
    pub color: RGBColor,
    /// The points, in x order.
    pub points: Vec<(f64, f64)>,
    /// Points to mark with a dot (events on a step curve).
    pub marks: Vec<(f64, f64)>,
    /// Dashed (for reference lines such as a policy floor).
    pub dashed: bool,
}

/// Axes and options of a line chart.
pub struct LineChart<'a> {
    /// Chart title.
    pub title: &'a str,
    /// X axis label.
    pub x_desc: &'a str,
    /// Y axis label.
    pub y_desc: &'a str,
    /// Fixed y range; else 0 to the largest value.
    pub y_range: Option<(f64, f64)>,
    /// Where the legend goes (`None`: no legend).
    pub legend: Option<SeriesLabelPosition>,
    /// Formats y tick labels.
    pub y_fmt: fn(f64) -> String,
}

/// A line chart of `series` (x from 0 to the largest x).
pub fn lines<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    spec: &LineChart<'_>,
    series: &[Series],
) -> R<DB> {
    let pts = series.iter().flat_map(|s| s.points.iter());
    let (xmax, ymax) = pts.fold((1.0f64, 0.0f64), |(x, y), p| (x.max(p.0), y.max(p.1)));
    let (y0, y1) = spec
        .y_range
        .unwrap_or((0.0, if ymax > 0.0 { ymax * 1.1 } else { 1.0 }));
    let mut chart =
        frame(area, spec.title, true, 64).build_cartesian_2d(0.0..xmax * 1.02, y0..y1)?;
    let fmt = spec.y_fmt;
    mesh(&mut chart, Some(2), 14)
        .x_desc(spec.x_desc)
        .y_desc(spec.y_desc)
        .x_labels(8)
        .x_label_formatter(&|v| fmt_count(*v))
        .y_label_formatter(&|v| fmt(*v))
        .draw()?;
    for s in series {
        let c = s.color;
        let style = c.stroke_width(2);
        let drawn = if s.dashed {
            chart.draw_series(DashedLineSeries::new(s.points.clone(), 8, 6, style))?
        } else {
            chart.draw_series(LineSeries::new(s.points.clone(), style))?
        };
        drawn
            .label(s.label.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 22, y)], c.stroke_width(2)));
        chart.draw_series(s.marks.iter().map(|&p| Circle::new(p, 4, c.filled())))?;
    }
    if let Some(pos) = spec.legend.clone() {
        legend(&mut chart, pos, 13)?;
    }
    Ok(())
}

/// A grouped bar chart: one group per category, one bar per run in each group.
pub fn bars<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    x_desc: &str,
    categories: &[String],
    groups: &[Group],
) -> R<DB> {
    let n = categories.len().max(1);
    let ymax = groups
        .iter()
        .flat_map(|g| g.2.iter())
        .copied()
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let mut chart = frame(area, title, true, 56).build_cartesian_2d(
        -0.5..n as f64 - 0.5,
        0.0..ymax * if groups.len() > 1 { 1.35 } else { 1.1 },
    )?;
    let names = categories.to_vec();
    let name_of = move |v: &f64| {
        let i = v.round();
        if (v - i).abs() < 1e-6 && i >= 0.0 {
            names.get(i as usize).cloned().unwrap_or_default()
        } else {
            String::new()
        }
    };
    mesh(&mut chart, Some(2), 14)
        .disable_x_mesh()
        .x_desc(x_desc)
        .y_desc("count")
        .x_labels(n.min(16) + 1)
        .x_label_formatter(&name_of)
        .y_labels((ymax as usize).min(8) + 1)
        .y_label_formatter(&|v| {
            if (v - v.round()).abs() < 1e-6 {
                fmt_count(*v)
            } else {
                String::new()
            }
        })
        .draw()?;
    let width = 0.8 / groups.len().max(1) as f64;
    for (g, (label, c, counts)) in groups.iter().enumerate() {
        let c = *c;
        let left = -0.4 + g as f64 * width;
        chart
            .draw_series(
                counts
                    .iter()
                    .enumerate()
                    .filter(|(_, v)| **v > 0)
                    .map(|(i, v)| {
                        let x = i as f64 + left;
                        Rectangle::new([(x, 0.0), (x + width * 0.92, *v as f64)], c.filled())
                    }),
            )?
            .label(label.clone())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], c.filled()));
    }
    if groups.len() > 1 {
        legend(&mut chart, SeriesLabelPosition::UpperRight, 13)?;
    }
    Ok(())
}

/// Series label for model `m` of run `r` (the run is named only when there are several).
fn model_label(runs: &[RunData], r: &RunData, m: &str) -> String {
    if runs.len() > 1 {
        format!("run {}: {m}", r.row.id)
    } else {
        m.to_string()
    }
}

/// Calls, tokens and USD per model, cumulative over the run's calls (three panels).
pub fn llm_usage<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, runs: &[RunData]) -> R<DB> {
    if runs.iter().all(|r| r.calls.is_empty()) {
        return placeholder(
            area,
            "LLM calls, tokens and cost per model",
            "no LLM calls in these runs",
        );
    }
    let panels = area.split_evenly((1, 3));
    type Pick = fn(&colt_db::LlmCallRow) -> f64;
    type Panel = (&'static str, &'static str, Pick, fn(f64) -> String);
    let picks: [Panel; 3] = [
        ("Calls per model", "calls", |_| 1.0, fmt_count),
        (
            "Tokens per model (in + out)",
            "tokens",
            |c| (c.call.input_tokens + c.call.output_tokens) as f64,
            fmt_count,
        ),
        (
            "Cost per model",
            "USD",
            |c| c.call.cost_usd,
            |v| format!("{v:.3}"),
        ),
    ];
    for (panel, (title, y_desc, pick, y_fmt)) in panels.iter().zip(picks) {
        let mut series = vec![];
        for r in runs {
            let cum = r.cumulative_by_model(pick);
            for m in r.models() {
                let points = cum.get(&m).cloned().unwrap_or_default();
                series.push(Series {
                    label: model_label(runs, r, &m),
                    color: color(series.len()),
                    points,
                    marks: vec![],
                    dashed: false,
                });
            }
        }
        let spec = LineChart {
            title,
            x_desc: "LLM call",
            y_desc,
            y_range: None,
            legend: Some(SeriesLabelPosition::UpperLeft),
            y_fmt,
        };
        lines(panel, &spec, &series)?;
    }
    Ok(())
}

/// The largest model's share of calls so far, with the policy's floor.
pub fn large_share<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, runs: &[RunData]) -> R<DB> {
    let title = "Largest model's share of LLM calls";
    let mut series = vec![];
    let mut floors: Vec<f64> = vec![];
    let xmax = runs.iter().map(|r| r.calls.len()).max().unwrap_or(0) as f64;
    for (i, r) in runs.iter().enumerate() {
        if let (Some(curve), Some(large)) = (r.large_share_curve(), r.largest_model())
            && !curve.is_empty()
        {
            series.push(Series {
                label: format!("{} — {large}", r.label),
                color: color(i),
                points: curve,
                marks: vec![],
                dashed: false,
            });
            if let Some(f) = r.share_floor()
                && !floors.iter().any(|g| (g - f).abs() < 1e-12)
            {
                floors.push(f);
            }
        }
    }
    if series.is_empty() {
        let note = if runs.iter().all(|r| r.calls.is_empty()) {
            "no LLM calls in these runs"
        } else {
            "the largest model is unknown (no parameter counts in the summary or config)"
        };
        return placeholder(area, title, note);
    }
    for f in floors {
        series.push(Series {
            label: format!("share floor {:.0}%", f * 100.0),
            color: RULE,
            points: vec![(0.0, f), (xmax, f)],
            marks: vec![],
            dashed: true,
        });
    }
    let spec = LineChart {
        title,
        x_desc: "LLM call",
        y_desc: "share of calls so far",
        y_range: Some((0.0, 1.05)),
        legend: Some(SeriesLabelPosition::UpperRight),
        y_fmt: |v| format!("{:.0}%", v * 100.0),
    };
    lines(area, &spec, &series)
}

/// Course-alteration calls over the run, cumulative, one line per run.
pub fn course_alterations<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    runs: &[RunData],
) -> R<DB> {
    let title = "Course alterations (large model called after K small-model regressions)";
    if runs.iter().all(|r| r.calls.is_empty()) {
        return placeholder(area, title, "no LLM calls in these runs");
    }
    let series: Vec<Series> = runs
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            let ca = r.course_alterations();
            (!ca.is_empty()).then(|| {
                // A step curve: the count rises at each course-alteration call.
                let mut points = vec![(0.0, 0.0)];
                for c in &ca {
                    points.push((c.0, c.1 - 1.0));
                    points.push((c.0, c.1));
                }
                points.push((r.calls.len() as f64, ca.len() as f64));
                let marks = ca.iter().map(|c| (c.0, c.1)).collect();
                Series {
                    label: format!("{}: {} calls", r.label, ca.len()),
                    color: color(i),
                    points,
                    marks,
                    dashed: false,
                }
            })
        })
        .collect();
    if series.is_empty() {
        return placeholder(area, title, "no course alteration was needed in these runs");
    }
    let spec = LineChart {
        title,
        x_desc: "LLM call",
        y_desc: "course alterations so far",
        y_range: None,
        legend: Some(SeriesLabelPosition::UpperLeft),
        y_fmt: fmt_count,
    };
    lines(area, &spec, &series)
}

/// Histograms turned into grouped-bar input over the union of their keys.
/// Bars of one run: legend label, colour, one count per category.
type Group = (String, RGBColor, Vec<u64>);

/// `runs` are (index in the report, run) so a run keeps its colour when others are left out.
fn grouped(
    runs: &[(usize, &RunData)],
    hist: impl Fn(&RunData) -> std::collections::BTreeMap<u64, u64>,
) -> (Vec<String>, Vec<Group>) {
    let hs: Vec<_> = runs.iter().map(|r| hist(r.1)).collect();
    let max = hs.iter().flat_map(|h| h.keys()).copied().max().unwrap_or(0);
    let min = hs.iter().flat_map(|h| h.keys()).copied().min().unwrap_or(0);
    let cats: Vec<String> = (min..=max).map(|k| k.to_string()).collect();
    let groups = runs
        .iter()
        .zip(&hs)
        .map(|((i, r), h)| {
            (
                r.label.clone(),
                color(*i),
                (min..=max)
                    .map(|k| h.get(&k).copied().unwrap_or(0))
                    .collect(),
            )
        })
        .collect();
    (cats, groups)
}

/// Tree shape: nodes per depth, and internal nodes per number of children.
pub fn tree_shape<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, runs: &[RunData]) -> R<DB> {
    if runs.iter().all(|r| r.nodes.is_empty()) {
        return placeholder(
            area,
            "Search tree shape",
            "no search tree recorded (strategy without a tree)",
        );
    }
    let with_tree: Vec<(usize, &RunData)> = runs
        .iter()
        .enumerate()
        .filter(|(_, r)| !r.nodes.is_empty())
        .collect();
    let panels = area.split_evenly((1, 2));
    let (cats, groups) = grouped(&with_tree, RunData::depth_histogram);
    bars(&panels[0], "Nodes per depth", "depth", &cats, &groups)?;
    let (cats, groups) = grouped(&with_tree, RunData::branching_histogram);
    if groups.iter().all(|g| g.2.iter().all(|v| *v == 0)) {
        return placeholder(&panels[1], "Branching factor", "no node has children yet");
    }
    bars(
        &panels[1],
        "Branching factor",
        "children of an expanded node",
        &cats,
        &groups,
    )
}

/// The outcome classes some run failed with (of a dozen, a run meets a few) and each
/// run's count of every one of them.
fn failure_classes(runs: &[RunData]) -> (Vec<String>, Vec<Group>) {
    let per_run: Vec<_> = runs.iter().map(RunData::failures).collect();
    let classes: Vec<colt_db::OutcomeKind> = colt_db::OutcomeKind::ALL
        .iter()
        .copied()
        .filter(|o| per_run.iter().any(|f| f.get(o).is_some_and(|n| *n > 0)))
        .collect();
    let groups = runs
        .iter()
        .zip(&per_run)
        .enumerate()
        .map(|(i, (r, f))| {
            (
                r.label.clone(),
                color(i),
                classes.iter().map(|o| f[o]).collect(),
            )
        })
        .collect();
    (classes.iter().map(|o| o.to_string()).collect(), groups)
}

/// Failed candidates per outcome class, and failed LLM calls per error kind.
pub fn failures<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, runs: &[RunData]) -> R<DB> {
    let failed_candidates: u64 = runs
        .iter()
        .map(|r| r.failures().values().sum::<u64>())
        .sum();
    let failed_calls = runs.iter().any(|r| !r.llm_errors().is_empty());
    if failed_candidates == 0 && !failed_calls {
        return placeholder(area, "Failures", "no candidate and no LLM call failed");
    }
    let panels = area.split_evenly((1, 2));
    let (classes, groups) = failure_classes(runs);
    if failed_candidates == 0 {
        placeholder(
            &panels[0],
            "Failed candidates by outcome",
            "no candidate failed",
        )?;
    } else {
        bars(
            &panels[0],
            "Failed candidates by outcome",
            "outcome",
            &classes,
            &groups,
        )?;
    }
    let kinds: Vec<String> = runs
        .iter()
        .flat_map(|r| r.llm_errors().into_keys())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if kinds.is_empty() {
        let note = if runs.iter().all(|r| r.calls.is_empty()) {
            "no LLM calls in these runs"
        } else {
            "no LLM call failed"
        };
        return placeholder(&panels[1], "Failed LLM calls by kind", note);
    }
    let groups: Vec<_> = runs
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let e = r.llm_errors();
            (
                r.label.clone(),
                color(i),
                kinds
                    .iter()
                    .map(|k| e.get(k).copied().unwrap_or(0))
                    .collect(),
            )
        })
        .collect();
    bars(
        &panels[1],
        "Failed LLM calls by kind",
        "error kind",
        &kinds,
        &groups,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_ticks_are_round_and_inside_the_range() {
        assert_eq!(
            log_ticks(142.0, 80_000.0),
            vec![
                200.0, 500.0, 1000.0, 2000.0, 5000.0, 10_000.0, 20_000.0, 50_000.0
            ]
        );
        assert_eq!(log_ticks(90.0, 250.0), vec![90.0, 100.0, 200.0]);
        assert_eq!(log_ticks(110.0, 172.0), vec![120.0, 140.0, 160.0]);
        assert_eq!(
            log_ticks(1.0, 1e8),
            (0..=8).map(|k| 10f64.powi(k)).collect::<Vec<_>>()
        );
    }
}
