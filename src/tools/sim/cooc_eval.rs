//! `spoofify eval --cooccurrence`: does learning from everyone help? Measured on a
//! population whose tastes come in shared clusters.
//!
//! Protocol (seeded, deterministic):
//! 1. Tastes: [`CLUSTERS`] taste clusters. A cluster loves a "scene": half the songs
//!    of two genres (something audio features can partly learn) plus a random
//!    [`SCENE_EXTRA_SHARE`] of the rest (something only other listeners reveal). A
//!    listener finishes a scene song with probability [`IN_SCENE`], anything else
//!    with [`OUT_OF_SCENE`].
//! 2. Population: [`POPULATION`] background listeners, spread over the clusters, each
//!    hears [`POPULATION_PLAYS`] songs (half from their scene, half at random, as
//!    a feed that already works would mix them) and reacts. Their logs go through
//!    the real counting ([`Cooccurrence`]), and the table is published into the
//!    catalog index, as the cluster job does.
//! 3. Test listeners (new people in the same clusters) with k interactions for each
//!    k in [`HISTORY`]: the same history for both policies; a model is fitted as the
//!    listener actor would. Held-out songs they have not heard, drawn the same way
//!    for both, are offered to their hidden taste: each finished one is ranked among
//!    [`NEGATIVES`] skipped ones; NDCG@10 of that rank, averaged.
//! 4. Policies: the listener's model alone (cold start below 4 labels or one class),
//!    and the model plus co-occurrence (the feed's affinity feature, [`blend_scores`],
//!    at the weight the feed gives it for that listener).

use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use std::collections::HashSet;
use std::sync::Arc;

use super::eval::{load_catalog, CatalogChoice, EvalArgs, EvalCatalogs, SYNTHETIC_SONGS};
use spoofify_service::catalog::Catalog;
use spoofify_service::model::cooccurrence::table::blend_scores;
use spoofify_service::model::cooccurrence::Cooccurrence;
use spoofify_service::model::listener_model::mix;
use spoofify_service::model::{CatalogIndex, EngineKind, ListenerModel, Ranking};
use spoofify_service::store::types::{
    ClientId, Interaction, InteractionKind, ListenerId, LoggedInteraction, Preferences,
};

/// Taste clusters in the population.
pub const CLUSTERS: usize = 8;
/// Share of songs outside a scene's two genres that belong to it anyway.
pub const SCENE_EXTRA_SHARE: f64 = 0.04;
/// Chance that a listener finishes a song of their scene / any other song.
pub const IN_SCENE: f32 = 0.9;
pub const OUT_OF_SCENE: f32 = 0.08;
/// Background listeners whose logs the co-occurrence is counted from.
pub const POPULATION: usize = 240;
/// Songs each background listener hears.
pub const POPULATION_PLAYS: usize = 80;
/// Interactions of the test listeners at each checkpoint.
pub const HISTORY: [usize; 5] = [3, 5, 10, 25, 100];
/// Test listeners per checkpoint.
pub const TEST_LISTENERS: usize = 48;
/// Held-out finished songs ranked per test listener, and the skipped songs each is
/// ranked among.
pub const HELD_OUT: usize = 10;
pub const NEGATIVES: usize = 50;
/// Rank cut-off of NDCG.
pub const TOP_K: usize = 10;

#[derive(Debug, Clone, Serialize)]
pub struct CoocRow {
    pub interactions: usize,
    pub ndcg_model: f64,
    pub ndcg_model_cooc: f64,
    pub lift: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct CoocReport {
    pub catalog: String,
    pub clusters: usize,
    pub population: usize,
    pub population_plays: usize,
    pub test_listeners: usize,
    pub published_songs: usize,
    pub published_links: usize,
    pub rows: Vec<CoocRow>,
}

/// A taste cluster's scene: which songs its listeners love.
struct Scene(Vec<bool>);

impl Scene {
    fn draw(catalog: &Catalog, rng: &mut ChaCha8Rng) -> Scene {
        let genres = catalog.genres();
        let chosen: Vec<&String> = genres.choose_multiple(rng, 2).collect();
        Scene(
            catalog
                .songs()
                .iter()
                .map(|s| {
                    if chosen.contains(&&s.genre) {
                        rng.random_bool(0.5)
                    } else {
                        rng.random_bool(SCENE_EXTRA_SHARE)
                    }
                })
                .collect(),
        )
    }

    fn finish_probability(&self, song: u32) -> f32 {
        if self.0[song as usize] {
            IN_SCENE
        } else {
            OUT_OF_SCENE
        }
    }

    fn songs(&self) -> Vec<u32> {
        (0..self.0.len() as u32)
            .filter(|&i| self.0[i as usize])
            .collect()
    }
}

/// `n` plays: half from the scene, half at random; no song twice.
fn history(scene: &Scene, n: usize, rng: &mut ChaCha8Rng) -> Vec<(u32, bool)> {
    let in_scene = scene.songs();
    let songs = scene.0.len() as u32;
    let mut heard = HashSet::new();
    let mut out = Vec::with_capacity(n);
    while out.len() < n && heard.len() < songs as usize {
        let song = if rng.random_bool(0.5) {
            in_scene.choose(rng).copied().unwrap_or(0)
        } else {
            rng.random_range(0..songs)
        };
        if heard.insert(song) {
            let finished = rng.random::<f32>() < scene.finish_probability(song);
            out.push((song, finished));
        }
    }
    out
}

fn as_log(index: &CatalogIndex, plays: &[(u32, bool)], tag: &str) -> Vec<LoggedInteraction> {
    plays
        .iter()
        .enumerate()
        .filter_map(|(i, &(song, finished))| {
            Some(LoggedInteraction {
                seq: i as u64 + 1,
                interaction: Interaction {
                    id: ClientId::parse(&format!("{tag}-{i:06}")).ok()?,
                    song_id: index.catalog().songs()[song as usize].id.clone(),
                    kind: if finished {
                        InteractionKind::Finished
                    } else {
                        InteractionKind::Skipped
                    },
                    position_ms: 0,
                    // A song a minute: one listening session.
                    at_ms: 1_700_000_000_000 + i as u64 * 60_000,
                },
            })
        })
        .collect()
}

/// Counts the population's logs and publishes the table into the index.
fn publish_population(index: &CatalogIndex, scenes: &[Scene], seed: u64) -> (usize, usize) {
    let mut counts = Cooccurrence::default();
    for p in 0..POPULATION {
        let mut rng = ChaCha8Rng::seed_from_u64(mix(seed, 0x504f_5000 + p as u64));
        let plays = history(&scenes[p % scenes.len()], POPULATION_PLAYS, &mut rng);
        let tag = format!("pop{p:04}");
        if let Ok(id) = ListenerId::parse(&tag) {
            counts.apply(&id, &as_log(index, &plays, &tag));
        }
    }
    let table = counts.table(1);
    let shape = (table.entries.len(), table.links());
    index.cooc_handle().publish(table);
    shape
}

/// NDCG@10 of each held-out finish among held-out skips, for (model, model + cooc).
fn score_listener(index: &CatalogIndex, scene: &Scene, k: usize, seed: u64) -> Vec<(f64, f64)> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let plays = history(scene, k, &mut rng);
    let log = as_log(index, &plays, "test");
    let mut model = ListenerModel::new(EngineKind::Histogram, seed);
    for e in &log {
        model.apply(e);
    }
    model.refit(index);
    let prefs = Preferences::default();
    let positives: Vec<u32> = plays.iter().rev().filter(|p| p.1).map(|p| p.0).collect();
    // The weight the feed would give the feature for this listener (how well it
    // predicted their plays so far).
    let weight = model.cooc_weight(index);
    let heard: HashSet<u32> = plays.iter().map(|p| p.0).collect();
    let mut order: Vec<u32> = (0..index.len() as u32)
        .filter(|s| !heard.contains(s))
        .collect();
    order.shuffle(&mut rng);
    let (mut pos, mut neg) = (Vec::new(), Vec::new());
    for s in order {
        if rng.random::<f32>() < scene.finish_probability(s) {
            if pos.len() < HELD_OUT {
                pos.push(s);
            }
        } else if neg.len() < NEGATIVES {
            neg.push(s);
        }
        if pos.len() >= HELD_OUT && neg.len() >= NEGATIVES {
            break;
        }
    }
    let ndcg = |scores: &[f32]| {
        let s = scores[0];
        let above = scores[1..].iter().filter(|&&x| x > s).count();
        let ties = scores[1..].iter().filter(|&&x| x == s).count();
        let rank = above + ties / 2;
        if rank < TOP_K {
            1.0 / ((rank + 2) as f64).log2()
        } else {
            0.0
        }
    };
    pos.iter()
        .enumerate()
        .map(|(i, &p)| {
            let mut list = vec![p];
            list.extend_from_slice(&neg);
            let base = model.score_songs(index, &prefs, &list, Ranking::Model, mix(seed, i as u64));
            let mut blended = base.clone();
            blend_scores(index, &positives, &list, &mut blended, weight);
            (ndcg(&base), ndcg(&blended))
        })
        .collect()
}

/// Runs the co-occurrence evaluation on `index` (its co-occurrence slot is used).
pub fn evaluate(index: &CatalogIndex, note: &str, seed: u64) -> CoocReport {
    let mut rng = ChaCha8Rng::seed_from_u64(mix(seed, 0x5343_454e));
    let scenes: Vec<Scene> = (0..CLUSTERS)
        .map(|_| Scene::draw(index.catalog(), &mut rng))
        .collect();
    let (published_songs, published_links) = publish_population(index, &scenes, seed);
    let rows = HISTORY
        .iter()
        .map(|&k| {
            let pairs: Vec<(f64, f64)> = (0..TEST_LISTENERS)
                .flat_map(|t| {
                    let scene = &scenes[t % scenes.len()];
                    score_listener(index, scene, k, mix(seed, (k * 10_000 + t) as u64))
                })
                .collect();
            let n = pairs.len().max(1) as f64;
            let ndcg_model = pairs.iter().map(|p| p.0).sum::<f64>() / n;
            let ndcg_model_cooc = pairs.iter().map(|p| p.1).sum::<f64>() / n;
            CoocRow {
                interactions: k,
                ndcg_model,
                ndcg_model_cooc,
                lift: ndcg_model_cooc - ndcg_model,
            }
        })
        .collect();
    CoocReport {
        catalog: note.to_owned(),
        clusters: CLUSTERS,
        population: POPULATION,
        population_plays: POPULATION_PLAYS,
        test_listeners: TEST_LISTENERS,
        published_songs,
        published_links,
        rows,
    }
}

/// `spoofify eval --cooccurrence`: prints the table (or JSON) for each chosen catalog.
pub fn run(args: &EvalArgs) -> anyhow::Result<()> {
    let choices: &[(CatalogChoice, usize)] = match args.catalog {
        EvalCatalogs::Demo => &[(CatalogChoice::Demo, args.demo_songs)],
        EvalCatalogs::Synthetic => &[(CatalogChoice::Synthetic, args.synthetic_songs)],
        EvalCatalogs::Both => &[
            (CatalogChoice::Demo, args.demo_songs),
            (CatalogChoice::Synthetic, args.synthetic_songs),
        ],
    };
    for &(choice, songs) in choices {
        let (catalog, note) = load_catalog(choice, Some(songs), SYNTHETIC_SONGS, args.seed)?;
        anyhow::ensure!(!catalog.is_empty(), "the catalog is empty");
        let index = CatalogIndex::build(Arc::new(catalog));
        let report = evaluate(&index, &note, args.seed);
        print_report(&report, &note, args.json)?;
    }
    Ok(())
}

fn print_report(report: &CoocReport, note: &str, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(report)?);
        return Ok(());
    }
    println!(
        "spoofify eval --cooccurrence: {note}; {} taste clusters, {} background listeners x {} plays \
         ({} songs with published partners, {} links); {} test listeners per row, \
         {HELD_OUT} held-out finishes each among {NEGATIVES} skips",
        report.clusters,
        report.population,
        report.population_plays,
        report.published_songs,
        report.published_links,
        report.test_listeners
    );
    println!("| interactions | NDCG@10 model | NDCG@10 model + co-occurrence | lift |");
    println!("|---:|---:|---:|---:|");
    for r in &report.rows {
        println!(
            "| {} | {:.3} | {:.3} | {:+.3} |",
            r.interactions, r.ndcg_model, r.ndcg_model_cooc, r.lift
        );
    }
    Ok(())
}
