//! `spoofify eval --signals`: what each training signal adds — playlist adds and
//! removals, finishes of songs found by search, repeat plays weighing more — as
//! ablation rows over the same simulated listening.
//!
//! Protocol (seeded, deterministic): listeners with a scene taste (as in
//! `social_eval`, tired of a song heard within [`FATIGUE_PLAYS`] plays) listen to
//! [`ROUNDS`] feed pages of 10. Besides finishing, skipping and liking, they put
//! [`PLAYLIST_ADD_CHANCE`] of what they finish in a playlist, take songs outside their
//! taste out of it again ([`PLAYLIST_REMOVE_CHANCE`] a round), and after
//! [`SEARCH_CHANCE`] of the pages search for a song they love and play it. They do
//! the same in every row; what differs is what the log and the model learn:
//! - "finishes, skips, likes only": playlist edits are not logged, a search play is a
//!   plain finish, a repeat weighs as one finish (the model before these signals);
//! - one row per signal added on its own, and "all signals" (the product).
//!
//! Reported per row: the feed's skip rate over the first 3 pages and over the rest,
//! and NDCG@10 of held-out songs (each one the taste finishes ranked among
//! [`NEGATIVES`](super::social_eval::NEGATIVES) it skips) after 3 pages and at the end.

use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use std::collections::{HashSet, VecDeque};

use super::eval::EvalArgs;
use super::social_eval::{catalogs, held_out, ndcg_of_first, par_map, Scene, NOW_MS};
use spoofify_service::model::listener_model::mix;
use spoofify_service::model::{CatalogIndex, EngineKind, ListenerModel, Ranking};
use spoofify_service::store::types::{ClientId, Interaction, InteractionKind, LoggedInteraction};

/// Simulated listeners per row.
pub const LISTENERS: usize = 96;
/// Feed pages each listener hears.
pub const ROUNDS: usize = 12;
/// Songs per page.
pub const PAGE: usize = 10;
/// Pages counted as "early".
pub const EARLY_ROUNDS: usize = 3;
/// Share of finishes put in a playlist.
pub const PLAYLIST_ADD_CHANCE: f64 = 0.3;
/// Chance per round that each playlist song outside the taste is taken out.
pub const PLAYLIST_REMOVE_CHANCE: f64 = 0.5;
/// Chance per page that the listener then searches for a song they love.
pub const SEARCH_CHANCE: f64 = 0.5;
/// Share of finishes of loved songs that are also liked.
pub const LIKE_SHARE: f64 = 0.2;
/// A song heard within this many plays is worth [`FATIGUE_FACTOR`] of its chance.
pub const FATIGUE_PLAYS: usize = 20;
pub const FATIGUE_FACTOR: f32 = 0.3;

/// Which signals a row's log and model learn.
#[derive(Debug, Clone, Copy)]
struct Variant {
    name: &'static str,
    adds: bool,
    removes: bool,
    search: bool,
    repeats: bool,
}

const VARIANTS: [Variant; 6] = [
    Variant {
        name: "finishes, skips, likes only",
        adds: false,
        removes: false,
        search: false,
        repeats: false,
    },
    Variant {
        name: "+ added to a playlist",
        adds: true,
        removes: false,
        search: false,
        repeats: false,
    },
    Variant {
        name: "+ removed from a playlist",
        adds: false,
        removes: true,
        search: false,
        repeats: false,
    },
    Variant {
        name: "+ finished from a search",
        adds: false,
        removes: false,
        search: true,
        repeats: false,
    },
    Variant {
        name: "+ repeat plays weigh more",
        adds: false,
        removes: false,
        search: false,
        repeats: true,
    },
    Variant {
        name: "all signals (the product)",
        adds: true,
        removes: true,
        search: true,
        repeats: true,
    },
];

#[derive(Debug, Clone, Serialize)]
pub struct SignalRow {
    pub signals: String,
    pub skip_rate_early: f64,
    pub skip_rate_later: f64,
    pub ndcg_early: f64,
    pub ndcg_end: f64,
    /// Mean interactions logged per listener.
    pub interactions: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct SignalReport {
    pub catalog: String,
    pub listeners: usize,
    pub rounds: usize,
    pub rows: Vec<SignalRow>,
}

/// One listener's session under one variant.
struct Session<'a> {
    index: &'a CatalogIndex,
    scene: &'a Scene,
    variant: Variant,
    model: ListenerModel,
    rng: ChaCha8Rng,
    seq: u64,
    recent: VecDeque<u32>,
    heard: HashSet<u32>,
    playlist: Vec<u32>,
}

impl Session<'_> {
    fn log(&mut self, song: u32, kind: InteractionKind) {
        self.seq += 1;
        let Ok(id) = ClientId::parse(&format!("sig-{:06}", self.seq)) else {
            return;
        };
        let entry = LoggedInteraction {
            seq: self.seq,
            interaction: Interaction {
                id,
                song_id: self.index.catalog().songs()[song as usize].id.clone(),
                kind,
                position_ms: 0,
                at_ms: NOW_MS + self.seq * 180_000,
            },
        };
        self.model.apply(&entry);
    }

    /// Plays one song; returns whether it was finished.
    fn play(&mut self, song: u32, from_search: bool) -> bool {
        let mut p = self.scene.finish_probability(song);
        if self.recent.contains(&song) {
            p *= FATIGUE_FACTOR;
        }
        self.recent.push_back(song);
        if self.recent.len() > FATIGUE_PLAYS {
            self.recent.pop_front();
        }
        self.heard.insert(song);
        let finished = self.rng.random::<f32>() < p;
        let loved = self.scene.finish_probability(song) > 0.5;
        let kind = match (finished, from_search && self.variant.search) {
            (false, _) => InteractionKind::Skipped,
            (true, true) => InteractionKind::SearchFinished,
            (true, false) if loved && self.rng.random_bool(LIKE_SHARE) => InteractionKind::Liked,
            (true, false) => InteractionKind::Finished,
        };
        self.log(song, kind);
        if finished && !self.playlist.contains(&song) && self.rng.random_bool(PLAYLIST_ADD_CHANCE) {
            self.playlist.push(song);
            if self.variant.adds {
                self.log(song, InteractionKind::AddedToPlaylist);
            }
        }
        finished
    }

    fn ndcg(&mut self, seed: u64) -> f64 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let (pos, neg) = held_out(self.scene, &self.heard, self.index.len(), &mut rng);
        let prefs = self.scene.prefs();
        let v: Vec<f64> = pos
            .iter()
            .enumerate()
            .map(|(i, &p)| {
                let mut list = vec![p];
                list.extend_from_slice(&neg);
                let s = self.model.score_songs(
                    self.index,
                    &prefs,
                    &list,
                    Ranking::Model,
                    mix(seed, i as u64),
                );
                ndcg_of_first(&s)
            })
            .collect();
        v.iter().sum::<f64>() / v.len().max(1) as f64
    }
}

/// (skips early, pages early, skips later, pages later, ndcg early, ndcg end, logged).
type Outcome = (f64, f64, f64, f64, f64, f64, f64);

fn session(index: &CatalogIndex, scene: &Scene, variant: Variant, seed: u64) -> Outcome {
    let mut model = ListenerModel::new(EngineKind::Histogram, seed);
    model.set_repeat_weighting(variant.repeats);
    let mut s = Session {
        index,
        scene,
        variant,
        model,
        rng: ChaCha8Rng::seed_from_u64(seed),
        seq: 0,
        recent: VecDeque::new(),
        heard: HashSet::new(),
        playlist: Vec::new(),
    };
    let prefs = scene.prefs();
    let loved = scene.songs();
    let mut out = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    for round in 0..ROUNDS {
        let page = s.model.feed(index, &prefs, PAGE, mix(seed, round as u64));
        let mut skips = 0.0;
        for item in &page {
            if let Some(song) = index.index_of(&item.song_id) {
                skips += f64::from(u8::from(!s.play(song, false)));
            }
        }
        let n = page.len().max(1) as f64;
        if round < EARLY_ROUNDS {
            out.0 += skips;
            out.1 += n;
        } else {
            out.2 += skips;
            out.3 += n;
        }
        if s.rng.random_bool(SEARCH_CHANCE) {
            let unheard: Vec<u32> = loved
                .iter()
                .copied()
                .filter(|x| !s.heard.contains(x))
                .collect();
            if let Some(&song) = unheard.choose(&mut s.rng) {
                s.play(song, true);
            }
        }
        let playlist = std::mem::take(&mut s.playlist);
        let mut kept = Vec::with_capacity(playlist.len());
        for song in playlist {
            let outside = scene.finish_probability(song) < 0.5;
            if outside && s.rng.random_bool(PLAYLIST_REMOVE_CHANCE) {
                if variant.removes {
                    s.log(song, InteractionKind::RemovedFromPlaylist);
                }
            } else {
                kept.push(song);
            }
        }
        s.playlist = kept;
        s.model.refit(index);
        if round + 1 == EARLY_ROUNDS {
            out.4 = s.ndcg(mix(seed, 0xea));
        }
    }
    out.5 = s.ndcg(mix(seed, 0xed));
    out.6 = s.seq as f64;
    out
}

/// Runs the ablation on `index`.
pub fn evaluate(index: &CatalogIndex, note: &str, seed: u64, threads: usize) -> SignalReport {
    let mut rng = ChaCha8Rng::seed_from_u64(mix(seed, 0x5349_474e));
    let scenes: Vec<Scene> = (0..LISTENERS)
        .map(|_| Scene::draw(index.catalog(), &mut rng))
        .collect();
    let rows = VARIANTS
        .iter()
        .map(|&v| {
            let jobs: Vec<usize> = (0..LISTENERS).collect();
            let outs = par_map(&jobs, threads, |&t| {
                session(index, &scenes[t], v, mix(seed, 0x1000 + t as u64))
            });
            let sum = |f: fn(&Outcome) -> f64| outs.iter().map(f).sum::<f64>();
            let l = outs.len().max(1) as f64;
            SignalRow {
                signals: v.name.to_owned(),
                skip_rate_early: sum(|o| o.0) / sum(|o| o.1).max(1.0),
                skip_rate_later: sum(|o| o.2) / sum(|o| o.3).max(1.0),
                ndcg_early: sum(|o| o.4) / l,
                ndcg_end: sum(|o| o.5) / l,
                interactions: sum(|o| o.6) / l,
            }
        })
        .collect();
    SignalReport {
        catalog: note.to_owned(),
        listeners: LISTENERS,
        rounds: ROUNDS,
        rows,
    }
}

/// `spoofify eval --signals`: prints the ablation table (or JSON) per catalog.
pub fn run(args: &EvalArgs) -> anyhow::Result<()> {
    for (catalog, note) in catalogs(args)? {
        let index = CatalogIndex::build(catalog);
        let report = evaluate(&index, &note, args.seed, args.threads);
        if args.json {
            println!("{}", serde_json::to_string_pretty(&report)?);
            continue;
        }
        println!(
            "spoofify eval --signals: {note}; {LISTENERS} listeners x {ROUNDS} pages of {PAGE} \
             (plus searches and playlist edits); the same behaviour in every row, only what \
             is learned differs"
        );
        println!(
            "| signals learned | skip rate, pages 1-{EARLY_ROUNDS} | skip rate, pages {}-{ROUNDS} | \
             NDCG@10 after {EARLY_ROUNDS} pages | NDCG@10 at the end | interactions logged |",
            EARLY_ROUNDS + 1
        );
        println!("|---|---:|---:|---:|---:|---:|");
        for r in &report.rows {
            println!(
                "| {} | {:.1} % | {:.1} % | {:.3} | {:.3} | {:.0} |",
                r.signals,
                r.skip_rate_early * 100.0,
                r.skip_rate_later * 100.0,
                r.ndcg_early,
                r.ndcg_end,
                r.interactions
            );
        }
    }
    Ok(())
}
