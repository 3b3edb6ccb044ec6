//! The gateway's wire protocol: what one node sends another's gateway.
//!
//! ractor_cluster sends a remote message as its enum variant's *name* plus the bytes
//! of its fields, so [`GatewayMsg`] is a protocol: add variants, never rename or
//! re-type one, or a rolling upgrade breaks. Each field is a [`Wire`] — bincode over
//! serde, with a size limit — and decoding never panics on a peer's bytes: malformed
//! input becomes `Wire(Err(..))`, which the receiver answers or drops.

use ractor::{BytesConvertable, RpcReplyPort};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The largest payload we decode from a peer; a feed reply of 100 items is ~10 KB.
const MAX_PAYLOAD: usize = 1 << 20;

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

/// Tells the owner that a listener's log grew.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogGrew {
    pub listener: String,
}

/// Asks the owner for a listener's own scores of some songs (radio re-ranking).
/// Songs travel as ids: the two nodes' catalogs are the same, their indices need not be.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScoreRequest {
    pub listener: String,
    pub songs: Vec<String>,
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
