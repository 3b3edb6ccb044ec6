//! [`Cooccurrence`]: per-listener trails and the pair counts they add up to.
//!
//! The persisted truth is the song intern table plus one [`Trail`] per listener;
//! the pair counts and the finisher counts are derived from the trails (rebuilt on
//! load), so nothing can drift out of step with what is persisted.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

use super::table::{CoocEntry, CoocTable};
use crate::catalog::SongId;
use crate::store::types::{InteractionKind, ListenerId, LoggedInteraction};

/// A gap this long between two interactions ends a listening session: songs heard
/// on different occasions say little about each other.
pub const SESSION_GAP_MS: u64 = 30 * 60 * 1000;
/// A new song pairs with at most this many songs heard before it in the session:
/// songs far apart in a long session are only loosely related (ListenBrainz uses a
/// comparable contribution window).
pub const SESSION_WINDOW: usize = 20;
/// Pairs one listener can vote on. Beyond it, new pairs from that listener are not
/// counted (the votes they already cast keep changing): with each vote worth at most
/// one, this caps any listener's total influence.
pub const MAX_PAIRS_PER_LISTENER: usize = 4000;
/// Listeners (net votes) a pair needs before it is published: one listener's
/// coincidence is not a pattern.
pub const MIN_SUPPORT: i32 = 2;
/// Neighbours published per song.
pub const NEIGHBOURS_PER_SONG: usize = 48;

/// What the job remembers about one listener.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Trail {
    /// The last log seq read.
    pub cursor: u64,
    /// Time of the last interaction read (ms since the Unix epoch).
    pub last_at_ms: u64,
    /// The open session's latest songs (interned index, finished-or-liked), oldest
    /// first, at most [`SESSION_WINDOW`].
    pub tail: Vec<(u32, bool)>,
    /// Songs this listener finished or liked, sorted (each counts once as a finisher).
    pub finished: Vec<u32>,
    /// Votes by pair `(a, b)` with `a < b`, sorted: (up, down) counts.
    pub votes: Vec<((u32, u32), (u16, u16))>,
}

/// A listener's net vote on a pair: the sign of up − down.
fn sign(up: u16, down: u16) -> i32 {
    (i32::from(up) - i32::from(down)).signum()
}

impl Trail {
    /// Casts a vote; returns the change of this listener's net vote on the pair.
    fn vote(&mut self, pair: (u32, u32), up: bool) -> i32 {
        let at = self.votes.binary_search_by(|(p, _)| p.cmp(&pair));
        let i = match at {
            Ok(i) => i,
            Err(_) if self.votes.len() >= MAX_PAIRS_PER_LISTENER => return 0,
            Err(i) => {
                self.votes.insert(i, (pair, (0, 0)));
                i
            }
        };
        let (u, d) = &mut self.votes[i].1;
        let before = sign(*u, *d);
        if up {
            *u = u.saturating_add(1);
        } else {
            *d = d.saturating_add(1);
        }
        sign(*u, *d) - before
    }
}

/// The running counts over every listener read so far.
#[derive(Debug, Clone, Default)]
pub struct Cooccurrence {
    /// Interned song ids; trails refer to songs by their place here (append-only).
    songs: Vec<SongId>,
    song_index: HashMap<SongId, u32>,
    trails: HashMap<ListenerId, Trail>,
    /// Sum over listeners of their net vote, by pair `(a, b)` with `a < b`.
    pairs: HashMap<(u32, u32), i32>,
    /// Listeners who finished or liked each interned song.
    finishers: Vec<u32>,
}

fn positive(kind: InteractionKind) -> bool {
    kind.is_finish() || kind == InteractionKind::Liked
}

impl Cooccurrence {
    /// Rebuilds the counts from persisted parts.
    pub fn from_parts(songs: Vec<SongId>, trails: HashMap<ListenerId, Trail>) -> Self {
        let mut c = Self {
            song_index: songs
                .iter()
                .enumerate()
                .map(|(i, s)| (s.clone(), i as u32))
                .collect(),
            finishers: vec![0; songs.len()],
            songs,
            trails: HashMap::new(),
            pairs: HashMap::new(),
        };
        let n = c.songs.len() as u32;
        for (id, mut trail) in trails {
            // Indices beyond the table are corrupt: drop them rather than panic.
            trail.finished.retain(|&s| s < n);
            trail.tail.retain(|&(s, _)| s < n);
            trail.votes.retain(|&((a, b), _)| a < n && b < n);
            for &s in &trail.finished {
                c.finishers[s as usize] += 1;
            }
            for &(pair, (u, d)) in &trail.votes {
                *c.pairs.entry(pair).or_default() += sign(u, d);
            }
            c.trails.insert(id, trail);
        }
        c
    }

    pub fn songs(&self) -> &[SongId] {
        &self.songs
    }

    pub fn trail(&self, listener: &ListenerId) -> Option<&Trail> {
        self.trails.get(listener)
    }

    /// The last log seq read for a listener (0 when never read).
    pub fn cursor(&self, listener: &ListenerId) -> u64 {
        self.trails.get(listener).map_or(0, |t| t.cursor)
    }

    pub fn listeners(&self) -> usize {
        self.trails.len()
    }

    fn intern(&mut self, id: &SongId) -> u32 {
        if let Some(&i) = self.song_index.get(id) {
            return i;
        }
        let i = self.songs.len() as u32;
        self.songs.push(id.clone());
        self.song_index.insert(id.clone(), i);
        self.finishers.push(0);
        i
    }

    /// Folds a listener's log entries in (entries at or before its cursor are
    /// ignored, so re-reading is harmless). Returns whether anything changed.
    pub fn apply(&mut self, listener: &ListenerId, entries: &[LoggedInteraction]) -> bool {
        let mut trail = self.trails.remove(listener).unwrap_or_default();
        let mut changed = false;
        for e in entries {
            if e.seq <= trail.cursor {
                continue;
            }
            changed = true;
            trail.cursor = e.seq;
            let it = &e.interaction;
            // Playlist edits are not part of a listening session.
            if matches!(
                it.kind,
                InteractionKind::AddedToPlaylist | InteractionKind::RemovedFromPlaylist
            ) {
                continue;
            }
            let song = self.intern(&it.song_id);
            let pos = positive(it.kind);
            let new_session = trail.tail.is_empty()
                || it.at_ms < trail.last_at_ms
                || it.at_ms - trail.last_at_ms > SESSION_GAP_MS;
            if new_session {
                trail.tail.clear();
            }
            trail.last_at_ms = it.at_ms;
            let tail = std::mem::take(&mut trail.tail);
            for &(prev, prev_pos) in &tail {
                if prev == song || !(prev_pos || pos) {
                    continue; // two skips say nothing about each other
                }
                let pair = (prev.min(song), prev.max(song));
                let delta = trail.vote(pair, prev_pos && pos);
                if delta != 0 {
                    *self.pairs.entry(pair).or_default() += delta;
                }
            }
            trail.tail = tail;
            if pos {
                if let Err(at) = trail.finished.binary_search(&song) {
                    trail.finished.insert(at, song);
                    self.finishers[song as usize] += 1;
                }
            }
            trail.tail.retain(|&(s, _)| s != song);
            trail.tail.push((song, pos));
            if trail.tail.len() > SESSION_WINDOW {
                trail.tail.remove(0);
            }
        }
        self.trails.insert(listener.clone(), trail);
        changed
    }

    /// The net count of a pair (order does not matter), 0 when unknown.
    pub fn pair_count(&self, a: &SongId, b: &SongId) -> i32 {
        match (self.song_index.get(a), self.song_index.get(b)) {
            (Some(&a), Some(&b)) => self.pairs.get(&(a.min(b), a.max(b))).copied().unwrap_or(0),
            _ => 0,
        }
    }

    /// The publishable table: for each song, its [`NEIGHBOURS_PER_SONG`] best
    /// partners with at least [`MIN_SUPPORT`], by count / sqrt(finishers(a) ×
    /// finishers(b)) (cosine over listeners, so popular songs do not win everywhere).
    pub fn table(&self, version: u64) -> CoocTable {
        let mut adj: Vec<Vec<(u32, f32)>> = vec![Vec::new(); self.songs.len()];
        for (&(a, b), &count) in &self.pairs {
            if count < MIN_SUPPORT {
                continue;
            }
            let norm = (self.finishers[a as usize].max(1) as f32
                * self.finishers[b as usize].max(1) as f32)
                .sqrt();
            let sim = (count as f32 / norm).min(1.0);
            adj[a as usize].push((b, sim));
            adj[b as usize].push((a, sim));
        }
        let entries = adj
            .into_iter()
            .enumerate()
            .filter(|(_, nbs)| !nbs.is_empty())
            .map(|(a, mut nbs)| {
                nbs.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
                nbs.truncate(NEIGHBOURS_PER_SONG);
                CoocEntry {
                    song: self.songs[a].clone(),
                    neighbours: nbs
                        .into_iter()
                        .map(|(b, sim)| (self.songs[b as usize].clone(), sim))
                        .collect(),
                }
            })
            .collect();
        CoocTable { version, entries }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::types::{ClientId, Interaction};

    fn log(entries: &[(&str, InteractionKind, u64)]) -> Vec<LoggedInteraction> {
        entries
            .iter()
            .enumerate()
            .map(|(i, (song, kind, at))| LoggedInteraction {
                seq: i as u64 + 1,
                interaction: Interaction {
                    id: ClientId::parse(&format!("client-{i:04}")).unwrap(),
                    song_id: SongId::parse(song).unwrap(),
                    kind: *kind,
                    position_ms: 0,
                    at_ms: *at,
                },
            })
            .collect()
    }

    fn s(x: &str) -> SongId {
        SongId::parse(x).unwrap()
    }

    use InteractionKind::{Finished as F, Liked as L, Skipped as S};

    #[test]
    fn finishes_together_count_up_skips_next_to_finishes_count_down() {
        let mut c = Cooccurrence::default();
        for l in ["l1", "l2", "l3"] {
            let id = ListenerId::parse(l).unwrap();
            c.apply(&id, &log(&[("a", F, 1000), ("b", L, 2000), ("x", S, 3000)]));
        }
        assert_eq!(c.pair_count(&s("a"), &s("b")), 3);
        assert_eq!(c.pair_count(&s("b"), &s("a")), 3);
        assert_eq!(c.pair_count(&s("a"), &s("x")), -3);
        let table = c.table(1);
        let a = table.entries.iter().find(|e| e.song == s("a")).unwrap();
        assert_eq!(a.neighbours[0].0, s("b"));
        assert!((a.neighbours[0].1 - 1.0).abs() < 1e-6, "3 / sqrt(3 * 3)");
        assert!(!a.neighbours.iter().any(|(n, _)| *n == s("x")));
    }

    #[test]
    fn a_heavy_listener_counts_once_per_pair() {
        let mut c = Cooccurrence::default();
        let heavy = ListenerId::parse("heavy").unwrap();
        let mut entries = Vec::new();
        for i in 0..200u64 {
            entries.push(("a", F, i * 2000));
            entries.push(("b", F, i * 2000 + 1000));
        }
        c.apply(&heavy, &log(&entries));
        assert_eq!(c.pair_count(&s("a"), &s("b")), 1, "one listener, one vote");
        assert!(
            c.table(1).entries.is_empty(),
            "one listener is below MIN_SUPPORT"
        );
    }

    #[test]
    fn a_listener_votes_on_a_bounded_number_of_pairs() {
        let mut c = Cooccurrence::default();
        let id = ListenerId::parse("omnivore").unwrap();
        let names: Vec<String> = (0..3000).map(|i| format!("s{i}")).collect();
        let entries: Vec<(&str, InteractionKind, u64)> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str(), F, i as u64 * 1000))
            .collect();
        c.apply(&id, &log(&entries));
        assert_eq!(c.trail(&id).unwrap().votes.len(), MAX_PAIRS_PER_LISTENER);
    }

    #[test]
    fn sessions_split_on_gaps_and_reading_is_incremental() {
        let id = ListenerId::parse("l").unwrap();
        let all = log(&[
            ("a", F, 0),
            ("b", F, 1000),
            ("c", F, 1000 + SESSION_GAP_MS + 1),
            ("d", F, 2000 + SESSION_GAP_MS + 1),
        ]);
        let mut once = Cooccurrence::default();
        once.apply(&id, &all);
        assert_eq!(once.pair_count(&s("a"), &s("b")), 1);
        assert_eq!(once.pair_count(&s("b"), &s("c")), 0, "across a gap");
        assert_eq!(once.pair_count(&s("c"), &s("d")), 1);
        // Read in two parts, with a persist/reload in between: same counts.
        let mut twice = Cooccurrence::default();
        twice.apply(&id, &all[..1]);
        let reloaded_trails: HashMap<_, _> =
            [(id.clone(), twice.trail(&id).unwrap().clone())].into();
        let mut twice = Cooccurrence::from_parts(twice.songs().to_vec(), reloaded_trails);
        assert!(twice.apply(&id, &all));
        assert!(!twice.apply(&id, &all), "re-reading changes nothing");
        assert_eq!(twice.cursor(&id), 4);
        for (x, y) in [("a", "b"), ("b", "c"), ("c", "d"), ("a", "d")] {
            assert_eq!(
                twice.pair_count(&s(x), &s(y)),
                once.pair_count(&s(x), &s(y))
            );
        }
    }
}
