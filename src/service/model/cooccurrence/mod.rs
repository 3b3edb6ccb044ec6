//! Learning from everyone: item-to-item co-occurrence over all listeners' logs, in
//! the manner of ListenBrainz's "similar recordings".
//!
//! - [`counts`]: [`Cooccurrence`], the running counts. Each listener's log is cut
//!   into listening sessions (a gap of [`counts::SESSION_GAP_MS`] starts a new one);
//!   within a session, a song finished or liked near another finished or liked song
//!   votes their pair up, a finish next to a skip votes it down. A listener's votes
//!   on one pair add up to one sign (−1, 0 or +1), and a listener votes on at most
//!   [`counts::MAX_PAIRS_PER_LISTENER`] pairs, so one heavy listener cannot dominate
//!   the matrix. It is incremental: a listener's [`counts::Trail`] remembers how far
//!   its log was read and the open session's tail, and is what gets persisted.
//! - [`table`]: [`CoocTable`], the published output (each song's nearest songs by
//!   co-occurrence, normalized by how many listeners finished each), the
//!   [`CoocHandle`] a node shares it through, and [`CoocNeighbours`], the table
//!   resolved against one catalog for the feed and radio (candidates, and the
//!   affinity feature blended into the ranking score).
//!
//! Who runs it: `crate::cluster::cooccurrence_job` (one node of the cluster at a time,
//! by a lease in the store). This module is plain synchronous code.

pub mod counts;
pub mod table;

pub use counts::{Cooccurrence, Trail};
pub use table::{Affinity, CoocHandle, CoocNeighbours, CoocTable};
