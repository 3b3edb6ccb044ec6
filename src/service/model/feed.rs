//! The feed: candidates from the catalog, ranked for one listener.
//!
//! Candidates come from four sources, each remembered as the item's [`Reason`]:
//! content neighbours of the listener's latest finishes, their chosen genres, the
//! most popular songs, and a random exploration sample. Ranking is by the model's
//! probability (or, in cold start, by genre match and popularity), then a greedy pass
//! keeps the same artist or album from playing back to back and caps each artist per
//! page. A share of the page ([`EXPLORATION_SHARE`]) goes to the exploration songs
//! the model is least sure about, so it keeps learning. Songs just played and songs
//! the listener rejected are never offered.

use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::fmt;

use super::catalog_index::CatalogIndex;
use super::cooccurrence::table as cooccurrence;
use super::engine::Model;
use super::neighbours::distance2;
use crate::catalog::{Song, SongId, FEATURE_COUNT};
use crate::store::types::Preferences;

/// Latest finishes whose neighbours become candidates.
pub const NEIGHBOUR_SEEDS: usize = 10;
/// Popular songs offered as candidates.
pub const POPULAR_CANDIDATES: usize = 100;
/// Songs per chosen genre: the most popular half, the rest at random.
pub const GENRE_CANDIDATES: usize = 100;
/// Random songs offered for exploration (and as a broad pool for the model).
pub const EXPLORE_CANDIDATES: usize = 500;
/// Share of a page given to exploration (rounded; 1 in a page of 10) while the
/// listener mostly plays what they get.
pub const EXPLORATION_SHARE: f32 = 0.1;
/// Share reached when the listener skips everything lately: the model is wrong (a
/// taste drifted), so it needs labels from elsewhere.
pub const MAX_EXPLORATION_SHARE: f32 = 0.5;
/// Recent skip rate above which exploration starts to grow.
pub const EXPLORATION_SKIP_THRESHOLD: f32 = 0.5;
/// One artist at most this many times per page.
pub const MAX_PER_ARTIST: usize = 3;
/// Latest finishes and rejections the content-only ranking compares against.
pub const CONTENT_SEEDS: usize = 20;

/// Why a song is in the feed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// Sounds like a song the listener finished.
    SimilarTo {
        song_id: SongId,
        title: String,
    },
    /// In a genre the listener chose.
    Genre {
        genre: String,
    },
    Popular,
    /// Found in the broad random sample, ranked high by the listener's model.
    ForYou,
    /// Co-occurs with a song the listener finished, across all listeners
    /// (`model::cooccurrence`).
    AlsoFinished {
        song_id: SongId,
        title: String,
    },
    /// Outside what the listener has heard, offered so the model keeps learning.
    Exploration,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::SimilarTo { title, .. } => write!(f, "sounds like \u{201c}{title}\u{201d}"),
            Reason::Genre { genre } => write!(f, "from {genre}, a genre you chose"),
            Reason::Popular => f.write_str("popular right now"),
            Reason::ForYou => f.write_str("picked for you"),
            Reason::Exploration => f.write_str("something new to try"),
            Reason::AlsoFinished { title, .. } => write!(
                f,
                "listeners who finished \u{201c}{title}\u{201d} also finished this"
            ),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedItem {
    pub song_id: SongId,
    /// The ranking score: the model's probability of a finish when a model ranked
    /// the feed, a cold-start or baseline score otherwise.
    pub score: f32,
    pub reason: Reason,
}

/// How a feed is ranked. `Model` is the product (cold start until a model exists);
/// the others are the baselines `spoofify eval` compares against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ranking {
    Model,
    Content,
    Popularity,
    Random,
}

/// What the feed needs to know about one listener.
pub struct FeedContext<'a> {
    pub index: &'a CatalogIndex,
    pub prefs: &'a Preferences,
    /// Song indices that must not be offered (just played, rejected).
    pub excluded: &'a [bool],
    /// Latest finished or liked songs, newest first.
    pub positives: &'a [u32],
    /// Latest rejected songs, newest first.
    pub negatives: &'a [u32],
    pub model: Option<&'a Model>,
    /// Share of skips among the listener's latest interactions (0 when none).
    pub recent_skip_rate: f32,
}

/// The exploration share for a recent skip rate: [`EXPLORATION_SHARE`], rising
/// linearly to [`MAX_EXPLORATION_SHARE`] as the skip rate goes from
/// [`EXPLORATION_SKIP_THRESHOLD`] to 1.
pub fn exploration_share(recent_skip_rate: f32) -> f32 {
    let t = ((recent_skip_rate - EXPLORATION_SKIP_THRESHOLD) / (1.0 - EXPLORATION_SKIP_THRESHOLD))
        .clamp(0.0, 1.0);
    EXPLORATION_SHARE + t * (MAX_EXPLORATION_SHARE - EXPLORATION_SHARE)
}

/// Builds one page of at most `limit` items. Deterministic for a seed.
pub fn build(ctx: &FeedContext<'_>, limit: usize, seed: u64, ranking: Ranking) -> Vec<FeedItem> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = ctx.index.len();
    if n == 0 || limit == 0 {
        return Vec::new();
    }
    let candidates = match ranking {
        Ranking::Popularity => popular_candidates(ctx, limit * 3),
        Ranking::Random => random_candidates(ctx, limit * 3, &mut rng),
        Ranking::Model | Ranking::Content => candidates(ctx, &mut rng),
    };
    let songs: Vec<u32> = candidates.iter().map(|(s, _)| *s).collect();
    let mut scores = vec![0.0f32; songs.len()];
    let model = ctx.model.filter(|_| ranking == Ranking::Model);
    match (ranking, model) {
        (Ranking::Model, Some(m)) => m.score(ctx.index.features(), &songs, &mut scores),
        (Ranking::Content, _) if !ctx.positives.is_empty() => {
            for (s, o) in songs.iter().zip(scores.iter_mut()) {
                *o = content_score(ctx, *s);
            }
        }
        (Ranking::Popularity, _) => {
            for (s, o) in songs.iter().zip(scores.iter_mut()) {
                *o = ctx.index.catalog().songs()[*s as usize].popularity;
            }
        }
        (Ranking::Random, _) => scores.iter_mut().for_each(|o| *o = rng.random()),
        _ => {
            for ((s, r), o) in candidates.iter().zip(scores.iter_mut()) {
                *o = cold_score(ctx, *s, r);
            }
        }
    }
    // Learned from everyone (`model::cooccurrence`): the co-occurrence feature.
    if ranking == Ranking::Model {
        cooccurrence::blend_scores(ctx.index, ctx.positives, &songs, &mut scores);
    }
    let explore = match ranking {
        Ranking::Model | Ranking::Content => {
            (limit as f32 * exploration_share(ctx.recent_skip_rate)).round() as usize
        }
        _ => 0,
    };
    let mut main: Vec<usize> = (0..songs.len()).collect();
    main.sort_by(|&a, &b| {
        scores[b]
            .total_cmp(&scores[a])
            .then(songs[a].cmp(&songs[b]))
    });
    let mut pool: Vec<usize> = (0..songs.len())
        .filter(|&i| candidates[i].1 == Reason::Exploration)
        .collect();
    if model.is_some() {
        // Optimism under uncertainty: p + sqrt(p(1-p)) favours songs the model thinks
        // good but is unsure of, so a label there teaches it most for the fewest skips.
        let ucb = |i: usize| scores[i] + (scores[i] * (1.0 - scores[i])).max(0.0).sqrt();
        pool.sort_by(|&a, &b| ucb(b).total_cmp(&ucb(a)).then(songs[a].cmp(&songs[b])));
    } else {
        pool.shuffle(&mut rng);
    }
    let picked = arrange(ctx, &songs, &main, &pool, limit, explore);
    picked
        .into_iter()
        .map(|(i, explored)| FeedItem {
            song_id: ctx.index.catalog().songs()[songs[i] as usize].id.clone(),
            score: scores[i],
            reason: match (&candidates[i].1, explored) {
                (_, true) => Reason::Exploration,
                (Reason::Exploration, false) if model.is_some() => Reason::ForYou,
                (r, false) => r.clone(),
            },
        })
        .collect()
}

/// Fills the page in order: exploration slots from `pool`, the rest from `main`, each
/// pick keeping artist and album apart from the previous item (relaxed only when no
/// candidate allows it). Returns (candidate position, taken as exploration).
fn arrange(
    ctx: &FeedContext<'_>,
    songs: &[u32],
    main: &[usize],
    pool: &[usize],
    limit: usize,
    explore: usize,
) -> Vec<(usize, bool)> {
    // Exploration slots spread evenly, never first: 1 of 10 lands at position 5.
    let slots: Vec<usize> = (0..explore.min(limit))
        .map(|j| ((2 * j + 1) * limit / (2 * explore)).max(1).min(limit - 1))
        .collect();
    let all = ctx.index.catalog().songs();
    let mut used = vec![false; songs.len()];
    let mut out: Vec<(usize, bool)> = Vec::with_capacity(limit);
    let mut per_artist: std::collections::HashMap<&str, usize> = Default::default();
    while out.len() < limit {
        let prev: Option<&Song> = out.last().map(|&(i, _)| &all[songs[i] as usize]);
        let fits = |i: usize, cap: bool, apart: bool| {
            let s = &all[songs[i] as usize];
            !used[i]
                && (!cap
                    || per_artist.get(s.artist.as_str()).copied().unwrap_or(0) < MAX_PER_ARTIST)
                && (!apart || prev.is_none_or(|p| p.artist != s.artist && p.album != s.album))
        };
        let want_explore = slots.contains(&out.len());
        let mut choice = None;
        'search: for (cap, apart) in [(true, true), (false, true), (false, false)] {
            let queues: [(&[usize], bool); 2] = if want_explore {
                [(pool, true), (main, false)]
            } else {
                [(main, false), (pool, true)]
            };
            for (queue, explored) in queues {
                if let Some(&i) = queue.iter().find(|&&i| fits(i, cap, apart)) {
                    choice = Some((i, explored));
                    break 'search;
                }
                if !want_explore {
                    break; // exploration songs only fill exploration slots
                }
            }
        }
        let Some((i, explored)) = choice else { break };
        used[i] = true;
        *per_artist
            .entry(all[songs[i] as usize].artist.as_str())
            .or_default() += 1;
        out.push((i, explored));
    }
    out
}

/// Candidate songs with the first reason that brought each in.
fn candidates(ctx: &FeedContext<'_>, rng: &mut ChaCha8Rng) -> Vec<(u32, Reason)> {
    let all = ctx.index.catalog().songs();
    let mut seen = ctx.excluded.to_vec();
    seen.resize(all.len(), false);
    let mut out = Vec::new();
    let mut push = |s: u32, r: &Reason, out: &mut Vec<(u32, Reason)>| {
        if !seen[s as usize] {
            seen[s as usize] = true;
            out.push((s, r.clone()));
        }
    };
    for &seed in ctx.positives.iter().take(NEIGHBOUR_SEEDS) {
        let song = &all[seed as usize];
        let reason = Reason::SimilarTo {
            song_id: song.id.clone(),
            title: song.title.clone(),
        };
        for nb in ctx.index.neighbours().of(seed as usize) {
            push(nb, &reason, &mut out);
        }
    }
    // Learned from everyone (`model::cooccurrence`): partners of the latest finishes.
    for (s, via) in cooccurrence::candidates(ctx.index, ctx.positives) {
        let song = &all[via as usize];
        let reason = Reason::AlsoFinished {
            song_id: song.id.clone(),
            title: song.title.clone(),
        };
        push(s, &reason, &mut out);
    }
    for genre in &ctx.prefs.genres {
        let songs = ctx.index.genre(genre);
        let reason = Reason::Genre {
            genre: genre.clone(),
        };
        let top = GENRE_CANDIDATES / 2;
        for &s in songs.iter().take(top) {
            push(s, &reason, &mut out);
        }
        let rest = &songs[top.min(songs.len())..];
        for &s in rest.choose_multiple(rng, GENRE_CANDIDATES - top) {
            push(s, &reason, &mut out);
        }
    }
    for &s in ctx.index.popular().iter().take(POPULAR_CANDIDATES) {
        push(s, &Reason::Popular, &mut out);
    }
    let n = all.len() as u32;
    for _ in 0..EXPLORE_CANDIDATES.min(all.len()) {
        push(rng.random_range(0..n), &Reason::Exploration, &mut out);
    }
    out
}

fn popular_candidates(ctx: &FeedContext<'_>, want: usize) -> Vec<(u32, Reason)> {
    ctx.index
        .popular()
        .iter()
        .filter(|&&s| !ctx.excluded.get(s as usize).copied().unwrap_or(false))
        .take(want)
        .map(|&s| (s, Reason::Popular))
        .collect()
}

fn random_candidates(
    ctx: &FeedContext<'_>,
    want: usize,
    rng: &mut ChaCha8Rng,
) -> Vec<(u32, Reason)> {
    let mut open: Vec<u32> = (0..ctx.index.len() as u32)
        .filter(|&s| !ctx.excluded.get(s as usize).copied().unwrap_or(false))
        .collect();
    open.shuffle(rng);
    open.truncate(want);
    open.into_iter().map(|s| (s, Reason::Exploration)).collect()
}

/// Cold start: chosen genres first, then popularity; a little credit for sounding
/// like something the listener finished.
pub fn cold_score(ctx: &FeedContext<'_>, song: u32, reason: &Reason) -> f32 {
    let s = &ctx.index.catalog().songs()[song as usize];
    let genre = ctx.prefs.genres.contains(&s.genre) as u8 as f32;
    let similar = matches!(reason, Reason::SimilarTo { .. }) as u8 as f32;
    0.5 * genre + 0.4 * s.popularity.clamp(0.0, 1.0) + 0.25 * similar
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
