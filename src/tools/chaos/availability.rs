//! Liveness from the history: when each listener went without a normal feed, how
//! each fault was noticed and recovered from, and the per-second figures the plots
//! show. Pure functions over the history, like the safety checkers.

use std::collections::BTreeMap;

use super::history::{Event, Op, Phase};
use super::results::{Availability, FaultOutcome, ListenerWindows, OpCount, Second, Window};

/// A window that starts this long after a fault was healed still counts against it
/// (the cluster may take a beat to settle after healing).
const AFTER_HEAL_GRACE_S: f64 = 1.0;

fn secs(ms: u64) -> f64 {
    ms as f64 / 1000.0
}

/// The value at quantile `q` (0..=1) of sorted `v` (nearest rank); 0 when empty.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Unserved windows per listener: from the invoke of the first feed request not
/// answered normally (failed, unknown, or degraded) to the completion of the next
/// normal one. A window still open at `end_ms` ends there and counts as never served again.
pub fn availability(history: &[Event], end_ms: u64) -> Availability {
    let mut feeds = 0;
    let mut feeds_normal = 0;
    // listener → (open window start, windows)
    let mut per: BTreeMap<&str, (Option<u64>, Vec<Window>)> = BTreeMap::new();
    for e in history.iter().filter(|e| e.op == Op::Feed) {
        if e.phase == Phase::Invoke {
            continue;
        }
        let Some(l) = e.listener.as_deref() else {
            continue;
        };
        feeds += 1;
        let normal = e.phase == Phase::Ok && e.degraded != Some(true);
        let invoked = e.t_ms.saturating_sub(e.latency_ms.unwrap_or(0));
        let (open, windows) = per.entry(l).or_default();
        if normal {
            feeds_normal += 1;
            if let Some(start) = open.take() {
                windows.push(Window {
                    start_s: secs(start),
                    end_s: secs(e.t_ms),
                });
            }
        } else if open.is_none() {
            *open = Some(invoked);
        }
    }
    let mut never_served_again = 0;
    let mut per_listener = Vec::new();
    let mut lengths = Vec::new();
    for (l, (open, mut windows)) in per {
        if let Some(start) = open {
            never_served_again += 1;
            windows.push(Window {
                start_s: secs(start),
                end_s: secs(end_ms.max(start)),
            });
        }
        if windows.is_empty() {
            continue;
        }
        lengths.extend(windows.iter().map(Window::secs));
        per_listener.push(ListenerWindows {
            listener: l.to_owned(),
            windows,
        });
    }
    lengths.sort_by(f64::total_cmp);
    Availability {
        feeds,
        feeds_normal,
        windows: lengths.len() as u64,
        listeners_affected: per_listener.len() as u64,
        p50_s: quantile(&lengths, 0.5),
        p99_s: quantile(&lengths, 0.99),
        max_s: lengths.last().copied().unwrap_or(0.0),
        never_served_again,
        per_listener,
    }
}

/// Each fault (paired with its heal by `seq`): detection, recovery, listeners affected.
pub fn faults(history: &[Event], avail: &Availability, end_ms: u64) -> Vec<FaultOutcome> {
    let mut out = Vec::new();
    for f in history
        .iter()
        .filter(|e| e.op == Op::Fault && e.phase == Phase::Ok)
    {
        let kind = f.detail.clone().unwrap_or_default();
        let target = f.node.clone().unwrap_or_default();
        let healed_ms = history
            .iter()
            .find(|h| h.op == Op::Heal && h.phase == Phase::Ok && h.seq == f.seq)
            .map_or(end_ms, |h| h.t_ms);
        let (start, end) = (secs(f.t_ms), secs(healed_ms));
        let detected = detection(history, f.t_ms, healed_ms, &target).map(|t| secs(t) - start);
        let mut affected = 0;
        let mut last_end: Option<f64> = Some(start);
        for l in &avail.per_listener {
            let hit: Vec<&Window> = l
                .windows
                .iter()
                .filter(|w| w.start_s >= start && w.start_s <= end + AFTER_HEAL_GRACE_S)
                .collect();
            if hit.is_empty() {
                continue;
            }
            affected += 1;
            for w in hit {
                if w.end_s >= secs(end_ms) {
                    last_end = None; // never closed
                }
                last_end = last_end.map(|e| e.max(w.end_s));
            }
        }
        out.push(FaultOutcome {
            kind,
            target,
            start_s: start,
            end_s: end,
            detected_after_s: detected,
            recovered_after_s: if affected == 0 {
                None
            } else {
                last_end.map(|e| e - start)
            },
            affected_listeners: affected,
        });
    }
    out
}

/// When the fault was first noticed: the target leaving the live set (heartbeats in
/// the store), as a survivor's `/api/cluster` reported it; failing that (Redis faults,
/// partitions that leave heartbeats flowing, lossy links), the first client operation
/// during the fault that was not answered normally.
fn detection(history: &[Event], start_ms: u64, healed_ms: u64, target: &str) -> Option<u64> {
    let membership = (target != "redis")
        .then(|| {
            history.iter().find(|e| {
                e.t_ms >= start_ms
                    && e.op == Op::Membership
                    && e.node.as_deref() != Some(target)
                    && !e
                        .detail
                        .as_deref()
                        .unwrap_or("")
                        .split(',')
                        .any(|n| n == target)
            })
        })
        .flatten()
        .filter(|e| e.t_ms <= healed_ms);
    membership
        .or_else(|| {
            history.iter().find(|e| {
                e.t_ms >= start_ms
                    && e.t_ms <= healed_ms
                    && e.op.is_client()
                    && (matches!(e.phase, Phase::Fail | Phase::Info) || e.degraded == Some(true))
            })
        })
        .map(|e| e.t_ms)
}

/// Counts and latency per client operation.
pub fn op_counts(history: &[Event]) -> Vec<OpCount> {
    let mut by: BTreeMap<&'static str, (OpCount, Vec<f64>)> = BTreeMap::new();
    for e in history.iter().filter(|e| e.op.is_client()) {
        let (c, lat) = by.entry(e.op.as_str()).or_insert_with(|| {
            (
                OpCount {
                    op: e.op.as_str().into(),
                    ..Default::default()
                },
                Vec::new(),
            )
        });
        match e.phase {
            Phase::Invoke => c.invoked += 1,
            Phase::Ok => c.ok += 1,
            Phase::Fail => c.fail += 1,
            Phase::Info => c.info += 1,
        }
        if let (Phase::Ok, Some(ms)) = (e.phase, e.latency_ms) {
            lat.push(ms as f64);
        }
    }
    by.into_values()
        .map(|(mut c, mut lat)| {
            lat.sort_by(f64::total_cmp);
            c.p50_ms = quantile(&lat, 0.5);
            c.p99_ms = quantile(&lat, 0.99);
            c
        })
        .collect()
}

/// Client completions per second of the run.
pub fn timeline(history: &[Event], end_ms: u64) -> Vec<Second> {
    let n = (end_ms / 1000 + 1) as usize;
    let mut secs_: Vec<(Second, Vec<f64>)> = (0..n)
        .map(|t| {
            (
                Second {
                    t_s: t as u64,
                    ..Default::default()
                },
                Vec::new(),
            )
        })
        .collect();
    for e in history
        .iter()
        .filter(|e| e.op.is_client() && e.phase != Phase::Invoke)
    {
        let Some((s, lat)) = secs_.get_mut((e.t_ms / 1000) as usize) else {
            continue;
        };
        match e.phase {
            Phase::Ok => s.ok += 1,
            Phase::Fail => s.fail += 1,
            _ => s.info += 1,
        }
        if e.phase == Phase::Ok && e.degraded == Some(true) {
            s.degraded += 1;
        }
        if let Some(ms) = e.latency_ms {
            lat.push(ms as f64);
        }
    }
    secs_
        .into_iter()
        .map(|(mut s, mut lat)| {
            lat.sort_by(f64::total_cmp);
            s.p50_ms = quantile(&lat, 0.5);
            s.p99_ms = quantile(&lat, 0.99);
            s
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(t_ms: u64, l: &str, phase: Phase, degraded: bool, latency: u64) -> Event {
        let mut e = Event::new(t_ms, Op::Feed, phase);
        e.listener = Some(l.into());
        e.latency_ms = Some(latency);
        if phase == Phase::Ok {
            e.degraded = Some(degraded);
        }
        e
    }

    fn fault(t_ms: u64, op: Op, seq: u64, target: &str) -> Event {
        let mut e = Event::new(t_ms, op, Phase::Ok);
        e.seq = Some(seq);
        e.node = Some(target.into());
        e.detail = Some("kill".into());
        e
    }

    #[test]
    fn windows_run_from_the_first_bad_answer_to_the_next_normal_one() {
        let h = vec![
            feed(1000, "a", Phase::Ok, false, 10),
            fault(1500, Op::Fault, 1, "n2"),
            feed(2000, "a", Phase::Info, false, 300), // invoked at 1.7 s
            feed(2500, "a", Phase::Ok, true, 10),
            feed(3200, "a", Phase::Ok, false, 20), // window 1.7 → 3.2
            feed(2100, "b", Phase::Ok, false, 10),
            fault(4000, Op::Heal, 1, "n2"),
            feed(5500, "b", Phase::Fail, false, 100), // never closed
        ];
        let a = availability(&h, 6000);
        assert_eq!((a.feeds, a.feeds_normal), (6, 3));
        assert_eq!(a.listeners_affected, 2);
        assert_eq!(a.never_served_again, 1);
        let wa = &a.per_listener[0];
        assert_eq!(wa.listener, "a");
        assert!((wa.windows[0].start_s - 1.7).abs() < 1e-9);
        assert!((wa.windows[0].end_s - 3.2).abs() < 1e-9);
        assert!((a.max_s - 1.5).abs() < 1e-9, "{}", a.max_s);

        let f = faults(&h, &a, 6000);
        assert_eq!(f.len(), 1);
        assert_eq!((f[0].start_s, f[0].end_s), (1.5, 4.0));
        // a's window began during the fault; b's began 1 s after healing: not counted.
        assert_eq!(f[0].affected_listeners, 1);
        assert!((f[0].recovered_after_s.unwrap() - 1.7).abs() < 1e-9);
        // No membership view: the first bad answer during the fault (2.0 s) detects it.
        assert!((f[0].detected_after_s.unwrap() - 0.5).abs() < 1e-9);
    }

    #[test]
    fn detection_is_the_first_survivor_view_without_the_target() {
        let seen = |t, obs: &str, live: &str| {
            let mut e = Event::new(t, Op::Membership, Phase::Ok);
            e.node = Some(obs.into());
            e.detail = Some(live.into());
            e
        };
        let h = vec![
            fault(1000, Op::Fault, 1, "n2"),
            seen(1100, "n1", "n1,n2,n3"),
            seen(2600, "n2", "n1,n3"), // the target's own view does not count
            seen(2700, "n3", "n1,n3"),
            fault(5000, Op::Heal, 1, "n2"),
        ];
        let a = availability(&h, 6000);
        let f = faults(&h, &a, 6000);
        assert!((f[0].detected_after_s.unwrap() - 1.7).abs() < 1e-9);
        assert_eq!(f[0].recovered_after_s, None);
    }

    #[test]
    fn quantiles_use_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&v, 0.5), 50.0);
        assert_eq!(quantile(&v, 0.99), 99.0);
        assert_eq!(quantile(&[], 0.5), 0.0);
        assert_eq!(quantile(&[3.0], 0.99), 3.0);
    }

    #[test]
    fn the_timeline_buckets_completions_by_second() {
        let h = vec![
            feed(100, "a", Phase::Ok, false, 10),
            feed(900, "a", Phase::Ok, true, 30),
            feed(1500, "a", Phase::Info, false, 1000),
        ];
        let t = timeline(&h, 2000);
        assert_eq!(t.len(), 3);
        assert_eq!((t[0].ok, t[0].degraded, t[1].info), (2, 1, 1));
        assert_eq!(t[0].p99_ms, 30.0);
        let ops = op_counts(&h);
        assert_eq!((ops[0].ok, ops[0].info), (2, 1));
    }
}
