//! The gateway's wire protocol: what one node sends another's gateway.
//!
//! ractor_cluster sends a remote message as its enum variant's *name* plus the bytes
//! of its fields, so [`GatewayMsg`] is a protocol: add variants, never rename or
//! re-type one, or a rolling upgrade breaks. Each field is a [`Wire`] — bincode over
//! serde, with a size limit — and decoding never panics on a peer's bytes: malformed
//! input becomes `Wire(Err(..))`, which the receiver answers or drops.
//!
//! A message that decoded is still a peer's word: every field is checked before use
//! ([`FeedRequest::checked`], [`checked_items`]) — ids parsed, counts clamped to what
//! the HTTP API allows, text capped — so no peer can make a node allocate, rank or
//! show more than one of its own requests could.

use std::collections::HashSet;

use ractor::{BytesConvertable, RpcReplyPort};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::catalog::SongId;
use crate::model::RankedItem;
use crate::store::ListenerId;

/// The largest payload we decode from a peer; a feed reply of 100 items is ~10 KB.
const MAX_PAYLOAD: usize = 1 << 20;

/// The most feed items one request may ask for, over HTTP or the wire.
pub const MAX_FEED_ITEMS: usize = 100;

/// The longest reason text kept from a peer's feed item, in characters.
pub const MAX_REASON_CHARS: usize = 200;

/// A field that travels between nodes; `Err` when a peer's bytes did not decode.
#[derive(Debug)]
pub struct Wire<T>(pub Result<T, String>);

impl<T> Wire<T> {
    pub fn ok(v: T) -> Self {
        Self(Ok(v))
    }
}

fn config() -> impl bincode::config::Config {
    bincode::config::standard().with_limit::<MAX_PAYLOAD>()
}

impl<T: Serialize + DeserializeOwned> BytesConvertable for Wire<T> {
    fn into_bytes(self) -> Vec<u8> {
        // Encoding our own types cannot fail short of the limit; an empty vector then
        // decodes as malformed on the other side instead of crashing here.
        bincode::serde::encode_to_vec(&self.0, config()).unwrap_or_default()
    }

    fn from_bytes(bytes: Vec<u8>) -> Self {
        match bincode::serde::decode_from_slice::<Result<T, String>, _>(&bytes, config()) {
            Ok((v, _)) => Self(v),
            Err(e) => Self(Err(format!("malformed gateway payload: {e}"))),
        }
    }
}

/// Asks the owner for a listener's feed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FeedRequest {
    pub listener: String,
    pub limit: u32,
}

impl FeedRequest {
    /// The listener and the number of items to rank, checked: the id parsed, the
    /// limit clamped to `1..=MAX_FEED_ITEMS`.
    pub fn checked(&self) -> Result<(ListenerId, usize), String> {
        let id = ListenerId::parse(&self.listener).map_err(|e| e.to_string())?;
        let limit = usize::try_from(self.limit)
            .unwrap_or(MAX_FEED_ITEMS)
            .clamp(1, MAX_FEED_ITEMS);
        Ok((id, limit))
    }
}

/// One ranked item as it travels.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WireItem {
    pub song_id: String,
    pub score: f32,
    pub reason: String,
}

/// The owner's answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum FeedReply {
    Served {
        items: Vec<WireItem>,
        epoch: u64,
        applied_seq: u64,
        training_rows: u64,
        fitted_rows: u64,
    },
    /// The owner could not serve it (restart budget spent, loading timed out, …).
    Unserved(String),
    /// The receiving node does not think it owns the listener (views differ briefly
    /// while membership changes); the sender serves degraded rather than create a
    /// second writer.
    NotOwner,
    /// `Served` plus the training input's fingerprint (added after `Served`; a node
    /// that does not know it answers degraded rather than misreading it).
    ServedWithDigest {
        items: Vec<WireItem>,
        epoch: u64,
        applied_seq: u64,
        training_rows: u64,
        fitted_rows: u64,
        training_digest: u64,
    },
}

/// A peer's feed items, checked: at most `limit` (itself at most `MAX_FEED_ITEMS`),
/// each with a valid song id not seen before in the list and a finite score, its
/// reason stripped of control characters and cut to `MAX_REASON_CHARS`.
pub fn checked_items(items: Vec<WireItem>, limit: usize) -> Vec<RankedItem> {
    let limit = limit.min(MAX_FEED_ITEMS);
    let mut seen = HashSet::new();
    items
        .into_iter()
        .filter_map(|i| {
            let song_id = SongId::parse(&i.song_id).ok()?;
            if !i.score.is_finite() || !seen.insert(song_id.clone()) {
                return None;
            }
            let reason = i
                .reason
                .chars()
                .filter(|c| !c.is_control())
                .take(MAX_REASON_CHARS)
                .collect();
            Some(RankedItem {
                song_id,
                score: i.score,
                reason,
            })
        })
        .take(limit)
        .collect()
}

/// Tells the owner that a listener's log grew.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogGrew {
    pub listener: String,
}

/// At most this many songs in one [`ScoreRequest`] (a radio asks for its pool, 300);
/// a peer asking for more is answered `Unserved`, never allocated for.
pub const MAX_SCORE_SONGS: usize = 1000;

/// Asks the owner for a listener's own scores of some songs (radio re-ranking).
/// Songs travel as ids: the two nodes' catalogs are the same, their indices need not be.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScoreRequest {
    pub listener: String,
    pub songs: Vec<String>,
}

impl ScoreRequest {
    /// The listener, checked: the id parsed, at most [`MAX_SCORE_SONGS`] songs.
    pub fn checked(&self) -> Result<ListenerId, String> {
        if self.songs.len() > MAX_SCORE_SONGS {
            return Err(format!("more than {MAX_SCORE_SONGS} songs to score"));
        }
        ListenerId::parse(&self.listener).map_err(|e| e.to_string())
    }
}

/// A peer's scores, checked like any input: only probabilities are kept.
pub fn checked_scores(scores: Vec<Option<f32>>) -> Vec<Option<f32>> {
    scores
        .into_iter()
        .map(|s| s.filter(|p| p.is_finite() && (0.0..=1.0).contains(p)))
        .collect()
}

/// The owner's answer to a [`ScoreRequest`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum ScoreReply {
    /// One entry per requested song: the score, or `None` to leave it out.
    Scored(Vec<Option<f32>>),
    Unserved(String),
    NotOwner,
}

#[derive(ractor_cluster::RactorClusterMessage)]
pub enum GatewayMsg {
    #[rpc]
    Feed(Wire<FeedRequest>, RpcReplyPort<Wire<FeedReply>>),
    Interact(Wire<LogGrew>),
    /// A reachability probe: the gateway echoes the number at once.
    #[rpc]
    Ping(Wire<u64>, RpcReplyPort<Wire<u64>>),
    /// Added for radio: the listener's own scores of candidate songs.
    #[rpc]
    Score(Wire<ScoreRequest>, RpcReplyPort<Wire<ScoreReply>>),
}

/// The pg group a node's gateway joins: one group per node, one member.
pub fn group_name(node: &crate::store::NodeId) -> String {
    format!("spoofify.gateway.{node}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Cases per property (proptest's default is 256); the README reports the totals.
    const CASES: u32 = 4096;

    fn wire_item() -> impl Strategy<Value = WireItem> {
        (
            prop_oneof!["[a-z0-9_-]{1,64}", any::<String>()],
            any::<f32>(),
            any::<String>(),
        )
            .prop_map(|(song_id, score, reason)| WireItem {
                song_id,
                score,
                reason,
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(CASES))]

        /// Any bytes a peer sends decode to a value or an error, never a panic.
        #[test]
        fn decoding_a_peers_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = Wire::<FeedRequest>::from_bytes(bytes.clone());
            let _ = Wire::<FeedReply>::from_bytes(bytes.clone());
            let _ = Wire::<LogGrew>::from_bytes(bytes.clone());
            let _ = Wire::<u64>::from_bytes(bytes);
        }

        /// Whatever a request carries, the limit used is within what HTTP allows and
        /// the listener id is a valid one.
        #[test]
        fn a_requests_fields_are_bounded(listener in any::<String>(), limit in any::<u32>()) {
            let req = FeedRequest { listener: listener.clone(), limit };
            let decoded = Wire::<FeedRequest>::from_bytes(Wire::ok(req).into_bytes()).0.unwrap();
            match decoded.checked() {
                Ok((id, n)) => {
                    prop_assert!((1..=MAX_FEED_ITEMS).contains(&n));
                    prop_assert_eq!(id.as_str(), listener.as_str());
                }
                Err(_) => prop_assert!(ListenerId::parse(&listener).is_err()),
            }
        }

        /// A reply's items are bounded, valid, distinct and clean.
        #[test]
        fn a_replys_items_are_bounded(items in proptest::collection::vec(wire_item(), 0..300), limit in 0usize..1000) {
            let out = checked_items(items, limit);
            prop_assert!(out.len() <= limit.min(MAX_FEED_ITEMS));
            let distinct: HashSet<_> = out.iter().map(|i| i.song_id.clone()).collect();
            prop_assert_eq!(distinct.len(), out.len());
            for i in &out {
                prop_assert!(i.score.is_finite());
                prop_assert!(i.reason.chars().count() <= MAX_REASON_CHARS);
                prop_assert!(!i.reason.chars().any(char::is_control));
            }
        }
    }

    #[test]
    fn an_absurd_limit_is_clamped() {
        let req = FeedRequest {
            listener: "alice".into(),
            limit: u32::MAX,
        };
        assert_eq!(req.checked().unwrap().1, MAX_FEED_ITEMS);
    }

    #[test]
    fn round_trips_and_never_panics_on_a_peers_garbage() {
        let req = FeedRequest {
            listener: "alice".into(),
            limit: 7,
        };
        let back = Wire::<FeedRequest>::from_bytes(Wire::ok(req).into_bytes());
        assert_eq!(back.0.unwrap().limit, 7);
        for garbage in [vec![], vec![0xff; 3], vec![1, 200, 200, 200, 200, 200]] {
            assert!(Wire::<FeedReply>::from_bytes(garbage).0.is_err());
        }
    }
}
