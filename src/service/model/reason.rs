//! [`Reason`]: why a song is in the feed, as shown to the listener. Each reason is
//! attached where the song entered the feed (its candidate source, or the familiar
//! part of the mix), so it is true by construction: "because you finished X" only
//! names a song this listener finished, "a favorite" only a song they came back to
//! finish, "something new" only a song they have never heard.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::catalog::SongId;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// A song the listener finished or liked, rested long enough to play again.
    Favorite,
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
    /// Never heard, found in the broad sample and ranked high by the listener's model.
    ForYou,
    /// Never heard, offered so the model keeps learning.
    Exploration,
    /// Skipped once, long enough ago to deserve another try.
    SecondChance,
    /// Never heard; co-occurs, across all listeners, with a song this listener
    /// finished (`model::cooccurrence`).
    AlsoFinished {
        song_id: SongId,
        title: String,
    },
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Favorite => f.write_str("a favorite you haven\u{2019}t heard in a while"),
            Reason::SimilarTo { title, .. } => {
                write!(f, "because you finished \u{201c}{title}\u{201d}")
            }
            Reason::Genre { genre } => write!(f, "from {genre}, a genre you chose"),
            Reason::Popular => f.write_str("popular right now"),
            Reason::ForYou => f.write_str("something new"),
            Reason::Exploration => f.write_str("something new to try"),
            Reason::SecondChance => f.write_str("you skipped this a while ago: another try"),
            Reason::AlsoFinished { title, .. } => write!(
                f,
                "listeners who finished \u{201c}{title}\u{201d} also finished this"
            ),
        }
    }
}
