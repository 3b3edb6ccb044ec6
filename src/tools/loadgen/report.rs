//! What the load generator measured: an HDR histogram per operation over the measured
//! window, a per-second timeline (throughput, p50, p99, errors) for the progress line
//! and the plot, and the files: results.json, results.csv, plot.svg.

use std::fmt::Write as _;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::Serialize;

use super::LoadgenArgs;
use crate::svg::{self, Frame, Mark};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    Raw,
    Feed,
    Interaction,
}

impl Op {
    pub const ALL: [Op; 3] = [Op::Raw, Op::Feed, Op::Interaction];
    pub fn name(self) -> &'static str {
        match self {
            Op::Raw => "raw",
            Op::Feed => "feed",
            Op::Interaction => "interaction",
        }
    }
    fn color(self) -> &'static str {
        match self {
            Op::Raw => "#7f7f7f",
            Op::Feed => "#1f77b4",
            Op::Interaction => "#ff7f0e",
        }
    }
}

/// Latencies are kept in microseconds, 1 µs to 60 s, 3 significant figures.
fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3)
        .unwrap_or_else(|_| Histogram::new(3).unwrap_or_else(|_| unreachable!()))
}

struct PerOp {
    total: Histogram<u64>,
    errors: u64,
    second: Histogram<u64>,
    second_errors: u64,
}

pub struct Recorder {
    measuring: AtomicBool,
    window: Mutex<(Option<Instant>, Option<Instant>)>,
    ops: [Mutex<PerOp>; 3],
    timeline: Mutex<Vec<Point>>,
}

/// One second of one operation.
#[derive(Debug, Clone, Serialize)]
pub struct Point {
    /// Seconds since measuring started.
    pub t: u64,
    pub op: Op,
    pub per_s: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub errors: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct OpSummary {
    pub op: Op,
    pub count: u64,
    pub errors: u64,
    pub per_s: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub args: LoadgenArgs,
    pub measured_s: f64,
    pub ops: Vec<OpSummary>,
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

impl Default for Recorder {
    fn default() -> Self {
        Self::new()
    }
}

impl Recorder {
    pub fn new() -> Self {
        let per = || {
            Mutex::new(PerOp {
                total: histogram(),
                errors: 0,
                second: histogram(),
                second_errors: 0,
            })
        };
        Self {
            measuring: AtomicBool::new(false),
            window: Mutex::new((None, None)),
            ops: [per(), per(), per()],
            timeline: Mutex::new(Vec::new()),
        }
    }

    fn op(&self, op: Op) -> std::sync::MutexGuard<'_, PerOp> {
        self.ops[op as usize]
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    pub fn start_measuring(&self) {
        lock(&self.window).0 = Some(Instant::now());
        self.measuring.store(true, Ordering::SeqCst);
    }

    pub fn stop_measuring(&self) {
        self.measuring.store(false, Ordering::SeqCst);
        lock(&self.window).1 = Some(Instant::now());
    }

    pub fn ok(&self, op: Op, took: Duration) {
        let us = (took.as_micros() as u64).clamp(1, 60_000_000);
        let measuring = self.measuring.load(Ordering::Relaxed);
        let mut p = self.op(op);
        let _ = p.second.record(us);
        if measuring {
            let _ = p.total.record(us);
        }
    }

    pub fn error(&self, op: Op) {
        let measuring = self.measuring.load(Ordering::Relaxed);
        let mut p = self.op(op);
        p.second_errors += 1;
        if measuring {
            p.errors += 1;
        }
    }

    /// Closes the last second: adds it to the timeline (while measuring) and returns
    /// the progress line.
    pub fn roll_second(&self) -> String {
        let (start, _) = *lock(&self.window);
        let measuring = self.measuring.load(Ordering::Relaxed);
        let t = start.map_or(0, |s| s.elapsed().as_secs_f64().round() as u64);
        let mut line = format!(
            "{} {t:>3}s",
            if measuring { "measuring" } else { "warming" }
        );
        for op in Op::ALL {
            let mut p = self.op(op);
            if p.second.is_empty() && p.second_errors == 0 {
                continue;
            }
            let point = Point {
                t: t.saturating_sub(1),
                op,
                per_s: p.second.len(),
                p50_ms: ms(p.second.value_at_quantile(0.5)),
                p99_ms: ms(p.second.value_at_quantile(0.99)),
                errors: p.second_errors,
            };
            let _ = write!(
                line,
                " | {} {}/s p99 {:.1} ms{}",
                op.name(),
                point.per_s,
                point.p99_ms,
                if point.errors > 0 {
                    format!(" ({} errors)", point.errors)
                } else {
                    String::new()
                }
            );
            p.second.reset();
            p.second_errors = 0;
            drop(p);
            if measuring {
                lock(&self.timeline).push(point);
            }
        }
        line
    }

    pub fn timeline(&self) -> Vec<Point> {
        lock(&self.timeline).clone()
    }

    pub fn summary(&self, args: &LoadgenArgs) -> Summary {
        let (start, end) = *lock(&self.window);
        let measured_s = match (start, end) {
            (Some(s), Some(e)) => (e - s).as_secs_f64(),
            _ => 0.0,
        }
        .max(0.001);
        let ops = Op::ALL
            .into_iter()
            .filter_map(|op| {
                let p = self.op(op);
                (!p.total.is_empty() || p.errors > 0).then(|| OpSummary {
                    op,
                    count: p.total.len(),
                    errors: p.errors,
                    per_s: p.total.len() as f64 / measured_s,
                    p50_ms: ms(p.total.value_at_quantile(0.5)),
                    p90_ms: ms(p.total.value_at_quantile(0.9)),
                    p99_ms: ms(p.total.value_at_quantile(0.99)),
                    p999_ms: ms(p.total.value_at_quantile(0.999)),
                    max_ms: ms(p.total.max()),
                })
            })
            .collect();
        Summary {
            args: args.clone(),
            measured_s,
            ops,
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Summary {
    /// A table, one row per operation.
    pub fn table(&self) -> String {
        let mut out = format!(
            "{:<12} {:>9} {:>7} {:>10} {:>9} {:>9} {:>9} {:>9}\n",
            "op", "count", "errors", "per s", "p50 ms", "p99 ms", "p99.9 ms", "max ms"
        );
        for o in &self.ops {
            let _ = writeln!(
                out,
                "{:<12} {:>9} {:>7} {:>10.1} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
                o.op.name(),
                o.count,
                o.errors,
                o.per_s,
                o.p50_ms,
                o.p99_ms,
                o.p999_ms,
                o.max_ms
            );
        }
        out
    }
}

/// Writes results.json, results.csv (the timeline) and plot.svg into `dir`.
pub fn write(dir: &Path, summary: &Summary, timeline: &[Point]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let json = serde_json::json!({"summary": summary, "timeline": timeline});
    std::fs::write(
        dir.join("results.json"),
        serde_json::to_string_pretty(&json).unwrap_or_default(),
    )?;
    let mut csv = String::from("t_s,op,per_s,p50_ms,p99_ms,errors\n");
    for p in timeline {
        let _ = writeln!(
            csv,
            "{},{},{},{:.3},{:.3},{}",
            p.t,
            p.op.name(),
            p.per_s,
            p.p50_ms,
            p.p99_ms,
            p.errors
        );
    }
    std::fs::write(dir.join("results.csv"), csv)?;
    std::fs::write(dir.join("plot.svg"), plot(summary, timeline))?;
    Ok(())
}

/// Throughput (top) and p99 (bottom) per second and operation.
pub fn plot(summary: &Summary, timeline: &[Point]) -> String {
    const H: f64 = 220.0;
    let x_max = summary.measured_s.ceil();
    let mut out = String::new();
    let total_h = 2.0 * (svg::TOP + H + svg::BOTTOM);
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {} {total_h}\" font-family=\"sans-serif\" font-size=\"12\">",
        svg::W
    );
    out.push_str("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>");
    let ops: Vec<Op> = summary.ops.iter().map(|o| o.op).collect();
    for (panel, (label, value)) in [
        (
            "requests per second",
            (|p: &Point| p.per_s as f64) as fn(&Point) -> f64,
        ),
        ("p99 latency (ms)", |p: &Point| p.p99_ms),
    ]
    .into_iter()
    .enumerate()
    {
        let mut g = String::new();
        let y_max = timeline.iter().map(value).fold(0.0, f64::max) * 1.1;
        let f = Frame::new(H, x_max, y_max);
        svg::axes(
            &mut g,
            &f,
            "seconds",
            label,
            Some(svg::nice_step(f.y_max, 5.0)),
        );
        for op in &ops {
            let series: Vec<(u64, f64)> = timeline
                .iter()
                .filter(|p| p.op == *op)
                .map(|p| (p.t, value(p)))
                .collect();
            svg::series(&mut g, &f, &series, op.color(), "stroke-width=\"2\"");
        }
        let items: Vec<(&str, &str, Mark)> = ops
            .iter()
            .map(|o| (o.name(), o.color(), Mark::Line("")))
            .collect();
        svg::legend(&mut g, 20.0, &items);
        let dy = panel as f64 * (svg::TOP + H + svg::BOTTOM);
        let _ = write!(out, "<g transform=\"translate(0 {dy})\">{g}</g>");
    }
    out.push_str("</svg>");
    out
}
