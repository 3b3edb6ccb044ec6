//! The records the store keeps, and the identifiers that name them. Each identifier
//! is parsed once where it enters (HTTP, CLI, or bytes read back from a backend).

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::catalog::SongId;

/// Declares a string newtype that only exists once validated.
macro_rules! id_type {
    ($(#[$m:meta])* $name:ident, $err:literal, $valid:expr) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse(s: &str) -> Result<Self, InvalidId> {
                let valid: fn(&str) -> bool = $valid;
                if valid(s) {
                    Ok(Self(s.to_owned()))
                } else {
                    Err(InvalidId { what: $err, value: s.chars().take(80).collect() })
                }
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl TryFrom<String> for $name {
            type Error = InvalidId;
            fn try_from(s: String) -> Result<Self, InvalidId> {
                Self::parse(&s)
            }
        }
        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid {what}: {value:?}")]
pub struct InvalidId {
    pub what: &'static str,
    pub value: String,
}

fn token_chars(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

id_type!(
    /// A listener (account) id, made by the server: `[A-Za-z0-9_-]{1,64}`.
    ListenerId, "listener id", |s| token_chars(s, 64)
);
id_type!(
    /// A login name: 3–32 characters of lowercase letters, digits, '_', '-' or '.'.
    Username, "username (3-32 characters: a-z, 0-9, '_', '-', '.')",
    |s| (3..=32).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-.".contains(&b))
);
id_type!(
    /// A client-made interaction id (e.g. a UUID): `[A-Za-z0-9_-]{8,64}`.
    ClientId, "interaction id (8-64 characters: letters, digits, '_' or '-')",
    |s| s.len() >= 8 && token_chars(s, 64)
);
id_type!(
    /// A node id: `[A-Za-z0-9_-]{1,64}`.
    NodeId, "node id", |s| token_chars(s, 64)
);
id_type!(
    /// A playlist id, made by the server.
    PlaylistId, "playlist id", |s| token_chars(s, 64)
);
id_type!(
    /// The name a listener shows others (issue 17): 1–40 characters, no control
    /// characters, no space at either end. Unset, a listener is shown by username.
    DisplayName, "display name (1-40 characters, no control characters)",
    |s| (1..=MAX_DISPLAY_NAME_CHARS).contains(&s.chars().count())
        && !s.chars().any(char::is_control)
        && s.trim() == s
);

/// The longest display name, in characters.
pub const MAX_DISPLAY_NAME_CHARS: usize = 40;

/// An account. The password is only ever kept as an argon2id PHC string.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    pub id: ListenerId,
    pub username: Username,
    pub password_hash: String,
    pub created_ms: u64,
    pub preferences: Preferences,
    /// Sessions started under an older epoch are void ("log out everywhere", a new
    /// password); see `Store::revoke_sessions`.
    #[serde(default)]
    pub session_epoch: u64,
}

/// What a listener chose at onboarding.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Preferences {
    pub genres: Vec<String>,
    pub seed_songs: Vec<SongId>,
    /// False until the listener has finished onboarding.
    pub onboarded: bool,
}

/// A login session; only the SHA-256 of its token is stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub token_hash: String,
    pub listener: ListenerId,
    pub created_ms: u64,
    /// The account's session epoch when the session started.
    #[serde(default)]
    pub epoch: u64,
}

/// The listener a session's store key names, if it names one. A key is the SHA-256 of
/// the session's token (hex), or — for tokens made since the key carried it —
/// `<listener>.<that hash>`, so a Redis store can keep the session in the listener's
/// hash slot and read it with the account in one round trip ([`Store::session_check`]).
/// The listener part only places the key: the session read back must name the same
/// listener, and nothing else trusts it.
///
/// [`Store::session_check`]: super::Store::session_check
pub fn session_key_listener(key: &str) -> Option<ListenerId> {
    let (listener, _hash) = key.split_once('.')?;
    ListenerId::parse(listener).ok()
}

/// The session read back from under `key` must name the listener the key names (see
/// [`session_key_listener`]); anything else is a corrupt store.
pub fn session_fits_key(key: &str, session: &Session) -> Result<(), super::StoreError> {
    match session_key_listener(key) {
        Some(named) if named != session.listener => Err(super::StoreError::Corrupt(format!(
            "session under {named}'s key names {}",
            session.listener
        ))),
        _ => Ok(()),
    }
}

/// What checking a signed-in request reads ([`Store::session_check`]): the session
/// and, unless the account is gone, what the check needs of it.
///
/// [`Store::session_check`]: super::Store::session_check
#[derive(Debug, Clone, PartialEq)]
pub struct SessionCheck {
    pub session: Session,
    pub account: Option<SessionAccount>,
}

/// The part of an account a session check reads.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionAccount {
    pub username: Username,
    /// The account's current session epoch; the session is void unless it matches.
    pub session_epoch: u64,
}

impl SessionCheck {
    /// Whether the session signs its requests in: its account exists and the session's
    /// epoch is the account's (not logged out everywhere, no new password since). The
    /// one rule, for `http::session::check` and [`Store::append_checked`] alike (the
    /// Redis store's `append.lua` applies it in the script).
    ///
    /// [`Store::append_checked`]: super::Store::append_checked
    pub fn signs_in(&self) -> bool {
        self.account
            .as_ref()
            .is_some_and(|a| a.session_epoch == self.session.epoch)
    }
}

/// What [`Store::append_checked`] found and did: the session check (as
/// [`Store::session_check`] returns it) and, only when the session signs its requests
/// in ([`SessionCheck::signs_in`]), the append to its listener's log and whether the
/// activity entry was recorded (always false without one).
///
/// [`Store::append_checked`]: super::Store::append_checked
/// [`Store::session_check`]: super::Store::session_check
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedAppend {
    pub check: Option<SessionCheck>,
    pub appended: Option<(Appended, bool)>,
}

/// What a listener did with a song. Serialized by name (`snake_case`) in both stores'
/// logs, and by variant position in model snapshots: add variants at the end, never
/// rename or reorder, so every log and snapshot written before still decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InteractionKind {
    Finished,
    Skipped,
    Liked,
    Disliked,
    /// Put in one of the listener's playlists (a strong positive; not a play).
    AddedToPlaylist,
    /// Taken out of one of the listener's playlists (a negative; not a play).
    RemovedFromPlaylist,
    /// Finished a song the listener started from a search: a play they went looking
    /// for (a play, and a stronger positive than a finish from the feed).
    SearchFinished,
}

impl InteractionKind {
    /// True for what happens while listening (a song played to its end or skipped);
    /// false for likes, dislikes and playlist edits.
    pub fn is_play(self) -> bool {
        matches!(self, Self::Finished | Self::Skipped | Self::SearchFinished)
    }

    /// True for what says "more like this": a finish (from anywhere), a like, a
    /// playlist add.
    pub fn is_positive(self) -> bool {
        matches!(
            self,
            Self::Finished | Self::Liked | Self::AddedToPlaylist | Self::SearchFinished
        )
    }

    /// True for a song played to its end (from the feed or from a search).
    pub fn is_finish(self) -> bool {
        matches!(self, Self::Finished | Self::SearchFinished)
    }
}

/// One thing a listener did with a song.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Interaction {
    pub id: ClientId,
    pub song_id: SongId,
    pub kind: InteractionKind,
    /// Play position when it happened (for skips: how far the listener got).
    pub position_ms: u64,
    /// Server time of acceptance, ms since the Unix epoch.
    pub at_ms: u64,
}

/// An interaction with its place in the listener's log (1, 2, 3, …).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoggedInteraction {
    pub seq: u64,
    pub interaction: Interaction,
}

/// The result of an append: the entry's sequence number, and whether the client id
/// had been appended before (then nothing was written).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    pub seq: u64,
    pub duplicate: bool,
}

/// What one [`Store::compact_log`](super::Store::compact_log) call did: the log now
/// starts after `through` (every entry up to it is covered by the snapshot), and
/// `removed` entries went in this call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Compaction {
    pub through: u64,
    pub removed: u64,
}

/// The most entries one compaction call removes, so a call on a long legacy log
/// stays short (a Redis script blocks the server while it runs); later calls go on.
pub const COMPACTION_BATCH: u64 = 2048;

/// A serialized model and what it covers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The fencing epoch of the actor that wrote it.
    pub epoch: u64,
    /// The last log sequence number whose entry is reflected in `bytes`.
    pub covers_seq: u64,
    pub bytes: Vec<u8>,
}

/// What activating a listener's actor reads ([`super::Store::activate`]): the new
/// fencing epoch, then the account, the latest snapshot and the first page of the log
/// after what that snapshot covers.
#[derive(Debug, Clone, PartialEq)]
pub struct Activated {
    pub epoch: u64,
    pub account: Option<Account>,
    pub snapshot: Option<Snapshot>,
    /// The seq `log` starts after: the snapshot's `covers_seq`, 0 without one.
    pub log_after: u64,
    /// Entries with `seq > log_after`, oldest first, at most the page asked for.
    pub log: Vec<LoggedInteraction>,
}

/// One step in a listener's writer journal. The store appends a step in the same
/// atomic step as the change it records, so the journal's order is the order the
/// store applied them: who took the listener (fencing epochs) and which snapshot
/// writes were made or refused. The chaos checker reads it to prove that no two
/// actors of one listener both wrote after the later one's activation; operators
/// read it to see a listener's ownership history. Only the last
/// [`WRITER_JOURNAL_CAP`] steps are kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriterEvent {
    /// Store time (ms since the Unix epoch) when the step was applied.
    pub at_ms: u64,
    /// The epoch of the actor that took the step.
    pub epoch: u64,
    pub step: WriterStep,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "kind")]
pub enum WriterStep {
    /// An actor on `node` took `epoch` (activation).
    Activated { node: String },
    /// A snapshot covering the log up to `covers_seq` was written.
    Wrote { covers_seq: u64 },
    /// A snapshot write was refused: the writer held `epoch`, the store had `current`.
    /// (Redis only: the embedded store's refused transaction writes nothing at all.)
    Fenced { current: u64 },
}

/// Steps kept per listener in the writer journal (older ones are dropped).
pub const WRITER_JOURNAL_CAP: usize = 1000;

/// What a node announces in the registry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeInfo {
    pub id: NodeId,
    /// The node's HTTP address, e.g. `127.0.0.1:8080`.
    pub http_addr: String,
    /// The node's cluster (ractor_cluster) address, if it runs one.
    pub cluster_addr: Option<String>,
    /// "up" or "draining".
    pub state: String,
    /// Active listener actors on the node at the last beat.
    pub listeners: u64,
    pub started_ms: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LiveNode {
    pub info: NodeInfo,
    pub heartbeat_age_ms: u64,
}

/// A listener's playlist; song order is play order, duplicates allowed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Playlist {
    pub id: PlaylistId,
    pub owner: ListenerId,
    pub name: String,
    pub songs: Vec<SongId>,
    pub updated_ms: u64,
    /// Shown on the owner's profile to others (never to someone the owner blocked).
    /// Private (false) unless the owner makes it public; absent in records written
    /// before the flag existed, which are private.
    #[serde(default)]
    pub public: bool,
}

/// A listener's API key for Subsonic apps (issue 14): only the SHA-256 of the key is
/// kept; `id` names it in the listener's list (for revoking) and is no secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKey {
    pub id: String,
    pub listener: ListenerId,
    /// SHA-256 of the key, hex.
    pub hash: String,
    pub name: String,
    pub created_ms: u64,
}

// ---- social listening (issue 17) --------------------------------------------------

/// What a listener lets others see. Privacy first: until the listener chooses (at
/// onboarding or in settings), nothing is shared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Privacy {
    /// Whether followers see the listener's activity and recently finished songs.
    pub share_activity: bool,
    /// While a private session runs (until this time, ms since the Unix epoch)
    /// nothing new is recorded for others to see.
    #[serde(default)]
    pub private_session_until_ms: Option<u64>,
}

impl Privacy {
    /// True when a private session runs at `now_ms`.
    pub fn private_at(&self, now_ms: u64) -> bool {
        self.private_session_until_ms
            .is_some_and(|until| until > now_ms)
    }

    /// True when something that happens at `now_ms` may be shared.
    pub fn records_at(&self, now_ms: u64) -> bool {
        self.share_activity && !self.private_at(now_ms)
    }
}

/// What a friend sees a listener do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActivityKind {
    /// Started playing the song.
    Playing,
    Finished,
    Liked,
}

/// One entry of a listener's activity list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityEntry {
    pub song_id: SongId,
    pub kind: ActivityKind,
    /// When it happened, ms since the Unix epoch (server time).
    pub at_ms: u64,
}

/// Entries kept per listener in the activity list (older ones are dropped): enough
/// for a profile's "recently finished" and a friend feed, and a fixed cost per
/// listener however active they are.
pub const ACTIVITY_CAP: usize = 200;

/// What a follow did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowOutcome {
    /// The follower now follows (or already followed) the followee.
    Followed,
    /// The followee has blocked the follower; nothing was written.
    Blocked,
}

/// Milliseconds since the Unix epoch, for timestamps the store keeps.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
