//! Listener actors and their supervisor on one node, against an in-memory store.

use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::catalog::{Catalog, Features, Song, SongId, SongSource};
use crate::config::ListenerSettings;
use crate::store::embedded::EmbeddedStore;
use crate::store::*;

const DEADLINE: Duration = Duration::from_secs(5);

fn settings() -> ListenerSettings {
    ListenerSettings {
        idle_passivation_secs: 600,
        fit_debounce_ms: 20,
        snapshot_every: 5,
        log_keep: 1000,
        restart_budget: 3,
        restart_window_secs: 60,
        restart_backoff_ms: 10,
        degraded_cooldown_secs: 60,
    }
}

fn catalog() -> CatalogHandle {
    let songs = (0..30)
        .map(|i| Song {
            id: SongId::parse(&format!("demo-{i:04}")).unwrap(),
            title: format!("Song {i}"),
            artist: "A".into(),
            album: "B".into(),
            genre: ["rock", "jazz", "ambient"][i % 3].into(),
            duration_ms: 180_000,
            year: None,
            source: SongSource::Imported {
                path: "x".into(),
                size: 0,
                mtime_ms: 0,
            },
            features: Features::from_raw([i as f32; 8]),
            popularity: (i as f32) / 30.0,
        })
        .collect();
    let h = CatalogHandle::default();
    h.set(Arc::new(Catalog::new(songs)));
    h
}

async fn start(store: Arc<EmbeddedStore>, settings: ListenerSettings) -> Listeners {
    let catalog = catalog();
    let env = ListenerEnv {
        store,
        catalog: catalog.clone(),
        node_id: NodeId::parse("n1").unwrap(),
        settings,
        engine: crate::model::EngineKind::Histogram,
        index: crate::model::IndexCache::new(catalog.clone()),
        takeover: Default::default(),
    };
    Listeners::start(env).await.unwrap().0
}

fn interaction(n: usize) -> Interaction {
    Interaction {
        id: ClientId::parse(&format!("client-id-{n:04}")).unwrap(),
        song_id: SongId::parse(&format!("demo-{:04}", n % 30)).unwrap(),
        kind: if n.is_multiple_of(2) {
            InteractionKind::Finished
        } else {
            InteractionKind::Skipped
        },
        position_ms: 1000,
        at_ms: now_ms(),
    }
}

async fn append(
    store: &EmbeddedStore,
    l: &Listeners,
    id: &ListenerId,
    range: std::ops::Range<usize>,
) {
    for n in range {
        store.append_interaction(id, &interaction(n)).await.unwrap();
        l.notify(id);
    }
}

/// A real embedded store (redb) in a fresh temporary directory.
async fn new_store() -> (tempfile::TempDir, Arc<EmbeddedStore>) {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(&dir.path().join("store.redb"))
        .await
        .unwrap();
    (dir, Arc::new(store))
}

/// Polls `f` until it returns Some or the deadline passes.
async fn eventually<T, F: std::future::Future<Output = Option<T>>>(
    what: &str,
    mut f: impl FnMut() -> F,
) -> T {
    let end = tokio::time::Instant::now() + DEADLINE;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < end,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn feed_reflects_every_appended_interaction() {
    let (_dir, store) = new_store().await;
    let l = start(store.clone(), settings()).await;
    let id = ListenerId::parse("alice").unwrap();
    append(&store, &l, &id, 0..3).await;
    let first = l.feed(&id, 10, DEADLINE).await.unwrap();
    assert_eq!(first.items.len(), 10);
    assert_eq!(
        (first.status.applied_seq, first.status.training_rows),
        (3, 3)
    );
    append(&store, &l, &id, 3..12).await;
    let st = l.status(&id, DEADLINE).await.unwrap();
    assert_eq!((st.applied_seq, st.training_rows), (12, 12));
    // The debounced fit catches up with the training input.
    eventually("the fit to cover all rows", || {
        let l = l.clone();
        let id = id.clone();
        async move { (l.status(&id, DEADLINE).await.ok()?.fitted_rows == 12).then_some(()) }
    })
    .await;
    assert_eq!(l.active_count(), 1);
}

#[tokio::test]
async fn a_failed_listener_is_restarted_from_the_store_with_nothing_lost() {
    let (_dir, store) = new_store().await;
    let l = start(store.clone(), settings()).await;
    let id = ListenerId::parse("bob").unwrap();
    append(&store, &l, &id, 0..8).await;
    let before = l.status(&id, DEADLINE).await.unwrap();
    assert!(l.inject_failure(&id));
    // Appended while the actor is down: must be in the restarted actor's training input.
    append(&store, &l, &id, 8..10).await;
    let after = eventually("the restarted listener", || {
        let l = l.clone();
        let id = id.clone();
        async move {
            l.status(&id, DEADLINE)
                .await
                .ok()
                .filter(|s| s.epoch > before.epoch)
        }
    })
    .await;
    assert_eq!((after.applied_seq, after.training_rows), (10, 10));
    assert_eq!(l.active_count(), 1);
}

#[tokio::test]
async fn past_the_restart_budget_the_listener_is_degraded() {
    let (_dir, store) = new_store().await;
    let l = start(store.clone(), settings()).await;
    let id = ListenerId::parse("carol").unwrap();
    append(&store, &l, &id, 0..2).await;
    let mut last_epoch = 0;
    for _ in 0..=settings().restart_budget {
        let st = eventually("an active listener", || {
            let l = l.clone();
            let id = id.clone();
            async move {
                l.status(&id, DEADLINE)
                    .await
                    .ok()
                    .filter(|s| s.epoch > last_epoch)
            }
        })
        .await;
        last_epoch = st.epoch;
        assert!(l.inject_failure(&id));
    }
    let err = eventually("the degraded answer", || {
        let l = l.clone();
        let id = id.clone();
        async move {
            match l.feed(&id, 5, DEADLINE).await {
                Err(Unserved::Degraded(why)) => Some(why),
                _ => None,
            }
        }
    })
    .await;
    assert!(err.contains("failed 4 times"), "{err}");
}

#[tokio::test]
async fn an_idle_listener_passivates_with_a_snapshot_and_comes_back_from_it() {
    let (_dir, store) = new_store().await;
    let l = start(
        store.clone(),
        ListenerSettings {
            idle_passivation_secs: 1,
            ..settings()
        },
    )
    .await;
    let id = ListenerId::parse("dave").unwrap();
    append(&store, &l, &id, 0..4).await;
    l.feed(&id, 5, DEADLINE).await.unwrap();
    eventually("passivation", || {
        let n = l.active_count();
        async move { (n == 0).then_some(()) }
    })
    .await;
    let snap = store
        .snapshot(&id)
        .await
        .unwrap()
        .expect("a snapshot on passivation");
    assert_eq!(snap.covers_seq, 4);
    append(&store, &l, &id, 4..6).await;
    let st = l.status(&id, DEADLINE).await.unwrap();
    assert_eq!((st.applied_seq, st.training_rows), (6, 6));
}

#[tokio::test]
async fn an_activation_that_replays_a_long_log_snapshots_at_once() {
    let (_dir, store) = new_store().await;
    let l = start(store.clone(), settings()).await;
    let id = ListenerId::parse("fay").unwrap();
    // Written while no actor runs (as on a node that died before its snapshot): the
    // next activation replays them all, and no later entry will bring a fit.
    for n in 0..8 {
        store
            .append_interaction(&id, &interaction(n))
            .await
            .unwrap();
    }
    l.feed(&id, 5, DEADLINE).await.unwrap();
    let snap = eventually("the new owner's snapshot", || {
        let (store, id) = (store.clone(), id.clone());
        async move { store.snapshot(&id).await.unwrap() }
    })
    .await;
    assert_eq!(snap.covers_seq, 8);
    assert_eq!(l.active_count(), 1, "it snapshots without retiring");
}

#[tokio::test]
async fn a_fenced_listener_stops_and_writes_nothing() {
    let (_dir, store) = new_store().await;
    let l = start(
        store.clone(),
        ListenerSettings {
            idle_passivation_secs: 1,
            ..settings()
        },
    )
    .await;
    let id = ListenerId::parse("erin").unwrap();
    append(&store, &l, &id, 0..3).await;
    l.feed(&id, 5, DEADLINE).await.unwrap();
    // Another node activates the listener: a newer epoch.
    store
        .acquire_epoch(&id, &NodeId::parse("n2").unwrap())
        .await
        .unwrap();
    append(&store, &l, &id, 3..20).await;
    eventually("the fenced actor to stop", || {
        let n = l.active_count();
        async move { (n == 0).then_some(()) }
    })
    .await;
    assert!(store.snapshot(&id).await.unwrap().is_none());
}

#[tokio::test]
async fn a_long_log_is_compacted_behind_snapshots_and_the_model_survives_it() {
    let (_dir, store) = new_store().await;
    let keep = 10;
    let l = start(
        store.clone(),
        ListenerSettings {
            log_keep: keep,
            ..settings()
        },
    )
    .await;
    let id = ListenerId::parse("frank").unwrap();
    // Active first, so each chunk's entries reach it as new (a fit, then a snapshot).
    l.status(&id, DEADLINE).await.unwrap();
    for chunk in 0..20usize {
        let end = chunk * 10 + 10;
        append(&store, &l, &id, chunk * 10..end).await;
        // A snapshot is written once 5 (snapshot_every) entries are new since the last.
        eventually("a snapshot covering the chunk", || {
            let (store, l, id) = (store.clone(), &l, id.clone());
            async move {
                l.status(&id, DEADLINE).await.ok()?;
                let snap = store.snapshot(&id).await.unwrap()?;
                (snap.covers_seq + 5 > end as u64).then_some(())
            }
        })
        .await;
    }
    let floor = store.log_floor(&id).await.unwrap();
    let log = store.read_interactions(&id, 0, 1000).await.unwrap();
    // Without compaction all 200 entries would be here; with it, at most the kept ones
    // plus what piles up between compactions (a quarter of keep) and one chunk.
    assert!(floor > 0, "never compacted");
    assert!(
        log.len() <= 10 + 3 + 10,
        "log still holds {} entries",
        log.len()
    );
    assert_eq!(log.first().map(|e| e.seq), Some(floor + 1));
    assert_eq!(store.last_seq(&id).await.unwrap(), 200);

    let before = l.status(&id, DEADLINE).await.unwrap();
    assert_eq!(
        l.retire_where(RetireReason::Passivated, |_| true, DEADLINE)
            .await,
        1
    );
    let after = l.status(&id, DEADLINE).await.unwrap();
    assert_eq!(after.applied_seq, 200);
    assert_eq!(after.training_digest, before.training_digest);
    assert_eq!(after.training_rows, before.training_rows);
}

#[tokio::test]
async fn the_newer_signals_are_folded_and_a_rebuilt_actor_has_the_same_training_input() {
    let (_dir, store) = new_store().await;
    let l = start(store.clone(), settings()).await;
    let id = ListenerId::parse("gina").unwrap();
    let kinds = [
        (0, InteractionKind::Finished),
        (1, InteractionKind::Skipped),
        (2, InteractionKind::AddedToPlaylist),
        (3, InteractionKind::SearchFinished),
        (4, InteractionKind::Finished),
        (4, InteractionKind::Finished), // a repeat
        (5, InteractionKind::Liked),
        (5, InteractionKind::RemovedFromPlaylist),
        (6, InteractionKind::Disliked),
        (7, InteractionKind::AddedToPlaylist),
        (8, InteractionKind::Skipped),
        (9, InteractionKind::SearchFinished),
    ];
    for (n, (song, kind)) in kinds.iter().enumerate() {
        let i = Interaction {
            id: ClientId::parse(&format!("signal-id-{n:04}")).unwrap(),
            song_id: SongId::parse(&format!("demo-{song:04}")).unwrap(),
            kind: *kind,
            position_ms: 1000,
            at_ms: 1_000_000 + n as u64 * 1000,
        };
        store.append_interaction(&id, &i).await.unwrap();
        l.notify(&id);
    }
    let before = eventually("every signal applied", || {
        let (l, id) = (l.clone(), id.clone());
        async move {
            let st = l.status(&id, DEADLINE).await.ok()?;
            (st.applied_seq == kinds.len() as u64).then_some(st)
        }
    })
    .await;
    // One row per song (ten songs), playlist-only songs included.
    assert_eq!(before.training_rows, 10);

    // The same log folded by a model of its own gives the same input…
    let catalog = catalog().get().unwrap();
    let mut rebuilt = crate::model::ListenerModel::new(crate::model::EngineKind::Histogram, 1);
    for e in store.read_interactions(&id, 0, 100).await.unwrap() {
        rebuilt.apply(&e);
    }
    assert_eq!(rebuilt.input_digest(&catalog), before.training_digest);
    let rows = rebuilt.training_input(&catalog);
    let weight = |song: &str| {
        rows.iter()
            .find(|r| r.song_id.as_str() == song)
            .map(|r| (r.positive, r.weight))
            .unwrap()
    };
    // The latest signal per song, weighed by kind (recency aside): a playlist add
    // beats a search finish, which beats a finish; a repeat beats a single finish;
    // a removal from a playlist is a negative.
    let (add, search, repeat) = (
        weight("demo-0007"),
        weight("demo-0009"),
        weight("demo-0004"),
    );
    assert!(add.0 && search.0 && repeat.0);
    assert!(add.1 > search.1 && search.1 > 1.0, "{add:?} {search:?}");
    assert!(!weight("demo-0005").0);
    let single = weight("demo-0000").1;
    assert!(repeat.1 > single, "repeat {repeat:?} vs single {single}");

    // …and so does an actor restarted from the store (failover's path).
    assert!(l.inject_failure(&id));
    let after = eventually("the restarted listener", || {
        let (l, id) = (l.clone(), id.clone());
        async move {
            l.status(&id, DEADLINE)
                .await
                .ok()
                .filter(|s| s.epoch > before.epoch)
        }
    })
    .await;
    assert_eq!(after.applied_seq, kinds.len() as u64);
    assert_eq!(after.training_digest, before.training_digest);
}

#[tokio::test]
async fn a_feed_names_a_followed_friend_who_shares_and_forgets_them_when_they_stop() {
    let (_dir, store) = new_store().await;
    let l = start(store.clone(), settings()).await;
    let account = |id: &str| Account {
        id: ListenerId::parse(id).unwrap(),
        username: Username::parse(id).unwrap(),
        password_hash: "x".into(),
        created_ms: 0,
        preferences: Preferences::default(),
        session_epoch: 0,
    };
    let (a, b) = (account("anna"), account("bert"));
    store.create_account(&a).await.unwrap();
    store.create_account(&b).await.unwrap();
    let sharing = Privacy {
        share_activity: true,
        private_session_until_ms: None,
    };
    store.set_privacy(&b.id, &sharing).await.unwrap();
    // Bert finished three songs, one of them twice, and liked one.
    let now = now_ms();
    for (n, (song, kind)) in [
        (21, ActivityKind::Finished),
        (22, ActivityKind::Finished),
        (22, ActivityKind::Finished),
        (23, ActivityKind::Liked),
    ]
    .into_iter()
    .enumerate()
    {
        let entry = ActivityEntry {
            song_id: SongId::parse(&format!("demo-{song:04}")).unwrap(),
            kind,
            at_ms: now - 10_000 + n as u64,
        };
        assert!(store.push_activity(&b.id, &entry).await.unwrap());
    }
    assert_eq!(
        store.follow(&a.id, &b.id).await.unwrap(),
        FollowOutcome::Followed
    );
    let friend_reasons = |items: &[crate::model::RankedItem]| -> Vec<(String, String)> {
        items
            .iter()
            .filter(|i| i.reason.starts_with("bert "))
            .map(|i| (i.song_id.to_string(), i.reason.clone()))
            .collect()
    };
    let feed = l.feed(&a.id, 10, DEADLINE).await.unwrap();
    let named = friend_reasons(&feed.items);
    assert!(
        named.contains(&(
            "demo-0022".into(),
            "bert finished this twice this week".into()
        )),
        "{:?}",
        feed.items
    );
    assert!(
        named
            .iter()
            .all(|(s, _)| ["demo-0021", "demo-0022", "demo-0023"].contains(&s.as_str())),
        "{named:?}"
    );

    // Bert stops sharing: once the cache has expired, nothing of his is named.
    let private = Privacy {
        share_activity: false,
        ..sharing
    };
    store.set_privacy(&b.id, &private).await.unwrap();
    eventually("Bert's songs to leave Anna's feed", || {
        let (l, id) = (l.clone(), a.id.clone());
        async move {
            let feed = l.feed(&id, 10, DEADLINE).await.ok()?;
            friend_reasons(&feed.items).is_empty().then_some(())
        }
    })
    .await;
}
