//! An in-memory [`Store`] for this module's unit tests only, with the trait's
//! semantics for the parts listener actors use (idempotent appends, epochs, fenced
//! snapshots). The real backends are tested by `tests/store_contract.rs`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;

use crate::catalog::Song;
use crate::store::*;

#[derive(Default)]
pub struct MemStore {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    accounts: HashMap<ListenerId, Account>,
    logs: HashMap<ListenerId, Vec<LoggedInteraction>>,
    epochs: HashMap<ListenerId, u64>,
    snapshots: HashMap<ListenerId, Snapshot>,
    pub snapshot_writes: u64,
}

impl MemStore {
    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut g)
    }

    pub fn snapshot_writes(&self) -> u64 {
        self.with(|i| i.snapshot_writes)
    }
}

#[async_trait]
impl Store for MemStore {
    fn kind(&self) -> &'static str {
        "memory"
    }
    async fn ping(&self) -> StoreResult<()> {
        Ok(())
    }
    async fn create_account(&self, a: &Account) -> StoreResult<()> {
        self.with(|i| i.accounts.insert(a.id.clone(), a.clone()));
        Ok(())
    }
    async fn account(&self, id: &ListenerId) -> StoreResult<Option<Account>> {
        Ok(self.with(|i| i.accounts.get(id).cloned()))
    }
    async fn account_by_username(&self, _: &Username) -> StoreResult<Option<Account>> {
        Ok(None)
    }
    async fn set_preferences(&self, _: &ListenerId, _: &Preferences) -> StoreResult<()> {
        Ok(())
    }
    async fn put_session(&self, _: &Session, _: Duration) -> StoreResult<()> {
        Ok(())
    }
    async fn session(&self, _: &str) -> StoreResult<Option<Session>> {
        Ok(None)
    }
    async fn delete_session(&self, _: &str) -> StoreResult<()> {
        Ok(())
    }
    async fn append_interaction(&self, l: &ListenerId, it: &Interaction) -> StoreResult<Appended> {
        Ok(self.with(|i| {
            let log = i.logs.entry(l.clone()).or_default();
            if let Some(e) = log.iter().find(|e| e.interaction.id == it.id) {
                return Appended {
                    seq: e.seq,
                    duplicate: true,
                };
            }
            let seq = log.len() as u64 + 1;
            log.push(LoggedInteraction {
                seq,
                interaction: it.clone(),
            });
            Appended {
                seq,
                duplicate: false,
            }
        }))
    }
    async fn read_interactions(
        &self,
        l: &ListenerId,
        after: u64,
        limit: usize,
    ) -> StoreResult<Vec<LoggedInteraction>> {
        Ok(self.with(|i| {
            i.logs
                .get(l)
                .map(|log| {
                    log.iter()
                        .filter(|e| e.seq > after)
                        .take(limit)
                        .cloned()
                        .collect()
                })
                .unwrap_or_default()
        }))
    }
    async fn last_seq(&self, l: &ListenerId) -> StoreResult<u64> {
        Ok(self.with(|i| i.logs.get(l).map(|v| v.len() as u64).unwrap_or(0)))
    }
    async fn acquire_epoch(&self, l: &ListenerId, _: &NodeId) -> StoreResult<u64> {
        Ok(self.with(|i| {
            let e = i.epochs.entry(l.clone()).or_default();
            *e += 1;
            *e
        }))
    }
    async fn current_epoch(&self, l: &ListenerId) -> StoreResult<u64> {
        Ok(self.with(|i| i.epochs.get(l).copied().unwrap_or(0)))
    }
    async fn put_snapshot(&self, l: &ListenerId, s: &Snapshot) -> StoreResult<()> {
        self.with(|i| {
            let current = i.epochs.get(l).copied().unwrap_or(0);
            if s.epoch != current {
                return Err(StoreError::Fenced {
                    held: s.epoch,
                    current,
                });
            }
            i.snapshots.insert(l.clone(), s.clone());
            i.snapshot_writes += 1;
            Ok(())
        })
    }
    async fn snapshot(&self, l: &ListenerId) -> StoreResult<Option<Snapshot>> {
        Ok(self.with(|i| i.snapshots.get(l).cloned()))
    }
    async fn heartbeat(&self, _: &NodeInfo, _: Duration) -> StoreResult<()> {
        Ok(())
    }
    async fn live_nodes(&self) -> StoreResult<Vec<LiveNode>> {
        Ok(Vec::new())
    }
    async fn deregister(&self, _: &NodeId) -> StoreResult<()> {
        Ok(())
    }
    async fn put_playlist(&self, _: &Playlist) -> StoreResult<()> {
        Ok(())
    }
    async fn playlist(&self, _: &ListenerId, _: &PlaylistId) -> StoreResult<Option<Playlist>> {
        Ok(None)
    }
    async fn playlists(&self, _: &ListenerId) -> StoreResult<Vec<Playlist>> {
        Ok(Vec::new())
    }
    async fn delete_playlist(&self, _: &ListenerId, _: &PlaylistId) -> StoreResult<()> {
        Ok(())
    }
    async fn put_catalog(&self, _: &[Song]) -> StoreResult<()> {
        Ok(())
    }
    async fn catalog(&self) -> StoreResult<Vec<Song>> {
        Ok(Vec::new())
    }
}
