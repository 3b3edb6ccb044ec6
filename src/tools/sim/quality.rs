//! The quality benchmark's core: simulated listeners listen to feeds ranked by each
//! policy (random, popularity, content-only, each model engine), page after page,
//! and we measure how often they skip and how well held-out finishes rank.
//!
//! Protocol, per (policy, listener): onboarding picks genres; then pages of
//! [`EvalConfig::page`] songs are served and reacted to until
//! [`EvalConfig::interactions`]; engines refit after every page. Skip rate "at
//! interaction k" is the share of skips among interactions k-9..=k over all listeners.
//! Afterwards [`EvalConfig::held_out`] held-out finishes (unheard songs the listener
//! finished when offered) are each ranked among [`EvalConfig::negatives`] held-out
//! skips: hit rate@10 is how often the finish lands in the top 10, NDCG@10 its
//! 1/log2(rank+1) there.
//! Every (policy, listener) pair is seeded on its own, so results do not depend on
//! thread scheduling.

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use super::listener::Listener;
use super::taste::TasteShape;
use spoofify_service::model::listener_model::mix;
use spoofify_service::model::{CatalogIndex, EngineKind, ListenerModel, Ranking};
use spoofify_service::store::types::{ClientId, Interaction, LoggedInteraction};

/// Interactions at which the skip rate is reported.
pub const CHECKPOINTS: [usize; 4] = [10, 25, 50, 100];
/// Interactions averaged into one checkpoint's skip rate.
pub const WINDOW: usize = 10;
/// Ranking cut-off for NDCG and hit rate.
pub const TOP_K: usize = 10;

#[derive(Debug, Clone, Serialize)]
pub struct EvalConfig {
    pub listeners_per_shape: usize,
    pub interactions: usize,
    pub page: usize,
    pub held_out: usize,
    pub negatives: usize,
    pub seed: u64,
    pub threads: usize,
}

impl Default for EvalConfig {
    fn default() -> Self {
        Self {
            listeners_per_shape: 12,
            interactions: 100,
            page: 10,
            held_out: 5,
            negatives: 99,
            seed: 42,
            threads: 2,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    Random,
    Popularity,
    Content,
    Engine(EngineKind),
}

impl Policy {
    pub fn all() -> Vec<Policy> {
        let mut v = vec![Policy::Random, Policy::Popularity, Policy::Content];
        v.extend(EngineKind::ALL.map(Policy::Engine));
        v
    }

    pub fn name(&self) -> String {
        match self {
            Policy::Random => "random".into(),
            Policy::Popularity => "popularity".into(),
            Policy::Content => "content-only".into(),
            Policy::Engine(k) => k.to_string(),
        }
    }

    fn ranking(&self) -> Ranking {
        match self {
            Policy::Random => Ranking::Random,
            Policy::Popularity => Ranking::Popularity,
            Policy::Content => Ranking::Content,
            Policy::Engine(_) => Ranking::Model,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct PolicyReport {
    pub policy: String,
    /// (interaction, skip rate) at each checkpoint reached.
    pub skip_rate_at: Vec<(usize, f64)>,
    /// Skip rate at interaction 50 per taste shape.
    pub skip_rate_at_50_by_shape: Vec<(String, f64)>,
    pub ndcg_at_10: f64,
    pub hit_rate_at_10: f64,
    pub fits: usize,
    pub fit_ms_mean: f64,
}

impl PolicyReport {
    pub fn skip_at(&self, k: usize) -> Option<f64> {
        self.skip_rate_at
            .iter()
            .find(|(i, _)| *i == k)
            .map(|(_, r)| *r)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    pub catalog_songs: usize,
    pub listeners: usize,
    pub config: EvalConfig,
    pub policies: Vec<PolicyReport>,
    pub seconds: f64,
}

/// What one simulated listener produced under one policy.
#[derive(Default)]
struct Run {
    skips: Vec<bool>,
    ndcg: Vec<f64>,
    hits: Vec<bool>,
    fits: usize,
    fit_secs: f64,
}

/// Runs every policy for every listener over the catalog.
pub fn evaluate(index: &CatalogIndex, cfg: &EvalConfig, policies: &[Policy]) -> EvalReport {
    let started = Instant::now();
    let listeners: Vec<(TasteShape, u64)> = TasteShape::ALL
        .iter()
        .flat_map(|&shape| {
            (0..cfg.listeners_per_shape).map(move |i| (shape, i as u64 * 16 + shape as u64))
        })
        .map(|(shape, k)| (shape, mix(cfg.seed, k)))
        .collect();
    let jobs: Vec<(usize, usize)> = (0..policies.len())
        .flat_map(|p| (0..listeners.len()).map(move |l| (p, l)))
        .collect();
    let results: Mutex<Vec<Option<Run>>> = Mutex::new((0..jobs.len()).map(|_| None).collect());
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..cfg.threads.max(1) {
            scope.spawn(|| loop {
                let j = next.fetch_add(1, Ordering::Relaxed);
                let Some(&(p, l)) = jobs.get(j) else { break };
                let (shape, seed) = listeners[l];
                let run = run_one(index, cfg, policies[p], shape, seed);
                if let Ok(mut r) = results.lock() {
                    r[j] = Some(run);
                }
            });
        }
    });
    let results = results.into_inner().unwrap_or_default();
    let reports = policies
        .iter()
        .enumerate()
        .map(|(p, policy)| {
            let runs: Vec<(&Run, TasteShape)> = jobs
                .iter()
                .zip(&results)
                .filter(|((jp, _), _)| *jp == p)
                .filter_map(|((_, l), r)| r.as_ref().map(|r| (r, listeners[*l].0)))
                .collect();
            summarize(policy, &runs)
        })
        .collect();
    EvalReport {
        catalog_songs: index.len(),
        listeners: listeners.len(),
        config: cfg.clone(),
        policies: reports,
        seconds: started.elapsed().as_secs_f64(),
    }
}

fn summarize(policy: &Policy, runs: &[(&Run, TasteShape)]) -> PolicyReport {
    let skip_rate = |k: usize, shape: Option<TasteShape>| {
        let (mut skips, mut n) = (0usize, 0usize);
        for (r, s) in runs {
            if shape.is_some_and(|x| x != *s) {
                continue;
            }
            for &skip in r.skips.iter().take(k).skip(k.saturating_sub(WINDOW)) {
                skips += skip as usize;
                n += 1;
            }
        }
        (n > 0).then(|| skips as f64 / n as f64)
    };
    let mean = |v: Vec<f64>| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let fits: usize = runs.iter().map(|(r, _)| r.fits).sum();
    let fit_secs: f64 = runs.iter().map(|(r, _)| r.fit_secs).sum();
    PolicyReport {
        policy: policy.name(),
        skip_rate_at: CHECKPOINTS
            .iter()
            // Only checkpoints some listener reached.
            .filter(|&&k| runs.iter().any(|(r, _)| r.skips.len() >= k))
            .filter_map(|&k| skip_rate(k, None).map(|r| (k, r)))
            .collect(),
        skip_rate_at_50_by_shape: TasteShape::ALL
            .iter()
            .filter(|_| runs.iter().any(|(r, _)| r.skips.len() >= 50))
            .filter_map(|&s| skip_rate(50, Some(s)).map(|r| (s.to_string(), r)))
            .collect(),
        ndcg_at_10: mean(runs.iter().flat_map(|(r, _)| r.ndcg.clone()).collect()),
        hit_rate_at_10: mean(
            runs.iter()
                .flat_map(|(r, _)| r.hits.iter().map(|&h| h as u8 as f64))
                .collect(),
        ),
        fits,
        fit_ms_mean: if fits > 0 {
            fit_secs * 1000.0 / fits as f64
        } else {
            0.0
        },
    }
}

fn run_one(
    index: &CatalogIndex,
    cfg: &EvalConfig,
    policy: Policy,
    shape: TasteShape,
    seed: u64,
) -> Run {
    let catalog = index.catalog();
    let mut listener = Listener::new(shape, catalog, seed);
    let prefs = listener.onboarding(catalog);
    let engine = match policy {
        Policy::Engine(k) => Some(k),
        _ => None,
    };
    let new_model = || ListenerModel::new(engine.unwrap_or_default(), seed);
    let mut model = new_model();
    let mut run = Run::default();
    let mut log: Vec<LoggedInteraction> = Vec::with_capacity(cfg.interactions);
    while log.len() < cfg.interactions {
        let page_seed = mix(seed, log.len() as u64 + 1);
        let feed = model.feed_ranked(index, &prefs, cfg.page, page_seed, policy.ranking());
        if feed.is_empty() {
            break;
        }
        for item in feed {
            if log.len() >= cfg.interactions {
                break;
            }
            let Some(song) = catalog.get(&item.song_id) else {
                continue;
            };
            let reaction = listener.react(song);
            run.skips.push(reaction.is_skip());
            let seq = log.len() as u64 + 1;
            let Ok(id) = ClientId::parse(&format!("sim-{seq:08}")) else {
                continue;
            };
            let entry = LoggedInteraction {
                seq,
                interaction: Interaction {
                    id,
                    song_id: item.song_id,
                    kind: reaction.kind,
                    position_ms: reaction.position_ms,
                    at_ms: seq * 1000,
                },
            };
            model.apply(&entry);
            log.push(entry);
        }
        if engine.is_some() {
            let t = Instant::now();
            model.refit(index);
            run.fits += 1;
            run.fit_secs += t.elapsed().as_secs_f64();
        }
    }
    held_out_ranking(
        index, cfg, policy, &listener, &prefs, &model, &log, seed, &mut run,
    );
    run
}

/// Ranks held-out finishes among held-out skips with the model as it ended.
///
/// Held-out songs are drawn from the songs this listener has not heard, the same way
/// for every policy (their own seed): each is offered to the listener's hidden taste,
/// noise included; finished ones are positives, skipped ones negatives. Drawing them
/// from the policy's own feed instead would favour the policy that chose them.
#[allow(clippy::too_many_arguments)]
fn held_out_ranking(
    index: &CatalogIndex,
    cfg: &EvalConfig,
    policy: Policy,
    listener: &Listener,
    prefs: &spoofify_service::store::types::Preferences,
    model: &ListenerModel,
    log: &[LoggedInteraction],
    seed: u64,
    run: &mut Run,
) {
    let catalog = index.catalog();
    let heard: HashSet<&spoofify_service::catalog::SongId> =
        log.iter().map(|e| &e.interaction.song_id).collect();
    let mut order: Vec<u32> = (0..catalog.len() as u32).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(mix(seed, 0x4845_4c44));
    order.shuffle(&mut rng);
    let (mut positives, mut negatives) = (Vec::new(), Vec::new());
    for i in order {
        if positives.len() >= cfg.held_out && negatives.len() >= cfg.negatives {
            break;
        }
        let song = &catalog.songs()[i as usize];
        if heard.contains(&song.id) {
            continue;
        }
        if rng.random::<f32>() < listener.finish_probability(song) {
            if positives.len() < cfg.held_out {
                positives.push(i);
            }
        } else if negatives.len() < cfg.negatives {
            negatives.push(i);
        }
    }
    for (k, &pos) in positives.iter().enumerate() {
        let mut list = vec![pos];
        list.extend_from_slice(&negatives);
        let scores = model.score_songs(index, prefs, &list, policy.ranking(), mix(seed, k as u64));
        let s = scores[0];
        let above = scores[1..].iter().filter(|&&x| x > s).count();
        let ties = scores[1..].iter().filter(|&&x| x == s).count();
        // Ties count half: a constant scorer lands in the middle, not on top.
        let rank = above + ties / 2;
        run.hits.push(rank < TOP_K);
        run.ndcg.push(if rank < TOP_K {
            1.0 / ((rank + 2) as f64).log2()
        } else {
            0.0
        });
    }
}
