//! One listener's actor: its training input, the last log entry it applied, its
//! fitted model, and its fencing epoch.
//!
//! Lifecycle: `pre_start` only builds an empty state (it runs while the supervisor
//! waits); `post_start` does the heavy part while requests queue in this actor's own
//! mailbox — take a fencing epoch and read the account, the latest snapshot and the
//! log after it (`Store::activate`: one round trip on Redis), restore the model from
//! the snapshot, replay the log, and fit unless the snapshot's fitted model covers
//! everything applied (then that model serves as it is). Then it answers feeds with
//! its current model, catches up from the log when told the log grew (and before each
//! feed), refits on the blocking pool debounced (answering with the previous model
//! meanwhile), snapshots every few entries (and right after an activation that
//! replayed that many), and retires when idle, handed off or drained. If a snapshot write finds a newer epoch,
//! another node owns the listener: the actor stops and writes nothing more.

use std::time::{Duration, Instant};

use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};

use super::friends::FriendCache;
use super::model_port::{run_fit, ModelPort};
use super::ListenerEnv;
use crate::model::listener_model::FitOutcome;
use crate::model::RankedItem;
use crate::store::{ListenerId, Preferences, Snapshot, StoreError};
use crate::telemetry::metrics;

/// Log entries read per store round trip while catching up: bounds one read's memory.
const LOG_PAGE: usize = 500;
/// How often an actor checks its idleness and its epoch (at most; shorter when the idle
/// time is short, for tests). Each check is one store read per active listener, so
/// 20k actors cost ~1.3k reads/s at 15 s; the epoch check is a backstop — snapshot
/// writes are fenced atomically and a node that loses its lease drops its actors.
const TICK_MAX: Duration = Duration::from_secs(15);

/// Why an actor retires. Only `LostLease` forbids writing a snapshot: the node could
/// not keep its heartbeat, so another node may already own the listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetireReason {
    Passivated,
    HandedOff,
    Drained,
    LostLease,
}

impl RetireReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Passivated => "passivated",
            Self::HandedOff => "handed-off",
            Self::Drained => "drained",
            Self::LostLease => "lost-lease",
        }
    }
}

/// A feed ranked by the listener's own model, and what the model has seen.
#[derive(Debug, Clone)]
pub struct FeedAnswer {
    pub items: Vec<RankedItem>,
    pub status: ListenerStatus,
}

/// What an actor has applied and fitted.
#[derive(Debug, Clone, PartialEq)]
pub struct ListenerStatus {
    pub epoch: u64,
    /// The last log sequence number folded into the training input.
    pub applied_seq: u64,
    /// Rows of the training input (one per song: its latest signal).
    pub training_rows: usize,
    /// Rows the current model was fitted on (lags the training input while a fit runs).
    pub fitted_rows: usize,
    /// Fingerprint of the training input (see [`crate::model::labels::digest`]).
    pub training_digest: u64,
}

#[derive(ractor_cluster::RactorMessage)]
pub enum ListenerMsg {
    /// The log may have grown: catch up from the store.
    Notify,
    /// Rank up to `limit` songs; `None` when the catalog is not loaded yet.
    Feed(usize, RpcReplyPort<Option<FeedAnswer>>),
    Status(RpcReplyPort<ListenerStatus>),
    /// The listener's own scores for these songs (catalog indices), `None` for songs
    /// to leave out (radio); `None` overall when the catalog is not loaded yet.
    Score(Vec<u32>, RpcReplyPort<Option<Vec<Option<f32>>>>),
    /// Snapshot (unless the reason forbids writing) and stop.
    Retire(RetireReason, Option<RpcReplyPort<()>>),
    /// Internal: idle and epoch check.
    Tick,
    /// Internal: the debounce window closed; fit now.
    FitNow,
    /// Internal: a fit finished on the blocking pool.
    FitDone(FitOutcome),
    /// Fault injection: fail with this message (tests and chaos).
    Fail(String),
}

pub struct ListenerActor;

pub struct ListenerArgs {
    pub id: ListenerId,
    pub env: ListenerEnv,
}

pub struct ListenerState {
    id: ListenerId,
    env: ListenerEnv,
    epoch: u64,
    prefs: Preferences,
    model: ModelPort,
    /// The sequence number the last snapshot written (or loaded) covers.
    snapshot_seq: u64,
    /// The seq the log was last compacted through, as far as this actor knows (0 until
    /// its first compaction call answers).
    log_floor: u64,
    fit_scheduled: bool,
    fit_running: bool,
    last_used: Instant,
    /// Followees' recent finishes and likes, for the feed (`listener::friends`).
    friends: FriendCache,
}

impl Actor for ListenerActor {
    type Msg = ListenerMsg;
    type State = ListenerState;
    type Arguments = ListenerArgs;

    async fn pre_start(
        &self,
        _me: ActorRef<ListenerMsg>,
        args: ListenerArgs,
    ) -> Result<ListenerState, ActorProcessingErr> {
        Ok(ListenerState {
            model: ModelPort::new(&args.id, args.env.engine),
            id: args.id,
            env: args.env,
            epoch: 0,
            prefs: Preferences::default(),
            snapshot_seq: 0,
            log_floor: 0,
            fit_scheduled: false,
            fit_running: false,
            last_used: Instant::now(),
            friends: FriendCache::default(),
        })
    }

    #[tracing::instrument(name = "activate", skip_all, fields(listener = %st.id))]
    async fn post_start(
        &self,
        me: ActorRef<ListenerMsg>,
        st: &mut ListenerState,
    ) -> Result<(), ActorProcessingErr> {
        let started = Instant::now();
        // The epoch first, then the reads (one atomic step on Redis): see Store::activate.
        let loaded = st
            .env
            .store
            .activate(&st.id, &st.env.node_id, LOG_PAGE)
            .await?;
        st.epoch = loaded.epoch;
        if let Some(account) = loaded.account {
            st.prefs = account.preferences;
        }
        let index = st.env.index.get();
        if let (Some(snap), Some(index)) = (loaded.snapshot, &index) {
            match ModelPort::from_snapshot(&snap.bytes, index) {
                Ok(model) => {
                    st.model = model;
                    st.snapshot_seq = st.model.applied_seq();
                }
                Err(e) => {
                    tracing::warn!(error = %e, "snapshot unusable; rebuilding from the whole log")
                }
            }
        }
        // The log page read with the epoch follows the snapshot: it applies when the
        // model starts where the snapshot ends (not when the snapshot was unusable or
        // the catalog is not loaded yet — then the whole log is read again).
        let mut page_full = true;
        if st.model.applied_seq() == loaded.log_after {
            for entry in &loaded.log {
                st.model.apply(entry);
            }
            page_full = loaded.log.len() >= LOG_PAGE;
        }
        if page_full {
            catch_up(st).await?;
        }
        // A snapshot's fitted model that covers everything applied is current: no
        // refit (a fit is deterministic in its rows and seed: it would be the same
        // model). A cold start is decided again (cheap), in case the catalog changed.
        let current = !st.model.needs_refit() && st.model.fitted_rows() > 0;
        if let Some(index) = index.filter(|_| !current) {
            let job = st.model.prepare_fit(&index);
            let outcome = tokio::task::spawn_blocking(move || run_fit(job, &index)).await?;
            st.model.install(outcome);
            // A long replay is saved for the next owner now: entries that all arrived
            // before this activation bring no fit later, so no snapshot would follow
            // until the actor retires.
            if st.model.applied_seq() >= st.snapshot_seq + st.env.settings.snapshot_every {
                if let Err(StoreError::Fenced { .. }) = write_snapshot(st).await {
                    me.stop(Some("fenced".into()));
                    return Ok(());
                }
            }
        }
        let idle = Duration::from_secs(st.env.settings.idle_passivation_secs.max(1));
        me.send_interval(TICK_MAX.min(idle / 2), || ListenerMsg::Tick);
        metrics::listener_activated(started.elapsed());
        st.env.takeover.count_if_taken_over(&st.id);
        tracing::debug!(
            epoch = st.epoch,
            applied = st.model.applied_seq(),
            "listener active"
        );
        Ok(())
    }

    async fn handle(
        &self,
        me: ActorRef<ListenerMsg>,
        msg: ListenerMsg,
        st: &mut ListenerState,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            ListenerMsg::Notify => {
                if catch_up(st).await? > 0 {
                    schedule_fit(&me, st);
                }
            }
            ListenerMsg::Feed(limit, reply) => {
                st.last_used = Instant::now();
                if catch_up(st).await? > 0 {
                    schedule_fit(&me, st);
                }
                // What the people the listener follows played (cached; a store error
                // is no friends, never a failed feed).
                let friends = st.friends.get(&st.env.store, &st.id).await;
                let answer = st.env.index.get().map(|index| {
                    let started = Instant::now();
                    let items = st.model.feed(&index, &st.prefs, limit, &friends);
                    metrics::feed_built(started.elapsed());
                    FeedAnswer {
                        items,
                        status: status(st),
                    }
                });
                let _ = reply.send(answer);
            }
            ListenerMsg::Score(songs, reply) => {
                st.last_used = Instant::now();
                if catch_up(st).await? > 0 {
                    schedule_fit(&me, st);
                }
                let answer = st.env.index.get().map(|index| {
                    let started = Instant::now();
                    let scores = st.model.radio_scores(&index, &st.prefs, &songs);
                    metrics::model_score(started.elapsed());
                    scores
                });
                let _ = reply.send(answer);
            }
            ListenerMsg::Status(reply) => {
                st.last_used = Instant::now();
                // Entries taken here need a fit like any others (a Notify that comes
                // after finds nothing new to catch up on).
                if catch_up(st).await? > 0 {
                    schedule_fit(&me, st);
                }
                let _ = reply.send(status(st));
            }
            ListenerMsg::Retire(reason, reply) => {
                if reason != RetireReason::LostLease {
                    // Fenced or not, this actor stops; a failed write only loses a shortcut
                    // (the next owner replays more of the log).
                    let _ = write_snapshot(st).await;
                }
                if let Some(r) = reply {
                    let _ = r.send(());
                }
                metrics::listener_passivated();
                me.stop(Some(reason.as_str().into()));
            }
            ListenerMsg::Tick => tick(&me, st).await?,
            ListenerMsg::FitNow => start_fit(&me, st),
            ListenerMsg::FitDone(outcome) => {
                st.fit_running = false;
                st.model.install(outcome);
                if st.model.needs_refit() {
                    schedule_fit(&me, st);
                } else if st.model.applied_seq() >= st.snapshot_seq + st.env.settings.snapshot_every
                {
                    if let Err(StoreError::Fenced { .. }) = write_snapshot(st).await {
                        me.stop(Some("fenced".into()));
                    }
                }
            }
            ListenerMsg::Fail(why) => return Err(why.into()),
        }
        Ok(())
    }
}

fn status(st: &ListenerState) -> ListenerStatus {
    let (training_rows, training_digest) = st
        .env
        .catalog
        .get()
        .map(|c| (st.model.training_rows(&c), st.model.training_digest(&c)))
        .unwrap_or((0, crate::model::labels::digest(&[])));
    ListenerStatus {
        epoch: st.epoch,
        applied_seq: st.model.applied_seq(),
        training_rows,
        fitted_rows: st.model.fitted_rows(),
        training_digest,
    }
}

/// Applies every log entry after the last applied one; returns how many.
async fn catch_up(st: &mut ListenerState) -> Result<usize, StoreError> {
    let mut applied = 0;
    loop {
        let page = st
            .env
            .store
            .read_interactions(&st.id, st.model.applied_seq(), LOG_PAGE)
            .await?;
        for entry in &page {
            // The model ignores entries at or before its last seq (the store's answer is
            // input too); only entries it took count.
            if st.model.apply(entry) {
                applied += 1;
            }
        }
        if page.len() < LOG_PAGE {
            return Ok(applied);
        }
    }
}

fn schedule_fit(me: &ActorRef<ListenerMsg>, st: &mut ListenerState) {
    if !st.fit_scheduled {
        st.fit_scheduled = true;
        me.send_after(
            Duration::from_millis(st.env.settings.fit_debounce_ms),
            || ListenerMsg::FitNow,
        );
    }
}

fn start_fit(me: &ActorRef<ListenerMsg>, st: &mut ListenerState) {
    st.fit_scheduled = false;
    if st.fit_running {
        // FitDone will see the model lag the input and schedule another fit.
        return;
    }
    let Some(index) = st.env.index.get() else {
        return;
    };
    st.fit_running = true;
    let job = st.model.prepare_fit(&index);
    let me = me.clone();
    let span = tracing::debug_span!("fit", listener = %st.id, seq = st.model.applied_seq());
    tokio::task::spawn_blocking(move || {
        let _enter = span.enter();
        let outcome = run_fit(job, &index);
        let _ = me.cast(ListenerMsg::FitDone(outcome));
    });
}

/// Passivates an idle actor; stops one whose epoch moved on (another node activated it).
async fn tick(me: &ActorRef<ListenerMsg>, st: &mut ListenerState) -> Result<(), StoreError> {
    let current = st.env.store.current_epoch(&st.id).await?;
    if current != st.epoch {
        tracing::info!(listener = %st.id, held = st.epoch, current, "fenced: another activation owns this listener; stopping");
        me.stop(Some("fenced".into()));
        return Ok(());
    }
    let idle = Duration::from_secs(st.env.settings.idle_passivation_secs);
    if st.last_used.elapsed() >= idle {
        let _ = me.cast(ListenerMsg::Retire(RetireReason::Passivated, None));
    }
    Ok(())
}

/// Drops log entries the snapshot just written covers, past the newest `log_keep`,
/// once a quarter of `log_keep` more has piled up (so most snapshots cost no extra
/// store call). A failure is harmless: the entries stay until the next try.
async fn compact_log(st: &mut ListenerState) {
    let keep = st.env.settings.log_keep;
    let step = (keep / 4).max(1);
    if st.snapshot_seq < st.log_floor.saturating_add(keep).saturating_add(step) {
        return;
    }
    match st.env.store.compact_log(&st.id, st.epoch, keep).await {
        Ok(done) => {
            if done.removed > 0 {
                tracing::debug!(listener = %st.id, through = done.through, removed = done.removed, "log compacted");
            }
            st.log_floor = done.through;
        }
        Err(e) => tracing::warn!(listener = %st.id, error = %e, "log not compacted"),
    }
}

/// Writes a snapshot covering everything applied, if there is anything new and the
/// epoch still holds (the store checks it atomically).
async fn write_snapshot(st: &mut ListenerState) -> Result<(), StoreError> {
    if st.model.applied_seq() == st.snapshot_seq {
        return Ok(());
    }
    let snap = Snapshot {
        epoch: st.epoch,
        covers_seq: st.model.applied_seq(),
        bytes: st.model.snapshot_bytes(),
    };
    match st.env.store.put_snapshot(&st.id, &snap).await {
        Ok(()) => {
            st.snapshot_seq = snap.covers_seq;
            compact_log(st).await;
            Ok(())
        }
        Err(e) => {
            tracing::warn!(listener = %st.id, error = %e, "snapshot not written");
            Err(e)
        }
    }
}
