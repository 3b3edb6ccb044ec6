//! The verdict and headline figures of a run, as printed on the terminal.

use super::results::{Results, Verdict};

/// The verdict and headline figures, for the terminal.
pub fn summary(r: &Results) -> String {
    let mut s = format!(
        "verdict: {} ({} nodes, {} listeners, seed {}, fsync {}, {:.0} s)\n",
        match r.valid {
            Verdict::Valid => "VALID",
            Verdict::Invalid => "INVALID",
            Verdict::Unknown => "UNKNOWN",
        },
        r.setup.nodes,
        r.setup.listeners,
        r.setup.seed,
        r.setup.fsync,
        r.duration_s
    );
    for c in &r.checks {
        s.push_str(&format!(
            "  {:<13} {:<8} {} violations / {} examined\n",
            c.name,
            c.valid.as_str(),
            c.violations,
            c.examined
        ));
        for e in c.examples.iter().take(3) {
            s.push_str(&format!("      {e}\n"));
        }
    }
    let a = &r.availability;
    s.push_str(&format!(
        "  unserved windows: {} over {} listeners; p50 {:.2} s, p99 {:.2} s, max {:.2} s; feeds normal {}/{}\n",
        a.windows, a.listeners_affected, a.p50_s, a.p99_s, a.max_s, a.feeds_normal, a.feeds
    ));
    for f in &r.faults {
        let opt = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.2} s"));
        s.push_str(&format!(
            "  fault {:<16} {:<6} at {:>6.1} s for {:>4.1} s: detected after {}, recovered after {}, {} listeners affected\n",
            f.kind,
            f.target,
            f.start_s,
            f.end_s - f.start_s,
            opt(f.detected_after_s),
            opt(f.recovered_after_s),
            f.affected_listeners
        ));
    }
    for o in &r.ops {
        s.push_str(&format!(
            "  op {:<9} {} invoked, {} ok, {} fail, {} info; p50 {:.0} ms, p99 {:.0} ms\n",
            o.op, o.invoked, o.ok, o.fail, o.info, o.p50_ms, o.p99_ms
        ));
    }
    for n in &r.notes {
        s.push_str(&format!("  note: {n}\n"));
    }
    s
}
