//! A small SVG kit for the plots the tools write (the chaos report, the eval curves):
//! a frame mapping data to a plot area with margins shared by every plot (so stacked
//! plots' x axes line up), axes with "nice" ticks, lines, bars, markers and legends.
//! Output is SVG text for a self-contained HTML page or `.svg` file: no fonts, no
//! JavaScript, readable offline.

use std::fmt::Write;

/// SVG viewBox width; CSS scales the plots to the page width.
pub const W: f64 = 900.0;
/// Margins around a plot's data area; all plots share them so their time axes line up.
pub const LEFT: f64 = 90.0;
pub const RIGHT: f64 = 20.0;
pub const TOP: f64 = 46.0;
pub const BOTTOM: f64 = 76.0;
pub const RED: &str = "#d62728";

/// Escapes text for XML and HTML content and attribute values.
pub fn escape(s: &str) -> String {
    quick_xml::escape::escape(s).into_owned()
}

/// A float with `d` decimals, or "—" when it is NaN or infinite.
pub fn num(v: f64, d: usize) -> String {
    let s = v.is_finite().then(|| format!("{v:.d$}"));
    s.unwrap_or_else(|| "—".to_string())
}

/// `v` when it is finite, else `or`.
pub fn finite_or(v: f64, or: f64) -> f64 {
    Some(v).filter(|v| v.is_finite()).unwrap_or(or)
}

/// `v` when it is finite and above zero, else 1 (a safe divisor for scales).
pub fn positive(v: f64) -> f64 {
    Some(v).filter(|v| v.is_finite() && *v > 0.0).unwrap_or(1.0)
}

/// A "nice" tick step (1, 2 or 5 × 10^k) giving about `ticks` ticks up to `max`.
pub fn nice_step(max: f64, ticks: f64) -> f64 {
    let raw = positive(max) / ticks;
    let mag = 10f64.powf(raw.log10().floor());
    let f = [1.0, 2.0, 5.0].into_iter().find(|&f| raw / mag <= f);
    f.unwrap_or(10.0) * mag
}

/// A tick label with as many decimals (0–2) as the step needs.
pub fn tick_label(v: f64, step: f64) -> String {
    num(v, (-step.log10().floor()).clamp(0.0, 2.0) as usize)
}

/// Maps data to the SVG coordinates of one plot's data area.
pub struct Frame {
    pub height: f64,
    pub x_max: f64,
    pub y_max: f64,
}

impl Frame {
    pub fn new(height: f64, x_max: f64, y_max: f64) -> Frame {
        let (x_max, y_max) = (positive(x_max), positive(y_max));
        Frame {
            height,
            x_max,
            y_max,
        }
    }
    pub fn x(&self, t: f64) -> f64 {
        LEFT + finite_or(t / self.x_max, 0.0).clamp(0.0, 1.0) * (W - LEFT - RIGHT)
    }
    pub fn y(&self, v: f64) -> f64 {
        self.bottom() - finite_or(v / self.y_max, 0.0).clamp(0.0, 1.0) * self.height
    }
    pub fn bottom(&self) -> f64 {
        TOP + self.height
    }
    /// A centred message inside an empty data area.
    pub fn note(&self, out: &mut String, msg: &str) {
        let centre = (W / 2.0, TOP + self.height / 2.0);
        text(out, centre, "text-anchor=\"middle\"", msg);
    }
}

/// `<text>` at (x, y) with extra attributes; `body` is already HTML.
pub fn text(out: &mut String, (x, y): (f64, f64), attrs: &str, body: &str) {
    let _ = write!(out, "<text x=\"{x:.1}\" y=\"{y:.1}\" {attrs}>{body}</text>");
}

pub fn line(out: &mut String, (x1, y1): (f64, f64), (x2, y2): (f64, f64), attrs: &str) {
    let (a, b, c, d) = (x1, y1, x2, y2);
    let _ = write!(
        out,
        "<line x1=\"{a:.1}\" y1=\"{b:.1}\" x2=\"{c:.1}\" y2=\"{d:.1}\" {attrs}/>"
    );
}

/// `<rect>` with extra attributes and a hover title (already HTML; none when empty).
pub fn rect(out: &mut String, (x, y): (f64, f64), (w, h): (f64, f64), attrs: &str, title: &str) {
    let _ = write!(out, "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" ");
    let _ = write!(out, "height=\"{h:.1}\" {attrs}>");
    if !title.is_empty() {
        let _ = write!(out, "<title>{title}</title>");
    }
    out.push_str("</rect>");
}

/// An upward triangle with its base centred on (x, y), marking a clipped value.
pub fn triangle(out: &mut String, (x, y): (f64, f64), title: &str) {
    let (l, r, top) = (x - 4.0, x + 4.0, y - 7.0);
    let d = format!("M{l:.1} {y:.1}L{r:.1} {y:.1}L{x:.1} {top:.1}Z");
    let _ = write!(
        out,
        "<path d=\"{d}\" fill=\"{RED}\"><title>{title}</title></path>"
    );
}

/// Frame, grid, ticks and axis labels; y ticks only when `y_step` is given.
pub fn axes(out: &mut String, f: &Frame, x_label: &str, y_label: &str, y_step: Option<f64>) {
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
    text(out, label, mid, x_label);
    let ym = (y0 + y1) / 2.0;
    let rotate = format!("transform=\"rotate(-90 16 {ym:.1})\" {mid}");
    text(out, (16.0, ym), &rotate, y_label);
}

/// How a legend item is drawn.
pub enum Mark {
    /// A line with this `stroke-dasharray` ("" for solid).
    Line(&'static str),
    /// A square with this fill opacity.
    Square(&'static str),
    Triangle,
}

/// One row of legend items (label, colour, mark), `y` below the top of the SVG.
pub fn legend(out: &mut String, y: f64, items: &[(&str, &str, Mark)]) {
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

/// Draws one per-second series as lines through the middle of each second, broken
/// where seconds are missing (a lone second becomes a dot). Values above the axis are
/// drawn at its top and marked with a triangle; returns how many were.
pub fn series(out: &mut String, f: &Frame, tl: &[(u64, f64)], color: &str, attrs: &str) -> usize {
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
