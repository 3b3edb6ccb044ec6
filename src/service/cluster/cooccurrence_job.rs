//! The co-occurrence job: one node of the cluster at a time reads every listener's
//! new log entries, updates the co-occurrence counts (`model::cooccurrence`),
//! persists them and publishes the table every node ranks with.
//!
//! ```text
//!  Cluster::start ─spawns─► run (one tokio task per node; ends on the stop signal)
//!        every interval: round
//!          ├─ lease held (store: acquire_job_lease, fenced epoch)
//!          │    load the state once per epoch (blocking pool) ─► read new entries
//!          │    per listener (registry pages, cursors) ─► count + build the table
//!          │    (blocking pool) ─► put_job_state(epoch, …) ─► publish locally
//!          └─ someone else holds it: reload the published table if its version moved
//! ```
//!
//! Who supervises whom: the task is the node's, not an actor's; nothing restarts it
//! because nothing in it can end it but the stop signal — a failed round (store
//! down, a panic in the crunch, a fenced write) is logged, drops the in-memory
//! state, and the next round starts over from the store.
//!
//! What a death does: if the holder's node dies, its lease runs out after
//! `lease_ttl_ms` and the next node to try takes it with a newer epoch, loading
//! the persisted trails (cursors included): entries counted but not yet persisted
//! are simply read again. A holder that was only paused finds its writes fenced
//! and drops its state. Requests never wait on any of this: readers take the last
//! published table from the [`CoocHandle`].

use std::collections::HashMap;
use std::time::Duration;

use tokio::sync::watch;

use crate::catalog::SongId;
use crate::config::CooccurrenceSettings;
use crate::model::cooccurrence::{CoocHandle, CoocTable, Cooccurrence, Trail};
use crate::store::{
    JobField, JobName, LeaseGrant, LeaseHolder, ListenerId, LoggedInteraction, NodeId, SharedStore,
    StoreError,
};

/// The job's name in the store (its keys' hash tag is `{job:cooccurrence}`).
pub const JOB: &str = "cooccurrence";
/// Listeners read from the registry per store call.
const REGISTRY_PAGE: usize = 500;
/// Log entries read per store call.
const LOG_PAGE: usize = 1000;
/// Log entries counted per round at most: bounds a round's memory and time (the
/// rest is read next round, from the cursors).
const MAX_ENTRIES_PER_ROUND: usize = 200_000;
/// Listeners whose trail changes per round at most: each is one state field, and
/// one write carries at most `MAX_JOB_FIELDS_PER_WRITE` fields.
const MAX_LISTENERS_PER_ROUND: usize = 5_000;

/// State fields: the song intern table, the table's version, the table, trails.
const SONGS: &str = "songs";
const VERSION: &str = "version";
const TABLE: &str = "top";
const TRAIL_PREFIX: &str = "l:";

#[derive(Debug, thiserror::Error)]
enum RoundError {
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("the counting task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    #[error("persisted state is malformed: {0}")]
    Malformed(String),
}

/// What the holder keeps between rounds.
struct Held {
    epoch: u64,
    counts: Cooccurrence,
    version: u64,
}

/// The job's loop on one node.
struct Job {
    store: SharedStore,
    name: JobName,
    holder: LeaseHolder,
    handle: CoocHandle,
    settings: CooccurrenceSettings,
    held: Option<Held>,
    /// The table version this node last published locally.
    seen_version: u64,
}

fn bincode_config() -> impl bincode::config::Config {
    bincode::config::standard()
}

fn encode<T: serde::Serialize>(v: &T) -> Vec<u8> {
    // Encoding owned plain data into a Vec cannot fail.
    bincode::serde::encode_to_vec(v, bincode_config()).unwrap_or_default()
}

fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, RoundError> {
    bincode::serde::decode_from_slice(bytes, bincode_config())
        .map(|(v, _)| v)
        .map_err(|e| RoundError::Malformed(format!("{what}: {e}")))
}

/// Runs the job's loop until `stop` turns true; releases the lease on the way out.
pub async fn run(
    store: SharedStore,
    node: NodeId,
    handle: CoocHandle,
    settings: CooccurrenceSettings,
    mut stop: watch::Receiver<bool>,
) {
    let (Ok(name), Ok(holder)) = (
        JobName::parse(JOB),
        LeaseHolder::parse(&format!("{node}/{}", uuid::Uuid::new_v4().simple())),
    ) else {
        tracing::error!(%node, "co-occurrence job: invalid job name or holder; not running");
        return;
    };
    let mut job = Job {
        store,
        name,
        holder,
        handle,
        settings,
        held: None,
        seen_version: 0,
    };
    let interval = Duration::from_millis(job.settings.interval_ms);
    loop {
        job.round().await;
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.changed() => break,
        }
        if *stop.borrow() {
            break;
        }
    }
    if let Some(held) = job.held.take() {
        if let Err(e) = job
            .store
            .release_job_lease(&job.name, &job.holder, held.epoch)
            .await
        {
            tracing::warn!(error = %e, "co-occurrence job: could not release the lease; it will expire");
        }
    }
}

impl Job {
    #[tracing::instrument(name = "cooc_round", skip_all, fields(holder = %self.holder))]
    async fn round(&mut self) {
        let ttl = Duration::from_millis(self.settings.lease_ttl_ms);
        let outcome = match self
            .store
            .acquire_job_lease(&self.name, &self.holder, ttl)
            .await
        {
            Ok(LeaseGrant::Held { epoch }) => self.work(epoch).await,
            Ok(LeaseGrant::Busy { holder }) => {
                if self.held.take().is_some() {
                    tracing::info!(%holder, "co-occurrence job: lease lost to another node");
                }
                self.follow().await
            }
            Err(e) => Err(e.into()),
        };
        if let Err(e) = outcome {
            tracing::warn!(error = %e, "co-occurrence round failed; starting over from the store next round");
            self.held = None;
        }
    }

    /// Not the holder: reload the published table when its version moved.
    async fn follow(&mut self) -> Result<(), RoundError> {
        let version = match self.store.job_state_field(&self.name, VERSION).await? {
            Some(bytes) => decode::<u64>(&bytes, "version")?,
            None => return Ok(()),
        };
        if version == self.seen_version {
            return Ok(());
        }
        if let Some(bytes) = self.store.job_state_field(&self.name, TABLE).await? {
            let table =
                CoocTable::from_bytes(&bytes).map_err(|e| RoundError::Malformed(e.to_string()))?;
            self.publish(table);
        }
        Ok(())
    }

    fn publish(&mut self, table: CoocTable) {
        if table.version != self.seen_version {
            tracing::info!(
                version = table.version,
                songs = table.entries.len(),
                links = table.links(),
                "co-occurrence table published"
            );
        }
        self.seen_version = table.version;
        self.handle.publish(table);
    }

    /// The holder's round: load (once per epoch), read, count, persist, publish.
    async fn work(&mut self, epoch: u64) -> Result<(), RoundError> {
        let held = match self.held.take() {
            Some(h) if h.epoch == epoch => h,
            _ => {
                let h = self.load(epoch).await?;
                tracing::info!(
                    epoch,
                    listeners = h.counts.listeners(),
                    version = h.version,
                    "co-occurrence job taken"
                );
                h
            }
        };
        let news = self.read_new(&held.counts).await?;
        if news.is_empty() {
            if held.version != self.seen_version {
                let table = held.counts.table(held.version);
                self.publish(table);
            }
            self.held = Some(held);
            return Ok(());
        }
        let entries: usize = news.iter().map(|(_, e)| e.len()).sum();
        let span = tracing::Span::current();
        let (held, fields, table) = tokio::task::spawn_blocking(move || {
            let _enter = span.enter();
            crunch(held, news)
        })
        .await?;
        self.store.put_job_state(&self.name, epoch, &fields).await?;
        tracing::debug!(
            entries,
            listeners = fields.len().saturating_sub(3),
            "co-occurrence counted and persisted"
        );
        self.publish(table);
        self.held = Some(held);
        Ok(())
    }

    /// Reads the persisted state for a newly taken lease.
    async fn load(&mut self, epoch: u64) -> Result<Held, RoundError> {
        let fields = self.store.job_state(&self.name).await?;
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            let _enter = span.enter();
            let mut songs: Vec<SongId> = Vec::new();
            let mut version = 0;
            let mut trails: HashMap<ListenerId, Trail> = HashMap::new();
            for (name, bytes) in fields {
                if name == SONGS {
                    songs = decode(&bytes, "songs")?;
                } else if name == VERSION {
                    version = decode(&bytes, "version")?;
                } else if let Some(id) = name.strip_prefix(TRAIL_PREFIX) {
                    let id = ListenerId::parse(id)
                        .map_err(|e| RoundError::Malformed(format!("trail key: {e}")))?;
                    trails.insert(id, decode(&bytes, "trail")?);
                }
            }
            Ok(Held {
                epoch,
                counts: Cooccurrence::from_parts(songs, trails),
                version,
            })
        })
        .await?
    }

    /// New log entries per listener, from each one's cursor, within the round's bounds.
    async fn read_new(
        &self,
        counts: &Cooccurrence,
    ) -> Result<Vec<(ListenerId, Vec<LoggedInteraction>)>, RoundError> {
        let mut out = Vec::new();
        let mut budget = MAX_ENTRIES_PER_ROUND;
        let mut after: Option<ListenerId> = None;
        'pages: loop {
            let page = self.store.listeners(after.as_ref(), REGISTRY_PAGE).await?;
            for id in &page {
                let mut entries = Vec::new();
                let mut cursor = counts.cursor(id);
                loop {
                    let want = LOG_PAGE.min(budget);
                    let got = self.store.read_interactions(id, cursor, want).await?;
                    budget -= got.len();
                    cursor = got.last().map_or(cursor, |e| e.seq);
                    let done = got.len() < want;
                    entries.extend(got);
                    if done || budget == 0 {
                        break;
                    }
                }
                if !entries.is_empty() {
                    out.push((id.clone(), entries));
                }
                if budget == 0 || out.len() >= MAX_LISTENERS_PER_ROUND {
                    break 'pages;
                }
            }
            if page.len() < REGISTRY_PAGE {
                break;
            }
            after = page.last().cloned();
        }
        Ok(out)
    }
}

/// The CPU part: folds the news in, builds the next table, encodes what to persist.
fn crunch(
    mut held: Held,
    news: Vec<(ListenerId, Vec<LoggedInteraction>)>,
) -> (Held, Vec<JobField>, CoocTable) {
    let mut fields: Vec<JobField> = Vec::with_capacity(news.len() + 3);
    for (id, entries) in &news {
        held.counts.apply(id, entries);
        if let Some(trail) = held.counts.trail(id) {
            fields.push((format!("{TRAIL_PREFIX}{id}"), encode(trail)));
        }
    }
    held.version += 1;
    let table = held.counts.table(held.version);
    fields.push((SONGS.to_owned(), encode(&held.counts.songs())));
    fields.push((VERSION.to_owned(), encode(&held.version)));
    fields.push((TABLE.to_owned(), table.to_bytes()));
    (held, fields, table)
}
