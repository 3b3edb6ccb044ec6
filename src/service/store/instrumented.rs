//! A [`Store`] that times every operation of the store it wraps: the latency histogram
//! by backend and operation, store errors and fencing rejections
//! (`telemetry::metrics`). Both backends are measured the same way without a line in
//! either; [`open`](super::open) wraps the store it opens when metrics are on.
//!
//! Every method forwards to the inner store unchanged, one line each, named as in the
//! trait (the `op` label): a new `Store` method gets one more forwarding line here.

use std::future::Future;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::*;
use crate::catalog::Song;
use crate::telemetry::metrics;

/// Every forwarded operation's name (the `op` label), as in the methods below.
const OPS: &[&str] = &[
    "ping",
    "create_account",
    "account",
    "set_preferences",
    "put_session",
    "session",
    "session_check",
    "delete_session",
    "refresh_session",
    "last_seq",
    "acquire_epoch",
    "current_epoch",
    "put_snapshot",
    "snapshot",
    "activate",
    "writer_journal",
    "heartbeat",
    "live_nodes",
    "deregister",
    "put_playlist",
    "playlist",
    "playlists",
    "delete_playlist",
    "put_catalog",
    "catalog",
    "listeners",
    "job_state_field",
    "job_state",
    "compact_log",
    "log_floor",
    "account_by_username",
    "revoke_sessions",
    "append_interaction",
    "append_and_share",
    "append_checked",
    "read_interactions",
    "acquire_job_lease",
    "release_job_lease",
    "put_job_state",
    "put_api_key",
    "api_key",
    "api_keys",
    "delete_api_key",
    "put_app_field",
    "app_field",
    "follow",
    "unfollow",
    "following",
    "followers",
    "block",
    "unblock",
    "blocked",
    "is_blocked",
    "privacy",
    "set_privacy",
    "push_activity",
    "activity",
    "visible_activity",
    "display_name",
    "set_display_name",
    "find_people",
];

/// Times the operations of `inner`.
pub struct Instrumented<S: ?Sized> {
    ops: metrics::StoreOps,
    inner: Arc<S>,
}

impl<S: Store + ?Sized> Instrumented<S> {
    /// Wraps `inner`; every operation's histogram is registered at once (empty), so
    /// the set of series is fixed from the start, whatever runs later.
    pub fn new(inner: Arc<S>) -> Self {
        let ops = metrics::StoreOps::new(inner.kind(), OPS);
        Self { ops, inner }
    }

    async fn timed<T>(
        &self,
        op: &'static str,
        call: impl Future<Output = StoreResult<T>>,
    ) -> StoreResult<T> {
        let start = Instant::now();
        let out = call.await;
        self.ops.record(op, start.elapsed());
        match &out {
            Err(StoreError::Fenced { .. }) => metrics::fencing_rejection(),
            Err(StoreError::Unavailable(_) | StoreError::Corrupt(_)) => self.ops.error(op),
            _ => {}
        }
        out
    }
}

#[async_trait]
impl<S: Store + ?Sized> Store for Instrumented<S> {
    fn kind(&self) -> &'static str {
        self.inner.kind()
    }

    async fn ping(&self) -> StoreResult<()> {
        self.timed("ping", self.inner.ping()).await
    }

    async fn create_account(&self, account: &Account) -> StoreResult<()> {
        self.timed("create_account", self.inner.create_account(account))
            .await
    }

    async fn account(&self, id: &ListenerId) -> StoreResult<Option<Account>> {
        self.timed("account", self.inner.account(id)).await
    }

    async fn account_by_username(&self, username: &Username) -> StoreResult<Option<Account>> {
        self.timed(
            "account_by_username",
            self.inner.account_by_username(username),
        )
        .await
    }

    async fn set_preferences(&self, id: &ListenerId, prefs: &Preferences) -> StoreResult<()> {
        self.timed("set_preferences", self.inner.set_preferences(id, prefs))
            .await
    }

    async fn put_session(&self, session: &Session, ttl: Duration) -> StoreResult<()> {
        self.timed("put_session", self.inner.put_session(session, ttl))
            .await
    }

    async fn session(&self, token_hash: &str) -> StoreResult<Option<Session>> {
        self.timed("session", self.inner.session(token_hash)).await
    }

    async fn session_check(&self, key: &str) -> StoreResult<Option<SessionCheck>> {
        self.timed("session_check", self.inner.session_check(key))
            .await
    }

    async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        self.timed("delete_session", self.inner.delete_session(token_hash))
            .await
    }

    async fn refresh_session(&self, session: &Session, ttl: Duration) -> StoreResult<bool> {
        self.timed("refresh_session", self.inner.refresh_session(session, ttl))
            .await
    }

    async fn revoke_sessions(
        &self,
        id: &ListenerId,
        password_hash: Option<&str>,
    ) -> StoreResult<u64> {
        self.timed(
            "revoke_sessions",
            self.inner.revoke_sessions(id, password_hash),
        )
        .await
    }

    async fn append_interaction(
        &self,
        listener: &ListenerId,
        interaction: &Interaction,
    ) -> StoreResult<Appended> {
        self.timed(
            "append_interaction",
            self.inner.append_interaction(listener, interaction),
        )
        .await
    }

    async fn append_and_share(
        &self,
        listener: &ListenerId,
        interaction: &Interaction,
        share: &ActivityEntry,
    ) -> StoreResult<(Appended, bool)> {
        self.timed(
            "append_and_share",
            self.inner.append_and_share(listener, interaction, share),
        )
        .await
    }

    async fn append_checked(
        &self,
        session_key: &str,
        interaction: &Interaction,
        share: Option<&ActivityEntry>,
    ) -> StoreResult<CheckedAppend> {
        self.timed(
            "append_checked",
            self.inner.append_checked(session_key, interaction, share),
        )
        .await
    }

    async fn read_interactions(
        &self,
        listener: &ListenerId,
        after: u64,
        limit: usize,
    ) -> StoreResult<Vec<LoggedInteraction>> {
        self.timed(
            "read_interactions",
            self.inner.read_interactions(listener, after, limit),
        )
        .await
    }

    async fn last_seq(&self, listener: &ListenerId) -> StoreResult<u64> {
        self.timed("last_seq", self.inner.last_seq(listener)).await
    }

    async fn acquire_epoch(&self, listener: &ListenerId, node: &NodeId) -> StoreResult<u64> {
        self.timed("acquire_epoch", self.inner.acquire_epoch(listener, node))
            .await
    }

    async fn current_epoch(&self, listener: &ListenerId) -> StoreResult<u64> {
        self.timed("current_epoch", self.inner.current_epoch(listener))
            .await
    }

    async fn put_snapshot(&self, listener: &ListenerId, snapshot: &Snapshot) -> StoreResult<()> {
        self.timed("put_snapshot", self.inner.put_snapshot(listener, snapshot))
            .await
    }

    async fn snapshot(&self, listener: &ListenerId) -> StoreResult<Option<Snapshot>> {
        self.timed("snapshot", self.inner.snapshot(listener)).await
    }

    async fn activate(
        &self,
        listener: &ListenerId,
        node: &NodeId,
        page: usize,
    ) -> StoreResult<Activated> {
        self.timed("activate", self.inner.activate(listener, node, page))
            .await
    }

    async fn writer_journal(&self, listener: &ListenerId) -> StoreResult<Vec<WriterEvent>> {
        self.timed("writer_journal", self.inner.writer_journal(listener))
            .await
    }

    async fn heartbeat(&self, node: &NodeInfo, ttl: Duration) -> StoreResult<()> {
        self.timed("heartbeat", self.inner.heartbeat(node, ttl))
            .await
    }

    async fn live_nodes(&self) -> StoreResult<Vec<LiveNode>> {
        self.timed("live_nodes", self.inner.live_nodes()).await
    }

    async fn deregister(&self, node: &NodeId) -> StoreResult<()> {
        self.timed("deregister", self.inner.deregister(node)).await
    }

    async fn put_playlist(&self, playlist: &Playlist) -> StoreResult<()> {
        self.timed("put_playlist", self.inner.put_playlist(playlist))
            .await
    }

    async fn playlist(&self, owner: &ListenerId, id: &PlaylistId) -> StoreResult<Option<Playlist>> {
        self.timed("playlist", self.inner.playlist(owner, id)).await
    }

    async fn playlists(&self, owner: &ListenerId) -> StoreResult<Vec<Playlist>> {
        self.timed("playlists", self.inner.playlists(owner)).await
    }

    async fn delete_playlist(&self, owner: &ListenerId, id: &PlaylistId) -> StoreResult<()> {
        self.timed("delete_playlist", self.inner.delete_playlist(owner, id))
            .await
    }

    async fn put_catalog(&self, songs: &[Song]) -> StoreResult<()> {
        self.timed("put_catalog", self.inner.put_catalog(songs))
            .await
    }

    async fn catalog(&self) -> StoreResult<Vec<Song>> {
        self.timed("catalog", self.inner.catalog()).await
    }

    async fn listeners(
        &self,
        after: Option<&ListenerId>,
        limit: usize,
    ) -> StoreResult<Vec<ListenerId>> {
        self.timed("listeners", self.inner.listeners(after, limit))
            .await
    }

    async fn acquire_job_lease(
        &self,
        job: &JobName,
        holder: &LeaseHolder,
        ttl: Duration,
    ) -> StoreResult<LeaseGrant> {
        self.timed(
            "acquire_job_lease",
            self.inner.acquire_job_lease(job, holder, ttl),
        )
        .await
    }

    async fn release_job_lease(
        &self,
        job: &JobName,
        holder: &LeaseHolder,
        epoch: u64,
    ) -> StoreResult<()> {
        self.timed(
            "release_job_lease",
            self.inner.release_job_lease(job, holder, epoch),
        )
        .await
    }

    async fn put_job_state(
        &self,
        job: &JobName,
        epoch: u64,
        fields: &[JobField],
    ) -> StoreResult<()> {
        self.timed(
            "put_job_state",
            self.inner.put_job_state(job, epoch, fields),
        )
        .await
    }

    async fn job_state_field(&self, job: &JobName, field: &str) -> StoreResult<Option<Vec<u8>>> {
        self.timed("job_state_field", self.inner.job_state_field(job, field))
            .await
    }

    async fn job_state(&self, job: &JobName) -> StoreResult<Vec<JobField>> {
        self.timed("job_state", self.inner.job_state(job)).await
    }

    async fn compact_log(
        &self,
        listener: &ListenerId,
        epoch: u64,
        keep_last: u64,
    ) -> StoreResult<Compaction> {
        self.timed(
            "compact_log",
            self.inner.compact_log(listener, epoch, keep_last),
        )
        .await
    }

    async fn log_floor(&self, listener: &ListenerId) -> StoreResult<u64> {
        self.timed("log_floor", self.inner.log_floor(listener))
            .await
    }

    async fn put_api_key(&self, key: &ApiKey) -> StoreResult<()> {
        self.timed("put_api_key", self.inner.put_api_key(key)).await
    }

    async fn api_key(&self, hash: &str) -> StoreResult<Option<ApiKey>> {
        self.timed("api_key", self.inner.api_key(hash)).await
    }

    async fn api_keys(&self, listener: &ListenerId) -> StoreResult<Vec<ApiKey>> {
        self.timed("api_keys", self.inner.api_keys(listener)).await
    }

    async fn delete_api_key(&self, listener: &ListenerId, id: &str) -> StoreResult<bool> {
        self.timed("delete_api_key", self.inner.delete_api_key(listener, id))
            .await
    }

    async fn put_app_field(
        &self,
        listener: &ListenerId,
        field: &str,
        value: Option<&[u8]>,
    ) -> StoreResult<()> {
        self.timed(
            "put_app_field",
            self.inner.put_app_field(listener, field, value),
        )
        .await
    }

    async fn app_field(&self, listener: &ListenerId, field: &str) -> StoreResult<Option<Vec<u8>>> {
        self.timed("app_field", self.inner.app_field(listener, field))
            .await
    }

    async fn follow(
        &self,
        follower: &ListenerId,
        followee: &ListenerId,
    ) -> StoreResult<FollowOutcome> {
        self.timed("follow", self.inner.follow(follower, followee))
            .await
    }

    async fn unfollow(&self, follower: &ListenerId, followee: &ListenerId) -> StoreResult<()> {
        self.timed("unfollow", self.inner.unfollow(follower, followee))
            .await
    }

    async fn following(&self, listener: &ListenerId, limit: usize) -> StoreResult<Vec<ListenerId>> {
        self.timed("following", self.inner.following(listener, limit))
            .await
    }

    async fn followers(&self, listener: &ListenerId, limit: usize) -> StoreResult<Vec<ListenerId>> {
        self.timed("followers", self.inner.followers(listener, limit))
            .await
    }

    async fn block(&self, blocker: &ListenerId, blocked: &ListenerId) -> StoreResult<()> {
        self.timed("block", self.inner.block(blocker, blocked))
            .await
    }

    async fn unblock(&self, blocker: &ListenerId, blocked: &ListenerId) -> StoreResult<()> {
        self.timed("unblock", self.inner.unblock(blocker, blocked))
            .await
    }

    async fn blocked(&self, listener: &ListenerId, limit: usize) -> StoreResult<Vec<ListenerId>> {
        self.timed("blocked", self.inner.blocked(listener, limit))
            .await
    }

    async fn is_blocked(&self, blocker: &ListenerId, blocked: &ListenerId) -> StoreResult<bool> {
        self.timed("is_blocked", self.inner.is_blocked(blocker, blocked))
            .await
    }

    async fn privacy(&self, listener: &ListenerId) -> StoreResult<Privacy> {
        self.timed("privacy", self.inner.privacy(listener)).await
    }

    async fn set_privacy(&self, listener: &ListenerId, privacy: &Privacy) -> StoreResult<()> {
        self.timed("set_privacy", self.inner.set_privacy(listener, privacy))
            .await
    }

    async fn push_activity(
        &self,
        listener: &ListenerId,
        entry: &ActivityEntry,
    ) -> StoreResult<bool> {
        self.timed("push_activity", self.inner.push_activity(listener, entry))
            .await
    }

    async fn activity(
        &self,
        listener: &ListenerId,
        limit: usize,
    ) -> StoreResult<Vec<ActivityEntry>> {
        self.timed("activity", self.inner.activity(listener, limit))
            .await
    }

    async fn visible_activity(
        &self,
        owner: &ListenerId,
        viewer: &ListenerId,
        limit: usize,
    ) -> StoreResult<Vec<ActivityEntry>> {
        self.timed(
            "visible_activity",
            self.inner.visible_activity(owner, viewer, limit),
        )
        .await
    }

    async fn display_name(&self, listener: &ListenerId) -> StoreResult<Option<DisplayName>> {
        self.timed("display_name", self.inner.display_name(listener))
            .await
    }

    async fn set_display_name(
        &self,
        listener: &ListenerId,
        name: Option<&DisplayName>,
    ) -> StoreResult<()> {
        self.timed(
            "set_display_name",
            self.inner.set_display_name(listener, name),
        )
        .await
    }

    async fn find_people(&self, prefix: &str, limit: usize) -> StoreResult<Vec<ListenerId>> {
        self.timed("find_people", self.inner.find_people(prefix, limit))
            .await
    }
}

#[cfg(test)]
mod tests {
    /// Every forwarded operation's name is in [`super::OPS`] and every listed name is
    /// forwarded (so each is registered up front), however rustfmt wraps the call.
    #[test]
    fn every_forwarded_operation_is_listed() {
        let src = include_str!("instrumented.rs");
        let body = &src[..src.find("#[cfg(test)]").unwrap()];
        let mut forwarded: Vec<&str> = body
            .split("self.timed(")
            .skip(1)
            .filter_map(|rest| rest.trim_start().strip_prefix('"')?.split('"').next())
            .filter(|name| !name.is_empty())
            .collect();
        forwarded.sort_unstable();
        let mut listed: Vec<&str> = super::OPS.to_vec();
        listed.sort_unstable();
        assert_eq!(forwarded, listed);
    }
}
