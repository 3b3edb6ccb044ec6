//! [`History`]: what a listener has heard, per song — how often they finished it,
//! how often in a row they skipped it, when it last played (in plays, wall-clock time
//! and listening time) — plus how they took their latest new songs and replays.
//!
//! It also notices when the listener's taste has moved ([`History::shift_at`]): the
//! favorites they came back to finish are suddenly skipped, and so is most of what
//! they get. From then on the training set weighs what came before less
//! ([`super::labels`]), the favorites from before wait, and the genres chosen at
//! onboarding stop steering the candidates ([`super::listener_model`]).
//!
//! It is folded from the interaction log one entry at a time, exactly like the
//! training set, so an actor rebuilt after failover (snapshot + log after it) holds
//! the same history as one that never stopped. Nothing here reads a clock: "now" is
//! the latest interaction applied, so the feed stays a pure function of the log.
//! The rules that read it (when a favorite may come back, how long a skip keeps a
//! song away) live in [`super::rotation`]; the mix of familiar and new songs in
//! [`super::mix`].

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};

use crate::catalog::SongId;
use crate::store::types::{Interaction, InteractionKind};

/// Latest interactions whose outcomes (new song or replay, finished or not) steer
/// the mix: about three pages, so the mix follows the listener within minutes.
pub const OUTCOME_WINDOW: usize = 30;
/// A taste has moved when, of the latest [`SHIFT_REPLAYS`] replays (within the
/// outcome window), at most [`SHIFT_MAX_FINISHED`] were finished…
pub const SHIFT_REPLAYS: usize = 6;
pub const SHIFT_MAX_FINISHED: usize = 2;
/// …and the listener skipped at least this share of their latest
/// [`SHIFT_SKIP_WINDOW`] interactions. A steady listener finishes most replays (the
/// simulated ones 85–90 %), so six with four skips among a page of skips is rare;
/// after a real change every old favorite is skipped within a page or two.
pub const SHIFT_MIN_SKIP_RATE: f32 = 0.5;
pub const SHIFT_SKIP_WINDOW: usize = 20;
/// A second shift is noticed only this many interactions after the previous one.
pub const SHIFT_REARM_PLAYS: u64 = 100;

/// Songs remembered, at most (the least recently heard are forgotten, as in the
/// training set): bounds memory and snapshot size for a very long history.
pub const MAX_TRACKED_SONGS: usize = 5_000;

/// One song as this listener has heard it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SongHistory {
    /// Finishes and likes.
    pub plays: u32,
    /// Skips and dislikes since the last finish or like.
    pub skips_in_a_row: u32,
    /// The latest interaction was an explicit dislike.
    pub disliked: bool,
    /// Liked at least once since the last skip.
    pub liked: bool,
    /// Where the latest skip came, in ms into the song (0 when none yet).
    pub last_skip_ms: u64,
    /// Position of its latest interaction among all applied (0-based).
    pub last_order: u64,
    /// Position of its first finish or like among all applied ([`u64::MAX`] while
    /// never finished): a favorite from before a taste moved stays one, however
    /// often it is finished again after.
    pub first_finish: u64,
    /// Wall-clock time of its latest interaction (the log's `at_ms`).
    pub last_at_ms: u64,
    /// The listener's total listening time when it last played.
    pub last_listened_ms: u64,
}

/// How one interaction went, for the mix: a first hearing or a replay, and whether
/// the listener stayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    pub replay: bool,
    pub finished: bool,
    /// Its position among *all* interactions applied, playlist edits included (the
    /// training set's order, [`super::labels::Signal::order`]).
    pub entry: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    songs: BTreeMap<SongId, SongHistory>,
    /// Listening interactions applied so far (the next one's order; playlist edits
    /// are not counted).
    applied: u64,
    /// Every interaction applied so far, playlist edits included: the order the
    /// training set counts in ([`super::labels::TrainingSet`]).
    entries: u64,
    /// Sum of positions over all interactions: how long the listener has listened.
    listened_ms: u64,
    /// The latest `at_ms` seen (the log's clock; never goes back).
    latest_at_ms: u64,
    /// Outcomes of the latest [`OUTCOME_WINDOW`] interactions, oldest first.
    outcomes: VecDeque<Outcome>,
    /// Where the listener's taste last moved (the order of the first skipped replay
    /// of the run that showed it), if it ever did.
    shift_at: Option<u64>,
    /// The same place counted among all interactions ([`Self::shift_at_entry`]).
    shift_entry: Option<u64>,
}

/// How far back a song last played, as seen from the latest interaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Since {
    /// Other songs played since.
    pub plays: u64,
    /// The longer of wall-clock time and listening time since, in ms: a listener
    /// who posts quickly (a test, a scrubbing session) still has to listen the time
    /// away, and one who comes back the next day has rested everything.
    pub ms: u64,
}

impl History {
    /// Folds in one interaction (the caller applies each log entry once, in order).
    pub fn record(&mut self, i: &Interaction) {
        let entry_order = self.entries;
        self.entries += 1;
        // Playlist edits are not listening: they teach the labels, not the rotation.
        if matches!(
            i.kind,
            InteractionKind::AddedToPlaylist | InteractionKind::RemovedFromPlaylist
        ) {
            return;
        }
        let positive = i.kind.is_finish() || i.kind == InteractionKind::Liked;
        self.listened_ms = self.listened_ms.saturating_add(i.position_ms);
        self.latest_at_ms = self.latest_at_ms.max(i.at_ms);
        let entry = self.songs.entry(i.song_id.clone()).or_insert(SongHistory {
            plays: 0,
            skips_in_a_row: 0,
            disliked: false,
            liked: false,
            last_skip_ms: 0,
            last_order: 0,
            first_finish: u64::MAX,
            last_at_ms: 0,
            last_listened_ms: 0,
        });
        let replay = entry.plays > 0;
        if positive {
            entry.first_finish = entry.first_finish.min(self.applied);
            entry.plays = entry.plays.saturating_add(1);
            entry.skips_in_a_row = 0;
            entry.disliked = false;
            entry.liked |= i.kind == InteractionKind::Liked;
        } else {
            entry.skips_in_a_row = entry.skips_in_a_row.saturating_add(1);
            entry.disliked = i.kind == InteractionKind::Disliked;
            entry.liked = false;
            entry.last_skip_ms = i.position_ms;
        }
        entry.last_order = self.applied;
        entry.last_at_ms = i.at_ms;
        entry.last_listened_ms = self.listened_ms;
        self.applied += 1;
        self.outcomes.push_back(Outcome {
            replay,
            finished: positive,
            entry: entry_order,
        });
        if self.outcomes.len() > OUTCOME_WINDOW {
            self.outcomes.pop_front();
        }
        self.detect_shift();
        // Evict in batches so the sort is amortized over many records.
        if self.songs.len() > MAX_TRACKED_SONGS + MAX_TRACKED_SONGS / 10 {
            let mut orders: Vec<u64> = self.songs.values().map(|s| s.last_order).collect();
            orders.sort_unstable();
            let cutoff = orders[orders.len() - MAX_TRACKED_SONGS];
            self.songs.retain(|_, s| s.last_order >= cutoff);
        }
    }

    /// Notices a moved taste from the latest outcomes (see [`SHIFT_REPLAYS`]).
    fn detect_shift(&mut self) {
        let n = self.outcomes.len();
        let window = SHIFT_SKIP_WINDOW.min(n);
        if window < SHIFT_SKIP_WINDOW {
            return;
        }
        let skipped = self
            .outcomes
            .iter()
            .skip(n - window)
            .filter(|o| !o.finished)
            .count();
        if (skipped as f32) < SHIFT_MIN_SKIP_RATE * window as f32 {
            return;
        }
        // The latest replays, newest first, with their order (listening and log-wide).
        let first = self.applied - n as u64;
        let replays: Vec<(u64, u64, bool)> = self
            .outcomes
            .iter()
            .enumerate()
            .rev()
            .filter(|(_, o)| o.replay)
            .take(SHIFT_REPLAYS)
            .map(|(i, o)| (first + i as u64, o.entry, o.finished))
            .collect();
        let finished = replays.iter().filter(|(_, _, f)| *f).count();
        if replays.len() < SHIFT_REPLAYS || finished > SHIFT_MAX_FINISHED {
            return;
        }
        let Some(&(start, entry, _)) = replays
            .iter()
            .filter(|(_, _, f)| !*f)
            .min_by_key(|(o, _, _)| *o)
        else {
            return;
        };
        if self
            .shift_at
            .is_none_or(|at| start >= at + SHIFT_REARM_PLAYS)
        {
            self.shift_at = Some(start);
            self.shift_entry = Some(entry);
        }
    }

    /// Where the listener's taste last moved: interactions before this order belong
    /// to the old taste. `None` while it never did.
    pub fn shift_at(&self) -> Option<u64> {
        self.shift_at
    }

    /// [`Self::shift_at`] counted among *all* interactions, playlist edits included:
    /// the order the training set's signals carry, so "before the move" means the
    /// same interactions to the labels as to the rotation.
    pub fn shift_at_entry(&self) -> Option<u64> {
        self.shift_entry
    }

    /// True when `song` was a favorite before the taste last moved (first finished
    /// before [`Self::shift_at`]), whatever it did since.
    pub fn favorite_from_before_shift(&self, song: &SongId) -> bool {
        self.shift_at
            .zip(self.songs.get(song))
            .is_some_and(|(at, h)| h.first_finish < at)
    }

    pub fn get(&self, song: &SongId) -> Option<&SongHistory> {
        self.songs.get(song)
    }

    /// Every song heard, with its history.
    pub fn songs(&self) -> impl Iterator<Item = (&SongId, &SongHistory)> {
        self.songs.iter()
    }

    /// Interactions applied so far.
    pub fn applied(&self) -> u64 {
        self.applied
    }

    /// How long ago `song` last played, from the latest interaction.
    pub fn since(&self, song: &SongHistory) -> Since {
        let plays = self.applied.saturating_sub(song.last_order + 1);
        let wall = self.latest_at_ms.saturating_sub(song.last_at_ms);
        let listened = self.listened_ms.saturating_sub(song.last_listened_ms);
        Since {
            plays,
            ms: wall.max(listened),
        }
    }

    /// Outcomes of the latest interactions, oldest first.
    pub fn outcomes(&self) -> impl Iterator<Item = &Outcome> {
        self.outcomes.iter()
    }

    /// A fingerprint of the history (FNV-1a over every song's record and the
    /// counters), for the chaos `model-input` check next to the training digest.
    pub fn digest(&self) -> u64 {
        let mut h = Fnv::new();
        for (id, s) in &self.songs {
            h.eat(id.as_str().as_bytes());
            h.eat(&[0xff, u8::from(s.disliked), u8::from(s.liked)]);
            for n in [
                u64::from(s.plays),
                u64::from(s.skips_in_a_row),
                s.last_skip_ms,
                s.last_order,
                s.first_finish,
                s.last_at_ms,
                s.last_listened_ms,
            ] {
                h.eat(&n.to_le_bytes());
            }
        }
        for n in [
            self.applied,
            self.entries,
            self.listened_ms,
            self.latest_at_ms,
            self.shift_at.unwrap_or(u64::MAX),
            self.shift_entry.unwrap_or(u64::MAX),
        ] {
            h.eat(&n.to_le_bytes());
        }
        h.0
    }
}

/// FNV-1a, 64 bits.
pub(crate) struct Fnv(pub u64);

impl Fnv {
    pub fn new() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }

    pub fn eat(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::types::ClientId;

    fn i(n: u64, song: &str, kind: InteractionKind, position_ms: u64) -> Interaction {
        Interaction {
            id: ClientId::parse(&format!("history-{n:04}")).unwrap(),
            song_id: SongId::parse(song).unwrap(),
            kind,
            position_ms,
            at_ms: 1_000 * n,
        }
    }

    #[test]
    fn counts_plays_skips_and_time_since() {
        let mut h = History::default();
        h.record(&i(1, "a", InteractionKind::Finished, 60_000));
        h.record(&i(2, "b", InteractionKind::Skipped, 5_000));
        h.record(&i(3, "b", InteractionKind::Skipped, 5_000));
        h.record(&i(4, "a", InteractionKind::Liked, 60_000));
        h.record(&i(5, "c", InteractionKind::Finished, 60_000));
        let a = *h.get(&SongId::parse("a").unwrap()).unwrap();
        let b = *h.get(&SongId::parse("b").unwrap()).unwrap();
        assert_eq!((a.plays, a.skips_in_a_row, a.liked), (2, 0, true));
        assert_eq!((b.plays, b.skips_in_a_row), (0, 2));
        let since = h.since(&a);
        assert_eq!(since.plays, 1);
        // Listening time (60 s for "c") beats the 1 s of wall clock.
        assert_eq!(since.ms, 60_000);
        let replays: Vec<bool> = h.outcomes().map(|o| o.replay).collect();
        assert_eq!(replays, [false, false, false, true, false]);
    }

    /// The shift is dated in both counts: listening plays (the rotation's) and all
    /// interactions, playlist edits included (the training set's), so "before the
    /// move" is the same interactions to both.
    #[test]
    fn a_shift_is_dated_in_plays_and_in_log_entries() {
        let mut h = History::default();
        let mut n = 0;
        let mut next = |h: &mut History, song: String, kind: InteractionKind| {
            n += 1;
            h.record(&i(n, &song, kind, 60_000));
        };
        for s in 0..10 {
            next(&mut h, format!("old{s}"), InteractionKind::Finished);
        }
        // Five playlist edits: labels, not listening.
        for s in 0..5 {
            next(&mut h, format!("old{s}"), InteractionKind::AddedToPlaylist);
        }
        assert_eq!((h.applied(), h.shift_at()), (10, None));
        // The old favorites skipped, and new songs too: the taste moved.
        for s in 0..6 {
            next(&mut h, format!("old{s}"), InteractionKind::Skipped);
        }
        for s in 0..4 {
            next(&mut h, format!("new{s}"), InteractionKind::Skipped);
        }
        assert_eq!(h.shift_at(), Some(10), "the first skipped replay, in plays");
        assert_eq!(h.shift_at_entry(), Some(15), "the same one, in log entries");
        // An old favorite finished again after the move is still one from before;
        // a song first finished after it is not.
        next(&mut h, "old7".to_owned(), InteractionKind::Finished);
        next(&mut h, "new9".to_owned(), InteractionKind::Finished);
        let id = |s: &str| SongId::parse(s).unwrap();
        assert!(h.favorite_from_before_shift(&id("old7")));
        assert!(!h.favorite_from_before_shift(&id("new9")));
        assert!(!h.favorite_from_before_shift(&id("new0")), "never finished");
    }
}
