//! Candidate sources: where the songs a feed ranks come from. Each source offers
//! songs with the [`Reason`] it would show; a song offered twice keeps its first
//! reason, so sources run in order of how specific their reason is.
//!
//! Only songs the feed may offer as *new* are candidates here: songs never heard,
//! and skipped songs whose rest is over (second chances). Favorites come back
//! through the familiar part of the mix ([`super::mix`]), never through a source;
//! songs still resting or banned never come back at all ([`super::rotation`]).
//!
//! Adding a source is one function taking `(&FeedContext,
//! &mut Pool)` that calls [`Pool::offer`] with its own [`Reason`] variant, and one
//! line in [`gather`].

use rand::seq::{IndexedRandom, SliceRandom};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::context::FeedContext;
use super::cooccurrence::table as cooccurrence;
use super::reason::Reason;
use super::rotation::Standing;

/// Latest finishes whose neighbours become candidates.
pub const NEIGHBOUR_SEEDS: usize = 10;
/// Popular songs offered as candidates.
pub const POPULAR_CANDIDATES: usize = 100;
/// Songs per chosen genre: the most popular half, the rest at random.
pub const GENRE_CANDIDATES: usize = 100;
/// Random songs offered for exploration (and as a broad pool for the model).
pub const EXPLORE_CANDIDATES: usize = 500;

/// One candidate: a catalog index and why it came in.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub song: u32,
    pub reason: Reason,
}

/// True when the feed may offer `song` as new: never heard, or a second chance.
pub fn is_open(ctx: &FeedContext<'_>, song: u32) -> bool {
    matches!(
        ctx.standing.get(song as usize),
        Some(None | Some(Standing::SecondChance))
    )
}

/// The candidates gathered so far, each song once.
pub struct Pool {
    taken: Vec<bool>,
    out: Vec<Candidate>,
}

impl Pool {
    fn new(ctx: &FeedContext<'_>) -> Self {
        let taken = (0..ctx.index.len() as u32)
            .map(|s| !is_open(ctx, s))
            .collect();
        Self {
            taken,
            out: Vec::new(),
        }
    }

    /// Offers a song: kept (with `reason`) when open and not offered before.
    pub fn offer(&mut self, song: u32, reason: &Reason) {
        if let Some(t) = self.taken.get_mut(song as usize) {
            if !*t {
                *t = true;
                self.out.push(Candidate {
                    song,
                    reason: reason.clone(),
                });
            }
        }
    }
}

/// Every source, most specific reason first.
pub fn gather(ctx: &FeedContext<'_>, rng: &mut ChaCha8Rng) -> Vec<Candidate> {
    let mut pool = Pool::new(ctx);
    second_chances(ctx, &mut pool);
    friends(ctx, &mut pool);
    neighbours(ctx, &mut pool);
    also_finished(ctx, &mut pool);
    chosen_genres(ctx, &mut pool, rng);
    popular(ctx, &mut pool);
    sample(ctx, &mut pool, rng);
    pool.out
}

/// Skipped songs whose rest is over.
fn second_chances(ctx: &FeedContext<'_>, pool: &mut Pool) {
    for (s, st) in ctx.standing.iter().enumerate() {
        if *st == Some(Standing::SecondChance) {
            pool.offer(s as u32, &Reason::SecondChance);
        }
    }
}

/// The people the listener follows (`model::social`): what close friends finished
/// or liked, each with the reason naming the friend.
fn friends(ctx: &FeedContext<'_>, pool: &mut Pool) {
    for (song, reason) in ctx.friends.candidates() {
        pool.offer(song, reason);
    }
}

/// Content neighbours of the latest finishes.
fn neighbours(ctx: &FeedContext<'_>, pool: &mut Pool) {
    let all = ctx.index.catalog().songs();
    for &seed in ctx.positives.iter().take(NEIGHBOUR_SEEDS) {
        let Some(song) = all.get(seed as usize) else {
            continue;
        };
        let reason = Reason::SimilarTo {
            song_id: song.id.clone(),
            title: song.title.clone(),
        };
        for nb in ctx.index.neighbours().of(seed as usize) {
            pool.offer(nb, &reason);
        }
    }
}

/// Learned from everyone (`model::cooccurrence`): songs other listeners finished
/// alongside the latest finishes.
fn also_finished(ctx: &FeedContext<'_>, pool: &mut Pool) {
    let all = ctx.index.catalog().songs();
    for (s, via) in cooccurrence::candidates(ctx.index, ctx.positives) {
        let Some(song) = all.get(via as usize) else {
            continue;
        };
        let reason = Reason::AlsoFinished {
            song_id: song.id.clone(),
            title: song.title.clone(),
        };
        pool.offer(s, &reason);
    }
}

/// The chosen genres: their most popular songs and a random sample of the rest.
fn chosen_genres(ctx: &FeedContext<'_>, pool: &mut Pool, rng: &mut ChaCha8Rng) {
    for genre in &ctx.prefs.genres {
        let songs = ctx.index.genre(genre);
        let reason = Reason::Genre {
            genre: genre.clone(),
        };
        let top = GENRE_CANDIDATES / 2;
        for &s in songs.iter().take(top) {
            pool.offer(s, &reason);
        }
        let rest = &songs[top.min(songs.len())..];
        for &s in rest.choose_multiple(rng, GENRE_CANDIDATES - top) {
            pool.offer(s, &reason);
        }
    }
}

fn popular(ctx: &FeedContext<'_>, pool: &mut Pool) {
    for &s in ctx.index.popular().iter().take(POPULAR_CANDIDATES) {
        pool.offer(s, &Reason::Popular);
    }
}

/// A random sample of the catalog: exploration, and a broad pool for the model.
fn sample(ctx: &FeedContext<'_>, pool: &mut Pool, rng: &mut ChaCha8Rng) {
    let n = ctx.index.len() as u32;
    for _ in 0..EXPLORE_CANDIDATES.min(n as usize) {
        pool.offer(rng.random_range(0..n), &Reason::Exploration);
    }
}

/// The popularity baseline's candidates: the most popular open songs.
pub fn most_popular(ctx: &FeedContext<'_>, want: usize) -> Vec<Candidate> {
    ctx.index
        .popular()
        .iter()
        .filter(|&&s| is_open(ctx, s))
        .take(want)
        .map(|&s| Candidate {
            song: s,
            reason: Reason::Popular,
        })
        .collect()
}

/// The random baseline's candidates: open songs at random.
pub fn at_random(ctx: &FeedContext<'_>, want: usize, rng: &mut ChaCha8Rng) -> Vec<Candidate> {
    let mut open: Vec<u32> = (0..ctx.index.len() as u32)
        .filter(|&s| is_open(ctx, s))
        .collect();
    open.shuffle(rng);
    open.truncate(want);
    open.into_iter()
        .map(|s| Candidate {
            song: s,
            reason: Reason::Exploration,
        })
        .collect()
}
