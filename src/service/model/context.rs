//! [`FeedContext`]: what one page's ranking knows about the listener — their
//! preferences, where every heard song stands, the favorites rested enough to replay,
//! the latest finishes and rejections, the model, the mix's signals, and what their
//! friends played. Built from a
//! [`super::ListenerModel`] for each page; read by [`super::candidates`] and
//! [`super::feed`].

use super::catalog_index::CatalogIndex;
use super::engine::Model;
use super::mix::MixSignals;
use super::rotation::{Evidence, Standing};
use super::social::Friends;
use crate::store::types::Preferences;

/// A heard song the feed may offer only when nothing else is left: at least
/// [`REPLAY_MIN_PLAYS`](super::rotation::REPLAY_MIN_PLAYS) plays away, but not rested by the time rule (a favorite) or
/// still resting after a skip. Offering these instead of a short page is how the
/// feed never hits a wall on a small catalog.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LastResort {
    pub song: u32,
    pub favorite: bool,
    /// A favorite held back only by its rest in time (it is [`REPLAY_MIN_PLAYS`]
    /// plays away, the listener's recent plays approve of it, and it does not wait
    /// for a moved taste): the feed may bring it back early rather than offer a new
    /// song the model expects to be skipped.
    ///
    /// [`REPLAY_MIN_PLAYS`]: super::rotation::REPLAY_MIN_PLAYS
    pub early_favorite: bool,
}

/// A rested favorite the mix may replay.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RestedFavorite {
    pub song: u32,
    /// Other songs played since it last played.
    pub since_plays: u64,
    pub liked: bool,
}

/// What the feed needs to know about one listener.
pub struct FeedContext<'a> {
    pub index: &'a CatalogIndex,
    pub prefs: &'a Preferences,
    /// Per catalog song: where it stands ([`None`] = never heard).
    pub standing: &'a [Option<Standing>],
    /// Favorites rested enough to replay.
    pub rested: &'a [RestedFavorite],
    /// Songs for when nothing else is left, in the order to offer them.
    pub last_resort: &'a [LastResort],
    /// Latest finished or liked songs, newest first.
    pub positives: &'a [u32],
    /// Latest rejected songs, newest first.
    pub negatives: &'a [u32],
    pub model: Option<&'a Model>,
    /// Share of skips among the listener's latest interactions (0 when none).
    pub recent_skip_rate: f32,
    pub mix: MixSignals,
    /// Songs heard lately and how they went (neighbourhood approval).
    pub evidence: &'a [Evidence],
    /// What the people the listener follows (and who share) finished or liked,
    /// weighted by closeness ([`super::social`]); [`super::social::NO_FRIENDS`] = none.
    pub friends: &'a Friends,
    /// Weight of the co-occurrence feature for this listener: how well it predicted
    /// what they finished so far ([`super::cooccurrence::table::predictive_weight`]).
    pub cooc_weight: f32,
    /// Plays since the listener's taste last moved, while that is recent enough to
    /// search for the new taste ([`super::search`]); `None` otherwise.
    pub since_shift: Option<u64>,
}
