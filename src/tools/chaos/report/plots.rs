//! The report's three plots on a shared time axis: throughput, latency, and unserved
//! windows per listener, each with the fault periods shaded and labelled and, on a
//! Redis Cluster, a numbered mark at each topology change (see [`mark_color`]).

use std::fmt::Write;

use super::super::results::*;
use crate::svg::*;

/// Most listener rows in the unserved-windows chart.
pub(super) const MAX_ROWS: usize = 150;

/// The time axis every plot shares: the planned run, or longer if anything lies past it.
pub(super) fn time_span(r: &Results) -> f64 {
    let planned = finite_or(r.setup.fault_secs + r.setup.quiet_secs, 0.0);
    let last = r.timeline.iter().map(|s| s.t_s as f64 + 1.0);
    let faults = r.faults.iter().flat_map(|f| [f.start_s, f.end_s]);
    let windows = r.availability.per_listener.iter().flat_map(|l| &l.windows);
    let windows = windows.flat_map(|w| [w.start_s, w.end_s]);
    let all = last.chain(faults).chain(windows).map(|v| finite_or(v, 0.0));
    positive(all.fold(planned, f64::max))
}

pub(super) fn kind_color(kind: &str) -> &'static str {
    match kind {
        "kill" => RED,
        "pause" => "#9467bd",
        "partition-peers" => "#ff7f0e",
        "partition-redis" => "#8c564b",
        "lossy" => "#17becf",
        "redis-restart" => "#e377c2",
        _ => "#7f7f7f",
    }
}

/// One translucent band per fault over the data area, from injection to healing (to the
/// end of the axis if it never healed), labelled above the plot in three staggered
/// lanes so neighbouring labels overlap less.
fn fault_bands(out: &mut String, f: &Frame, faults: &[FaultOutcome]) {
    let faults = faults.iter().filter(|fault| fault.start_s.is_finite());
    for (i, fault) in faults.enumerate() {
        let end = finite_or(fault.end_s, f.x_max).max(fault.start_s);
        let (x0, x1) = (f.x(fault.start_s), f.x(end));
        let color = kind_color(&fault.kind);
        let label = escape(&format!("{} {}", fault.kind, fault.target));
        let title = format!("{label}: {}–{} s", num(fault.start_s, 1), num(end, 1));
        let band = format!("class=\"fault\" fill=\"{color}\" fill-opacity=\"0.16\"");
        let size = ((x1 - x0).max(1.5), f.height);
        rect(out, (x0, TOP), size, &band, &title);
        let ly = TOP - 6.0 - (i % 3) as f64 * 12.0;
        let tick = format!("stroke=\"{color}\" stroke-opacity=\".6\"");
        line(out, (x0, ly), (x0, f.bottom()), &tick);
        // Labels near the right edge end at the band's end instead of starting at its start.
        let right = x0 > W - 160.0;
        let lx = if right { x1.max(x0 + 2.0) } else { x0 + 2.0 };
        let anchor = if right { "end" } else { "start" };
        let attrs = format!("fill=\"{color}\" font-size=\"10\" text-anchor=\"{anchor}\"");
        text(out, (lx, ly - 2.0), &attrs, &label);
    }
}

/// The colour of a Redis Cluster mark, by what happened: a master failed or was
/// killed or cut off (red), a replica promoted (green), a node back or rejoined (blue),
/// anything else the harness did (grey).
pub(super) fn mark_color(what: &str) -> &'static str {
    if what.contains("promoted") {
        "#2f855a"
    } else if what.contains("failed") || what.contains("killed") || what.contains("cut off") {
        "#c53030"
    } else if what.contains("rejoined") || what.contains("back") || what.contains("healed") {
        "#2b6cb0"
    } else {
        "#4a5568"
    }
}

/// One dashed vertical line per Redis Cluster mark over the data area, numbered at its
/// top in three staggered lanes (the report's "Redis Cluster events" table has the numbers); hover one for
/// its time and what happened. The first mark (the masters at the start) is not drawn.
fn redis_marks(out: &mut String, f: &Frame, marks: &[RedisMark]) {
    for (i, m) in marks.iter().enumerate().skip(1) {
        if !m.t_s.is_finite() {
            continue;
        }
        let x = f.x(m.t_s.clamp(0.0, f.x_max));
        let color = mark_color(&m.what);
        let title = escape(&format!("R{i} at {} s: {}", num(m.t_s, 1), m.what));
        let _ = write!(out, "<g class=\"redis-mark\"><title>{title}</title>");
        let attrs = format!("stroke=\"{color}\" stroke-width=\"1.2\" stroke-dasharray=\"3 2\"");
        line(out, (x, TOP), (x, f.bottom()), &attrs);
        let lane = 9.0 + (i % 3) as f64 * 9.0;
        let attrs = format!("fill=\"{color}\" font-size=\"8\"");
        text(out, (x + 2.0, TOP + lane), &attrs, &format!("R{i}"));
        out.push_str("</g>");
    }
}

/// A legend row for the fault kinds present.
fn kinds_legend(out: &mut String, y: f64, faults: &[FaultOutcome]) {
    let mut kinds: Vec<&str> = faults.iter().map(|f| f.kind.as_str()).collect();
    kinds.sort_unstable();
    kinds.dedup();
    if !kinds.is_empty() {
        text(out, (LEFT - 5.0, y + 4.0), "text-anchor=\"end\"", "faults:");
    }
    let items = kinds
        .iter()
        .map(|k| (*k, kind_color(k), Mark::Square(".3")));
    let items: Vec<_> = items.collect();
    legend(out, y, &items);
}

/// Opens the figure and its SVG (sized to the data area and margins), then draws the
/// fault bands and the axes, so the data drawn next lies on top of them.
fn open(f: &Frame, r: &Results, y_label: &str, y_step: Option<f64>) -> String {
    let h = f.bottom() + BOTTOM;
    let mut out = format!(
        "<figure><svg viewBox=\"0 0 {W} {h:.0}\" role=\"img\" aria-label=\"{y_label} over \
         time\" xmlns=\"http://www.w3.org/2000/svg\">"
    );
    fault_bands(&mut out, f, &r.faults);
    axes(&mut out, f, "seconds since start", y_label, y_step);
    redis_marks(&mut out, f, &r.redis_marks);
    out
}
/// Draws the legends and closes what [`Frame::open`] opened, with a caption.
fn close(f: &Frame, out: &mut String, r: &Results, items: &[(&str, &str, Mark)], caption: &str) {
    legend(out, f.bottom() + 50.0, items);
    kinds_legend(out, f.bottom() + 66.0, &r.faults);
    let _ = writeln!(out, "</svg><figcaption>{caption}</figcaption></figure>");
}
/// The per-second values of one field, in time order, keeping only finite values ≥ 0.
fn per_second(r: &Results, get: impl Fn(&Second) -> Option<f64>) -> Vec<(u64, f64)> {
    let v = r.timeline.iter().filter_map(|s| Some((s.t_s, get(s)?)));
    let mut v: Vec<_> = v.filter(|&(_, v)| v.is_finite() && v >= 0.0).collect();
    v.sort_by_key(|&(t, _)| t);
    v
}

/// Plot 1: operations completed per second by outcome, and degraded feeds.
pub(super) fn throughput_plot(r: &Results, span: f64) -> String {
    type Field = fn(&Second) -> u64;
    let lines: [(&str, &str, &str, Field); 4] = [
        ("ok", "#2b6cb0", "", |s| s.ok),
        ("info", "#d69e2e", "", |s| s.info),
        ("fail", "#c53030", "", |s| s.fail),
        ("degraded (of ok feeds)", "#805ad5", "5 3", |s| s.degraded),
    ];
    let all = r.timeline.iter().flat_map(|s| [s.ok, s.fail, s.info]);
    let top = all.max().unwrap_or(0) as f64;
    let step = nice_step(top, 5.0);
    let f = Frame::new(240.0, span, (top / step).ceil().max(1.0) * step);
    let mut out = open(&f, r, "operations / s", Some(step));
    if r.timeline.is_empty() {
        f.note(&mut out, "no timeline recorded");
    }
    for (_, color, dash, get) in lines {
        let attrs = format!("stroke-width=\"1.5\" stroke-dasharray=\"{dash}\"");
        let values = per_second(r, |s| Some(get(s) as f64));
        series(&mut out, &f, &values, color, &attrs);
    }
    let items = lines.iter().map(|(l, c, d, _)| (*l, *c, Mark::Line(d)));
    let items: Vec<_> = items.collect();
    let caption = "Client operations completed in each second, by outcome (ok, info, fail), \
                   and how many of the ok feeds were degraded.";
    close(&f, &mut out, r, &items, caption);
    out
}

/// Plot 2: p50 and p99 latency per second, the y axis clipped above outliers.
pub(super) fn latency_plot(r: &Results, span: f64) -> String {
    let busy = |s: &Second| s.ok + s.fail + s.info > 0;
    let p50 = per_second(r, |s| busy(s).then_some(s.p50_ms));
    let p99 = per_second(r, |s| busy(s).then_some(s.p99_ms));
    let mut sorted: Vec<f64> = p99.iter().map(|&(_, v)| v).collect();
    sorted.sort_by(f64::total_cmp);
    // The lower nearest rank, so one outlier among < 100 seconds is not its own p99.
    let rank = (sorted.len().saturating_sub(1) as f64 * 0.99).floor() as usize;
    let cap = sorted.get(rank).copied().unwrap_or(0.0) * 1.5;
    let max = p50.iter().chain(&p99).map(|&(_, v)| v).fold(0.0, f64::max);
    let top = if max > cap && cap > 0.0 { cap } else { max };
    let step = nice_step(top, 5.0);
    let f = Frame::new(220.0, span, (positive(top) / step).ceil().max(1.0) * step);
    let mut out = open(&f, r, "latency (ms)", Some(step));
    if p50.is_empty() && p99.is_empty() {
        f.note(&mut out, "no operations completed");
    }
    let (green, orange) = ("#38a169", "#c05621");
    let clipped = series(&mut out, &f, &p50, green, "") + series(&mut out, &f, &p99, orange, "");
    let mut items = vec![
        ("p50", green, Mark::Line("")),
        ("p99", orange, Mark::Line("")),
    ];
    let mut caption = "Latency of the client operations completed in each second (p50 and p99, \
                       ms); seconds with no operations are gaps. Linear y axis, clipped at 1.5 × \
                       the 99th percentile of the per-second p99 values so that one outlier \
                       cannot flatten the rest"
        .to_string();
    if clipped > 0 {
        items.push(("clipped: value above the axis", RED, Mark::Triangle));
        let (cap, max) = (num(cap, 1), num(max, 1));
        let _ = write!(
            caption,
            " (here {cap} ms, rounded up to a tick): {clipped} point(s) above it are drawn at \
             the top and marked ▲ (hover one for its value; the largest is {max} ms)."
        );
    } else {
        caption.push_str("; here nothing needed clipping.");
    }
    close(&f, &mut out, r, &items, &caption);
    out
}

/// One listener's row in plot 3: its windows with a finite start, as (start, end)
/// sorted by start, and their total length.
struct Row<'a> {
    name: &'a str,
    windows: Vec<(f64, f64)>,
    total: f64,
}

/// Plot 3: one row per listener (the longest-unserved ones, at most [`MAX_ROWS`]), a red
/// bar per unserved window, ordered by when each listener's first window began.
pub(super) fn windows_plot(r: &Results, span: f64) -> String {
    let mut rows: Vec<Row> = Vec::new();
    for l in &r.availability.per_listener {
        let ws = l.windows.iter().filter(|w| w.start_s.is_finite());
        let ws = ws.map(|w| (w.start_s, finite_or(w.end_s, span).max(w.start_s)));
        let mut windows: Vec<_> = ws.collect();
        windows.sort_by(|a, b| a.0.total_cmp(&b.0));
        let total = windows.iter().map(|(a, b)| b - a).sum();
        if !windows.is_empty() {
            rows.push(Row {
                name: &l.listener,
                windows,
                total,
            });
        }
    }
    if rows.is_empty() {
        return "<p>No listener had an unserved window: every listener got a normal feed \
                whenever it asked.</p>\n"
            .to_string();
    }
    let all = rows.len();
    rows.sort_by(|a, b| b.total.total_cmp(&a.total).then(a.name.cmp(b.name)));
    rows.truncate(MAX_ROWS);
    let first = |row: &Row| row.windows.first().map_or(0.0, |w| w.0);
    rows.sort_by(|a, b| first(a).total_cmp(&first(b)).then(a.name.cmp(b.name)));
    let count = rows.len();
    let h = (360.0 / count as f64).clamp(3.0, 20.0);
    let f = Frame::new(h * count as f64, span, 1.0);
    let mut out = open(&f, r, "listeners", None);
    let bar = format!("fill=\"{RED}\"");
    let font = (h - 2.0).min(10.0);
    let name_attrs = format!("text-anchor=\"end\" font-size=\"{font:.0}\"");
    for (i, row) in rows.iter().enumerate() {
        let y = TOP + i as f64 * h;
        let name = escape(row.name);
        if h >= 9.0 {
            // Names are cut to 12 characters to fit the margin; the title has all of it.
            let short: String = row.name.chars().take(12).collect();
            let more = if row.name.chars().count() > 12 {
                "…"
            } else {
                ""
            };
            let body = format!("{}{more}<title>{name}</title>", escape(&short));
            text(&mut out, (LEFT - 4.0, y + h * 0.78), &name_attrs, &body);
        }
        for &(start, end) in &row.windows {
            let (x0, x1) = (f.x(start), f.x(end));
            let (a, b, t) = (num(start, 2), num(end, 2), num(row.total, 2));
            let title = format!("{name}: {a}–{b} s (unserved {t} s in all)");
            let (pos, size) = ((x0, y + h * 0.15), ((x1 - x0).max(1.0), h * 0.7));
            rect(&mut out, pos, size, &bar, &title);
        }
    }
    let shown = if all > count {
        format!("Showing {count} of {all} listeners with a window: those unserved longest.")
    } else {
        format!("All {all} listener(s) with a window.")
    };
    let caption = format!(
        "{shown} One row per listener, ordered by when its first window began; each red bar \
         is one unserved window (hover for its times)."
    );
    let items = [("unserved window", RED, Mark::Square("1"))];
    close(&f, &mut out, r, &items, &caption);
    out
}
