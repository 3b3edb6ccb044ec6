//! The history of one chaos run: every operation the simulated listeners invoked and
//! how it completed, every fault the harness injected and healed, and what the
//! membership monitor saw — one JSON object per line (`history.jsonl`), in the order
//! things happened. The checkers read only this and the final state of the store.
//!
//! Completion phases follow Jepsen: `ok` (it happened), `fail` (it certainly did not
//! happen, e.g. a 4xx), `info` (unknown: a timeout, a dropped connection, a 5xx — the
//! write may or may not have been made durable).

use serde::{Deserialize, Serialize};
use std::io::{BufRead, Write};
use std::path::Path;

/// What was attempted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Op {
    /// `POST /api/signup`.
    Signup,
    /// `PUT /api/me/preferences`.
    Onboard,
    /// `GET /api/feed`.
    Feed,
    /// `POST /api/interactions` (a play finished or skipped, a like, a dislike).
    Interact,
    /// `PUT /api/me/following/{username}` (`target` names the followee).
    Follow,
    /// `DELETE /api/me/following/{username}` (`target` names the followee).
    Unfollow,
    /// The harness injected a fault (`detail` says which, `node` names the target).
    Fault,
    /// The harness healed a fault.
    Heal,
    /// The membership monitor: `node` is the observer, `detail` the live set it reported.
    Membership,
    /// The Redis Cluster's masters changed (`detail`: "masters <port>,…"): a replica
    /// was promoted or an old master is back.
    RedisTopology,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Signup => "signup",
            Op::Onboard => "onboard",
            Op::Feed => "feed",
            Op::Interact => "interact",
            Op::Follow => "follow",
            Op::Unfollow => "unfollow",
            Op::Fault => "fault",
            Op::Heal => "heal",
            Op::Membership => "membership",
            Op::RedisTopology => "redis-topology",
        }
    }

    /// Operations a listener performs (the rest are the harness's own).
    pub fn is_client(self) -> bool {
        matches!(
            self,
            Op::Signup | Op::Onboard | Op::Feed | Op::Interact | Op::Follow | Op::Unfollow
        )
    }
}

/// How far an operation got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    Invoke,
    Ok,
    Fail,
    Info,
}

/// One line of `history.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Milliseconds since the run started.
    pub t_ms: u64,
    pub op: Op,
    pub phase: Phase,
    /// The simulated listener (its index, `l0042`), for client operations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listener: Option<String>,
    /// The node the request went to; the fault's target; the monitor's observer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// The interaction's client id (`interact`), the same on every retry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Whom a follow or unfollow names (the other simulated listener, `l0007`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The log sequence number an acknowledged interaction got.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    /// For an `ok` feed: whether it was the degraded one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub degraded: Option<bool>,
    /// Time from invoke to completion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    /// Why it failed, what the fault was, what the monitor saw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Event {
    /// An event with only the required fields set.
    pub fn new(t_ms: u64, op: Op, phase: Phase) -> Self {
        Self {
            t_ms,
            op,
            phase,
            listener: None,
            node: None,
            client_id: None,
            target: None,
            seq: None,
            degraded: None,
            latency_ms: None,
            detail: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("history {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("history {path} line {line}: {source}")]
    Parse {
        path: String,
        line: usize,
        source: serde_json::Error,
    },
}

/// Writes events as JSON lines.
pub fn write_jsonl(path: &Path, events: &[Event]) -> Result<(), HistoryError> {
    let io = |source| HistoryError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).map_err(io)?);
    for e in events {
        // An Event always serializes: it holds only strings, numbers and enums.
        let line = serde_json::to_string(e).map_err(|e| io(std::io::Error::other(e)))?;
        writeln!(out, "{line}").map_err(io)?;
    }
    out.flush().map_err(io)
}

/// Reads a `history.jsonl` back (e.g. to re-check a run).
pub fn read_jsonl(path: &Path) -> Result<Vec<Event>, HistoryError> {
    let p = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|source| HistoryError::Io {
        path: p.clone(),
        source,
    })?;
    let mut out = Vec::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|source| HistoryError::Io {
            path: p.clone(),
            source,
        })?;
        if line.trim().is_empty() {
            continue;
        }
        out.push(
            serde_json::from_str(&line).map_err(|source| HistoryError::Parse {
                path: p.clone(),
                line: i + 1,
                source,
            })?,
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_round_trip_through_jsonl() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.jsonl");
        let mut e = Event::new(12, Op::Interact, Phase::Ok);
        e.listener = Some("l0001".into());
        e.client_id = Some("c-0001-0001".into());
        e.seq = Some(3);
        let events = vec![Event::new(10, Op::Interact, Phase::Invoke), e];
        write_jsonl(&path, &events).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.lines().nth(1).unwrap().contains("\"phase\":\"ok\""));
        assert_eq!(read_jsonl(&path).unwrap(), events);
    }
}
