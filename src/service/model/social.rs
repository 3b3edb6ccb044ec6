//! Learning from the people a listener follows: songs their followees finished or
//! liked lately become candidates and lift the songs' scores, each friend weighted by
//! how close their taste is to the listener's.
//!
//! Input: one [`FriendSignal`] per followee *who shares their listening* (the caller
//! reads the follow graph and privacy from the store and passes nothing of anyone
//! who does not share, or who blocked the listener): their recent finishes and likes,
//! bounded ([`MAX_FRIENDS`] × [`MAX_ENTRIES_PER_FRIEND`]). Nothing here reads a store
//! or a clock, so a page stays a pure function of its inputs.
//!
//! Weighting ([`Friends::weigh`], once per page): a friend's *closeness* is the
//! agreement of the listener with that friend's songs — the share of the friend's
//! songs the listener also finished among those they heard (a Beta(1, 1) prior, so
//! nothing known is 0.5), pulled towards the listener's model's mean score on the
//! friend's songs when a model is fitted ([`MODEL_PSEUDO_COUNT`] observations' worth).
//! Closeness below [`MIN_CLOSENESS`] counts for nothing; above, linearly more. A
//! song's friend score is a noisy-or over friends of closeness × how strongly that
//! friend took to it (each finish and a like count). The feed adds
//! [`FRIEND_BLEND`] of it to a new song's score, shrinking as the listener's own labels
//! grow ([`OWN_LABELS_HALF`]): friends help most when the listener's own history says
//! little, and fade when it says a lot.
//!
//! Reasons name the friend who counts most for the song, with what their activity
//! says ([`Reason::Friend`]: "Ana finished this twice this week").

use std::collections::HashMap;

use super::catalog_index::CatalogIndex;
use super::engine::Model;
use super::reason::Reason;
use crate::catalog::SongId;

/// Followees read per page, at most.
pub const MAX_FRIENDS: usize = 50;
/// Activity entries read per followee, at most (their newest).
pub const MAX_ENTRIES_PER_FRIEND: usize = 50;
/// "This week", for a reason's count of finishes.
pub const WEEK_MS: u64 = 7 * 24 * 60 * 60 * 1000;
/// A friend's songs the listener's model scores to judge closeness (bounds the cost:
/// 50 friends × 20 songs = 1000 scores ≈ 1 ms).
pub const CLOSENESS_SAMPLE: usize = 20;
/// How many agreements the model's opinion is worth in a friend's closeness.
pub const MODEL_PSEUDO_COUNT: f32 = 4.0;
/// Closeness at or under which a friend counts for nothing (0.5 = nothing known).
pub const MIN_CLOSENESS: f32 = 0.35;
/// The most a friend score adds to a new song's score (a listener with no labels).
pub const FRIEND_BLEND: f32 = 0.5;
/// Own labels at which the friend score's share is halved.
pub const OWN_LABELS_HALF: f32 = 25.0;
/// Friends' songs offered as candidates, at most (the best scored first).
pub const MAX_FRIEND_CANDIDATES: usize = 100;

/// What a friend did with a song, as their shared activity says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FriendAct {
    Finished,
    Liked,
}

/// One song in a friend's recent activity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FriendSong {
    pub song_id: SongId,
    /// Finishes among the entries read.
    pub finishes: u32,
    /// Of those, finishes in the week before "now".
    pub finishes_this_week: u32,
    pub liked: bool,
}

/// One followee who shares, and what they finished or liked lately.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FriendSignal {
    /// Shown in reasons (their display name).
    pub name: String,
    /// Songs, the most recently active first.
    pub songs: Vec<FriendSong>,
}

impl FriendSignal {
    /// Folds a friend's activity entries (song, what they did, when; newest first)
    /// into per-song counts, reading at most [`MAX_ENTRIES_PER_FRIEND`] entries.
    pub fn from_activity(
        name: impl Into<String>,
        entries: impl IntoIterator<Item = (SongId, FriendAct, u64)>,
        now_ms: u64,
    ) -> Self {
        let mut songs: Vec<FriendSong> = Vec::new();
        let mut at: HashMap<SongId, usize> = HashMap::new();
        for (song_id, act, at_ms) in entries.into_iter().take(MAX_ENTRIES_PER_FRIEND) {
            let i = *at.entry(song_id.clone()).or_insert_with(|| {
                songs.push(FriendSong {
                    song_id,
                    finishes: 0,
                    finishes_this_week: 0,
                    liked: false,
                });
                songs.len() - 1
            });
            let s = &mut songs[i];
            match act {
                FriendAct::Finished => {
                    s.finishes += 1;
                    if now_ms.saturating_sub(at_ms) <= WEEK_MS {
                        s.finishes_this_week += 1;
                    }
                }
                FriendAct::Liked => s.liked = true,
            }
        }
        Self {
            name: name.into(),
            songs,
        }
    }
}

/// How strongly one friend took to a song, in (0, 1): each finish halves what is
/// left, a like counts as two finishes.
fn strength(s: &FriendSong) -> f32 {
    let n = s.finishes + 2 * u32::from(s.liked);
    1.0 - 0.5f32.powi(n.clamp(1, 16) as i32)
}

/// The friends as one page reads them: per song, the friend score and the reason.
#[derive(Debug, Clone, Default)]
pub struct Friends {
    /// (catalog index, friend score, reason), best score first.
    songs: Vec<(u32, f32, Reason)>,
    /// (catalog index, position in `songs`), sorted by index.
    by_song: Vec<(u32, usize)>,
    /// Each friend's name and closeness, in input order (for reports and tests).
    closeness: Vec<(String, f32)>,
    /// The friend score's share: [`FRIEND_BLEND`] shrunk by the listener's own labels.
    share: f32,
}

/// No friends: the feed as it is without the social graph.
pub static NO_FRIENDS: Friends = Friends {
    songs: Vec::new(),
    by_song: Vec::new(),
    closeness: Vec::new(),
    share: 0.0,
};

impl Friends {
    /// Weighs each friend by closeness and scores their songs. `positives` and
    /// `negatives` are the listener's latest labels (catalog indices), `model` their
    /// fitted model if any.
    pub fn weigh(
        index: &CatalogIndex,
        signals: &[FriendSignal],
        positives: &[u32],
        negatives: &[u32],
        model: Option<&Model>,
    ) -> Self {
        if signals.is_empty() {
            return Self::default();
        }
        let mine: HashMap<u32, bool> = negatives
            .iter()
            .map(|&s| (s, false))
            .chain(positives.iter().map(|&s| (s, true)))
            .collect();
        // (song, 1 - product of (1 - contribution), best contribution, reason)
        let mut acc: HashMap<u32, (f32, f32, Reason)> = HashMap::new();
        let mut closeness = Vec::with_capacity(signals.len().min(MAX_FRIENDS));
        for f in signals.iter().take(MAX_FRIENDS) {
            let songs: Vec<(u32, &FriendSong)> = f
                .songs
                .iter()
                .take(MAX_ENTRIES_PER_FRIEND)
                .filter_map(|s| Some((index.index_of(&s.song_id)?, s)))
                .collect();
            let (mut agree, mut disagree) = (0.0f32, 0.0f32);
            for (i, _) in &songs {
                match mine.get(i) {
                    Some(true) => agree += 1.0,
                    Some(false) => disagree += 1.0,
                    None => {}
                }
            }
            let heard = agree + disagree;
            let h = (agree + 1.0) / (heard + 2.0);
            let c = match model {
                Some(m) if !songs.is_empty() => {
                    let sample: Vec<u32> = songs
                        .iter()
                        .take(CLOSENESS_SAMPLE)
                        .map(|(i, _)| *i)
                        .collect();
                    let mut out = vec![0.0f32; sample.len()];
                    m.score(index.features(), &sample, &mut out);
                    let mean = out.iter().sum::<f32>() / out.len() as f32;
                    (h * heard + mean * MODEL_PSEUDO_COUNT) / (heard + MODEL_PSEUDO_COUNT)
                }
                _ => h,
            };
            closeness.push((f.name.clone(), c));
            let w = ((c - MIN_CLOSENESS) / (1.0 - MIN_CLOSENESS)).clamp(0.0, 1.0);
            if w <= 0.0 {
                continue;
            }
            for (i, s) in songs {
                let contribution = w * strength(s);
                let e = acc.entry(i).or_insert((0.0, 0.0, Reason::Popular));
                e.0 = 1.0 - (1.0 - e.0) * (1.0 - contribution);
                if contribution > e.1 {
                    e.1 = contribution;
                    e.2 = Reason::Friend {
                        name: f.name.clone(),
                        finishes_this_week: s.finishes_this_week,
                        liked: s.liked,
                    };
                }
            }
        }
        let mut songs: Vec<(u32, f32, Reason)> =
            acc.into_iter().map(|(i, (p, _, r))| (i, p, r)).collect();
        songs.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut by_song: Vec<(u32, usize)> =
            songs.iter().enumerate().map(|(k, s)| (s.0, k)).collect();
        by_song.sort_unstable();
        let labels = (positives.len() + negatives.len()) as f32;
        Self {
            songs,
            by_song,
            closeness,
            share: FRIEND_BLEND * OWN_LABELS_HALF / (OWN_LABELS_HALF + labels),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.songs.is_empty()
    }

    /// Each friend's closeness in [0, 1], in input order.
    pub fn closeness(&self) -> &[(String, f32)] {
        &self.closeness
    }

    /// The friend score of a song, in [0, 1) (0 when no close friend played it).
    pub fn score(&self, song: u32) -> f32 {
        self.by_song
            .binary_search_by_key(&song, |&(s, _)| s)
            .map_or(0.0, |k| self.songs[self.by_song[k].1].1)
    }

    /// The reason naming the friend who counts most for a song.
    pub fn reason(&self, song: u32) -> Option<&Reason> {
        self.by_song
            .binary_search_by_key(&song, |&(s, _)| s)
            .ok()
            .map(|k| &self.songs[self.by_song[k].1].2)
    }

    /// Candidates: the best scored friends' songs, with their reasons.
    pub fn candidates(&self) -> impl Iterator<Item = (u32, &Reason)> {
        self.songs
            .iter()
            .take(MAX_FRIEND_CANDIDATES)
            .map(|(s, _, r)| (*s, r))
    }

    /// Adds the friend score's share to each song's score (the feed's ranking).
    pub fn blend_scores(&self, songs: &[u32], scores: &mut [f32]) {
        if self.is_empty() {
            return;
        }
        for (s, o) in songs.iter().zip(scores.iter_mut()) {
            *o += self.share * self.score(*s);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> SongId {
        SongId::parse(s).unwrap()
    }

    #[test]
    fn activity_folds_into_counts_and_reasons_tell_the_truth() {
        let now = 10 * WEEK_MS;
        let f = FriendSignal::from_activity(
            "Ana",
            [
                (id("a"), FriendAct::Finished, now - 1000),
                (id("b"), FriendAct::Liked, now - 2000),
                (id("a"), FriendAct::Finished, now - 3000),
                (id("a"), FriendAct::Finished, now - 2 * WEEK_MS),
            ],
            now,
        );
        assert_eq!(f.songs.len(), 2);
        let a = &f.songs[0];
        assert_eq!((a.finishes, a.finishes_this_week, a.liked), (3, 2, false));
        let r = Reason::Friend {
            name: "Ana".into(),
            finishes_this_week: a.finishes_this_week,
            liked: a.liked,
        };
        assert_eq!(r.to_string(), "Ana finished this twice this week");
        let b = &f.songs[1];
        let r = Reason::Friend {
            name: "Ana".into(),
            finishes_this_week: b.finishes_this_week,
            liked: b.liked,
        };
        assert_eq!(r.to_string(), "Ana liked this");
        let r = Reason::Friend {
            name: "Bo".into(),
            finishes_this_week: 1,
            liked: true,
        };
        assert_eq!(
            r.to_string(),
            "Bo finished this once this week and liked it"
        );
        // Bounded: only the newest entries are read.
        let many = (0..200).map(|i| (id(&format!("s{i}")), FriendAct::Finished, now));
        let f = FriendSignal::from_activity("Cy", many, now);
        assert_eq!(f.songs.len(), MAX_ENTRIES_PER_FRIEND);
        assert!(strength(&f.songs[0]) > 0.0 && strength(a) > strength(&f.songs[0]));
    }
}
