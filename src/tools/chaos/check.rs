//! The safety checkers: given the history and the store's final state, did the
//! cluster keep its promises? Each checker is a pure function, so it is tested on
//! hand-made histories that contain exactly one violation (and must flag it).
//!
//! - `lost`: every acknowledged interaction is in its listener's log.
//! - `duplicated`: no client id is in a log twice (appends are idempotent).
//! - `phantom`: nothing is in a log that was never sent, or that the server
//!   certainly refused (a 4xx).
//! - `writers`: in each listener's writer journal, no actor wrote after a later
//!   epoch had been activated (fencing held: one writer at a time).
//! - `model-input`: after healing, each listener's actor has applied its whole log
//!   and its training input has the digest a rebuild from the log gives.
//! - `follows`: the last follow or unfollow a listener made of another, if it was
//!   acknowledged, is what the store holds at the end: an acknowledged follow is not
//!   lost, an acknowledged unfollow does not come back (issue 17).

use std::collections::{HashMap, HashSet};

use super::history::{Event, Op, Phase};
use super::results::{Check, Verdict};
use spoofify_service::store::{LoggedInteraction, WriterEvent, WriterStep};

/// Violations quoted per check, at most.
const MAX_EXAMPLES: usize = 20;

/// What the model of one listener reported at the end, from a normal feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelSeen {
    pub applied_seq: u64,
    /// 16 hex digits, as the feed reports it.
    pub training_digest: Option<String>,
}

/// One listener's state at the end of the run. `None` fields could not be read.
#[derive(Debug, Clone, Default)]
pub struct FinalListener {
    /// The harness's name for the listener (`l0007`), as in the history.
    pub name: String,
    pub log: Option<Vec<LoggedInteraction>>,
    pub journal: Option<Vec<WriterEvent>>,
    /// What the actor reported in its last normal feed after the quiet period.
    pub model: Option<ModelSeen>,
    /// The digest of the training input rebuilt from `log` (16 hex digits).
    pub expected_digest: Option<String>,
    /// Whom the listener follows at the end, by the harness's names.
    pub following: Option<Vec<String>>,
}

struct Tally {
    check: Check,
    unknown: bool,
}

impl Tally {
    fn new(name: &str, rule: &str) -> Self {
        Self {
            check: Check {
                name: name.into(),
                valid: Verdict::Valid,
                violations: 0,
                examined: 0,
                rule: rule.into(),
                examples: Vec::new(),
            },
            unknown: false,
        }
    }

    fn violation(&mut self, what: String) {
        self.check.violations += 1;
        if self.check.examples.len() < MAX_EXAMPLES {
            self.check.examples.push(what);
        }
    }

    fn unknown(&mut self, what: String) {
        self.unknown = true;
        let what = format!("unknown: {what}");
        if self.check.examples.len() < MAX_EXAMPLES && !self.check.examples.contains(&what) {
            self.check.examples.push(what);
        }
    }

    fn done(mut self) -> Check {
        self.check.valid = if self.check.violations > 0 {
            Verdict::Invalid
        } else if self.unknown {
            Verdict::Unknown
        } else {
            Verdict::Valid
        };
        self.check
    }
}

/// What the history says about each interaction, by (listener, client id).
#[derive(Debug, Default, Clone, Copy)]
struct Outcomes {
    invoked: bool,
    ok: bool,
    fail: bool,
    info: bool,
}

fn interaction_outcomes(history: &[Event]) -> HashMap<(String, String), Outcomes> {
    let mut out: HashMap<(String, String), Outcomes> = HashMap::new();
    for e in history.iter().filter(|e| e.op == Op::Interact) {
        let (Some(l), Some(c)) = (&e.listener, &e.client_id) else {
            continue;
        };
        let o = out.entry((l.clone(), c.clone())).or_default();
        match e.phase {
            Phase::Invoke => o.invoked = true,
            Phase::Ok => o.ok = true,
            Phase::Fail => o.fail = true,
            Phase::Info => o.info = true,
        }
    }
    out
}

/// Runs every safety checker.
pub fn check_all(history: &[Event], finals: &[FinalListener]) -> Vec<Check> {
    vec![
        lost(history, finals),
        duplicated(finals),
        phantom(history, finals),
        writers(finals),
        model_input(finals),
        follows(history, finals),
    ]
}

/// The last follow or unfollow each listener invoked on each other listener, and
/// whether it was acknowledged. A listener's requests go one at a time, so the last
/// invoked is the last that could take effect.
fn last_follow_ops(history: &[Event]) -> HashMap<(String, String), (Op, bool)> {
    let mut last: HashMap<(String, String), (Op, bool)> = HashMap::new();
    for e in history
        .iter()
        .filter(|e| matches!(e.op, Op::Follow | Op::Unfollow))
    {
        let (Some(l), Some(t)) = (&e.listener, &e.target) else {
            continue;
        };
        let key = (l.clone(), t.clone());
        match e.phase {
            Phase::Invoke => {
                last.insert(key, (e.op, false));
            }
            Phase::Ok => {
                if let Some(entry) = last.get_mut(&key).filter(|(op, _)| *op == e.op) {
                    entry.1 = true;
                }
            }
            Phase::Fail | Phase::Info => {}
        }
    }
    last
}

pub fn follows(history: &[Event], finals: &[FinalListener]) -> Check {
    let mut t = Tally::new(
        "follows",
        "an acknowledged follow is in the follower's list at the end, an acknowledged unfollow is not (the last of each pair)",
    );
    let following: HashMap<&str, Option<HashSet<&str>>> = finals
        .iter()
        .map(|f| {
            let set = f
                .following
                .as_ref()
                .map(|v| v.iter().map(String::as_str).collect::<HashSet<_>>());
            (f.name.as_str(), set)
        })
        .collect();
    let mut pairs: Vec<_> = last_follow_ops(history).into_iter().collect();
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    for ((l, target), (op, acked)) in pairs {
        if !acked {
            continue;
        }
        t.check.examined += 1;
        let Some(Some(set)) = following.get(l.as_str()) else {
            t.unknown(format!("{l}: whom it follows could not be read"));
            continue;
        };
        match (op, set.contains(target.as_str())) {
            (Op::Follow, false) => t.violation(format!("{l} → {target}: acknowledged follow lost")),
            (Op::Unfollow, true) => {
                t.violation(format!("{l} → {target}: acknowledged unfollow came back"))
            }
            _ => {}
        }
    }
    t.done()
}

pub fn lost(history: &[Event], finals: &[FinalListener]) -> Check {
    let mut t = Tally::new(
        "lost",
        "every acknowledged interaction (2xx) is in its listener's log",
    );
    let logs: HashMap<&str, Option<HashSet<&str>>> = finals
        .iter()
        .map(|f| {
            let ids = f.log.as_ref().map(|log| {
                log.iter()
                    .map(|e| e.interaction.id.as_str())
                    .collect::<HashSet<_>>()
            });
            (f.name.as_str(), ids)
        })
        .collect();
    let outcomes = interaction_outcomes(history);
    let mut acked: Vec<&(String, String)> = outcomes
        .iter()
        .filter(|(_, o)| o.ok)
        .map(|(k, _)| k)
        .collect();
    acked.sort();
    for (l, c) in acked {
        t.check.examined += 1;
        match logs.get(l.as_str()) {
            Some(Some(ids)) if ids.contains(c.as_str()) => {}
            Some(Some(_)) => {
                t.violation(format!("{l}: {c} was acknowledged but is not in the log"))
            }
            Some(None) | None => t.unknown(format!("{l}: the log could not be read")),
        }
    }
    t.done()
}

pub fn duplicated(finals: &[FinalListener]) -> Check {
    let mut t = Tally::new(
        "duplicated",
        "no client id appears twice in a log, and seqs run 1, 2, 3… without gaps",
    );
    for f in finals {
        let Some(log) = &f.log else {
            t.unknown(format!("{}: the log could not be read", f.name));
            continue;
        };
        let mut seen: HashMap<&str, u64> = HashMap::new();
        for (i, e) in log.iter().enumerate() {
            t.check.examined += 1;
            if let Some(first) = seen.insert(e.interaction.id.as_str(), e.seq) {
                t.violation(format!(
                    "{}: {} is in the log twice (seq {first} and {})",
                    f.name, e.interaction.id, e.seq
                ));
            }
            if e.seq != i as u64 + 1 {
                t.violation(format!(
                    "{}: entry {} has seq {} (a gap or a reordering)",
                    f.name,
                    i + 1,
                    e.seq
                ));
            }
        }
    }
    t.done()
}

pub fn phantom(history: &[Event], finals: &[FinalListener]) -> Check {
    let mut t = Tally::new(
        "phantom",
        "every log entry was sent by its listener, and none was certainly refused (4xx)",
    );
    let outcomes = interaction_outcomes(history);
    for f in finals {
        let Some(log) = &f.log else {
            continue; // `lost` and `duplicated` already say the log was unreadable
        };
        for e in log {
            t.check.examined += 1;
            let key = (f.name.clone(), e.interaction.id.to_string());
            match outcomes.get(&key) {
                None => t.violation(format!(
                    "{}: {} is in the log but was never sent",
                    f.name, e.interaction.id
                )),
                Some(o) if o.fail && !o.ok && !o.info => t.violation(format!(
                    "{}: {} was refused (4xx) yet is in the log",
                    f.name, e.interaction.id
                )),
                Some(_) => {}
            }
        }
    }
    t.done()
}

pub fn writers(finals: &[FinalListener]) -> Check {
    let mut t = Tally::new(
        "writers",
        "no actor wrote after a later epoch was activated (one writer per listener)",
    );
    for f in finals {
        let Some(journal) = &f.journal else {
            t.unknown(format!("{}: the writer journal could not be read", f.name));
            continue;
        };
        // The highest epoch activated so far, and when.
        let mut newest: Option<(u64, u64)> = None;
        for e in journal {
            t.check.examined += 1;
            match &e.step {
                WriterStep::Activated { .. } => {
                    if let Some((n, _)) = newest {
                        if e.epoch <= n {
                            t.violation(format!(
                                "{}: epoch {} activated after epoch {n} (epochs must increase)",
                                f.name, e.epoch
                            ));
                        }
                    }
                    if newest.is_none_or(|(n, _)| e.epoch > n) {
                        newest = Some((e.epoch, e.at_ms));
                    }
                }
                WriterStep::Wrote { covers_seq } => match newest {
                    Some((n, at)) if e.epoch < n => t.violation(format!(
                        "{}: epoch {} wrote a snapshot (covers seq {covers_seq}) {} ms after epoch {n} was activated",
                        f.name,
                        e.epoch,
                        e.at_ms.saturating_sub(at)
                    )),
                    Some((n, _)) if e.epoch > n => t.violation(format!(
                        "{}: epoch {} wrote but was never activated",
                        f.name, e.epoch
                    )),
                    None => t.violation(format!(
                        "{}: epoch {} wrote before any activation",
                        f.name, e.epoch
                    )),
                    Some(_) => {}
                },
                // A refused write is fencing doing its job.
                WriterStep::Fenced { .. } => {}
            }
        }
    }
    t.done()
}

pub fn model_input(finals: &[FinalListener]) -> Check {
    let mut t = Tally::new(
        "model-input",
        "after healing, each actor applied its whole log and its training input equals a rebuild from the log",
    );
    for f in finals {
        let (Some(log), Some(expected)) = (&f.log, &f.expected_digest) else {
            t.unknown(format!("{}: the log could not be read", f.name));
            continue;
        };
        let Some(model) = &f.model else {
            t.unknown(format!("{}: no normal feed after healing", f.name));
            continue;
        };
        t.check.examined += 1;
        let last = log.last().map_or(0, |e| e.seq);
        if model.applied_seq != last {
            t.violation(format!(
                "{}: the actor applied up to seq {} but the log ends at {last}",
                f.name, model.applied_seq
            ));
        } else {
            match &model.training_digest {
                Some(d) if d == expected => {}
                Some(d) => t.violation(format!(
                    "{}: training input digest {d}, the log rebuilds to {expected}",
                    f.name
                )),
                None => t.unknown(format!("{}: the owner did not report a digest", f.name)),
            }
        }
    }
    t.done()
}

#[cfg(test)]
mod tests {
    use super::*;
    use spoofify_service::catalog::SongId;
    use spoofify_service::store::{ClientId, Interaction, InteractionKind};

    fn ev(t_ms: u64, phase: Phase, l: &str, c: &str) -> Event {
        let mut e = Event::new(t_ms, Op::Interact, phase);
        e.listener = Some(l.into());
        e.client_id = Some(c.into());
        e
    }

    fn entry(seq: u64, c: &str) -> LoggedInteraction {
        LoggedInteraction {
            seq,
            interaction: Interaction {
                id: ClientId::parse(c).unwrap(),
                song_id: SongId::parse("demo-0001").unwrap(),
                kind: InteractionKind::Finished,
                position_ms: 1000,
                at_ms: 0,
            },
        }
    }

    fn listener(name: &str, log: Vec<LoggedInteraction>) -> FinalListener {
        FinalListener {
            name: name.into(),
            log: Some(log),
            journal: Some(vec![]),
            model: None,
            expected_digest: None,
            following: Some(vec![]),
        }
    }

    fn sent_and_acked(l: &str, ids: &[&str]) -> Vec<Event> {
        ids.iter()
            .enumerate()
            .flat_map(|(i, c)| {
                [
                    ev(i as u64 * 10, Phase::Invoke, l, c),
                    ev(i as u64 * 10 + 5, Phase::Ok, l, c),
                ]
            })
            .collect()
    }

    #[test]
    fn a_clean_history_passes_every_safety_check() {
        let h = sent_and_acked("l1", &["c-000001", "c-000002"]);
        let f = listener("l1", vec![entry(1, "c-000001"), entry(2, "c-000002")]);
        for c in [
            lost(&h, std::slice::from_ref(&f)),
            duplicated(std::slice::from_ref(&f)),
            phantom(&h, &[f]),
        ] {
            assert_eq!(c.valid, Verdict::Valid, "{c:?}");
            assert_eq!(c.violations, 0);
        }
    }

    #[test]
    fn a_lost_acknowledged_write_is_flagged() {
        let h = sent_and_acked("l1", &["c-000001", "c-000002", "c-000003"]);
        let f = listener("l1", vec![entry(1, "c-000001"), entry(2, "c-000003")]);
        let c = lost(&h, &[f]);
        assert_eq!(
            (c.valid, c.violations, c.examined),
            (Verdict::Invalid, 1, 3)
        );
        assert!(c.examples[0].contains("c-000002"), "{:?}", c.examples);
    }

    #[test]
    fn an_unknown_outcome_may_be_missing_but_an_unreadable_log_is_unknown() {
        let mut h = sent_and_acked("l1", &["c-000001"]);
        h.push(ev(50, Phase::Invoke, "l1", "c-000002"));
        h.push(ev(60, Phase::Info, "l1", "c-000002"));
        let f = listener("l1", vec![entry(1, "c-000001")]);
        assert_eq!(lost(&h, &[f]).valid, Verdict::Valid);
        let unreadable = FinalListener {
            log: None,
            ..listener("l1", vec![])
        };
        assert_eq!(lost(&h, &[unreadable]).valid, Verdict::Unknown);
    }

    #[test]
    fn a_duplicate_client_id_is_flagged() {
        let f = listener(
            "l1",
            vec![
                entry(1, "c-000001"),
                entry(2, "c-000002"),
                entry(3, "c-000001"),
            ],
        );
        let c = duplicated(&[f]);
        assert_eq!((c.valid, c.violations), (Verdict::Invalid, 1));
        assert!(c.examples[0].contains("seq 1 and 3"), "{:?}", c.examples);
    }

    #[test]
    fn a_refused_or_unsent_entry_is_a_phantom() {
        let mut h = sent_and_acked("l1", &["c-000001"]);
        h.push(ev(50, Phase::Invoke, "l1", "c-000002"));
        h.push(ev(60, Phase::Fail, "l1", "c-000002"));
        let f = listener(
            "l1",
            vec![
                entry(1, "c-000001"),
                entry(2, "c-000002"),
                entry(3, "c-000009"),
            ],
        );
        let c = phantom(&h, &[f]);
        assert_eq!((c.valid, c.violations), (Verdict::Invalid, 2));
    }

    fn step(at_ms: u64, epoch: u64, step: WriterStep) -> WriterEvent {
        WriterEvent { at_ms, epoch, step }
    }

    #[test]
    fn overlapping_writers_are_flagged() {
        let act = |n: &str| WriterStep::Activated { node: n.into() };
        let wrote = |s| WriterStep::Wrote { covers_seq: s };
        let fine = vec![
            step(1, 1, act("n1")),
            step(2, 1, wrote(3)),
            step(3, 2, act("n2")),
            step(4, 1, WriterStep::Fenced { current: 2 }),
            step(5, 2, wrote(6)),
        ];
        let ok = FinalListener {
            journal: Some(fine),
            ..listener("l1", vec![])
        };
        assert_eq!(writers(&[ok]).valid, Verdict::Valid);

        // n1 (epoch 1) was paused, n2 took over, and n1 still wrote afterwards.
        let overlap = vec![
            step(1, 1, act("n1")),
            step(3, 2, act("n2")),
            step(4, 2, wrote(5)),
            step(9, 1, wrote(4)),
        ];
        let bad = FinalListener {
            journal: Some(overlap),
            ..listener("l2", vec![])
        };
        let c = writers(&[bad]);
        assert_eq!((c.valid, c.violations), (Verdict::Invalid, 1));
        assert!(c.examples[0].contains("epoch 1 wrote"), "{:?}", c.examples);
    }

    #[test]
    fn a_model_behind_its_log_or_with_other_rows_is_flagged() {
        let log = vec![entry(1, "c-000001"), entry(2, "c-000002")];
        let seen = |applied_seq, d: &str| ModelSeen {
            applied_seq,
            training_digest: Some(d.into()),
        };
        let with = |model| FinalListener {
            model: Some(model),
            expected_digest: Some("00000000000000aa".into()),
            ..listener("l1", log.clone())
        };
        assert_eq!(
            model_input(&[with(seen(2, "00000000000000aa"))]).valid,
            Verdict::Valid
        );
        assert_eq!(
            model_input(&[with(seen(1, "00000000000000aa"))]).valid,
            Verdict::Invalid
        );
        assert_eq!(
            model_input(&[with(seen(2, "00000000000000bb"))]).valid,
            Verdict::Invalid
        );
        let unseen = FinalListener {
            model: None,
            ..with(seen(2, ""))
        };
        assert_eq!(model_input(&[unseen]).valid, Verdict::Unknown);
    }

    fn social(t_ms: u64, op: Op, phase: Phase, l: &str, target: &str) -> Event {
        let mut e = Event::new(t_ms, op, phase);
        e.listener = Some(l.into());
        e.target = Some(target.into());
        e
    }

    #[test]
    fn a_lost_follow_or_a_returning_unfollow_is_flagged() {
        let h = vec![
            social(1, Op::Follow, Phase::Invoke, "l1", "l2"),
            social(2, Op::Follow, Phase::Ok, "l1", "l2"),
            social(3, Op::Follow, Phase::Invoke, "l1", "l3"),
            social(4, Op::Follow, Phase::Ok, "l1", "l3"),
            social(5, Op::Unfollow, Phase::Invoke, "l1", "l3"),
            social(6, Op::Unfollow, Phase::Ok, "l1", "l3"),
            // Unknown outcome: either way is fine.
            social(7, Op::Follow, Phase::Invoke, "l1", "l4"),
            social(8, Op::Follow, Phase::Info, "l1", "l4"),
        ];
        let with = |following: &[&str]| FinalListener {
            following: Some(following.iter().map(|s| (*s).to_owned()).collect()),
            ..listener("l1", vec![])
        };
        let c = follows(&h, &[with(&["l2"])]);
        assert_eq!((c.valid, c.examined), (Verdict::Valid, 2));
        assert_eq!(follows(&h, &[with(&["l2", "l4"])]).valid, Verdict::Valid);
        let lost = follows(&h, &[with(&[])]);
        assert_eq!((lost.valid, lost.violations), (Verdict::Invalid, 1));
        assert!(lost.examples[0].contains("l1 → l2"), "{:?}", lost.examples);
        let back = follows(&h, &[with(&["l2", "l3"])]);
        assert_eq!((back.valid, back.violations), (Verdict::Invalid, 1));
        let unread = FinalListener {
            following: None,
            ..listener("l1", vec![])
        };
        assert_eq!(follows(&h, &[unread]).valid, Verdict::Unknown);
    }
}
