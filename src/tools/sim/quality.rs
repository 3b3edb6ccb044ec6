//! The quality benchmark's core: simulated listeners listen for a long time to feeds
//! ranked by each policy, page after page, and we measure how the feed holds up.
//!
//! Protocol, per (policy, listener): onboarding picks genres; then pages of
//! [`EvalConfig::page`] songs are served and reacted to until
//! [`EvalConfig::interactions`] (400 by default: hours of listening); the model
//! refits after every page. Simulated time advances by what was listened to, so the
//! rotation's time rules see realistic hours. At every checkpoint `k`
//! ([`checkpoints`]: 50, 60, 100, 150, … ) we record, per listener group (steady
//! tastes; drifting, whose taste changes at interaction 200):
//!
//! - skip rate: skips among interactions `k-9..=k`;
//! - liked share: items among `k-9..=k` the listener's hidden taste likes (utility
//!   ≥ [`LIKED_UTILITY`]), against the catalog's base rate of such songs;
//! - distinct songs among the 100 items up to `k` (from 100 on);
//! - NDCG@10: [`EvalConfig::held_out`] unheard songs the listener would finish, each
//!   ranked among up to [`EvalConfig::negatives`] unheard songs they would skip, by
//!   the policy's scores at that moment.
//!
//! A policy that runs out of songs (an empty page: a wall) ends that listener's run;
//! later checkpoints count only listeners still listening and the wall is reported.
//! Every (policy, listener) pair is seeded on its own, so results do not depend on
//! thread scheduling.

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::listener::Listener;
use super::taste::{TasteShape, DRIFT_START};
use spoofify_service::catalog::SongId;
use spoofify_service::model::cooccurrence::Cooccurrence;
use spoofify_service::model::listener_model::mix;
use spoofify_service::model::{CatalogIndex, EngineKind, ListenerModel, Ranking, Reason};
use spoofify_service::store::types::{
    ClientId, Interaction, ListenerId, LoggedInteraction, Preferences,
};

/// Interactions averaged into one checkpoint's skip rate and liked share: one page.
pub const WINDOW: usize = 10;
/// Items over which distinct songs are counted.
pub const DISTINCT_SPAN: usize = 100;
/// Ranking cut-off for NDCG.
pub const TOP_K: usize = 10;
/// A song is "liked" when the hidden taste's utility reaches this.
pub const LIKED_UTILITY: f32 = 0.5;
/// Simulated start time (epoch ms) and the pause between two songs.
const START_MS: u64 = 1_767_225_600_000;
const GAP_MS: u64 = 2_000;

/// Checkpoints up to `interactions`: 50, 60, then every 50.
pub fn checkpoints(interactions: usize) -> Vec<usize> {
    let mut v = vec![50, 60];
    v.extend((2..).map(|i| i * 50).take_while(|&k| k <= interactions));
    v.retain(|&k| k <= interactions);
    v
}

#[derive(Debug, Clone, Serialize)]
pub struct EvalConfig {
    pub listeners_per_shape: usize,
    pub interactions: usize,
    pub page: usize,
    pub held_out: usize,
    pub negatives: usize,
    pub seed: u64,
    pub threads: usize,
    pub engine: EngineKind,
}

impl Default for EvalConfig {
    fn default() -> Self {
        Self {
            listeners_per_shape: 12,
            interactions: 400,
            page: 10,
            held_out: 5,
            negatives: 99,
            seed: 42,
            threads: 2,
            engine: EngineKind::Histogram,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    Random,
    Popularity,
    Content,
    /// The listener's model, new songs only (no favorites replayed).
    ModelOnly,
    /// The product: the model with the familiar mix.
    ModelMix,
    /// The product with a co-occurrence table learned from a population of other
    /// listeners of the same catalog ([`population_index`]).
    ModelMixCooc,
}

impl Policy {
    pub const ALL: [Policy; 6] = [
        Policy::Random,
        Policy::Popularity,
        Policy::Content,
        Policy::ModelOnly,
        Policy::ModelMix,
        Policy::ModelMixCooc,
    ];

    pub fn name(&self) -> &'static str {
        match self {
            Policy::Random => "random",
            Policy::Popularity => "popularity",
            Policy::Content => "content-only",
            Policy::ModelOnly => "model-only",
            Policy::ModelMix => "model+mix",
            Policy::ModelMixCooc => "model+mix+cooc",
        }
    }

    fn ranking(&self) -> Ranking {
        match self {
            Policy::Random => Ranking::Random,
            Policy::Popularity => Ranking::Popularity,
            Policy::Content => Ranking::Content,
            Policy::ModelOnly => Ranking::ModelOnly,
            Policy::ModelMix | Policy::ModelMixCooc => Ranking::Model,
        }
    }

    fn fits(&self) -> bool {
        matches!(
            self,
            Policy::ModelOnly | Policy::ModelMix | Policy::ModelMixCooc
        )
    }
}

/// Listeners are grouped by whether their taste holds still.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Group {
    Steady,
    Drifting,
}

impl Group {
    pub const ALL: [Group; 2] = [Group::Steady, Group::Drifting];

    fn of(shape: TasteShape) -> Group {
        match shape {
            TasteShape::Drifting => Group::Drifting,
            _ => Group::Steady,
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Group::Steady => "steady",
            Group::Drifting => "drifting",
        }
    }
}

/// One checkpoint's figures for one group under one policy (`None`: no listener of
/// the group got that far, or nothing to measure).
#[derive(Debug, Clone, Serialize)]
pub struct Point {
    pub at: usize,
    pub listeners: usize,
    pub skip_rate: Option<f64>,
    pub liked_share: Option<f64>,
    pub distinct_per_100: Option<f64>,
    pub ndcg_at_10: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GroupReport {
    pub group: Group,
    pub listeners: usize,
    /// Share of the catalog the group's tastes like, on average (before any drift).
    pub base_rate: f64,
    pub points: Vec<Point>,
    /// The highest skip rate of any page-long window ending at 50..=interactions
    /// (step 10).
    pub worst_skip_rate_from_50: Option<f64>,
    /// The lowest liked share of any round from round 6 on (averaged over listeners).
    pub min_liked_share_from_round_6: Option<f64>,
    /// Listeners whose feed ran dry, and the earliest interaction it happened at.
    pub walls: usize,
    pub first_wall_at: Option<usize>,
    /// Where the skips come from: per span of [`REASON_SPANS`] and reason.
    pub by_reason: Vec<ReasonSkips>,
    /// Listeners whose taste the product judged moved, and the median interaction
    /// it dated the move to (a false alarm for a steady listener).
    pub shifts_noticed: usize,
    pub median_shift_at: Option<u64>,
}

impl GroupReport {
    pub fn at(&self, k: usize) -> Option<&Point> {
        self.points.iter().find(|p| p.at == k)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct PolicyReport {
    pub policy: String,
    pub groups: Vec<GroupReport>,
    pub fits: usize,
    pub fit_ms_mean: f64,
}

impl PolicyReport {
    pub fn group(&self, g: Group) -> Option<&GroupReport> {
        self.groups.iter().find(|r| r.group == g)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    pub catalog_songs: usize,
    pub listeners: usize,
    pub config: EvalConfig,
    pub checkpoints: Vec<usize>,
    /// The interaction at which drifting listeners change taste.
    pub drift_at: usize,
    pub policies: Vec<PolicyReport>,
    pub seconds: f64,
}

impl EvalReport {
    pub fn policy(&self, p: Policy) -> Option<&PolicyReport> {
        self.policies.iter().find(|r| r.policy == p.name())
    }
}

/// What one simulated listener produced under one policy.
#[derive(Default)]
struct Run {
    skips: Vec<bool>,
    liked: Vec<bool>,
    songs: Vec<u32>,
    /// NDCG@10 per checkpoint reached (None: no held-out finish to rank).
    ndcg: Vec<Option<f64>>,
    base_rate: f64,
    wall_at: Option<usize>,
    fits: usize,
    fit_secs: f64,
    /// The session's log (what a co-occurrence population contributes).
    log: Vec<LoggedInteraction>,
    /// Why each item was served ([`reason_key`]).
    reasons: Vec<&'static str>,
    /// Where the product noticed the listener's taste move, if it did.
    shift_at: Option<u64>,
}

/// Spans of interactions over which skips are broken down by the reason each song
/// came with: the start, the long middle, the drift and its recovery, the end.
pub const REASON_SPANS: [(usize, usize); 5] =
    [(0, 50), (50, 200), (200, 250), (250, 300), (300, 400)];

/// A short name for the reason a feed item came with.
pub fn reason_key(r: &Reason) -> &'static str {
    match r {
        Reason::Favorite => "favorite",
        Reason::SimilarTo { .. } => "similar",
        Reason::Genre { .. } => "genre",
        Reason::Popular => "popular",
        Reason::ForYou => "for-you",
        Reason::Exploration => "explore",
        Reason::SecondChance => "second-chance",
        Reason::AlsoFinished { .. } => "also-finished",
        Reason::Friend { .. } => "friend",
    }
}

/// Items served and skipped for one reason over one span (all listeners of a group).
#[derive(Debug, Clone, Serialize)]
pub struct ReasonSkips {
    pub from: usize,
    pub to: usize,
    pub reason: &'static str,
    pub items: usize,
    pub skips: usize,
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
    let cooc_index = policies
        .contains(&Policy::ModelMixCooc)
        .then(|| population_index(index, cfg).0);
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
                let on = match (&cooc_index, policies[p]) {
                    (Some(c), Policy::ModelMixCooc) => c,
                    _ => index,
                };
                let run = run_one(on, cfg, policies[p], shape, seed);
                if let Ok(mut r) = results.lock() {
                    r[j] = Some(run);
                }
            });
        }
    });
    let results = results.into_inner().unwrap_or_default();
    let cps = checkpoints(cfg.interactions);
    let reports = policies
        .iter()
        .enumerate()
        .map(|(p, policy)| {
            let runs: Vec<(&Run, Group)> = jobs
                .iter()
                .zip(&results)
                .filter(|((jp, _), _)| *jp == p)
                .filter_map(|((_, l), r)| r.as_ref().map(|r| (r, Group::of(listeners[*l].0))))
                .collect();
            let fits: usize = runs.iter().map(|(r, _)| r.fits).sum();
            let fit_secs: f64 = runs.iter().map(|(r, _)| r.fit_secs).sum();
            PolicyReport {
                policy: policy.name().to_owned(),
                groups: Group::ALL
                    .iter()
                    .map(|&g| {
                        let of: Vec<&Run> = runs
                            .iter()
                            .filter(|(_, x)| *x == g)
                            .map(|(r, _)| *r)
                            .collect();
                        summarize(g, &of, &cps, cfg)
                    })
                    .collect(),
                fits,
                fit_ms_mean: if fits > 0 {
                    fit_secs * 1000.0 / fits as f64
                } else {
                    0.0
                },
            }
        })
        .collect();
    EvalReport {
        catalog_songs: index.len(),
        listeners: listeners.len(),
        config: cfg.clone(),
        checkpoints: cps,
        drift_at: DRIFT_START as usize,
        policies: reports,
        seconds: started.elapsed().as_secs_f64(),
    }
}

/// Share of `true` over the window `from..to` of every run that reached `to`.
fn window_share(runs: &[&Run], pick: fn(&Run) -> &[bool], from: usize, to: usize) -> Option<f64> {
    let (mut yes, mut n) = (0usize, 0usize);
    for r in runs.iter().filter(|r| pick(r).len() >= to) {
        for &x in &pick(r)[from..to] {
            yes += x as usize;
            n += 1;
        }
    }
    (n > 0).then(|| yes as f64 / n as f64)
}

fn mean(v: impl Iterator<Item = f64>) -> Option<f64> {
    let (s, n) = v.fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    (n > 0).then(|| s / n as f64)
}

fn summarize(group: Group, runs: &[&Run], cps: &[usize], cfg: &EvalConfig) -> GroupReport {
    let points = cps
        .iter()
        .enumerate()
        .map(|(c, &k)| {
            let reached: Vec<&Run> = runs
                .iter()
                .filter(|r| r.skips.len() >= k)
                .copied()
                .collect();
            let from = k.saturating_sub(WINDOW);
            Point {
                at: k,
                listeners: reached.len(),
                skip_rate: window_share(&reached, |r| &r.skips, from, k),
                liked_share: window_share(&reached, |r| &r.liked, from, k),
                distinct_per_100: (k >= DISTINCT_SPAN)
                    .then(|| {
                        mean(reached.iter().map(|r| {
                            let span = &r.songs[k - DISTINCT_SPAN..k];
                            span.iter().collect::<HashSet<_>>().len() as f64
                        }))
                    })
                    .flatten(),
                ndcg_at_10: mean(
                    reached
                        .iter()
                        .filter_map(|r| r.ndcg.get(c).copied().flatten()),
                ),
            }
        })
        .collect();
    let ends: Vec<usize> = (5..=cfg.interactions / WINDOW)
        .map(|i| i * WINDOW)
        .collect();
    let worst = |pick: fn(&Run) -> &[bool], from_round: usize, max: bool| {
        ends.iter()
            .filter(|&&k| k / WINDOW >= from_round)
            .filter_map(|&k| window_share(runs, pick, k - WINDOW, k))
            .reduce(|a, b| if (a > b) == max { a } else { b })
    };
    GroupReport {
        group,
        listeners: runs.len(),
        base_rate: mean(runs.iter().map(|r| r.base_rate)).unwrap_or(0.0),
        points,
        worst_skip_rate_from_50: worst(|r| &r.skips, 5, true),
        min_liked_share_from_round_6: worst(|r| &r.liked, 6, false),
        walls: runs.iter().filter(|r| r.wall_at.is_some()).count(),
        first_wall_at: runs.iter().filter_map(|r| r.wall_at).min(),
        by_reason: by_reason(runs, cfg.interactions),
        shifts_noticed: runs.iter().filter(|r| r.shift_at.is_some()).count(),
        median_shift_at: {
            let mut at: Vec<u64> = runs.iter().filter_map(|r| r.shift_at).collect();
            at.sort_unstable();
            at.get(at.len() / 2).copied()
        },
    }
}

fn by_reason(runs: &[&Run], interactions: usize) -> Vec<ReasonSkips> {
    let mut out: Vec<ReasonSkips> = Vec::new();
    for &(from, to) in REASON_SPANS.iter().filter(|(f, _)| *f < interactions) {
        let start = out.len();
        for r in runs {
            let end = to.min(r.reasons.len());
            for i in from.min(end)..end {
                let key = r.reasons[i];
                let at = match out[start..].iter().position(|x| x.reason == key) {
                    Some(k) => start + k,
                    None => {
                        out.push(ReasonSkips {
                            from,
                            to,
                            reason: key,
                            items: 0,
                            skips: 0,
                        });
                        out.len() - 1
                    }
                };
                out[at].items += 1;
                out[at].skips += usize::from(r.skips[i]);
            }
        }
        out[start..].sort_by(|a, b| b.skips.cmp(&a.skips).then(a.reason.cmp(b.reason)));
    }
    out
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
    let mut model = ListenerModel::new(cfg.engine, seed);
    let cps = checkpoints(cfg.interactions);
    let liked_songs = catalog
        .songs()
        .iter()
        .filter(|s| listener.taste.utility(s, 0) >= LIKED_UTILITY)
        .count();
    let mut run = Run {
        base_rate: liked_songs as f64 / catalog.len().max(1) as f64,
        ..Run::default()
    };
    let mut log: Vec<LoggedInteraction> = Vec::with_capacity(cfg.interactions);
    let mut now_ms = START_MS;
    'listening: while log.len() < cfg.interactions {
        let page_seed = mix(seed, log.len() as u64 + 1);
        let feed = model.feed_ranked(index, &prefs, cfg.page, page_seed, policy.ranking());
        if feed.is_empty() {
            run.wall_at = Some(log.len());
            break;
        }
        for item in feed {
            if log.len() >= cfg.interactions {
                break 'listening;
            }
            let Some(song) = catalog.get(&item.song_id) else {
                continue;
            };
            let Some(song_index) = index.index_of(&item.song_id) else {
                continue;
            };
            run.liked
                .push(listener.taste.utility(song, listener.heard()) >= LIKED_UTILITY);
            run.reasons.push(reason_key(&item.reason));
            let reaction = listener.react(song);
            run.skips.push(reaction.is_skip());
            run.songs.push(song_index);
            now_ms += reaction.position_ms + GAP_MS;
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
                    at_ms: now_ms,
                },
            };
            model.apply(&entry);
            log.push(entry);
            if cps.contains(&log.len()) {
                // Checkpoints fall on page ends (multiples of the page): refit first
                // so the ranking is the one the next page would get.
                refit(index, policy, &mut model, &mut run);
                let heard: HashSet<&SongId> = log.iter().map(|e| &e.interaction.song_id).collect();
                let k = run.ndcg.len() as u64;
                let ndcg = held_out_ndcg(
                    index,
                    cfg,
                    policy,
                    &listener,
                    &prefs,
                    &model,
                    &heard,
                    mix(seed, k),
                );
                run.ndcg.push(ndcg);
            }
        }
        if !cps.contains(&log.len()) {
            refit(index, policy, &mut model, &mut run);
        }
    }
    run.log = log;
    run.shift_at = model.history().shift_at();
    run
}

/// Listeners in the population whose logs teach the co-occurrence policy, per taste
/// shape, and how long each listens (with model+mix).
pub const POPULATION_PER_SHAPE: usize = 12;
pub const POPULATION_PLAYS: usize = 150;

/// A copy of `index` with a co-occurrence table counted (by the product's own
/// counting code) from a population of other simulated listeners of every shape,
/// each listening [`POPULATION_PLAYS`] songs with model+mix. Seeded apart from the
/// listeners being measured.
pub fn population_index(index: &CatalogIndex, cfg: &EvalConfig) -> (CatalogIndex, usize) {
    let with = CatalogIndex::build(Arc::new(index.catalog().clone()));
    let pop_cfg = EvalConfig {
        interactions: POPULATION_PLAYS,
        ..cfg.clone()
    };
    let people: Vec<(TasteShape, u64)> = TasteShape::ALL
        .iter()
        .flat_map(|&shape| {
            (0..POPULATION_PER_SHAPE).map(move |i| {
                (
                    shape,
                    mix(cfg.seed ^ 0x706f_7075, i as u64 * 16 + shape as u64),
                )
            })
        })
        .collect();
    let logs: Mutex<Vec<(usize, Vec<LoggedInteraction>)>> = Mutex::new(Vec::new());
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..cfg.threads.max(1) {
            scope.spawn(|| loop {
                let j = next.fetch_add(1, Ordering::Relaxed);
                let Some(&(shape, seed)) = people.get(j) else {
                    break;
                };
                let run = run_one(index, &pop_cfg, Policy::ModelMix, shape, seed);
                if let Ok(mut l) = logs.lock() {
                    l.push((j, run.log));
                }
            });
        }
    });
    let mut logs = logs.into_inner().unwrap_or_default();
    logs.sort_by_key(|(j, _)| *j);
    let mut counts = Cooccurrence::default();
    for (j, log) in &logs {
        if let Ok(id) = ListenerId::parse(&format!("pop{j:04}")) {
            counts.apply(&id, log);
        }
    }
    let table = counts.table(1);
    let links = table.links();
    with.cooc_handle().publish(table);
    (with, links)
}

fn refit(index: &CatalogIndex, policy: Policy, model: &mut ListenerModel, run: &mut Run) {
    if policy.fits() && model.needs_refit() {
        let t = Instant::now();
        model.refit(index);
        run.fits += 1;
        run.fit_secs += t.elapsed().as_secs_f64();
    }
}

/// NDCG@10 of held-out finishes ranked among held-out skips, with the model as it is.
///
/// Held-out songs are drawn from the songs this listener has not heard, the same way
/// for every policy (their own seed): each is offered to the listener's hidden taste,
/// noise included; finished ones are positives, skipped ones negatives. Drawing them
/// from the policy's own feed instead would favour the policy that chose them.
#[allow(clippy::too_many_arguments)]
fn held_out_ndcg(
    index: &CatalogIndex,
    cfg: &EvalConfig,
    policy: Policy,
    listener: &Listener,
    prefs: &Preferences,
    model: &ListenerModel,
    heard: &HashSet<&SongId>,
    seed: u64,
) -> Option<f64> {
    let catalog = index.catalog();
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
    let mut ndcg = Vec::new();
    for (k, &pos) in positives.iter().enumerate() {
        let mut list = vec![pos];
        list.extend_from_slice(&negatives);
        let scores = model.score_songs(index, prefs, &list, policy.ranking(), mix(seed, k as u64));
        let s = scores[0];
        let above = scores[1..].iter().filter(|&&x| x > s).count();
        let ties = scores[1..].iter().filter(|&&x| x == s).count();
        // Ties count half: a constant scorer lands in the middle, not on top.
        let rank = above + ties / 2;
        ndcg.push(if rank < TOP_K {
            1.0 / ((rank + 2) as f64).log2()
        } else {
            0.0
        });
    }
    mean(ndcg.into_iter())
}
