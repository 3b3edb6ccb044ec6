//! [`Reason`]: why a song is in the feed, as shown to the listener. Each reason is
//! attached where the song entered the feed (its candidate source, or the familiar
//! part of the mix), so it is true by construction: "because you finished X" only
//! names a song this listener finished, "a favorite" only a song they came back to
//! finish, "something new" only a song they have never heard, "<friend> finished this
//! twice this week" only what that friend's shared activity says.

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
    /// Never heard; someone the listener follows, who shares their listening, finished
    /// or liked it lately (`model::social`). `finishes_this_week` counts that friend's
    /// finishes of this song in the week before the page was built.
    Friend {
        name: String,
        finishes_this_week: u32,
        liked: bool,
    },
}

/// "twice", "3 times"… for a count of at least 2.
fn times(n: u32) -> String {
    match n {
        2 => "twice".to_owned(),
        3 => "three times".to_owned(),
        n => format!("{n} times"),
    }
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
            Reason::Friend {
                name,
                finishes_this_week,
                liked,
            } => {
                match finishes_this_week {
                    0 if *liked => return write!(f, "{name} liked this"),
                    0 => write!(f, "{name} finished this")?,
                    1 => write!(f, "{name} finished this once this week")?,
                    &n => write!(f, "{name} finished this {} this week", times(n))?,
                }
                if *liked {
                    f.write_str(" and liked it")?;
                }
                Ok(())
            }
        }
    }
}
