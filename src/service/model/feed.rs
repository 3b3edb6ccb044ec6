//! The feed: one page for one listener, familiar and new.
//!
//! Steps: new candidates come from the sources in [`super::candidates`] and are
//! scored by the model (or, in cold start, by genre match and popularity); rested
//! favorites ([`super::rotation`]) are ranked by how long they have rested and how
//! much the listener likes them; [`super::mix`] decides how many slots of the page
//! are familiar; a share of the new slots ([`exploration_share`]) goes to the
//! exploration songs the model is least sure about, so it keeps learning. Then a
//! greedy pass fills the slots, keeping the same artist or album from playing back
//! to back and capping each artist per page.
//!
//! Songs played lately, songs resting after a skip and banned songs are never
//! offered: the rotation rules guarantee no song twice within 20 feed items.

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::candidates::{self, Candidate};
use super::context::{FeedContext, RestedFavorite};
use super::cooccurrence::table as cooccurrence;
use super::engine::Model;
use super::mix;
use super::neighbours::distance2;
use super::reason::Reason;
use super::rotation::{approval, Evidence, REPLAY_MIN_PLAYS};
use super::search;
use crate::catalog::{Song, SongId, FEATURE_COUNT};

/// Share of a page given to exploration (met on average: one song every other page
/// of 10) while the listener mostly plays what they get. Exploration is what the
/// listener skips most (about 6 in 10 on the demo catalog), so while the model is
/// right it stays small; it grows when the model is wrong ([`MAX_EXPLORATION_SHARE`]).
pub const EXPLORATION_SHARE: f32 = 0.05;
/// Share reached when the listener skips everything lately: the model is wrong (a
/// taste drifted), so it needs labels from elsewhere.
pub const MAX_EXPLORATION_SHARE: f32 = 0.5;
/// Recent skip rate above which exploration starts to grow.
pub const EXPLORATION_SKIP_THRESHOLD: f32 = 0.5;
/// One artist at most this many times per page.
pub const MAX_PER_ARTIST: usize = 3;
/// Latest finishes and rejections the content-only ranking compares against.
pub const CONTENT_SEEDS: usize = 20;
/// A favorite scored below this (the model blended with its neighbourhood's
/// approval) is not replayed until it scores higher again.
pub const MIN_FAVORITE_SCORE: f32 = 0.6;
/// A new song scored below this (the model blended with its neighbourhood's and
/// genre's approval) does not take a new slot while a rested favorite could: on a
/// small catalog the unheard songs a listener would like run out, and the best of
/// the rest are mostly skipped (8 in 10 on the demo catalog).
pub const MIN_NEW_SCORE: f32 = 0.85;
/// Weak new songs yield to early favorites only while the listener finishes at
/// least this share of their replays lately (a steady listener finishes 85–90 %;
/// after a taste moves, the old favorites are skipped first).
pub const TRUSTED_REPLAY_RATE: f32 = 0.7;
/// A liked favorite comes round this much sooner than one only finished.
pub const LIKED_FAVORITE_BOOST: f32 = 1.25;
/// Share of a new song's score that comes from its neighbourhood's approval (what
/// the listener finished lately among songs that sound like it) rather than the
/// model: the model learns from everything with a half-life, the neighbourhood
/// follows the last hundred plays, so a changed taste shows in the ranking at once.
pub const APPROVAL_BLEND: f32 = 0.3;
/// Plays whose outcomes steer exploration while the model is wrong.
pub const TROUBLE_EVIDENCE_PLAYS: u64 = 20;
/// The share reached when the listener skips everything lately (the model is wrong:
/// trust what they did in the last hundred plays instead).
pub const MAX_APPROVAL_BLEND: f32 = 0.8;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedItem {
    pub song_id: SongId,
    /// The ranking score: the model's probability of a finish when a model ranked
    /// the feed, a cold-start or baseline score otherwise.
    pub score: f32,
    pub reason: Reason,
}

/// How a feed is ranked. `Model` is the product: the model's ranking with favorites
/// mixed in (cold start until a model exists). The others are what `spoofify eval`
/// compares it with; none of them replays favorites.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ranking {
    Model,
    ModelOnly,
    Content,
    Popularity,
    Random,
}

impl Ranking {
    /// True when the ranking mixes rested favorites in.
    pub fn replays(self) -> bool {
        self == Ranking::Model
    }

    fn uses_model(self) -> bool {
        matches!(self, Ranking::Model | Ranking::ModelOnly)
    }
}

/// How far the recent skip rate is past [`EXPLORATION_SKIP_THRESHOLD`], in [0, 1]:
/// how wrong the model has been lately.
fn trouble(recent_skip_rate: f32) -> f32 {
    ((recent_skip_rate - EXPLORATION_SKIP_THRESHOLD) / (1.0 - EXPLORATION_SKIP_THRESHOLD))
        .clamp(0.0, 1.0)
}

/// The product's score for a new song: the model's probability blended with its
/// neighbourhood's approval, [`APPROVAL_BLEND`] of it, up to [`MAX_APPROVAL_BLEND`]
/// as the recent skip rate climbs.
pub fn blended(ctx: &FeedContext<'_>, song: u32, p: f32) -> f32 {
    let a = approval(ctx.index, ctx.evidence, song);
    let beta =
        APPROVAL_BLEND + trouble(ctx.recent_skip_rate) * (MAX_APPROVAL_BLEND - APPROVAL_BLEND);
    (1.0 - beta) * p + beta * a
}

/// The exploration share for a recent skip rate: [`EXPLORATION_SHARE`], rising
/// linearly to [`MAX_EXPLORATION_SHARE`] as the skip rate goes from
/// [`EXPLORATION_SKIP_THRESHOLD`] to 1.
pub fn exploration_share(recent_skip_rate: f32) -> f32 {
    EXPLORATION_SHARE + trouble(recent_skip_rate) * (MAX_EXPLORATION_SHARE - EXPLORATION_SHARE)
}

/// What fills one position of a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Familiar,
    New,
    Explore,
}

/// Builds one page of at most `limit` items. Deterministic for a seed.
pub fn build(ctx: &FeedContext<'_>, limit: usize, seed: u64, ranking: Ranking) -> Vec<FeedItem> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    if ctx.index.is_empty() || limit == 0 {
        return Vec::new();
    }
    let model = ctx.model.filter(|_| ranking.uses_model());
    let mut items = match ranking {
        Ranking::Popularity => candidates::most_popular(ctx, limit * 3),
        Ranking::Random => candidates::at_random(ctx, limit * 3, &mut rng),
        _ => candidates::gather(ctx, &mut rng),
    };
    let new_count = items.len();
    let favorites: &[RestedFavorite] = if ranking.replays() { ctx.rested } else { &[] };
    items.extend(favorites.iter().map(|f| Candidate {
        song: f.song,
        reason: Reason::Favorite,
    }));
    let resort_from = items.len();
    items.extend(
        ctx.last_resort
            .iter()
            .filter(|r| ranking.replays() || !r.favorite)
            .map(|r| Candidate {
                song: r.song,
                reason: if r.favorite {
                    Reason::Favorite
                } else {
                    Reason::SecondChance
                },
            }),
    );
    let songs: Vec<u32> = items.iter().map(|c| c.song).collect();
    let mut scores = score(ctx, ranking, model, &items, &mut rng);
    if ranking == Ranking::Model && model.is_some() {
        for i in 0..resort_from {
            scores[i] = blended(ctx, songs[i], scores[i]);
        }
    }
    // Learned from everyone (`model::cooccurrence`): the co-occurrence feature, on
    // the new songs (favorites are ranked by their own rest), weighed by how well it
    // predicted this listener so far.
    if ranking == Ranking::Model {
        cooccurrence::blend_scores(
            ctx.index,
            ctx.positives,
            &songs[..new_count],
            &mut scores[..new_count],
            ctx.cooc_weight,
        );
    }

    // Learned from the people the listener follows (`model::social`).
    if ranking == Ranking::Model {
        ctx.friends
            .blend_scores(&songs[..new_count], &mut scores[..new_count]);
    }

    let mut main: Vec<usize> = (0..new_count).collect();
    main.sort_by(|&a, &b| {
        scores[b]
            .total_cmp(&scores[a])
            .then(songs[a].cmp(&songs[b]))
    });
    // The model is trusted to call a new song weak (below), and a favorite a surer
    // finish, only while the listener plays most of what they get and finishes their
    // replays: when they skip a lot lately, or skip their favorites (a taste moving),
    // its low scores are as wrong as its high ones and favorites are no surer.
    let trusted = ranking.replays()
        && model.is_some()
        && ctx.recent_skip_rate < EXPLORATION_SKIP_THRESHOLD
        && ctx.mix.replay_rate >= TRUSTED_REPLAY_RATE;
    let clears = |i: usize| scores[i] >= MIN_NEW_SCORE;
    let mut pool: Vec<usize> = (0..new_count)
        .filter(|&i| items[i].reason == Reason::Exploration)
        .collect();
    if model.is_some() && ctx.recent_skip_rate >= EXPLORATION_SKIP_THRESHOLD {
        // The model is wrong lately (a taste moved): explore away from what is being
        // skipped *now* (the latest plays only: what was skipped before the change
        // may be what the listener wants now), at random otherwise.
        pool.shuffle(&mut rng);
        let now: Vec<Evidence> = ctx
            .evidence
            .iter()
            .filter(|e| e.since_plays < TROUBLE_EVIDENCE_PLAYS)
            .copied()
            .collect();
        let approval: Vec<f32> = pool
            .iter()
            .map(|&i| approval(ctx.index, &now, songs[i]))
            .collect();
        let mut order: Vec<usize> = (0..pool.len()).collect();
        order.sort_by(|&a, &b| approval[b].total_cmp(&approval[a]));
        pool = order.into_iter().map(|k| pool[k]).collect();
    } else if model.is_some() {
        // Optimism under uncertainty: p + sqrt(p(1-p)) favours songs the model thinks
        // good but is unsure of, so a label there teaches it most for the fewest skips.
        let ucb = |i: usize| scores[i] + (scores[i] * (1.0 - scores[i])).max(0.0).sqrt();
        pool.sort_by(|&a, &b| ucb(b).total_cmp(&ucb(a)).then(songs[a].cmp(&songs[b])));
    } else {
        pool.shuffle(&mut rng);
    }
    // The taste moved lately: the model and the approval describe the old taste, so
    // the new slots (exploration included) search for the new one over several
    // genres a page, then keep to the genres the listener took to since the move.
    let searching = ranking == Ranking::Model && model.is_some();
    if let (true, Some(since)) = (searching, ctx.since_shift) {
        main = search::order(ctx, since, &main, &songs, &scores, limit, &mut rng);
        pool = main.clone();
    }
    let familiar = rank_favorites(favorites, &scores[new_count..resort_from], model.is_some());
    let familiar: Vec<usize> = familiar.into_iter().map(|i| new_count + i).collect();
    let last_resort: Vec<usize> = (resort_from..items.len()).collect();
    // Favorites held back only by their rest in time, longest away first, that the
    // model (blended with the approval) still rates: a surer finish than a new song
    // it expects to be skipped, so weak new slots may take them (below).
    let early: Vec<usize> = if trusted {
        // With replays, the last-resort items are `ctx.last_resort`, in order.
        (resort_from..items.len())
            .zip(ctx.last_resort)
            .filter(|(i, r)| {
                r.favorite
                    && r.early_favorite
                    && blended(ctx, songs[*i], scores[*i]) >= MIN_FAVORITE_SCORE
            })
            .map(|(i, _)| i)
            .collect()
    } else {
        Vec::new()
    };

    let familiar_slots = if ranking.replays() {
        let quality = model.map(|_| new_quality(&main, &songs, &scores, ctx, limit));
        mix::familiar_slots(limit, &ctx.mix, quality, familiar.len())
    } else {
        0
    };
    let explore = if matches!(ranking, Ranking::Popularity | Ranking::Random) {
        0
    } else {
        // A fractional share is met on average: 0.5 of a slot is one slot every other
        // page (drawn from the page's seed).
        let want = limit as f32 * exploration_share(ctx.recent_skip_rate);
        let extra = rng.random::<f32>() < want.fract();
        (want.floor() as usize + usize::from(extra)).min(limit - familiar_slots)
    };
    // New slots whose best candidate the model rates poorly go to favorites instead
    // (when any are left): rested ones first, then the early ones (above) — a
    // favorite is a surer finish than a weak guess.
    let familiar_slots = if ranking.replays() && model.is_some() {
        let new_slots = limit - familiar_slots - explore;
        let weak = main.iter().take(new_slots).filter(|&&i| !clears(i)).count()
            + new_slots.saturating_sub(main.len());
        let spare = (familiar.len() + early.len()).saturating_sub(familiar_slots);
        familiar_slots + weak.min(spare)
    } else {
        familiar_slots
    };
    // What the page takes only when nothing surer is left, not even by relaxing the
    // artist cap: new songs below [`MIN_NEW_SCORE`], and the last resort (but the
    // early favorites). Without a trusted model (or for the baselines) nothing is.
    let mut weak = vec![false; items.len()];
    if trusted {
        for &i in &main {
            weak[i] = !clears(i);
        }
        for (i, w) in weak.iter_mut().enumerate().skip(resort_from) {
            *w = !early.contains(&i);
        }
    }
    let familiar: Vec<usize> = familiar.into_iter().chain(early).collect();
    let plan = plan(limit, familiar_slots, explore);
    let queues = Queues {
        familiar: &familiar,
        main: &main,
        pool: &pool,
        last_resort: &last_resort,
        weak: &weak,
    };
    arrange(ctx, &songs, &queues, &plan)
        .into_iter()
        .map(|(i, slot)| FeedItem {
            song_id: ctx.index.catalog().songs()[songs[i] as usize].id.clone(),
            score: scores[i],
            reason: match (&items[i].reason, slot) {
                (Reason::Favorite | Reason::SecondChance, _) => items[i].reason.clone(),
                (_, Slot::Explore) => Reason::Exploration,
                (Reason::Exploration, _) if model.is_some() => Reason::ForYou,
                (r, _) => r.clone(),
            },
        })
        .collect()
}

/// Scores every item the way `ranking` ranks.
fn score(
    ctx: &FeedContext<'_>,
    ranking: Ranking,
    model: Option<&Model>,
    items: &[Candidate],
    rng: &mut ChaCha8Rng,
) -> Vec<f32> {
    let songs: Vec<u32> = items.iter().map(|c| c.song).collect();
    let mut scores = vec![0.0f32; songs.len()];
    let all = ctx.index.catalog().songs();
    match (ranking, model) {
        (_, Some(m)) => m.score(ctx.index.features(), &songs, &mut scores),
        (Ranking::Content, _) if !ctx.positives.is_empty() => {
            for (s, o) in songs.iter().zip(scores.iter_mut()) {
                *o = content_score(ctx, *s);
            }
        }
        (Ranking::Popularity, _) => {
            for (s, o) in songs.iter().zip(scores.iter_mut()) {
                *o = all[*s as usize].popularity;
            }
        }
        (Ranking::Random, _) => scores.iter_mut().for_each(|o| *o = rng.random()),
        _ => {
            for (c, o) in items.iter().zip(scores.iter_mut()) {
                *o = cold_score(ctx, c.song, &c.reason);
            }
        }
    }
    scores
}

/// Rested favorites in the order they should come back: the longer rested and the
/// better liked (model score, an explicit like) first. Returns positions in `favs`.
fn rank_favorites(favs: &[RestedFavorite], scores: &[f32], scored: bool) -> Vec<usize> {
    let key = |i: usize| {
        let f = &favs[i];
        let rest = (1.0 + f.since_plays as f32 / REPLAY_MIN_PLAYS as f32).ln();
        let liking = if scored { 0.5 + scores[i] } else { 1.0 };
        let boost = if f.liked { LIKED_FAVORITE_BOOST } else { 1.0 };
        rest * liking * boost
    };
    // A favorite the listener's model (with its neighbourhood's approval) no longer
    // rates likely to be finished waits: that is how a moved taste stops old
    // favorites before each one is skipped again.
    let mut order: Vec<usize> = (0..favs.len())
        .filter(|&i| !scored || scores[i] >= MIN_FAVORITE_SCORE)
        .collect();
    order.sort_by(|&a, &b| {
        key(b)
            .total_cmp(&key(a))
            .then(favs[a].song.cmp(&favs[b].song))
    });
    order
}

/// The model's mean score over the best never-heard candidates, one page's worth:
/// how much unheard music it still rates highly.
fn new_quality(
    main: &[usize],
    songs: &[u32],
    scores: &[f32],
    ctx: &FeedContext<'_>,
    limit: usize,
) -> f32 {
    let best: Vec<f32> = main
        .iter()
        .filter(|&&i| ctx.standing.get(songs[i] as usize) == Some(&None))
        .take(limit)
        .map(|&i| scores[i])
        .collect();
    if best.is_empty() {
        0.0
    } else {
        best.iter().sum::<f32>() / best.len() as f32
    }
}

/// Which kind of song fills each position: exploration evenly spread and never
/// first (1 of 10 lands at position 5), familiar slots spread evenly over the rest.
fn plan(limit: usize, familiar: usize, explore: usize) -> Vec<Slot> {
    let mut plan = vec![Slot::New; limit];
    for j in 0..explore.min(limit) {
        let at = ((2 * j + 1) * limit / (2 * explore)).max(1).min(limit - 1);
        plan[at] = Slot::Explore;
    }
    let free: Vec<usize> = (0..limit).filter(|&i| plan[i] == Slot::New).collect();
    let familiar = familiar.min(free.len());
    for k in 0..familiar {
        plan[free[k * free.len() / familiar]] = Slot::Familiar;
    }
    plan
}

/// The ordered queues a page is filled from (positions in the item list).
struct Queues<'q> {
    familiar: &'q [usize],
    main: &'q [usize],
    pool: &'q [usize],
    /// Used by every slot once the others are empty.
    last_resort: &'q [usize],
    /// Per item: taken only once nothing else fits, artist cap relaxed.
    weak: &'q [bool],
}

/// Fills the page slot by slot, each from its own queue first and the others after,
/// keeping artist and album apart from the previous item (relaxed only when no
/// candidate allows it). Returns (item position, the slot it filled).
fn arrange(
    ctx: &FeedContext<'_>,
    songs: &[u32],
    q: &Queues<'_>,
    plan: &[Slot],
) -> Vec<(usize, Slot)> {
    let all = ctx.index.catalog().songs();
    let mut used = vec![false; songs.len()];
    let mut out: Vec<(usize, Slot)> = Vec::with_capacity(plan.len());
    let mut per_artist: std::collections::HashMap<&str, usize> = Default::default();
    for &slot in plan {
        let prev: Option<&Song> = out.last().map(|&(i, _)| &all[songs[i] as usize]);
        let fits = |i: usize, cap: bool, apart: bool, strong: bool| {
            let s = &all[songs[i] as usize];
            !used[i]
                && (!strong || !q.weak[i])
                && (!cap
                    || per_artist.get(s.artist.as_str()).copied().unwrap_or(0) < MAX_PER_ARTIST)
                && (!apart || prev.is_none_or(|p| p.artist != s.artist && p.album != s.album))
        };
        let queues: [(&[usize], Slot); 4] = match slot {
            Slot::Familiar => [
                (q.familiar, Slot::Familiar),
                (q.main, Slot::New),
                (q.pool, Slot::Explore),
                (q.last_resort, Slot::Familiar),
            ],
            Slot::New => [
                (q.main, Slot::New),
                (q.familiar, Slot::Familiar),
                (q.pool, Slot::Explore),
                (q.last_resort, Slot::New),
            ],
            Slot::Explore => [
                (q.pool, Slot::Explore),
                (q.main, Slot::New),
                (q.familiar, Slot::Familiar),
                (q.last_resort, Slot::New),
            ],
        };
        let mut choice = None;
        // A weak song (a new one the model expects skipped) comes after any favorite,
        // even one that breaks the artist cap: the cap is a nicety, a skip is not.
        let levels = [
            (true, true, true),
            (false, true, true),
            (false, true, false),
            (false, false, false),
        ];
        'search: for (cap, apart, strong) in levels {
            for (queue, filled) in queues {
                // Exploration is meant to be unsure: its own slots take it as it is.
                let strong = strong && !(slot == Slot::Explore && filled == Slot::Explore);
                if let Some(&i) = queue.iter().find(|&&i| fits(i, cap, apart, strong)) {
                    choice = Some((i, filled));
                    break 'search;
                }
            }
        }
        let Some((i, filled)) = choice else { break };
        used[i] = true;
        *per_artist
            .entry(all[songs[i] as usize].artist.as_str())
            .or_default() += 1;
        out.push((i, filled));
    }
    out
}

/// Cold start: chosen genres first, then popularity; a little credit for sounding
/// like something the listener finished.
pub fn cold_score(ctx: &FeedContext<'_>, song: u32, reason: &Reason) -> f32 {
    let s = &ctx.index.catalog().songs()[song as usize];
    let genre = ctx.prefs.genres.contains(&s.genre) as u8 as f32;
    let similar = matches!(reason, Reason::SimilarTo { .. }) as u8 as f32;
    let favorite = matches!(reason, Reason::Favorite) as u8 as f32;
    0.5 * genre + 0.4 * s.popularity.clamp(0.0, 1.0) + 0.25 * similar + favorite
}

/// Content-only: closeness to the latest finishes, minus closeness to rejections.
pub fn content_score(ctx: &FeedContext<'_>, song: u32) -> f32 {
    let f = ctx.index.features();
    let Some(x) = f.scaled(song as usize) else {
        return 0.0;
    };
    let sim = |seeds: &[u32]| {
        seeds
            .iter()
            .take(CONTENT_SEEDS)
            .filter_map(|&s| f.scaled(s as usize))
            .map(|y| (-distance2(x, y) / FEATURE_COUNT as f32).exp())
            .fold(0.0f32, f32::max)
    };
    sim(ctx.positives) - 0.5 * sim(ctx.negatives)
}
