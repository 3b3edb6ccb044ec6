//! `spoofify eval --social`: does the social graph help? Measured on simulated friend
//! graphs where friends share part of their taste.
//!
//! Protocol (seeded, deterministic):
//! 1. Tastes: [`CLUSTERS`] scenes as in `cooc_eval` (half the songs of two genres plus
//!    a few percent of the rest); a listener finishes a song of their taste with
//!    probability [`IN_TASTE`], anything else with [`OUT_OF_TASTE`].
//! 2. Friend graph: each test listener follows [`CLOSE_FRIENDS`] friends whose taste
//!    shares [`SHARED_PART`] of the listener's scene (the rest from another scene),
//!    [`FAR_FRIENDS`] friends of other scenes, and [`HIDDEN_FRIENDS`] close friends who
//!    do *not* share their listening. Each friend has [`FRIEND_PLAYS`] plays over the
//!    last two weeks (half from their taste, half at random); their finishes and likes,
//!    newest first, are their activity. Only sharing friends' activity becomes
//!    [`FriendSignal`]s (as the listener actor reads the store).
//! 3. Test listeners with k interactions for each k in [`HISTORY`] (k = 0: just
//!    onboarded), a model fitted as the actor would; the same for both policies.
//!    - NDCG@10: held-out songs they have not heard, each finished one ranked among
//!      [`NEGATIVES`] skipped ones, as `cooc_eval` does.
//!    - Skip rate: one feed page of 10 for each policy; the expected share of skips
//!      under the hidden taste.
//!    - Privacy: no page item may name a friend who does not share, and no friend
//!      reason may point at a song outside the sharing friends' activity.
//! 4. Policies: the product's feed without friends, and with them.

use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use std::collections::HashSet;
use std::sync::Arc;

use super::eval::{load_catalog, CatalogChoice, EvalArgs, EvalCatalogs, SYNTHETIC_SONGS};
use spoofify_service::catalog::{Catalog, Song};
use spoofify_service::model::listener_model::mix;
use spoofify_service::model::social::{FriendAct, FriendSignal};
use spoofify_service::model::{CatalogIndex, EngineKind, ListenerModel, Ranking, Reason};
use spoofify_service::store::types::{
    ClientId, Interaction, InteractionKind, LoggedInteraction, Preferences,
};

/// Taste clusters.
pub const CLUSTERS: usize = 8;
/// Share of songs outside a scene's two genres that belong to it anyway.
pub const SCENE_EXTRA_SHARE: f64 = 0.04;
/// Chance that a listener finishes a song of their taste / any other song.
pub const IN_TASTE: f32 = 0.9;
pub const OUT_OF_TASTE: f32 = 0.08;
/// Friends of each kind per test listener.
pub const CLOSE_FRIENDS: usize = 3;
pub const FAR_FRIENDS: usize = 3;
pub const HIDDEN_FRIENDS: usize = 2;
/// Share of the listener's scene a close friend's taste keeps (the rest of the
/// friend's taste is the same share of another scene).
pub const SHARED_PART: f64 = 0.5;
/// Plays in each friend's recent activity.
pub const FRIEND_PLAYS: usize = 60;
/// A friend likes this share of what they finish.
pub const FRIEND_LIKE_SHARE: f64 = 0.25;
/// Interactions of the test listeners at each checkpoint.
pub const HISTORY: [usize; 6] = [0, 3, 5, 10, 25, 100];
/// Test listeners per checkpoint.
pub const TEST_LISTENERS: usize = 48;
/// Held-out finished songs ranked per test listener, and the skipped songs each is
/// ranked among.
pub const HELD_OUT: usize = 10;
pub const NEGATIVES: usize = 50;
/// Rank cut-off of NDCG; songs per feed page.
pub const TOP_K: usize = 10;
/// "Now" of the simulation (activity and plays lead up to it).
pub const NOW_MS: u64 = 1_800_000_000_000;

/// A taste: which songs a listener loves, and the two genres they would name.
#[derive(Debug, Clone)]
pub struct Scene {
    pub loves: Vec<bool>,
    pub genres: Vec<String>,
}

impl Scene {
    pub fn draw(catalog: &Catalog, rng: &mut ChaCha8Rng) -> Scene {
        let all = catalog.genres();
        let genres: Vec<String> = all.choose_multiple(rng, 2).cloned().collect();
        let loves = catalog
            .songs()
            .iter()
            .map(|s| {
                if genres.contains(&s.genre) {
                    rng.random_bool(0.5)
                } else {
                    rng.random_bool(SCENE_EXTRA_SHARE)
                }
            })
            .collect();
        Scene { loves, genres }
    }

    /// `part` of this scene and `part` of `other`.
    fn blend(&self, other: &Scene, part: f64, rng: &mut ChaCha8Rng) -> Scene {
        let loves = self
            .loves
            .iter()
            .zip(&other.loves)
            .map(|(&a, &b)| (a && rng.random_bool(part)) || (b && rng.random_bool(part)))
            .collect();
        Scene {
            loves,
            genres: self.genres.clone(),
        }
    }

    pub fn finish_probability(&self, song: u32) -> f32 {
        if self.loves.get(song as usize).copied().unwrap_or(false) {
            IN_TASTE
        } else {
            OUT_OF_TASTE
        }
    }

    pub fn songs(&self) -> Vec<u32> {
        (0..self.loves.len() as u32)
            .filter(|&i| self.loves[i as usize])
            .collect()
    }

    pub fn prefs(&self) -> Preferences {
        Preferences {
            genres: self.genres.clone(),
            seed_songs: Vec::new(),
            onboarded: true,
        }
    }
}

/// `n` plays: half from the taste, half at random; no song twice.
pub fn plays(scene: &Scene, n: usize, rng: &mut ChaCha8Rng) -> Vec<(u32, bool)> {
    let in_taste = scene.songs();
    let songs = scene.loves.len() as u32;
    let mut heard = HashSet::new();
    let mut out = Vec::with_capacity(n);
    while out.len() < n && heard.len() < songs as usize {
        let song = if rng.random_bool(0.5) {
            in_taste.choose(rng).copied().unwrap_or(0)
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

/// Plays as a log, a song every three minutes, ending at [`NOW_MS`].
pub fn as_log(index: &CatalogIndex, plays: &[(u32, bool)], tag: &str) -> Vec<LoggedInteraction> {
    let start = NOW_MS - plays.len() as u64 * 180_000;
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
                    at_ms: start + i as u64 * 180_000,
                },
            })
        })
        .collect()
}

/// NDCG@[`TOP_K`] of the first score among the rest (ties split).
pub fn ndcg_of_first(scores: &[f32]) -> f64 {
    let s = scores[0];
    let above = scores[1..].iter().filter(|&&x| x > s).count();
    let ties = scores[1..].iter().filter(|&&x| x == s).count();
    let rank = above + ties / 2;
    if rank < TOP_K {
        1.0 / ((rank + 2) as f64).log2()
    } else {
        0.0
    }
}

/// Held-out songs not in `heard`: up to [`HELD_OUT`] the taste finishes, up to
/// [`NEGATIVES`] it skips.
pub fn held_out(
    scene: &Scene,
    heard: &HashSet<u32>,
    n: usize,
    rng: &mut ChaCha8Rng,
) -> (Vec<u32>, Vec<u32>) {
    let mut order: Vec<u32> = (0..n as u32).filter(|s| !heard.contains(s)).collect();
    order.shuffle(rng);
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
    (pos, neg)
}

/// One friend: their display name, whether they share, their activity (newest first).
struct Friend {
    name: String,
    shares: bool,
    activity: Vec<(u32, FriendAct, u64)>,
}

fn friend(index: &CatalogIndex, name: String, shares: bool, taste: &Scene, seed: u64) -> Friend {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let two_weeks = 14 * 24 * 60 * 60 * 1000u64;
    let mut activity = Vec::new();
    let p = plays(taste, FRIEND_PLAYS.min(index.len()), &mut rng);
    let n = p.len().max(1) as u64;
    for (i, &(song, finished)) in p.iter().enumerate() {
        if !finished {
            continue; // activity holds finishes and likes only
        }
        let at = NOW_MS - two_weeks + two_weeks * i as u64 / n;
        activity.push((song, FriendAct::Finished, at));
        if rng.random_bool(FRIEND_LIKE_SHARE) {
            activity.push((song, FriendAct::Liked, at + 1));
        }
    }
    activity.reverse();
    Friend {
        name,
        shares,
        activity,
    }
}

/// The friends' signals as the product reads them: only friends who share.
fn signals(index: &CatalogIndex, friends: &[Friend]) -> Vec<FriendSignal> {
    friends
        .iter()
        .filter(|f| f.shares)
        .map(|f| {
            let songs = index.catalog().songs();
            let entries = f
                .activity
                .iter()
                .map(|&(s, act, at)| (songs[s as usize].id.clone(), act, at));
            FriendSignal::from_activity(f.name.clone(), entries, NOW_MS)
        })
        .collect()
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct SocialRow {
    pub interactions: usize,
    pub ndcg_alone: f64,
    pub ndcg_friends: f64,
    pub ndcg_lift: f64,
    pub skip_rate_alone: f64,
    pub skip_rate_friends: f64,
    /// Share of the friends policy's page items that came with a friend reason.
    pub friend_reason_share: f64,
    /// Page items naming a friend who does not share, or pointing at a song no
    /// sharing friend played (must be 0).
    pub privacy_violations: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct SocialReport {
    pub catalog: String,
    pub clusters: usize,
    pub friends: [usize; 3],
    pub test_listeners: usize,
    pub rows: Vec<SocialRow>,
}

/// One test listener at k interactions: (ndcg alone, ndcg friends) per held-out song,
/// and the page figures.
struct Measured {
    ndcg: Vec<(f64, f64)>,
    skips: (f64, f64),
    friend_items: usize,
    items: usize,
    violations: usize,
}

fn measure(index: &CatalogIndex, scenes: &[Scene], t: usize, k: usize, seed: u64) -> Measured {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let scene = &scenes[t % scenes.len()];
    // The friend graph.
    let mut friends = Vec::new();
    for c in 0..CLOSE_FRIENDS + FAR_FRIENDS + HIDDEN_FRIENDS {
        let other = &scenes[(t + 1 + c % (scenes.len() - 1)) % scenes.len()];
        let (taste, shares) = if c < CLOSE_FRIENDS {
            (scene.blend(other, SHARED_PART, &mut rng), true)
        } else if c < CLOSE_FRIENDS + FAR_FRIENDS {
            (other.clone(), true)
        } else {
            (scene.blend(other, SHARED_PART, &mut rng), false)
        };
        friends.push(friend(
            index,
            format!("friend{c}"),
            shares,
            &taste,
            mix(seed, 0xf00 + c as u64),
        ));
    }
    let sig = signals(index, &friends);
    let shared: HashSet<u32> = friends
        .iter()
        .filter(|f| f.shares)
        .flat_map(|f| f.activity.iter().map(|a| a.0))
        .collect();
    let hidden: HashSet<&str> = friends
        .iter()
        .filter(|f| !f.shares)
        .map(|f| f.name.as_str())
        .collect();
    // The listener.
    let history = plays(scene, k, &mut rng);
    let mut model = ListenerModel::new(EngineKind::Histogram, seed);
    for e in &as_log(index, &history, "test") {
        model.apply(e);
    }
    model.refit(index);
    let prefs = scene.prefs();
    let heard: HashSet<u32> = history.iter().map(|p| p.0).collect();
    let (pos, neg) = held_out(scene, &heard, index.len(), &mut rng);
    let ndcg = pos
        .iter()
        .enumerate()
        .map(|(i, &p)| {
            let mut list = vec![p];
            list.extend_from_slice(&neg);
            let s = mix(seed, i as u64);
            let alone = model.score_songs_social(index, &prefs, &list, Ranking::Model, s, &[]);
            let with = model.score_songs_social(index, &prefs, &list, Ranking::Model, s, &sig);
            (ndcg_of_first(&alone), ndcg_of_first(&with))
        })
        .collect();
    let page_seed = mix(seed, 0x9a9e);
    let alone = model.feed_social(index, &prefs, TOP_K, page_seed, Ranking::Model, &[]);
    let with = model.feed_social(index, &prefs, TOP_K, page_seed, Ranking::Model, &sig);
    let skip_rate = |items: &[spoofify_service::model::FeedItem]| {
        let n = items.len().max(1) as f64;
        items
            .iter()
            .filter_map(|i| index.index_of(&i.song_id))
            .map(|s| 1.0 - f64::from(scene.finish_probability(s)))
            .sum::<f64>()
            / n
    };
    let mut friend_items = 0;
    let mut violations = 0;
    for item in &with {
        if let Reason::Friend { name, .. } = &item.reason {
            friend_items += 1;
            let song = index.index_of(&item.song_id);
            if hidden.contains(name.as_str()) || song.is_none_or(|s| !shared.contains(&s)) {
                violations += 1;
            }
        }
    }
    Measured {
        ndcg,
        skips: (skip_rate(&alone), skip_rate(&with)),
        friend_items,
        items: with.len(),
        violations,
    }
}

/// Runs the social evaluation on `index`.
pub fn evaluate(index: &CatalogIndex, note: &str, seed: u64, threads: usize) -> SocialReport {
    let mut rng = ChaCha8Rng::seed_from_u64(mix(seed, 0x534f_4349));
    let scenes: Vec<Scene> = (0..CLUSTERS)
        .map(|_| Scene::draw(index.catalog(), &mut rng))
        .collect();
    let rows = HISTORY
        .iter()
        .map(|&k| {
            let jobs: Vec<usize> = (0..TEST_LISTENERS).collect();
            let measured = par_map(&jobs, threads, |&t| {
                measure(index, &scenes, t, k, mix(seed, (k * 10_000 + t) as u64))
            });
            let pairs: Vec<(f64, f64)> = measured.iter().flat_map(|m| m.ndcg.clone()).collect();
            let n = pairs.len().max(1) as f64;
            let l = measured.len().max(1) as f64;
            let ndcg_alone = pairs.iter().map(|p| p.0).sum::<f64>() / n;
            let ndcg_friends = pairs.iter().map(|p| p.1).sum::<f64>() / n;
            let items: usize = measured.iter().map(|m| m.items).sum();
            SocialRow {
                interactions: k,
                ndcg_alone,
                ndcg_friends,
                ndcg_lift: ndcg_friends - ndcg_alone,
                skip_rate_alone: measured.iter().map(|m| m.skips.0).sum::<f64>() / l,
                skip_rate_friends: measured.iter().map(|m| m.skips.1).sum::<f64>() / l,
                friend_reason_share: measured.iter().map(|m| m.friend_items).sum::<usize>() as f64
                    / items.max(1) as f64,
                privacy_violations: measured.iter().map(|m| m.violations).sum(),
            }
        })
        .collect();
    SocialReport {
        catalog: note.to_owned(),
        clusters: CLUSTERS,
        friends: [CLOSE_FRIENDS, FAR_FRIENDS, HIDDEN_FRIENDS],
        test_listeners: TEST_LISTENERS,
        rows,
    }
}

/// Maps `f` over `items` on up to `threads` threads, results in order.
pub fn par_map<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let threads = threads.clamp(1, items.len().max(1));
    let chunk = items.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|c| s.spawn(|| c.iter().map(&f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

/// The catalogs to evaluate on: the demo one from `--demo-cache` when it holds one
/// (else generated), and/or the synthetic one.
pub fn catalogs(args: &EvalArgs) -> anyhow::Result<Vec<(Arc<Catalog>, String)>> {
    let choices: &[CatalogChoice] = match args.catalog {
        EvalCatalogs::Demo => &[CatalogChoice::Demo],
        EvalCatalogs::Synthetic => &[CatalogChoice::Synthetic],
        EvalCatalogs::Both => &[CatalogChoice::Demo, CatalogChoice::Synthetic],
    };
    let mut out = Vec::new();
    for &choice in choices {
        let cached = match (choice, &args.demo_cache) {
            (CatalogChoice::Demo, Some(path)) if path.exists() => {
                let text = std::fs::read_to_string(path)?;
                let (tag, songs): (String, Vec<Song>) = serde_json::from_str(&text)?;
                (tag == format!("{}:{}", args.demo_songs, args.seed) && !songs.is_empty()).then(
                    || {
                        let c = Catalog::new(songs);
                        let note = format!(
                            "demo catalog, {} songs, seed {} (cached in {})",
                            c.len(),
                            args.seed,
                            path.display()
                        );
                        (c, note)
                    },
                )
            }
            _ => None,
        };
        let (catalog, note) = match cached {
            Some(c) => c,
            None => {
                let songs = match choice {
                    CatalogChoice::Demo => args.demo_songs,
                    CatalogChoice::Synthetic => args.synthetic_songs,
                };
                load_catalog(choice, Some(songs), SYNTHETIC_SONGS, args.seed)?
            }
        };
        anyhow::ensure!(!catalog.is_empty(), "the catalog is empty");
        out.push((Arc::new(catalog), note));
    }
    Ok(out)
}

/// `spoofify eval --social`: prints the table (or JSON) for each chosen catalog.
pub fn run(args: &EvalArgs) -> anyhow::Result<()> {
    for (catalog, note) in catalogs(args)? {
        let index = CatalogIndex::build(catalog);
        let report = evaluate(&index, &note, args.seed, args.threads);
        if args.json {
            println!("{}", serde_json::to_string_pretty(&report)?);
            continue;
        }
        println!(
            "spoofify eval --social: {note}; {CLUSTERS} taste clusters; each test listener \
             follows {CLOSE_FRIENDS} close friends (sharing {:.0} % of their scene), \
             {FAR_FRIENDS} of other scenes and {HIDDEN_FRIENDS} close ones who do not share; \
             {TEST_LISTENERS} test listeners per row",
            SHARED_PART * 100.0
        );
        println!(
            "| interactions | NDCG@10 alone | NDCG@10 with friends | lift | skip rate alone | \
             skip rate with friends | friend reasons | privacy violations |"
        );
        println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
        for r in &report.rows {
            println!(
                "| {} | {:.3} | {:.3} | {:+.3} | {:.1} % | {:.1} % | {:.0} % | {} |",
                r.interactions,
                r.ndcg_alone,
                r.ndcg_friends,
                r.ndcg_lift,
                r.skip_rate_alone * 100.0,
                r.skip_rate_friends * 100.0,
                r.friend_reason_share * 100.0,
                r.privacy_violations
            );
        }
    }
    Ok(())
}
