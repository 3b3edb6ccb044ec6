//! The listener model and its feed: labels, cold start, no repeats, diversity,
//! snapshots, and rebuilding from the log.

use std::collections::HashSet;
use std::sync::Arc;

use spoofify_service::catalog::{Catalog, SongId};
use spoofify_service::model::labels::{WEIGHT_LATE_SKIP, WEIGHT_LIKED};
use spoofify_service::model::rotation::REPLAY_MIN_PLAYS;
use spoofify_service::model::{
    CatalogIndex, ColdReason, EngineKind, FitStatus, ListenerModel, Reason,
};
use spoofify_service::store::types::{
    ClientId, Interaction, InteractionKind, LoggedInteraction, Preferences,
};
use spoofify_tools::sim::synthetic_catalog;

fn index(n: usize) -> CatalogIndex {
    CatalogIndex::build(Arc::new(synthetic_catalog(n, 5)))
}

fn entry(seq: u64, song: &SongId, kind: InteractionKind, position_ms: u64) -> LoggedInteraction {
    LoggedInteraction {
        seq,
        interaction: Interaction {
            id: ClientId::parse(&format!("test-{seq:06}")).unwrap(),
            song_id: song.clone(),
            kind,
            position_ms,
            // A minute apart.
            at_ms: seq * 60_000,
        },
    }
}

fn prefs(genres: &[&str]) -> Preferences {
    Preferences {
        genres: genres.iter().map(|g| g.to_string()).collect(),
        seed_songs: Vec::new(),
        onboarded: true,
    }
}

/// A log where the listener finishes `genre` and skips everything else early.
fn genre_log(catalog: &Catalog, genre: &str, n: usize) -> Vec<LoggedInteraction> {
    catalog
        .songs()
        .iter()
        .take(n)
        .enumerate()
        .map(|(i, s)| {
            let (kind, pos) = if s.genre == genre {
                (InteractionKind::Finished, s.duration_ms)
            } else {
                (InteractionKind::Skipped, 5_000)
            };
            entry(i as u64 + 1, &s.id, kind, pos)
        })
        .collect()
}

fn assert_page_rules(idx: &CatalogIndex, feed: &[spoofify_service::model::FeedItem]) {
    let ids: HashSet<&SongId> = feed.iter().map(|f| &f.song_id).collect();
    assert_eq!(ids.len(), feed.len(), "a song appears twice in one page");
    for w in feed.windows(2) {
        let a = idx.catalog().get(&w[0].song_id).unwrap();
        let b = idx.catalog().get(&w[1].song_id).unwrap();
        assert_ne!(a.artist, b.artist, "same artist back to back");
        assert_ne!(a.album, b.album, "same album back to back");
    }
}

#[test]
fn labels_follow_the_rules() {
    let idx = index(50);
    let c = idx.catalog();
    let s = |i: usize| c.songs()[i].id.clone();
    let d = |i: usize| c.songs()[i].duration_ms;
    let mut m = ListenerModel::new(EngineKind::Histogram, 1);
    let log = [
        entry(1, &s(0), InteractionKind::Finished, d(0)),
        entry(2, &s(1), InteractionKind::Skipped, 1_000), // early: negative
        entry(3, &s(2), InteractionKind::Skipped, d(2) * 9 / 10), // late: weak negative
        entry(4, &s(3), InteractionKind::Liked, d(3)),
        entry(5, &s(4), InteractionKind::Disliked, 0),
        entry(6, &s(5), InteractionKind::Skipped, 1_000),
        entry(7, &s(5), InteractionKind::Finished, d(5)), // repeat: latest wins
    ];
    for e in &log {
        assert!(m.apply(e));
    }
    assert!(!m.apply(&log[3]), "an old seq is ignored");
    let rows = m.training_input(c);
    let get = |i: usize| rows.iter().find(|r| r.song_id == s(i)).unwrap();
    assert_eq!(rows.len(), 6);
    assert!(get(0).positive && !get(1).positive && !get(2).positive);
    assert!(get(3).positive && !get(4).positive && get(5).positive);
    assert!(get(2).weight < get(1).weight / 2.0, "a late skip is weak");
    assert!((get(2).weight - WEIGHT_LATE_SKIP).abs() < 0.05);
    assert!(
        get(3).weight > get(0).weight,
        "a like counts more than a finish"
    );
    assert!(get(3).weight <= WEIGHT_LIKED);
    assert!(get(0).weight < get(5).weight, "older signals weigh less");
    assert_eq!(rows.last().unwrap().song_id, s(5), "rows are oldest first");
}

#[test]
fn cold_start_serves_chosen_genres_and_popular_songs() {
    let idx = index(600);
    let m = ListenerModel::new(EngineKind::Histogram, 1);
    assert!(m.is_cold());
    // The genre with the most songs, so the per-artist cap leaves room for it.
    let genre = idx
        .catalog()
        .genres()
        .into_iter()
        .max_by_key(|g| idx.genre(g).len())
        .unwrap();
    let feed = m.feed(&idx, &prefs(&[&genre]), 10, 3);
    assert_eq!(feed.len(), 10);
    assert_page_rules(&idx, &feed);
    let chosen = feed
        .iter()
        .filter(|f| idx.catalog().get(&f.song_id).unwrap().genre == genre)
        .count();
    assert!(chosen >= 6, "only {chosen}/10 from the chosen genre");
    assert!(feed.iter().all(|f| !f.reason.to_string().is_empty()));
    assert_eq!(
        feed,
        m.feed(&idx, &prefs(&[&genre]), 10, 3),
        "deterministic"
    );
}

#[test]
fn one_class_stays_cold_then_the_model_takes_over() {
    let idx = index(600);
    let c = idx.catalog();
    let mut m = ListenerModel::new(EngineKind::Histogram, 1);
    let jazz: Vec<&SongId> = c
        .songs()
        .iter()
        .filter(|s| s.genre == "jazz")
        .map(|s| &s.id)
        .collect();
    for (i, id) in jazz.iter().take(3).enumerate() {
        m.apply(&entry(i as u64 + 1, id, InteractionKind::Finished, 400_000));
    }
    assert_eq!(
        m.refit(&idx),
        FitStatus::Cold(ColdReason::TooFewLabels { labels: 3 })
    );
    m.apply(&entry(4, jazz[3], InteractionKind::Finished, 400_000));
    assert_eq!(m.refit(&idx), FitStatus::Cold(ColdReason::OneClass));
    assert!(m.is_cold());
    assert_eq!(m.feed(&idx, &prefs(&[]), 10, 1).len(), 10);
    let rock = c.songs().iter().find(|s| s.genre == "metal").unwrap();
    m.apply(&entry(5, &rock.id, InteractionKind::Skipped, 1_000));
    assert_eq!(m.refit(&idx), FitStatus::Fitted { rows: 5 });
    assert!(!m.is_cold());
}

#[test]
fn a_fitted_feed_learns_the_genre_and_repeats_nothing_recent() {
    let idx = index(800);
    let mut m = ListenerModel::new(EngineKind::Histogram, 9);
    let log = genre_log(idx.catalog(), "metal", 300);
    for e in &log {
        m.apply(e);
    }
    assert!(matches!(m.refit(&idx), FitStatus::Fitted { .. }));
    let feed = m.feed(&idx, &prefs(&["pop"]), 20, 4);
    assert_eq!(feed.len(), 20);
    assert_page_rules(&idx, &feed);
    // Nothing from the latest plays; a skipped song only as a second chance (100
    // plays and 3 hours after the skip); favorites only as such.
    let played: HashSet<&SongId> = log
        .iter()
        .rev()
        .take(REPLAY_MIN_PLAYS as usize)
        .map(|e| &e.interaction.song_id)
        .collect();
    assert!(
        feed.iter().all(|f| !played.contains(&f.song_id)),
        "offered a song just played"
    );
    let rejected: HashSet<&SongId> = log
        .iter()
        .filter(|e| e.interaction.kind == InteractionKind::Skipped)
        .map(|e| &e.interaction.song_id)
        .collect();
    for f in feed.iter().filter(|f| rejected.contains(&f.song_id)) {
        assert_eq!(f.reason, Reason::SecondChance, "{f:?}");
        let last = log
            .iter()
            .rposition(|e| e.interaction.song_id == f.song_id)
            .unwrap();
        assert!(log.len() - 1 - last >= 100, "{f:?} skipped too recently");
    }
    let finished: HashSet<&SongId> = log
        .iter()
        .filter(|e| e.interaction.kind == InteractionKind::Finished)
        .map(|e| &e.interaction.song_id)
        .collect();
    for f in &feed {
        assert_eq!(
            f.reason == Reason::Favorite,
            finished.contains(&f.song_id),
            "{f:?}: favorites are exactly the songs finished before"
        );
    }
    assert!(
        feed.iter().any(|f| f.reason == Reason::Favorite),
        "a listener who skips 90% of new songs gets favorites"
    );
    // The listener skipped 90 % lately, so exploration takes a large share (away from
    // what they skip); the rest is what the model learnt.
    let ranked: Vec<_> = feed
        .iter()
        .filter(|f| f.reason != Reason::Exploration)
        .collect();
    let metal = ranked
        .iter()
        .filter(|f| idx.catalog().get(&f.song_id).unwrap().genre == "metal")
        .count();
    assert!(
        metal * 10 >= ranked.len() * 8,
        "only {metal}/{} metal among ranked items after 300 interactions",
        ranked.len()
    );
    let explored = feed
        .iter()
        .filter(|f| f.reason == Reason::Exploration)
        .count();
    // 10% exploration, more when the listener skips most of what they get (here 90%).
    assert!(
        (2..=10).contains(&explored),
        "{explored} exploration items of 20"
    );
}

#[test]
fn snapshot_round_trip_and_rebuild_from_log() {
    let idx = index(500);
    let genre = idx.catalog().songs()[0].genre.clone();
    let log = genre_log(idx.catalog(), &genre, 120);
    for kind in EngineKind::ALL {
        let mut m = ListenerModel::new(kind, 2);
        for e in &log {
            m.apply(e);
        }
        assert!(matches!(m.refit(&idx), FitStatus::Fitted { .. }), "{kind}");
        let bytes = m.to_snapshot_bytes();
        let back = ListenerModel::from_snapshot_bytes(&bytes, &idx).unwrap();
        assert_eq!(back.last_seq(), 120);
        assert!(!back.needs_refit());
        let p = prefs(&[&genre]);
        assert_eq!(back.feed(&idx, &p, 10, 5), m.feed(&idx, &p, 10, 5));
        // A model rebuilt from the log has the same input, and the same model.
        let mut rebuilt = ListenerModel::new(kind, 2);
        for e in &log {
            rebuilt.apply(e);
        }
        assert_eq!(
            rebuilt.training_input(idx.catalog()),
            m.training_input(idx.catalog())
        );
        rebuilt.refit(&idx);
        assert_eq!(rebuilt.to_snapshot_bytes(), bytes, "{kind}");
    }
    assert!(ListenerModel::from_snapshot_bytes(b"junk", &idx).is_err());
}

#[test]
fn a_snapshot_from_another_catalog_keeps_labels_and_drops_the_model() {
    let idx = index(500);
    let other = CatalogIndex::build(Arc::new(synthetic_catalog(500, 6)));
    let mut m = ListenerModel::new(EngineKind::Histogram, 2);
    let genre = idx.catalog().songs()[0].genre.clone();
    for e in genre_log(idx.catalog(), &genre, 60) {
        m.apply(&e);
    }
    assert!(matches!(m.refit(&idx), FitStatus::Fitted { .. }));
    let back = ListenerModel::from_snapshot_bytes(&m.to_snapshot_bytes(), &other).unwrap();
    assert!(back.is_cold() && back.needs_refit());
    assert_eq!(back.last_seq(), 60);
}

#[test]
fn the_actor_can_move_the_model_and_its_fits_across_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<ListenerModel>();
    send_sync::<spoofify_service::model::FitJob>();
    send_sync::<spoofify_service::model::listener_model::FitOutcome>();
    send_sync::<CatalogIndex>();
}
