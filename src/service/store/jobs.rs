//! Background jobs that one node at a time runs for the whole cluster (today: the
//! co-occurrence job, `crate::cluster::cooccurrence_job`), and the listener registry
//! such a job walks.
//!
//! A job is named by a [`JobName`]. Its holder takes a **lease** with a TTL and
//! renews it while it works; taking a free (or expired) lease hands out a new
//! **fencing epoch**, strictly greater than any before, exactly like a listener's
//! activation. The job's state is a map of named fields (bytes); writing fields is
//! accepted only with the job's current epoch, checked atomically with the write, so
//! a holder that paused past its lease while another node took over writes nothing
//! ([`super::StoreError::Fenced`]). In Redis every key of a job shares one hash tag
//! (`{job:<name>}`), so the checks and writes are single-slot scripts.
//!
//! The **listener registry** lists every listener whose log has an entry: the store
//! records the listener in it before (embedded: in the same transaction as) the first
//! append, so "in the registry" is a superset of "has a log". It pages in id order.

use std::fmt;

use super::{InvalidId, StoreError};

/// A background job's name: `[a-z0-9-]{1,32}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct JobName(String);

impl JobName {
    pub fn parse(s: &str) -> Result<Self, InvalidId> {
        let ok = (1..=32).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidId {
                what: "job name",
                value: s.chars().take(80).collect(),
            })
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for JobName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Who holds a job's lease: unique per process (node id plus a boot nonce), so a
/// restarted node never mistakes its predecessor's lease for its own.
/// `[A-Za-z0-9_.:/-]{1,128}` (no `|`: the Redis lease value is `holder|epoch`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LeaseHolder(String);

impl LeaseHolder {
    pub fn parse(s: &str) -> Result<Self, InvalidId> {
        let ok = (1..=128).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_.:/-".contains(&b));
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidId {
                what: "lease holder",
                value: s.chars().take(80).collect(),
            })
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LeaseHolder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The outcome of asking for a job's lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaseGrant {
    /// The caller holds the lease with this fencing epoch (new when it was free,
    /// the same one when the caller renewed its own).
    Held { epoch: u64 },
    /// Someone else's lease holds.
    Busy { holder: String },
}

/// One named field of a job's state.
pub type JobField = (String, Vec<u8>);

/// Most fields one `put_job_state` call may write: bounds a script's argument list.
pub const MAX_JOB_FIELDS_PER_WRITE: usize = 10_000;

/// Refuses a `put_job_state` write of more than [`MAX_JOB_FIELDS_PER_WRITE`] fields
/// (both backends, before touching anything).
pub fn check_write_size(fields: &[JobField]) -> Result<(), StoreError> {
    if fields.len() > MAX_JOB_FIELDS_PER_WRITE {
        return Err(StoreError::Conflict(format!(
            "{} job fields in one write (at most {MAX_JOB_FIELDS_PER_WRITE})",
            fields.len()
        )));
    }
    Ok(())
}
