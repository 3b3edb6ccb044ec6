//! What one chaos run found: the verdict, every checker's outcome and every figure,
//! as written to `results.json` and rendered into `report.html`.

use serde::{Deserialize, Serialize};

/// The run's verdict: `true`, `false`, or `"unknown"` in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Every checker ran and passed.
    Valid,
    /// At least one checker found a violation.
    Invalid,
    /// No violation found, but a checker could not run to the end (e.g. the store
    /// was unreachable at the end), so nothing is claimed.
    Unknown,
}

impl Verdict {
    /// Combines checkers: any invalid → invalid; else any unknown → unknown.
    pub fn all(verdicts: impl IntoIterator<Item = Verdict>) -> Verdict {
        verdicts
            .into_iter()
            .fold(Verdict::Valid, |acc, v| match (acc, v) {
                (Verdict::Invalid, _) | (_, Verdict::Invalid) => Verdict::Invalid,
                (Verdict::Unknown, _) | (_, Verdict::Unknown) => Verdict::Unknown,
                _ => Verdict::Valid,
            })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Valid => "valid",
            Verdict::Invalid => "invalid",
            Verdict::Unknown => "unknown",
        }
    }
}

impl Serialize for Verdict {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Verdict::Valid => s.serialize_bool(true),
            Verdict::Invalid => s.serialize_bool(false),
            Verdict::Unknown => s.serialize_str("unknown"),
        }
    }
}

impl<'de> Deserialize<'de> for Verdict {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::Bool(true) => Ok(Verdict::Valid),
            serde_json::Value::Bool(false) => Ok(Verdict::Invalid),
            serde_json::Value::String(s) if s == "unknown" => Ok(Verdict::Unknown),
            other => Err(serde::de::Error::custom(format!(
                "valid must be true, false or \"unknown\", not {other}"
            ))),
        }
    }
}

/// One checker's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    /// `lost`, `duplicated`, `writers`, `model-input`, `phantom`.
    pub name: String,
    pub valid: Verdict,
    /// Violations found (0 when valid).
    pub violations: u64,
    /// What was examined (acknowledged writes, client ids, listeners…), for context.
    pub examined: u64,
    /// One line on what the checker asserts.
    pub rule: String,
    /// Up to 20 violations, each described in one line.
    pub examples: Vec<String>,
}

/// A window in which one listener got no normal feed: from the start of its first
/// request that was not answered normally to the end of the next normal answer.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Window {
    pub start_s: f64,
    pub end_s: f64,
}

impl Window {
    pub fn secs(&self) -> f64 {
        (self.end_s - self.start_s).max(0.0)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListenerWindows {
    pub listener: String,
    pub windows: Vec<Window>,
}

/// Unserved time over all listeners.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Availability {
    /// Feed requests made, and how many were answered normally.
    pub feeds: u64,
    pub feeds_normal: u64,
    pub windows: u64,
    pub listeners_affected: u64,
    /// Over windows: the length of one unserved stretch.
    pub p50_s: f64,
    pub p99_s: f64,
    pub max_s: f64,
    /// Listeners whose last window never closed before the run's end.
    pub never_served_again: u64,
    /// Every listener with at least one window (listener order).
    pub per_listener: Vec<ListenerWindows>,
}

/// One injected fault and how the cluster coped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultOutcome {
    /// `kill`, `pause`, `partition-peers`, `partition-redis`, `lossy`, `redis-restart`.
    pub kind: String,
    /// The node (or `redis`).
    pub target: String,
    pub start_s: f64,
    /// When the harness healed it (restart, SIGCONT, rules removed).
    pub end_s: f64,
    /// From the fault to the first sign the cluster noticed (the target leaving a
    /// survivor's live set; for Redis faults the first failed request). `None`: never seen.
    pub detected_after_s: Option<f64>,
    /// From the fault to the end of the last unserved window that began during it;
    /// `None` when no listener went unserved, or a window never closed.
    pub recovered_after_s: Option<f64>,
    /// Listeners with an unserved window that began during the fault (or up to 1 s after its healing).
    pub affected_listeners: u64,
}

/// Operations of one kind over the run.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct OpCount {
    pub op: String,
    pub invoked: u64,
    pub ok: u64,
    pub fail: u64,
    pub info: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// One second of the run, for the plots.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Second {
    pub t_s: u64,
    /// Client operations completed in this second, by outcome.
    pub ok: u64,
    pub fail: u64,
    pub info: u64,
    /// Of the ok feeds, how many were degraded.
    pub degraded: u64,
    /// Latency of client operations completed in this second (0 when none).
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// One moment on the timeline worth a mark: a Redis Cluster master failed, a replica
/// promoted, an old master rejoined, or what the harness did (killed, cut, healed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RedisMark {
    /// Seconds since the run started.
    pub t_s: f64,
    pub what: String,
}

/// How the run was set up (echoed so a report stands on its own).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSetup {
    pub seed: u64,
    pub nodes: usize,
    pub listeners: usize,
    /// Redis's `appendfsync`: `always`, `everysec` or `no`.
    pub fsync: String,
    pub netns: bool,
    /// Fault kinds that were enabled.
    pub fault_kinds: Vec<String>,
    /// Seconds of workload with faults, then the quiet period after healing.
    pub fault_secs: f64,
    pub quiet_secs: f64,
    pub started_at: String,
    /// The command line that reproduces the run.
    pub command: String,
}

/// Everything in `results.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Results {
    pub valid: Verdict,
    pub setup: RunSetup,
    /// Wall time of the whole run, setup to teardown.
    pub duration_s: f64,
    pub checks: Vec<Check>,
    pub availability: Availability,
    pub faults: Vec<FaultOutcome>,
    pub ops: Vec<OpCount>,
    pub timeline: Vec<Second>,
    /// Redis Cluster events drawn as marks on the timeline (empty on one Redis).
    #[serde(default)]
    pub redis_marks: Vec<RedisMark>,
    /// Notes a reader needs (e.g. what `everysec` may lose, kinds skipped because the
    /// kernel lacks them).
    pub notes: Vec<String>,
}
