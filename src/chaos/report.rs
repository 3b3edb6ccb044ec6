//! Renders one chaos run's [`Results`] into `report.html`: a single self-contained page
//! (inline CSS and SVG, no JavaScript, no external assets, readable offline) showing, top
//! to bottom, the verdict, the setup, every checker, availability, three plots on a
//! shared time axis (throughput, latency, unserved windows per listener), the faults, the
//! operations, the notes and a short guide to reading it.
//!
//! The SVG is written by hand: the plots are three simple charts, and a plotting crate
//! would cost build time and need fonts for its layout.

use super::results::*;
use std::fmt::{Display, Write};

/// SVG viewBox width; CSS scales the plots to the page width.
const W: f64 = 900.0;
/// Margins around a plot's data area; all plots share them so their time axes line up.
const LEFT: f64 = 90.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 46.0;
const BOTTOM: f64 = 76.0;
/// Most listener rows in the unserved-windows chart.
const MAX_ROWS: usize = 150;
const RED: &str = "#d62728";

const CSS: &str = "
body{font:14px/1.45 system-ui,sans-serif;max-width:980px;margin:1.5em auto;padding:0 1em;color:#222}
h2{margin-top:1.8em;border-bottom:1px solid #ddd;padding-bottom:.2em}
.banner{padding:.4em .8em;font-size:2.2em;font-weight:700;color:#fff;border-radius:6px}
.valid{background:#1a7f37}.invalid{background:#cf222e}.unknown{background:#b07d00}
.why{font-size:1.1em;margin:.4em 0 0}td.valid,td.invalid,td.unknown{color:#fff;font-weight:600}
table{border-collapse:collapse;margin:.5em 0}
th,td{border:1px solid #ddd;padding:.2em .6em;text-align:left;vertical-align:top}
th{background:#f6f6f6}td.n{text-align:right;font-variant-numeric:tabular-nums}
pre{background:#f4f4f4;padding:.5em .8em;white-space:pre-wrap;word-break:break-all}
svg{width:100%;height:auto;display:block;font-family:sans-serif;font-size:11px}
figure{margin:1em 0}figcaption{color:#555;font-size:.92em}
details ul{margin:.3em 0;font-family:monospace;font-size:.9em}
";

const HOW_TO_READ: &str = "<h2>How to read this</h2>\n<ul>
<li>Every client operation ends in one of three phases, as in Jepsen: <b>ok</b> (it \
happened), <b>fail</b> (it certainly did not happen, e.g. a 4xx) and <b>info</b> (unknown: \
a timeout, a dropped connection or a 5xx &mdash; a write may or may not have been made \
durable).</li>
<li><b>Degraded</b> feeds were answered ok, but with a fallback rather than a normal feed.</li>
<li>An <b>unserved window</b> is a stretch in which one listener got no normal feed: from the \
start of its first request not answered with a normal feed to the end of the next normal \
one.</li>
<li><b>Shaded bands</b> in the plots are fault periods, from injection to healing, coloured \
by kind and labelled with kind and target (hover a band, bar or marker for its numbers).</li>
<li>VALID means every checker ran and passed; UNKNOWN means no violation was found but some \
checker could not finish, so nothing is claimed.</li>
</ul>\n";

/// Renders the whole report page.
pub fn render(results: &Results) -> String {
    let r = results;
    let span = time_span(r);
    let v = r.valid.as_str();
    let mut out = String::with_capacity(64 * 1024);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
    out.push_str("<title>Spoofify chaos run</title><style>");
    out.push_str(CSS);
    out.push_str("</style></head><body>\n<h1>Spoofify chaos run</h1>\n");
    let (big, why) = (v.to_uppercase(), escape(&verdict_sentence(r)));
    let _ = write!(out, "<div class=\"banner {v}\">{big}</div>");
    let _ = writeln!(out, "<p class=\"why\">{why}</p>");
    setup_section(&mut out, r);
    checks_section(&mut out, &r.checks);
    availability_section(&mut out, &r.availability);
    out.push_str("<h2>Throughput</h2>\n");
    out.push_str(&throughput_plot(r, span));
    out.push_str("<h2>Latency</h2>\n");
    out.push_str(&latency_plot(r, span));
    out.push_str("<h2>Unserved windows per listener</h2>\n");
    out.push_str(&windows_plot(r, span));
    faults_section(&mut out, &r.faults);
    ops_section(&mut out, &r.ops);
    out.push_str("<h2>Notes</h2>\n<ul>");
    for note in &r.notes {
        let _ = write!(out, "<li>{}</li>", escape(note));
    }
    let none = if r.notes.is_empty() {
        "<li>None.</li>"
    } else {
        ""
    };
    let _ = writeln!(out, "{none}</ul>");
    out.push_str(HOW_TO_READ);
    out.push_str("</body></html>\n");
    out
}

/// Escapes text for HTML content and attribute values.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A float with `d` decimals, or "—" when it is NaN or infinite.
fn num(v: f64, d: usize) -> String {
    let s = v.is_finite().then(|| format!("{v:.d$}"));
    s.unwrap_or_else(|| "—".to_string())
}

/// A right-aligned numeric table cell (see [`table`]).
fn n(v: impl Display) -> String {
    format!("#{v}")
}

/// `v` when it is finite, else `or`.
fn finite_or(v: f64, or: f64) -> f64 {
    Some(v).filter(|v| v.is_finite()).unwrap_or(or)
}

/// `v` when it is finite and above zero, else 1 (a safe divisor for scales).
fn positive(v: f64) -> f64 {
    Some(v).filter(|v| v.is_finite() && *v > 0.0).unwrap_or(1.0)
}

fn verdict_sentence(r: &Results) -> String {
    let names = |v: Verdict| -> Vec<&str> {
        let it = r.checks.iter().filter(|c| c.valid == v);
        it.map(|c| c.name.as_str()).collect()
    };
    let (bad, unsure) = (names(Verdict::Invalid), names(Verdict::Unknown));
    let (b, u) = (bad.join(", "), unsure.join(", "));
    match r.valid {
        Verdict::Valid if r.checks.is_empty() => "No checker results were recorded.".into(),
        Verdict::Valid => format!("Every checker passed ({}).", r.checks.len()),
        Verdict::Invalid if bad.is_empty() => "The run was judged invalid.".into(),
        Verdict::Invalid => format!("{} checker(s) found violations: {b}.", bad.len()),
        Verdict::Unknown if unsure.is_empty() => "A checker could not finish.".into(),
        Verdict::Unknown => {
            let k = unsure.len();
            format!("No violation found, but {k} checker(s) could not finish: {u}.")
        }
    }
}

/// Writes a section: its heading, then `empty` when there are no rows, else a table.
/// Cells are HTML (already escaped); one starting with `#` is a number and is
/// right-aligned (the `#` is dropped).
fn table(out: &mut String, title: &str, empty: &str, headers: &[&str], rows: &[Vec<String>]) {
    let _ = writeln!(out, "<h2>{title}</h2>");
    if rows.is_empty() {
        let _ = writeln!(out, "<p>{empty}</p>");
        return;
    }
    let headers = headers.join("</th><th>");
    let _ = writeln!(out, "<table><tr><th>{headers}</th></tr>");
    for row in rows {
        out.push_str("<tr>");
        for cell in row {
            let _ = match cell.strip_prefix('#') {
                Some(v) => write!(out, "<td class=\"n\">{v}</td>"),
                None => write!(out, "<td>{cell}</td>"),
            };
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
}

fn setup_section(out: &mut String, r: &Results) {
    let s = &r.setup;
    let kinds = Some(s.fault_kinds.join(", ")).filter(|k| !k.is_empty());
    let netns = if s.netns { "yes" } else { "no" };
    let rows = [
        ("seed", s.seed.to_string()),
        ("nodes", s.nodes.to_string()),
        ("listeners", s.listeners.to_string()),
        ("fsync policy", s.fsync.clone()),
        ("network namespaces", netns.to_string()),
        ("fault kinds", kinds.unwrap_or_else(|| "—".into())),
        ("fault period (s)", num(s.fault_secs, 1)),
        ("quiet period (s)", num(s.quiet_secs, 1)),
        ("started at", s.started_at.clone()),
        ("duration (s)", num(r.duration_s, 1)),
    ];
    let rows = rows.iter().map(|(k, v)| vec![k.to_string(), escape(v)]);
    let rows: Vec<_> = rows.collect();
    table(out, "Setup", "", &["setting", "value"], &rows);
    let cmd = escape(&s.command);
    let _ = writeln!(out, "<p>Reproduce with:</p><pre><code>{cmd}</code></pre>");
}

/// Checks, each row followed by its examples (folded) when it has any.
fn checks_section(out: &mut String, checks: &[Check]) {
    out.push_str("<h2>Checks</h2>\n");
    if checks.is_empty() {
        out.push_str("<p>No checker results were recorded.</p>\n");
        return;
    }
    out.push_str("<table><tr><th>check</th><th>verdict</th><th>violations</th>");
    out.push_str("<th>examined</th><th>rule</th></tr>\n");
    for c in checks {
        let (name, v, rule) = (escape(&c.name), c.valid.as_str(), escape(&c.rule));
        let (bad, seen, big) = (c.violations, c.examined, v.to_uppercase());
        let _ = write!(
            out,
            "<tr><td><b>{name}</b></td><td class=\"{v}\">{big}</td>"
        );
        let _ = write!(out, "<td class=\"n\">{bad}</td><td class=\"n\">{seen}</td>");
        let _ = writeln!(out, "<td>{rule}</td></tr>");
        if c.examples.is_empty() {
            continue;
        }
        let count = c.examples.len();
        out.push_str("<tr><td colspan=\"5\"><details><summary>");
        let _ = write!(out, "{count} example(s) from {name}</summary><ul>");
        for e in &c.examples {
            let _ = write!(out, "<li>{}</li>", escape(e));
        }
        out.push_str("</ul></details></td></tr>\n");
    }
    out.push_str("</table>\n");
}

fn availability_section(out: &mut String, a: &Availability) {
    let share =
        (a.feeds > 0).then(|| format!("{:.2}%", a.feeds_normal as f64 * 100.0 / a.feeds as f64));
    let (share, normal) = (share.unwrap_or_else(|| "—".into()), a.feeds_normal);
    let rows = [
        ("feed requests", n(a.feeds)),
        ("answered normally", n(format!("{normal} ({share})"))),
        ("unserved windows", n(a.windows)),
        ("listeners affected", n(a.listeners_affected)),
        ("unserved p50 (s)", n(num(a.p50_s, 2))),
        ("unserved p99 (s)", n(num(a.p99_s, 2))),
        ("unserved max (s)", n(num(a.max_s, 2))),
        ("never served again", n(a.never_served_again)),
    ];
    let rows = rows.into_iter().map(|(k, v)| vec![k.to_string(), v]);
    let rows: Vec<_> = rows.collect();
    table(out, "Availability", "", &["measure", "value"], &rows);
}

fn faults_section(out: &mut String, faults: &[FaultOutcome]) {
    let opt = |v: Option<f64>| n(v.map_or_else(|| "—".to_string(), |v| num(v, 2)));
    let row = |f: &FaultOutcome| {
        let (color, kind) = (kind_color(&f.kind), escape(&f.kind));
        vec![
            format!("<span style=\"color:{color}\">&#9632;</span> {kind}"),
            escape(&f.target),
            n(num(f.start_s, 2)),
            n(num(f.end_s, 2)),
            opt(f.detected_after_s),
            opt(f.recovered_after_s),
            n(f.affected_listeners),
        ]
    };
    let rows: Vec<_> = faults.iter().map(row).collect();
    let headers = "kind|target|start (s)|end (s)|detected after (s)|recovered after (s)|\
                   affected listeners";
    let headers: Vec<_> = headers.split('|').collect();
    table(out, "Faults", "No faults were injected.", &headers, &rows);
}

fn ops_section(out: &mut String, ops: &[OpCount]) {
    let row = |o: &OpCount| {
        let counts = [o.invoked, o.ok, o.fail, o.info].map(n);
        let ms = [o.p50_ms, o.p99_ms].map(|v| n(num(v, 1)));
        [vec![escape(&o.op)], counts.to_vec(), ms.to_vec()].concat()
    };
    let rows: Vec<_> = ops.iter().map(row).collect();
    let headers: Vec<_> = "op|invoked|ok|fail|info|p50 (ms)|p99 (ms)"
        .split('|')
        .collect();
    let empty = "No operations were recorded.";
    table(out, "Operations", empty, &headers, &rows);
}

/// Seconds covered by the plots: whichever of the timeline, the faults, the windows and
/// the planned run length reaches furthest; never zero.
fn time_span(r: &Results) -> f64 {
    let planned = finite_or(r.setup.fault_secs + r.setup.quiet_secs, 0.0);
    let last = r.timeline.iter().map(|s| s.t_s as f64 + 1.0);
    let faults = r.faults.iter().flat_map(|f| [f.start_s, f.end_s]);
    let windows = r.availability.per_listener.iter().flat_map(|l| &l.windows);
    let windows = windows.flat_map(|w| [w.start_s, w.end_s]);
    let all = last.chain(faults).chain(windows).map(|v| finite_or(v, 0.0));
    positive(all.fold(planned, f64::max))
}

/// A "nice" tick step (1, 2 or 5 × 10^k) giving about `ticks` ticks up to `max`.
fn nice_step(max: f64, ticks: f64) -> f64 {
    let raw = positive(max) / ticks;
    let mag = 10f64.powf(raw.log10().floor());
    let f = [1.0, 2.0, 5.0].into_iter().find(|&f| raw / mag <= f);
    f.unwrap_or(10.0) * mag
}

/// A tick label with as many decimals (0–2) as the step needs.
fn tick_label(v: f64, step: f64) -> String {
    num(v, (-step.log10().floor()).clamp(0.0, 2.0) as usize)
}

/// Maps data to the SVG coordinates of one plot's data area.
struct Frame {
    height: f64,
    x_max: f64,
    y_max: f64,
}

impl Frame {
    fn new(height: f64, x_max: f64, y_max: f64) -> Frame {
        let (x_max, y_max) = (positive(x_max), positive(y_max));
        Frame {
            height,
            x_max,
            y_max,
        }
    }
    fn x(&self, t: f64) -> f64 {
        LEFT + finite_or(t / self.x_max, 0.0).clamp(0.0, 1.0) * (W - LEFT - RIGHT)
    }
    fn y(&self, v: f64) -> f64 {
        self.bottom() - finite_or(v / self.y_max, 0.0).clamp(0.0, 1.0) * self.height
    }
    fn bottom(&self) -> f64 {
        TOP + self.height
    }
    /// Opens the figure and its SVG (sized to the data area and margins), then draws the
    /// fault bands and the axes, so the data drawn next lies on top of them.
    fn open(&self, r: &Results, y_label: &str, y_step: Option<f64>) -> String {
        let h = self.bottom() + BOTTOM;
        let mut out = format!(
            "<figure><svg viewBox=\"0 0 {W} {h:.0}\" role=\"img\" aria-label=\"{y_label} over \
             time\" xmlns=\"http://www.w3.org/2000/svg\">"
        );
        fault_bands(&mut out, self, &r.faults);
        axes(&mut out, self, y_label, y_step);
        out
    }
    /// Draws the legends and closes what [`Frame::open`] opened, with a caption.
    fn close(&self, out: &mut String, r: &Results, items: &[(&str, &str, Mark)], caption: &str) {
        legend(out, self.bottom() + 50.0, items);
        kinds_legend(out, self.bottom() + 66.0, &r.faults);
        let _ = writeln!(out, "</svg><figcaption>{caption}</figcaption></figure>");
    }
    /// A centred message inside an empty data area.
    fn note(&self, out: &mut String, msg: &str) {
        let centre = (W / 2.0, TOP + self.height / 2.0);
        text(out, centre, "text-anchor=\"middle\"", msg);
    }
}

/// `<text>` at (x, y) with extra attributes; `body` is already HTML.
fn text(out: &mut String, (x, y): (f64, f64), attrs: &str, body: &str) {
    let _ = write!(out, "<text x=\"{x:.1}\" y=\"{y:.1}\" {attrs}>{body}</text>");
}

fn line(out: &mut String, (x1, y1): (f64, f64), (x2, y2): (f64, f64), attrs: &str) {
    let (a, b, c, d) = (x1, y1, x2, y2);
    let _ = write!(
        out,
        "<line x1=\"{a:.1}\" y1=\"{b:.1}\" x2=\"{c:.1}\" y2=\"{d:.1}\" {attrs}/>"
    );
}

/// `<rect>` with extra attributes and a hover title (already HTML; none when empty).
fn rect(out: &mut String, (x, y): (f64, f64), (w, h): (f64, f64), attrs: &str, title: &str) {
    let _ = write!(out, "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" ");
    let _ = write!(out, "height=\"{h:.1}\" {attrs}>");
    if !title.is_empty() {
        let _ = write!(out, "<title>{title}</title>");
    }
    out.push_str("</rect>");
}

/// An upward triangle with its base centred on (x, y), marking a clipped value.
fn triangle(out: &mut String, (x, y): (f64, f64), title: &str) {
    let (l, r, top) = (x - 4.0, x + 4.0, y - 7.0);
    let d = format!("M{l:.1} {y:.1}L{r:.1} {y:.1}L{x:.1} {top:.1}Z");
    let _ = write!(
        out,
        "<path d=\"{d}\" fill=\"{RED}\"><title>{title}</title></path>"
    );
}

/// Frame, grid, ticks and axis labels; y ticks only when `y_step` is given.
fn axes(out: &mut String, f: &Frame, y_label: &str, y_step: Option<f64>) {
    let (x0, x1, y0, y1) = (LEFT, W - RIGHT, TOP, f.bottom());
    let mid = "text-anchor=\"middle\"";
    let x_step = nice_step(f.x_max, 10.0);
    let ticks = |max: f64, step: f64| {
        let all = (0..=200).map(move |k| k as f64 * step);
        all.take_while(move |&v| v <= max * 1.0001)
    };
    for t in ticks(f.x_max, x_step) {
        line(out, (f.x(t), y1), (f.x(t), y1 + 4.0), "stroke=\"#333\"");
        text(out, (f.x(t), y1 + 16.0), mid, &tick_label(t, x_step));
    }
    if let Some(step) = y_step {
        for v in ticks(f.y_max, step) {
            line(out, (x0, f.y(v)), (x1, f.y(v)), "stroke=\"#e4e4e4\"");
            let label = tick_label(v, step);
            text(out, (x0 - 5.0, f.y(v) + 4.0), "text-anchor=\"end\"", &label);
        }
    }
    let border = "fill=\"none\" stroke=\"#999\"";
    rect(out, (x0, y0), (x1 - x0, y1 - y0), border, "");
    let label = ((x0 + x1) / 2.0, y1 + 32.0);
    text(out, label, mid, "seconds since start");
    let ym = (y0 + y1) / 2.0;
    let rotate = format!("transform=\"rotate(-90 16 {ym:.1})\" {mid}");
    text(out, (16.0, ym), &rotate, y_label);
}

fn kind_color(kind: &str) -> &'static str {
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

/// How a legend item is drawn.
enum Mark {
    /// A line with this `stroke-dasharray` ("" for solid).
    Line(&'static str),
    /// A square with this fill opacity.
    Square(&'static str),
    Triangle,
}

/// One row of legend items (label, colour, mark), `y` below the top of the SVG.
fn legend(out: &mut String, y: f64, items: &[(&str, &str, Mark)]) {
    let mut x = LEFT;
    for (label, color, mark) in items {
        match mark {
            Mark::Line(dash) => {
                let attrs =
                    format!("stroke=\"{color}\" stroke-width=\"2\" stroke-dasharray=\"{dash}\"");
                line(out, (x, y), (x + 18.0, y), &attrs);
            }
            Mark::Square(o) => {
                let attrs = format!("fill=\"{color}\" fill-opacity=\"{o}\"");
                rect(out, (x + 4.0, y - 5.0), (10.0, 10.0), &attrs, label);
            }
            Mark::Triangle => triangle(out, (x + 9.0, y + 4.0), label),
        }
        text(out, (x + 22.0, y + 4.0), "", &escape(label));
        x += 36.0 + 6.0 * label.chars().count() as f64;
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

/// Draws one per-second series as lines through the middle of each second, broken
/// where seconds are missing (a lone second becomes a dot). Values above the axis are
/// drawn at its top and marked with a triangle; returns how many were.
fn series(out: &mut String, f: &Frame, tl: &[(u64, f64)], color: &str, attrs: &str) -> usize {
    let mut clipped = 0;
    for run in tl.chunk_by(|a, b| a.0.checked_add(1) == Some(b.0)) {
        let mut pts = String::new();
        for &(t, v) in run {
            let (x, y) = (f.x(t as f64 + 0.5), f.y(v));
            let _ = write!(pts, "{x:.1},{y:.1} ");
            if v > f.y_max {
                clipped += 1;
                triangle(out, (x, TOP + 8.0), &format!("{} at {t} s", num(v, 1)));
            }
        }
        if let [(t, v)] = run {
            let (x, y) = (f.x(*t as f64 + 0.5), f.y(*v));
            let _ = write!(out, "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"2.5\" ");
            let _ = write!(out, "fill=\"{color}\"/>");
        } else {
            let _ = write!(out, "<polyline fill=\"none\" stroke=\"{color}\" {attrs} ");
            let _ = write!(out, "points=\"{pts}\"/>");
        }
    }
    clipped
}

/// The per-second values of one field, in time order, keeping only finite values ≥ 0.
fn per_second(r: &Results, get: impl Fn(&Second) -> Option<f64>) -> Vec<(u64, f64)> {
    let v = r.timeline.iter().filter_map(|s| Some((s.t_s, get(s)?)));
    let mut v: Vec<_> = v.filter(|&(_, v)| v.is_finite() && v >= 0.0).collect();
    v.sort_by_key(|&(t, _)| t);
    v
}

/// Plot 1: operations completed per second by outcome, and degraded feeds.
fn throughput_plot(r: &Results, span: f64) -> String {
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
    let mut out = f.open(r, "operations / s", Some(step));
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
    f.close(&mut out, r, &items, caption);
    out
}

/// Plot 2: p50 and p99 latency per second, the y axis clipped above outliers.
fn latency_plot(r: &Results, span: f64) -> String {
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
    let mut out = f.open(r, "latency (ms)", Some(step));
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
    f.close(&mut out, r, &items, &caption);
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
fn windows_plot(r: &Results, span: f64) -> String {
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
    let mut out = f.open(r, "listeners", None);
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
    f.close(&mut out, r, &items, &caption);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small valid run: 20 seconds, one kill fault, two listeners with windows.
    fn sample() -> Results {
        let timeline = (0..20)
            .map(|t| Second {
                t_s: t,
                ok: 50 - if (5..9).contains(&t) { 30 } else { 0 },
                fail: u64::from(t == 6),
                info: if (5..8).contains(&t) { 4 } else { 0 },
                degraded: if (5..9).contains(&t) { 10 } else { 0 },
                p50_ms: 4.0 + t as f64 * 0.1,
                p99_ms: if t == 6 { 5000.0 } else { 20.0 },
            })
            .collect();
        let windows = |name: &str, ws: &[(f64, f64)]| ListenerWindows {
            listener: name.to_string(),
            windows: ws
                .iter()
                .map(|&(start_s, end_s)| Window { start_s, end_s })
                .collect(),
        };
        Results {
            valid: Verdict::Valid,
            setup: RunSetup {
                seed: 42,
                nodes: 3,
                listeners: 2,
                fsync: "always".into(),
                netns: true,
                fault_kinds: vec!["kill".into()],
                fault_secs: 15.0,
                quiet_secs: 5.0,
                started_at: "2025-01-01T00:00:00Z".into(),
                command: "spoofify chaos --seed 42 --nodes 3".into(),
            },
            duration_s: 31.5,
            checks: vec![Check {
                name: "lost".into(),
                valid: Verdict::Valid,
                violations: 0,
                examined: 900,
                rule: "every acknowledged write is in the final state".into(),
                examples: vec![],
            }],
            availability: Availability {
                feeds: 400,
                feeds_normal: 380,
                windows: 3,
                listeners_affected: 2,
                p50_s: 1.5,
                p99_s: 3.25,
                max_s: 3.3,
                never_served_again: 0,
                per_listener: vec![
                    windows("alice", &[(5.0, 6.5), (7.0, 10.3)]),
                    windows("bob", &[(5.5, 7.0)]),
                ],
            },
            faults: vec![FaultOutcome {
                kind: "kill".into(),
                target: "n2".into(),
                start_s: 5.0,
                end_s: 9.0,
                detected_after_s: Some(1.2),
                recovered_after_s: None,
                affected_listeners: 2,
            }],
            ops: vec![OpCount {
                op: "feed".into(),
                invoked: 400,
                ok: 390,
                fail: 2,
                info: 8,
                p50_ms: 4.5,
                p99_ms: 35.25,
            }],
            timeline,
            notes: vec!["everysec may lose the last second of writes".into()],
        }
    }

    #[test]
    fn valid_run_has_green_banner_and_three_plots() {
        let page = render(&sample());
        assert!(page.contains("<div class=\"banner valid\">VALID</div>"));
        assert!(page.contains("Every checker passed"));
        assert_eq!(page.matches("<svg").count(), 3);
        assert!(page.contains("<pre><code>spoofify chaos --seed 42 --nodes 3</code></pre>"));
        // The fault's recovered_after_s is None: a dash right after its detection time.
        assert!(page.contains("<td class=\"n\">1.20</td><td class=\"n\">—</td>"));
        assert!(page.contains("380 (95.00%)"));
        assert!(page.contains("<li>everysec may lose the last second of writes</li>"));
    }

    #[test]
    fn no_windows_gives_a_sentence_instead_of_the_third_plot() {
        let mut r = sample();
        r.availability.per_listener.clear();
        let page = render(&r);
        assert_eq!(page.matches("<svg").count(), 2);
        assert!(page.contains("No listener had an unserved window"));
    }

    #[test]
    fn invalid_run_shows_the_failing_check_and_its_examples() {
        let mut r = sample();
        r.valid = Verdict::Invalid;
        r.checks.push(Check {
            name: "writers".into(),
            valid: Verdict::Invalid,
            violations: 2,
            examined: 17,
            rule: "one writer per client id".into(),
            examples: vec![
                "client c-7 written by n1 and n3".into(),
                "client c-9 twice".into(),
            ],
        });
        let page = render(&r);
        assert!(page.contains("<div class=\"banner invalid\">INVALID</div>"));
        assert!(page.contains("1 checker(s) found violations: writers."));
        assert!(page.contains("<td class=\"invalid\">INVALID</td>"));
        assert!(page.contains("<li>client c-7 written by n1 and n3</li>"));
        assert!(page.contains("<li>client c-9 twice</li>"));
    }

    #[test]
    fn unknown_run_names_the_unfinished_checker() {
        let mut r = sample();
        r.valid = Verdict::Unknown;
        r.checks[0].valid = Verdict::Unknown;
        let page = render(&r);
        assert!(page.contains("<div class=\"banner unknown\">UNKNOWN</div>"));
        assert!(page.contains("could not finish: lost."));
    }

    #[test]
    fn fault_period_is_a_shaded_labelled_band_in_every_plot() {
        let page = render(&sample());
        // The span is 20 s, so 5..9 s maps to x = 90 + 0.25 * 790 and width 0.2 * 790.
        let band = "<rect x=\"287.5\" y=\"46.0\" width=\"158.0\"";
        assert_eq!(page.matches(band).count(), 3);
        let shade = "class=\"fault\" fill=\"#d62728\" fill-opacity=\"0.16\">";
        assert_eq!(page.matches(shade).count(), 3);
        assert_eq!(page.matches("<title>kill n2: 5.0–9.0 s</title>").count(), 3);
        assert!(page.contains(">kill n2</text>"));
    }

    #[test]
    fn latency_outlier_is_clipped_and_marked() {
        let page = render(&sample());
        assert!(page.contains("5000.0 at 6 s"));
        assert!(page.contains("1 point(s) above it"));
    }

    #[test]
    fn text_from_results_is_escaped() {
        let mut r = sample();
        r.notes.push("<script>alert('x')</script> & more".into());
        r.availability.per_listener[0].listener = "<b>eve</b>".into();
        r.faults[0].target = "\"n2\"".into();
        let page = render(&r);
        assert!(!page.contains("<script>"));
        assert!(!page.contains("<b>eve</b>"));
        assert!(page.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; more"));
        assert!(page.contains("kill &quot;n2&quot;"));
    }

    fn assert_no_bad_numbers(page: &str) {
        for bad in ["NaN", "inf<", "inf\"", "inf,", "inf "] {
            assert!(!page.contains(bad), "{bad} in page");
        }
    }

    #[test]
    fn empty_and_odd_inputs_do_not_panic() {
        let mut r = sample();
        r.timeline.clear();
        r.faults.clear();
        r.checks.clear();
        r.ops.clear();
        r.notes.clear();
        r.setup.fault_secs = f64::NAN;
        r.setup.quiet_secs = f64::INFINITY;
        r.duration_s = f64::NAN;
        r.availability = Availability {
            feeds: 0,
            feeds_normal: 0,
            windows: 0,
            listeners_affected: 0,
            p50_s: f64::NAN,
            p99_s: f64::INFINITY,
            max_s: f64::NEG_INFINITY,
            never_served_again: 0,
            per_listener: vec![ListenerWindows {
                listener: "x".into(),
                windows: vec![Window {
                    start_s: f64::NAN,
                    end_s: 1.0,
                }],
            }],
        };
        let page = render(&r);
        assert!(page.contains("no timeline recorded"));
        assert!(page.contains("No faults were injected"));
        assert_no_bad_numbers(&page);

        // One second, all zeros, NaN latencies, a fault that never healed.
        r.timeline = vec![Second {
            t_s: 0,
            p50_ms: f64::NAN,
            p99_ms: f64::INFINITY,
            ..Second::default()
        }];
        r.faults.push(FaultOutcome {
            kind: "pause".into(),
            target: "n1".into(),
            start_s: 0.0,
            end_s: f64::NAN,
            detected_after_s: Some(f64::NAN),
            recovered_after_s: None,
            affected_listeners: 0,
        });
        let page = render(&r);
        assert_no_bad_numbers(&page);
        r.timeline[0].ok = 3;
        let page = render(&r);
        assert_no_bad_numbers(&page);
        assert_eq!(page.matches("<svg").count(), 2);
    }

    #[test]
    fn listener_rows_are_capped_at_the_longest() {
        let mut r = sample();
        r.availability.per_listener = (0..200)
            .map(|i| ListenerWindows {
                listener: format!("l{i:03}"),
                windows: vec![Window {
                    start_s: 1.0,
                    end_s: 1.0 + f64::from(i) * 0.05,
                }],
            })
            .collect();
        let page = render(&r);
        assert!(page.contains("Showing 150 of 200 listeners"));
        assert!(page.contains("l199: "));
        assert!(!page.contains("l049: "));
    }
}
