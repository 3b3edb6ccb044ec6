//! Key names; the layout and its reasons are in the parent module's docs.
use crate::store::ListenerId;

/// The node registry's hash tag (its first copy; `shared` has the others).
pub const NODES_TAG: &str = "nodes";
pub const CATALOG: &str = "spoofify:catalog";
/// Every listener with a log (a sorted set, all scores 0: pages in id order).
pub const LISTENER_REGISTRY: &str = "spoofify:{listeners}:registry";
/// People search's name index (a sorted set, all scores 0: `key\0listener`).
pub const PEOPLE: &str = "spoofify:{people}:names";

pub fn listener(l: &ListenerId, what: &str) -> String {
    format!("spoofify:{{{l}}}:{what}")
}
/// A background job's key: every key of one job shares the tag `{job:<name>}`.
pub fn job(job: &crate::store::JobName, what: &str) -> String {
    format!("spoofify:{{job:{job}}}:{what}")
}
pub fn username(name: &str) -> String {
    format!("spoofify:username:{name}")
}
/// A session's key: in its listener's hash slot when the store key names the listener
/// (`crate::store::session_key_listener`), beside the account it is checked against.
pub fn session(token_hash: &str) -> String {
    match crate::store::session_key_listener(token_hash) {
        Some(l) => {
            let hash = token_hash.split_once('.').map_or(token_hash, |(_, h)| h);
            listener(&l, &format!("session:{hash}"))
        }
        None => format!("spoofify:session:{token_hash}"),
    }
}
/// The node registry set of one copy (`tag`: `nodes`, `nodes-1`, …).
pub fn node_registry(tag: &str) -> String {
    format!("spoofify:{{{tag}}}:registry")
}
/// A node's heartbeat key in one copy of the registry.
pub fn node_in(tag: &str, id: &str) -> String {
    format!("spoofify:{{{tag}}}:node:{id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_hash_tagged_per_listener() {
        let l = ListenerId::parse("abc").unwrap();
        assert_eq!(listener(&l, "log"), "spoofify:{abc}:log");
        assert_eq!(session("abc.ff00"), "spoofify:{abc}:session:ff00");
        assert_eq!(session("ff00"), "spoofify:session:ff00");
        assert_eq!(node_in(NODES_TAG, "n1"), "spoofify:{nodes}:node:n1");
        assert_eq!(node_registry("nodes-1"), "spoofify:{nodes-1}:registry");
        let j = crate::store::JobName::parse("cooc").unwrap();
        assert_eq!(job(&j, "lease"), "spoofify:{job:cooc}:lease");
    }
}
