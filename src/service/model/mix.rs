//! The mix of familiar and new: how many songs of a feed page are rested favorites
//! and how many the listener has never heard.
//!
//! Each slot should go where the listener is more likely to stay, so the mix weighs
//! two estimates:
//!
//! - a replay's chance: how often the listener finished the replays among their
//!   latest [`OUTCOME_WINDOW`](super::history::OUTCOME_WINDOW) interactions
//!   (a prior of [`REPLAY_PRIOR`] before there are any);
//! - a new song's chance: how often they finished the new songs among the same
//!   interactions, averaged with the model's mean score for the best unheard
//!   candidates ("how much unheard music the model still rates highly").
//!
//! The familiar share is `0.5 + GAIN × (replay − new)`, clamped to
//! `[0, MAX_FAMILIAR_SHARE]`, so a listener who skips new songs but finishes replays
//! gets more favorites, and one whose taste moved (replays skipped) gets fewer. Two
//! limits keep the rotation from running dry or coming round in a block: no more
//! favorites than are rested, and no more than the listener's favorites can sustain
//! at one replay every [`REPLAY_TARGET_PLAYS`] plays each.

use super::history::History;
use super::rotation::REPLAY_TARGET_PLAYS;

/// How strongly the difference between the two estimates moves the share.
pub const GAIN: f32 = 2.0;
/// At most this share of a page is familiar: the rest is always new music (when
/// any is left), so discovery never stops.
pub const MAX_FAMILIAR_SHARE: f32 = 0.9;
/// Before any replay: listeners mostly finish songs they finished before.
pub const REPLAY_PRIOR: f32 = 0.85;
/// Weight of the prior, in interactions.
pub const PRIOR_WEIGHT: f32 = 4.0;

/// What the mix reads about a listener.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MixSignals {
    /// Finished share of the latest replays (smoothed toward [`REPLAY_PRIOR`]).
    pub replay_rate: f32,
    /// Finished share of the latest new songs (smoothed toward one half).
    pub new_rate: f32,
    /// Favorites the listener has, rested or not.
    pub favorites: usize,
}

impl MixSignals {
    pub fn read(history: &History, favorites: usize) -> Self {
        let (mut rf, mut rn, mut nf, mut nn) = (0.0f32, 0.0f32, 0.0f32, 0.0f32);
        for o in history.outcomes() {
            let f = o.finished as u8 as f32;
            if o.replay {
                rf += f;
                rn += 1.0;
            } else {
                nf += f;
                nn += 1.0;
            }
        }
        Self {
            replay_rate: (rf + REPLAY_PRIOR * PRIOR_WEIGHT) / (rn + PRIOR_WEIGHT),
            new_rate: (nf + 0.5 * PRIOR_WEIGHT) / (nn + PRIOR_WEIGHT),
            favorites,
        }
    }
}

/// The familiar share of a page before the limits: see the module docs.
/// `new_quality` is the model's mean score for the best unheard candidates (`None`
/// without a model).
pub fn familiar_share(s: &MixSignals, new_quality: Option<f32>) -> f32 {
    let new = match new_quality {
        Some(q) => 0.5 * (q + s.new_rate),
        None => s.new_rate,
    };
    (0.5 + GAIN * (s.replay_rate - new)).clamp(0.0, MAX_FAMILIAR_SHARE)
}

/// Familiar slots in a page of `limit`, with `rested` favorites ready to replay.
pub fn familiar_slots(
    limit: usize,
    s: &MixSignals,
    new_quality: Option<f32>,
    rested: usize,
) -> usize {
    let wanted = (limit as f32 * familiar_share(s, new_quality)).round() as usize;
    let sustainable = (limit * s.favorites).div_ceil(REPLAY_TARGET_PLAYS as usize);
    wanted.min(sustainable).min(rested)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signals(replay_rate: f32, new_rate: f32, favorites: usize) -> MixSignals {
        MixSignals {
            replay_rate,
            new_rate,
            favorites,
        }
    }

    #[test]
    fn the_mix_follows_what_the_listener_finishes() {
        let keen_on_new = familiar_slots(10, &signals(0.6, 0.9, 100), Some(0.9), 50);
        let keen_on_old = familiar_slots(10, &signals(0.95, 0.4, 100), Some(0.4), 50);
        let drifted = familiar_slots(10, &signals(0.2, 0.5, 100), Some(0.5), 50);
        assert!(keen_on_new < keen_on_old, "{keen_on_new} vs {keen_on_old}");
        assert_eq!(keen_on_old, 9, "capped: one new song a page at least");
        assert_eq!(drifted, 0, "replays skipped: no favorites");
    }

    #[test]
    fn never_more_than_rested_or_sustainable() {
        let s = signals(0.95, 0.3, 10);
        assert_eq!(
            familiar_slots(10, &s, None, 50),
            4,
            "10 favorites every 30 plays"
        );
        let s = signals(0.95, 0.3, 100);
        assert_eq!(familiar_slots(10, &s, None, 3), 3, "only 3 rested");
    }
}
