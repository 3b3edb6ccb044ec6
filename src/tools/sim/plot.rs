//! The curves of `spoofify eval` as one self-contained SVG: a grid of small charts
//! (skip rate, liked share, distinct songs per 100, NDCG@10 — steady and drifting
//! listeners), one line per policy, the goal drawn as a dashed line where there is
//! one. Written by hand like the chaos report's plots: a few polylines do not need
//! a plotting crate (and its fonts) in the build.

use std::fmt::Write;

use crate::svg::escape;

use super::quality::{EvalReport, Group, Point};

/// One chart's size in SVG units, and the grid's columns.
const CHART_W: f64 = 440.0;
const CHART_H: f64 = 250.0;
const COLUMNS: usize = 2;
/// Margins inside a chart around its data area.
const LEFT: f64 = 48.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 28.0;
const BOTTOM: f64 = 34.0;
/// The product's line is drawn bold.
const PRODUCT: &str = "model+mix";
/// Line colours by policy position (the report's order).
const COLORS: [&str; 6] = [
    "#999999", "#bcbd22", "#1f77b4", "#ff7f0e", "#d62728", "#2ca02c",
];

/// One chart: a group, a measure, its y range and an optional goal line.
struct Chart {
    title: String,
    group: Group,
    value: fn(&Point) -> Option<f64>,
    y_max: f64,
    goal: Option<f64>,
}

/// Renders the report's curves. `skip_goal` is the catalog's skip-rate goal.
pub fn render(report: &EvalReport, title: &str, skip_goal: f64) -> String {
    let charts = [
        Chart {
            title: "steady listeners: skip rate".into(),
            group: Group::Steady,
            value: |p| p.skip_rate,
            y_max: 1.0,
            goal: Some(skip_goal),
        },
        Chart {
            title: "steady listeners: liked share".into(),
            group: Group::Steady,
            value: |p| p.liked_share,
            y_max: 1.0,
            goal: Some(0.6),
        },
        Chart {
            title: "steady listeners: distinct songs per 100".into(),
            group: Group::Steady,
            value: |p| p.distinct_per_100,
            y_max: 100.0,
            goal: Some(30.0),
        },
        Chart {
            title: "steady listeners: NDCG@10".into(),
            group: Group::Steady,
            value: |p| p.ndcg_at_10,
            y_max: 1.0,
            goal: None,
        },
        Chart {
            title: format!(
                "drifting listeners (change at {}): skip rate",
                report.drift_at
            ),
            group: Group::Drifting,
            value: |p| p.skip_rate,
            y_max: 1.0,
            goal: Some(0.25),
        },
        Chart {
            title: "drifting listeners: liked share".into(),
            group: Group::Drifting,
            value: |p| p.liked_share,
            y_max: 1.0,
            goal: None,
        },
    ];
    let rows = charts.len().div_ceil(COLUMNS);
    let legend_h = 30.0;
    let (w, h) = (
        CHART_W * COLUMNS as f64,
        30.0 + legend_h + CHART_H * rows as f64,
    );
    let mut out = String::new();
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" \
         font-family=\"sans-serif\" font-size=\"11\">\n\
         <rect width=\"{w}\" height=\"{h}\" fill=\"#fff\"/>\n\
         <text x=\"10\" y=\"20\" font-size=\"14\" font-weight=\"bold\">{}</text>\n",
        escape(title)
    );
    for (i, p) in report.policies.iter().enumerate() {
        let x = 10.0 + 140.0 * i as f64;
        let _ = writeln!(
            out,
            "<line x1=\"{x}\" y1=\"42\" x2=\"{}\" y2=\"42\" stroke=\"{}\" stroke-width=\"3\"/>\
             <text x=\"{}\" y=\"46\">{}</text>",
            x + 24.0,
            COLORS[i % COLORS.len()],
            x + 30.0,
            escape(&p.policy)
        );
    }
    for (c, chart) in charts.iter().enumerate() {
        let ox = CHART_W * (c % COLUMNS) as f64;
        let oy = 30.0 + legend_h + CHART_H * (c / COLUMNS) as f64;
        draw_chart(&mut out, report, chart, ox, oy);
    }
    out.push_str("</svg>\n");
    out
}

fn draw_chart(out: &mut String, report: &EvalReport, chart: &Chart, ox: f64, oy: f64) {
    let x_max = report.config.interactions.max(1) as f64;
    let (x0, x1) = (ox + LEFT, ox + CHART_W - RIGHT);
    let (y0, y1) = (oy + CHART_H - BOTTOM, oy + TOP);
    let sx = |x: f64| x0 + (x1 - x0) * x / x_max;
    let sy = |y: f64| y0 - (y0 - y1) * (y / chart.y_max).clamp(0.0, 1.0);
    let _ = writeln!(
        out,
        "<text x=\"{}\" y=\"{}\" font-weight=\"bold\">{}</text>",
        x0,
        oy + 16.0,
        escape(&chart.title)
    );
    let _ = writeln!(
        out,
        "<rect x=\"{x0}\" y=\"{y1}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#ccc\"/>",
        x1 - x0,
        y0 - y1
    );
    for t in 0..=4 {
        let v = chart.y_max * t as f64 / 4.0;
        let label = if chart.y_max > 1.0 {
            format!("{v:.0}")
        } else {
            format!("{:.0}%", v * 100.0)
        };
        let _ = writeln!(
            out,
            "<line x1=\"{x0}\" y1=\"{y}\" x2=\"{x1}\" y2=\"{y}\" stroke=\"#eee\"/>\
             <text x=\"{}\" y=\"{}\" text-anchor=\"end\">{label}</text>",
            x0 - 4.0,
            sy(v) + 4.0,
            y = sy(v)
        );
    }
    for &k in &report.checkpoints {
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{k}</text>",
            sx(k as f64),
            y0 + 14.0
        );
    }
    let _ = writeln!(
        out,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#555\">interactions</text>",
        (x0 + x1) / 2.0,
        y0 + 28.0
    );
    if let Some(g) = chart.goal {
        let _ = writeln!(
            out,
            "<line x1=\"{x0}\" y1=\"{y}\" x2=\"{x1}\" y2=\"{y}\" stroke=\"#000\" \
             stroke-dasharray=\"4 3\"><title>goal</title></line>",
            y = sy(g)
        );
    }
    for (i, p) in report.policies.iter().enumerate() {
        let Some(g) = p.group(chart.group) else {
            continue;
        };
        let pts: Vec<String> = g
            .points
            .iter()
            .filter_map(|pt| {
                (chart.value)(pt).map(|v| format!("{:.1},{:.1}", sx(pt.at as f64), sy(v)))
            })
            .collect();
        if pts.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"{}\" points=\"{}\">\
             <title>{}</title></polyline>",
            COLORS[i % COLORS.len()],
            if p.policy == PRODUCT { 3.0 } else { 1.5 },
            pts.join(" "),
            escape(&p.policy)
        );
    }
}
