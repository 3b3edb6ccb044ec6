//! The search for a moved taste. After a listener's taste has moved (their replays
//! skipped, dated by [`super::history`]), the model and the neighbourhood approval
//! still describe the old taste, and every genre not skipped lately looks the same
//! to them: left to them, a page goes to one of those genres at a time, so finding
//! the new taste takes a page per genre.
//!
//! So for [`SHIFT_HOLD_PLAYS`](super::listener_model::SHIFT_HOLD_PLAYS) plays after
//! the move, the feed's new slots are ordered here, from what the listener did with
//! each genre *since the move* (each song by its latest interaction):
//!
//! - a genre with finishes, more than skips, is *found*: its songs come first, in
//!   the page's own order (the model blended with the approval), so the page after a
//!   finish keeps to it;
//! - while none is found, the slots are handed out by Thompson sampling over
//!   genres: each genre is an arm whose chance of a finish is Beta(1 + finishes,
//!   1 + skips); for each slot a chance is drawn for every genre with candidates left
//!   and the highest draw gives its best song. A genre just given a slot counts
//!   [`PENDING_SKIP`] of a skip more for the rest of the page (its outcome is not
//!   known yet), so one page tries several untried genres rather than one, and a
//!   genre skipped since the move is seldom tried again.

use std::collections::HashMap;

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::context::FeedContext;

/// What a genre just given a slot counts as, in skips, for the rest of the page:
/// its outcome is pending. Half a skip spreads a page over untried genres yet lets a
/// genre with finishes since the move fill most of it.
pub const PENDING_SKIP: f32 = 0.5;

/// Finishes and skips per genre since the move (`since_plays` plays ago at most),
/// from the page's evidence (each song by its latest interaction).
fn arms<'c>(ctx: &FeedContext<'c>, since_plays: u64) -> HashMap<&'c str, (f32, f32)> {
    let all = ctx.index.catalog().songs();
    let mut out: HashMap<&str, (f32, f32)> = HashMap::new();
    for e in ctx.evidence.iter().filter(|e| e.since_plays < since_plays) {
        if let Some(s) = all.get(e.song as usize) {
            let a = out.entry(s.genre.as_str()).or_default();
            if e.finished {
                a.0 += 1.0;
            } else {
                a.1 += 1.0;
            }
        }
    }
    out
}

/// Reorders `queue` (positions into `songs`, best first) for a page after a moved
/// taste, `since_plays` plays ago (see the module docs): the found genres' songs
/// first; or, while none is found, the first `picks` by Thompson sampling over
/// genres, each genre's songs best `scores` first; then the rest in their order.
pub fn order(
    ctx: &FeedContext<'_>,
    since_plays: u64,
    queue: &[usize],
    songs: &[u32],
    scores: &[f32],
    picks: usize,
    rng: &mut ChaCha8Rng,
) -> Vec<usize> {
    let all = ctx.index.catalog().songs();
    let genre_of = |s: u32| all.get(s as usize).map(|x| x.genre.as_str());
    let page = Page {
        queue,
        songs,
        scores,
    };
    order_by(genre_of, arms(ctx, since_plays), &page, picks, rng)
}

/// The candidates a page orders: positions into `songs` and their `scores`.
struct Page<'p> {
    queue: &'p [usize],
    songs: &'p [u32],
    scores: &'p [f32],
}

/// [`order`] with the genres and the arms given.
fn order_by<'g>(
    genre_of: impl Fn(u32) -> Option<&'g str>,
    mut arms: HashMap<&'g str, (f32, f32)>,
    page: &Page<'_>,
    picks: usize,
    rng: &mut ChaCha8Rng,
) -> Vec<usize> {
    let Page {
        queue,
        songs,
        scores,
    } = *page;
    // Found: the genres with finishes since the move, more than skips. Their songs
    // come first, then the rest, each in the page's order.
    let found: Vec<&str> = arms
        .iter()
        .filter(|(_, &(f, s))| f >= 1.0 && f > s)
        .map(|(g, _)| *g)
        .collect();
    if !found.is_empty() {
        let is_found = |i: &usize| genre_of(songs[*i]).is_some_and(|g| found.contains(&g));
        let mut out: Vec<usize> = queue.iter().copied().filter(is_found).collect();
        out.extend(queue.iter().copied().filter(|i| !is_found(i)));
        return out;
    }
    // Each genre's candidates, best score first (ties by song, deterministic).
    let mut by_genre: Vec<(&str, Vec<usize>)> = Vec::new();
    for &i in queue {
        let Some(g) = genre_of(songs[i]) else {
            continue;
        };
        match by_genre.iter_mut().find(|(name, _)| *name == g) {
            Some((_, list)) => list.push(i),
            None => by_genre.push((g, vec![i])),
        }
    }
    for (_, list) in &mut by_genre {
        list.sort_by(|&a, &b| {
            scores[b]
                .total_cmp(&scores[a])
                .then(songs[a].cmp(&songs[b]))
        });
        list.reverse(); // popped from the back: best first
    }
    by_genre.sort_by(|a, b| a.0.cmp(b.0));
    let mut out = Vec::with_capacity(queue.len());
    while out.len() < picks {
        let mut best: Option<(f32, usize)> = None;
        for (k, (g, list)) in by_genre.iter().enumerate() {
            if list.is_empty() {
                continue;
            }
            let (f, s) = arms.get(g).copied().unwrap_or_default();
            let draw = beta(rng, 1.0 + f, 1.0 + s);
            if best.is_none_or(|(d, _)| draw > d) {
                best = Some((draw, k));
            }
        }
        let Some((_, k)) = best else { break };
        let (g, list) = &mut by_genre[k];
        if let Some(i) = list.pop() {
            out.push(i);
        }
        arms.entry(g).or_default().1 += PENDING_SKIP;
    }
    let mut taken = vec![false; songs.len()];
    for &i in &out {
        taken[i] = true;
    }
    out.extend(queue.iter().copied().filter(|&i| !taken[i]));
    out
}

/// A draw from Beta(a, b), a and b ≥ 1: two gamma draws.
fn beta(rng: &mut ChaCha8Rng, a: f32, b: f32) -> f32 {
    let x = gamma(rng, a);
    let y = gamma(rng, b);
    if x + y > 0.0 {
        x / (x + y)
    } else {
        0.5
    }
}

/// A draw from Gamma(k, 1), k ≥ 1 (Marsaglia and Tsang).
fn gamma(rng: &mut ChaCha8Rng, k: f32) -> f32 {
    let d = k.max(1.0) - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        let x = normal(rng);
        let v = (1.0 + c * x).powi(3);
        if v <= 0.0 {
            continue;
        }
        let u: f32 = rng.random::<f32>().max(f32::MIN_POSITIVE);
        if u.ln() < 0.5 * x * x + d - d * v + d * v.ln() {
            return d * v;
        }
    }
}

/// A standard normal draw (Box–Muller).
fn normal(rng: &mut ChaCha8Rng) -> f32 {
    let u1: f32 = rng.random::<f32>().max(f32::MIN_POSITIVE);
    let u2: f32 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    const GENRES: [&str; 10] = ["g0", "g1", "g2", "g3", "g4", "g5", "g6", "g7", "g8", "g9"];

    /// 10 genres of 5 songs; song `s` is of genre `s / 5`, scored lower as `s` grows.
    fn first_page(arms: &[(&'static str, (f32, f32))], seed: u64) -> Vec<&'static str> {
        let songs: Vec<u32> = (0..50).collect();
        let scores: Vec<f32> = songs.iter().map(|&s| 1.0 - s as f32 / 100.0).collect();
        let queue: Vec<usize> = (0..50).collect();
        let page = Page {
            queue: &queue,
            songs: &songs,
            scores: &scores,
        };
        let genre_of = |s: u32| GENRES.get(s as usize / 5).copied();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let out = order_by(
            genre_of,
            arms.iter().copied().collect(),
            &page,
            10,
            &mut rng,
        );
        assert_eq!(out.len(), 50, "every candidate kept");
        out.iter().take(10).map(|&i| GENRES[i / 5]).collect()
    }

    #[test]
    fn a_page_tries_several_untried_genres_and_exploits_a_found_one() {
        let (mut tried, mut found) = (0, 0);
        for seed in 0..20 {
            let page = first_page(&[("g0", (0.0, 4.0)), ("g1", (0.0, 4.0))], seed);
            let mut distinct = page.clone();
            distinct.sort_unstable();
            distinct.dedup();
            tried += distinct.len();
            let page = first_page(
                &[("g0", (0.0, 4.0)), ("g3", (3.0, 0.0)), ("g5", (0.0, 1.0))],
                seed,
            );
            assert_eq!(page[..5], ["g3"; 5], "a found genre's songs first");
            found += page.iter().filter(|&&g| g == "g3").count();
        }
        // Untried genres: a page spreads over several (the model alone gives one).
        assert!(tried >= 20 * 6, "{tried} distinct genres in 20 pages");
        // A genre finished 3 times since the move, none skipped: all its songs.
        assert_eq!(found, 20 * 5, "{found} of 200 slots to the found genre");
    }

    #[test]
    fn a_genre_gives_its_best_songs_first() {
        let songs: Vec<u32> = (0..10).collect();
        let scores: Vec<f32> = vec![0.1, 0.9, 0.5, 0.7, 0.3, 0.2, 0.8, 0.6, 0.4, 0.0];
        let queue: Vec<usize> = (0..10).collect();
        let page = Page {
            queue: &queue,
            songs: &songs,
            scores: &scores,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let out = order_by(|_| Some("one"), HashMap::new(), &page, 4, &mut rng);
        assert_eq!(out[..4], [1, 6, 3, 7], "best scores first");
        assert_eq!(out.len(), 10);
    }

    #[test]
    fn beta_draws_have_the_right_mean() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for (a, b) in [(1.0, 1.0), (5.0, 1.0), (1.0, 4.0), (2.5, 3.5)] {
            let n = 20_000;
            let mean = (0..n).map(|_| beta(&mut rng, a, b)).sum::<f32>() / n as f32;
            let want = a / (a + b);
            assert!(
                (mean - want).abs() < 0.01,
                "Beta({a}, {b}): {mean} vs {want}"
            );
        }
    }
}
