//! When a song the listener has heard may be offered again: favorites come back after
//! a rest measured in plays *and* time, skipped songs stay away for a while, and songs
//! skipped again and again (or disliked) stay away for good — unless the listener
//! finds them with search and plays them through, which makes them favorites again.
//!
//! These rules are what keeps a feed from looping: every song, favorite or not, is
//! at least [`REPLAY_MIN_PLAYS`] plays away from its last hearing before it can be
//! offered, so no song shows up twice within 20 consecutive feed items. Everything
//! here reads [`History`] (rebuilt from the log) and the catalog's features.
//!
//! A rested favorite also waits while the listener keeps skipping songs that sound
//! like it ([`neighbourhood_approval`]): when a taste moves, the old favorites stop
//! coming back at once, not one skip each.

use super::history::{History, SongHistory};
use super::labels::is_early_skip;
use super::neighbours::distance2;
use super::quantize::FeatureIndex;

/// A favorite comes back only after this many other songs: more than the 20 feed
/// items within which no song may repeat, with a margin for a page's length.
pub const REPLAY_MIN_PLAYS: u64 = 25;
/// …and after this much time (wall clock or listening time, the longer): short songs
/// played back to back would otherwise come round too soon.
pub const REPLAY_MIN_MS: u64 = 20 * 60 * 1000;
/// The spacing a favorite is aimed at: the mix offers favorites no faster than the
/// listener's favorites can sustain at this gap, so they never come back in a block.
pub const REPLAY_TARGET_PLAYS: u64 = 30;
/// A skipped song stays away for this many plays per skip in a row…
pub const SKIP_REST_PLAYS: u64 = 100;
/// …and at least this long: the listener said "not now", not "never".
pub const SKIP_REST_MS: u64 = 3 * 60 * 60 * 1000;
/// Skipped this many times in a row (with no finish between): away for good.
pub const BAN_AFTER_SKIPS: u32 = 3;
/// A favorite finished at least this often survives one *late* skip (it rests twice
/// as long): the listener got far into it, so it was the moment, not the song. An
/// early skip ends a favorite at once — that is how a changed taste shows.
pub const FORGIVING_PLAYS: u32 = 2;

/// Squared feature distance at which a recent interaction counts for `1/e` as much as
/// one with an identical song: about the spread of one genre in scaled features.
pub const NEIGHBOURHOOD_D2: f32 = 4.0;
/// Weight of the prior (a neighbourhood the listener finishes three times in four).
pub const NEIGHBOURHOOD_PRIOR_WEIGHT: f32 = 1.0;
pub const NEIGHBOURHOOD_PRIOR: f32 = 0.75;
/// A favorite whose neighbourhood approval is below this waits.
pub const MIN_NEIGHBOURHOOD_APPROVAL: f32 = 0.5;

/// Songs heard within this many plays count toward a neighbourhood's approval…
pub const NEIGHBOURHOOD_HORIZON: u64 = 100;
/// …each weighing half as much every this many plays: short, so that after a taste
/// changes, what the listener skipped before the change soon stops counting.
pub const NEIGHBOURHOOD_HALF_LIFE: f32 = 12.0;

/// One song heard lately, as neighbourhood evidence.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evidence {
    pub song: u32,
    /// Its latest interaction was a finish or a like.
    pub finished: bool,
    /// Plays since its latest interaction.
    pub since_plays: u64,
    /// Recency weight in (0, 1].
    pub weight: f32,
}

/// The evidence of the songs heard within [`NEIGHBOURHOOD_HORIZON`] plays, each by
/// its latest interaction (`index_of` maps a history entry to a catalog index).
pub fn evidence(
    history: &History,
    index_of: impl Fn(&crate::catalog::SongId) -> Option<u32>,
) -> Vec<Evidence> {
    history
        .songs()
        .filter_map(|(id, h)| {
            let since = history.since(h).plays;
            (since < NEIGHBOURHOOD_HORIZON).then_some(())?;
            Some(Evidence {
                song: index_of(id)?,
                finished: h.skips_in_a_row == 0 && h.plays > 0,
                since_plays: since,
                weight: 0.5f32.powf(since as f32 / NEIGHBOURHOOD_HALF_LIFE),
            })
        })
        .collect()
}

/// How much the listener finished, lately, of what sounds like `song` (itself left
/// out): the [`evidence`] weighted by recency and closeness in scaled features, with
/// a prior. In [0, 1].
pub fn neighbourhood_approval(features: &FeatureIndex, recent: &[Evidence], song: u32) -> f32 {
    let Some(x) = features.scaled(song as usize) else {
        return NEIGHBOURHOOD_PRIOR;
    };
    let (mut yes, mut all) = (
        NEIGHBOURHOOD_PRIOR * NEIGHBOURHOOD_PRIOR_WEIGHT,
        NEIGHBOURHOOD_PRIOR_WEIGHT,
    );
    for e in recent.iter().filter(|e| e.song != song) {
        let Some(y) = features.scaled(e.song as usize) else {
            continue;
        };
        let k = e.weight * (-distance2(x, y) / NEIGHBOURHOOD_D2).exp();
        yes += k * f32::from(u8::from(e.finished));
        all += k;
    }
    yes / all
}

/// Share of a song's approval that comes from its genre (what the listener finished
/// lately of the same genre) rather than its sound: listeners who love a genre love
/// it whatever it sounds like, and genres overlap in audio features.
pub const GENRE_APPROVAL_SHARE: f32 = 0.7;

/// How much the listener finished, lately, of the same genre as `song` (itself left
/// out): the [`evidence`] weighted by recency, with the same prior as the sound's.
pub fn genre_approval(catalog: &crate::catalog::Catalog, recent: &[Evidence], song: u32) -> f32 {
    let all = catalog.songs();
    let Some(genre) = all.get(song as usize).map(|s| s.genre.as_str()) else {
        return NEIGHBOURHOOD_PRIOR;
    };
    let (mut yes, mut n) = (
        NEIGHBOURHOOD_PRIOR * NEIGHBOURHOOD_PRIOR_WEIGHT,
        NEIGHBOURHOOD_PRIOR_WEIGHT,
    );
    for e in recent.iter().filter(|e| e.song != song) {
        if all.get(e.song as usize).is_some_and(|s| s.genre == genre) {
            yes += e.weight * f32::from(u8::from(e.finished));
            n += e.weight;
        }
    }
    yes / n
}

/// A song's approval: its sound's ([`neighbourhood_approval`]) and its genre's
/// ([`genre_approval`]), [`GENRE_APPROVAL_SHARE`] of it from the genre.
pub fn approval(index: &super::CatalogIndex, recent: &[Evidence], song: u32) -> f32 {
    let a = neighbourhood_approval(index.features(), recent, song);
    let w = GENRE_APPROVAL_SHARE;
    (1.0 - w) * a + w * genre_approval(index.catalog(), recent, song)
}

/// What the feed may do with one heard song right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// A favorite, rested: may be replayed.
    Rested,
    /// A favorite, played too recently.
    Cooling,
    /// Skipped, and its rest is over: may be offered again (a second chance).
    SecondChance,
    /// Skipped, still resting.
    Resting,
    /// Skipped again and again, or disliked: never offered by the feed.
    Banned,
}

impl Standing {
    /// True for songs the listener has come to like (rested or not).
    pub fn is_favorite(self) -> bool {
        matches!(self, Standing::Rested | Standing::Cooling)
    }
}

/// Where one heard song (of length `duration_ms`, 0 if unknown) stands.
pub fn standing(history: &History, song: &SongHistory, duration_ms: u64) -> Standing {
    let since = history.since(song);
    if song.disliked || song.skips_in_a_row >= BAN_AFTER_SKIPS {
        return Standing::Banned;
    }
    let forgiven = song.plays >= FORGIVING_PLAYS
        && song.skips_in_a_row == 1
        && !is_early_skip(song.last_skip_ms, duration_ms);
    let favorite = song.plays > 0 && (song.skips_in_a_row == 0 || forgiven);
    if favorite {
        let factor = 1 + u64::from(song.skips_in_a_row);
        let rested = since.plays >= REPLAY_MIN_PLAYS * factor && since.ms >= REPLAY_MIN_MS * factor;
        return if rested {
            Standing::Rested
        } else {
            Standing::Cooling
        };
    }
    let n = u64::from(song.skips_in_a_row.max(1));
    if since.plays >= SKIP_REST_PLAYS * n && since.ms >= SKIP_REST_MS * n {
        Standing::SecondChance
    } else {
        Standing::Resting
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::SongId;
    use crate::store::types::{ClientId, Interaction, InteractionKind};

    /// Plays `song` (one minute long) with `kind` — a skip comes 10 s in, a late skip
    /// 50 s in — then `filler` other one-minute songs.
    fn play(h: &mut History, song: &str, kind: InteractionKind, filler: usize) {
        play_at(h, song, kind, 10_000, filler)
    }

    fn play_at(h: &mut History, song: &str, kind: InteractionKind, skip_ms: u64, filler: usize) {
        let n = h.applied();
        let mk = |k: u64, s: &str, kind| Interaction {
            id: ClientId::parse(&format!("rotation-{k:04}")).unwrap(),
            song_id: SongId::parse(s).unwrap(),
            kind,
            position_ms: if kind == InteractionKind::Finished {
                60_000
            } else {
                skip_ms
            },
            at_ms: k,
        };
        h.record(&mk(n, song, kind));
        for j in 0..filler as u64 {
            h.record(&mk(
                n + 1 + j,
                &format!("f{}", n + 1 + j),
                InteractionKind::Finished,
            ));
        }
    }

    fn of(h: &History, song: &str) -> Standing {
        standing(h, h.get(&SongId::parse(song).unwrap()).unwrap(), 60_000)
    }

    #[test]
    fn favorites_rest_in_plays_and_time() {
        let mut h = History::default();
        play(&mut h, "fav", InteractionKind::Finished, 24);
        assert_eq!(of(&h, "fav"), Standing::Cooling, "24 plays is too soon");
        play(&mut h, "x", InteractionKind::Finished, 0);
        assert_eq!(of(&h, "fav"), Standing::Rested, "25 plays and 25 minutes");
        // Short songs: 25 plays but only 25 × 30 s of listening.
        let mut h = History::default();
        let mk = |k: u64, s: &str| Interaction {
            id: ClientId::parse(&format!("short-{k:04}")).unwrap(),
            song_id: SongId::parse(s).unwrap(),
            kind: InteractionKind::Finished,
            position_ms: 30_000,
            at_ms: k,
        };
        h.record(&mk(0, "fav"));
        for k in 1..=25 {
            h.record(&mk(k, &format!("f{k}")));
        }
        assert_eq!(of(&h, "fav"), Standing::Cooling, "12.5 minutes is too soon");
    }

    #[test]
    fn skips_rest_then_ban_and_a_finish_forgives() {
        let mut h = History::default();
        play(&mut h, "s", InteractionKind::Skipped, 99);
        assert_eq!(of(&h, "s"), Standing::Resting);
        play(&mut h, "y", InteractionKind::Finished, 200);
        assert_eq!(of(&h, "s"), Standing::SecondChance);
        play(&mut h, "s", InteractionKind::Skipped, 0);
        play(&mut h, "s", InteractionKind::Skipped, 0);
        assert_eq!(of(&h, "s"), Standing::Banned, "three skips in a row");
        // Found with search and played through: a favorite again.
        play(&mut h, "s", InteractionKind::Finished, 0);
        assert_eq!(of(&h, "s"), Standing::Cooling);
        play(&mut h, "d", InteractionKind::Disliked, 500);
        assert_eq!(of(&h, "d"), Standing::Banned, "a dislike is for good");
    }

    #[test]
    fn a_favorite_survives_one_late_skip_not_an_early_one() {
        let mut h = History::default();
        for _ in 0..2 {
            play(&mut h, "fav", InteractionKind::Finished, 30);
        }
        play_at(&mut h, "fav", InteractionKind::Skipped, 50_000, 30);
        assert_eq!(of(&h, "fav"), Standing::Cooling, "rests twice as long");
        play(&mut h, "z", InteractionKind::Finished, 30);
        assert_eq!(of(&h, "fav"), Standing::Rested);
        play_at(&mut h, "fav", InteractionKind::Skipped, 50_000, 0);
        assert!(!of(&h, "fav").is_favorite(), "a second skip ends it");
        let mut h = History::default();
        for _ in 0..5 {
            play(&mut h, "fav", InteractionKind::Finished, 30);
        }
        play(&mut h, "fav", InteractionKind::Skipped, 0);
        assert!(!of(&h, "fav").is_favorite(), "an early skip ends it");
    }
}
