//! Renders one chaos run's [`Results`] into `report.html`: a single self-contained page
//! (inline CSS and SVG, no JavaScript, no external assets, readable offline) showing, top
//! to bottom, the verdict, the setup, every checker, availability, three plots on a
//! shared time axis (throughput, latency, unserved windows per listener), the faults, the
//! operations, the notes and a short guide to reading it.
//!
//! The HTML is written here; the plots are in [`plots`], drawn with the tools' small
//! SVG kit (`crate::svg`).

use std::fmt::{Display, Write};

use super::results::*;
use crate::svg::{escape, num};

mod plots;

use plots::{kind_color, latency_plot, mark_color, throughput_plot, time_span, windows_plot};

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
    redis_section(&mut out, &r.redis_marks);
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

/// A right-aligned numeric table cell (see [`table`]).
fn n(v: impl Display) -> String {
    format!("#{v}")
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

/// The Redis Cluster's events, numbered as the plots' marks (`R1`, `R2`, …; `R0` is the
/// masters at the start). Nothing on one Redis.
fn redis_section(out: &mut String, marks: &[RedisMark]) {
    if marks.is_empty() {
        return;
    }
    let rows: Vec<Vec<String>> = marks
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let color = mark_color(&m.what);
            vec![
                format!("<span style=\"color:{color}\">R{i}</span>"),
                n(num(m.t_s, 1)),
                escape(&m.what),
            ]
        })
        .collect();
    table(
        out,
        "Redis Cluster events",
        "",
        &["mark", "at (s)", "what happened"],
        &rows,
    );
    out.push_str(
        "<p>Dashed lines in the plots: red a master killed, cut off or failed; green a \
         replica promoted; blue a node back, rejoined or a partition healed; grey \
         anything else the harness did. Read from <code>CLUSTER NODES</code> every 250 ms \
         (on a node not cut off), so a change is marked up to ~0.3 s after it happened.</p>\n",
    );
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
            redis_marks: vec![],
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
        assert!(page.contains("&lt;script&gt;alert(&apos;x&apos;)&lt;/script&gt; &amp; more"));
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

    #[test]
    fn redis_cluster_events_are_marked_on_every_plot_and_listed() {
        let mut r = sample();
        assert!(!render(&r).contains("Redis Cluster events"));
        r.redis_marks = vec![
            RedisMark {
                t_s: 0.5,
                what: "masters :7000 :7001 :7002".into(),
            },
            RedisMark {
                t_s: 6.0,
                what: "master :7000 killed".into(),
            },
            RedisMark {
                t_s: 8.3,
                what: "replica :7003 promoted to master (was replica of :7000)".into(),
            },
        ];
        let page = render(&r);
        assert!(page.contains("Redis Cluster events"));
        // Two marks (the first is the starting layout) on each of the three plots.
        assert_eq!(page.matches("class=\"redis-mark\"").count(), 6);
        assert!(page.contains("R2 at 8.3 s: replica :7003 promoted"));
        assert!(page.contains("#2f855a"));
    }
}
