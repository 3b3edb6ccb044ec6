//! Placement: which live node owns a listener, by rendezvous (highest random weight)
//! hashing of the listener id over the node ids.
//!
//! Every node computes the same owner from the same live set with no coordination.
//! When a node leaves, only its listeners move (each to its next-highest node); when
//! one joins, it takes the listeners for which it now scores highest — about 1/N.
//! The hash is fixed here (FNV-1a then a SplitMix64 finalizer), not `std`'s hasher,
//! whose output may change between Rust releases: mixed-version nodes must agree.

use crate::store::{ListenerId, NodeId};

/// 64-bit FNV-1a over the bytes, then SplitMix64's finalizer to spread similar ids.
fn score(node: &str, listener: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in node.bytes().chain([0xff]).chain(listener.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// The owner of `listener` among `nodes`, or `None` when there are none. Ties (only
/// possible for equal ids) go to the smaller id, so the answer never depends on order.
pub fn owner<'a>(listener: &ListenerId, nodes: &'a [NodeId]) -> Option<&'a NodeId> {
    nodes.iter().max_by(|a, b| {
        score(a.as_str(), listener.as_str())
            .cmp(&score(b.as_str(), listener.as_str()))
            .then_with(|| b.cmp(a))
    })
}

/// The nodes this node may place listeners on: the candidates it does not suspect,
/// or none at all when those (itself included) are not a strict majority of the
/// candidates — then this node may be the one cut off, and must not act.
pub fn majority_placement(candidates: Vec<NodeId>, suspects: &[NodeId]) -> Vec<NodeId> {
    let total = candidates.len();
    let reachable: Vec<NodeId> = candidates
        .into_iter()
        .filter(|n| !suspects.contains(n))
        .collect();
    if reachable.len() * 2 > total {
        reachable
    } else {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nodes(n: usize) -> Vec<NodeId> {
        (1..=n)
            .map(|i| NodeId::parse(&format!("node-{i}")).unwrap())
            .collect()
    }

    fn listeners(n: usize) -> Vec<ListenerId> {
        (0..n)
            .map(|i| ListenerId::parse(&format!("listener-{i}")).unwrap())
            .collect()
    }

    #[test]
    fn spreads_evenly_and_ignores_order() {
        let ns = nodes(3);
        let mut rev = ns.clone();
        rev.reverse();
        let mut counts = [0usize; 3];
        for l in listeners(3000) {
            let o = owner(&l, &ns).unwrap();
            assert_eq!(o, owner(&l, &rev).unwrap());
            counts[ns.iter().position(|n| n == o).unwrap()] += 1;
        }
        for c in counts {
            assert!((850..=1150).contains(&c), "uneven: {counts:?}");
        }
    }

    #[test]
    fn a_leaving_node_moves_only_its_listeners_and_a_joiner_takes_about_a_share() {
        let three = nodes(3);
        let two = &three[..2];
        let four = nodes(4);
        let ls = listeners(4000);
        for l in &ls {
            let before = owner(l, &three).unwrap();
            if before != &three[2] {
                assert_eq!(
                    owner(l, two).unwrap(),
                    before,
                    "a survivor's listener moved"
                );
            }
        }
        let moved = ls
            .iter()
            .filter(|l| owner(l, &three) != owner(l, &four))
            .count();
        for l in &ls {
            let after = owner(l, &four).unwrap();
            assert!(
                after == owner(l, &three).unwrap() || after == &four[3],
                "moved between old nodes"
            );
        }
        assert!((800..=1200).contains(&moved), "joiner took {moved} of 4000");
    }

    #[test]
    fn no_nodes_no_owner() {
        assert!(owner(&listeners(1)[0], &[]).is_none());
    }
}

#[cfg(test)]
mod majority_tests {
    use super::*;

    fn ids(s: &[&str]) -> Vec<NodeId> {
        s.iter().map(|s| NodeId::parse(s).unwrap()).collect()
    }

    #[test]
    fn the_majority_side_drops_the_suspect_and_the_minority_owns_nothing() {
        let all = ids(&["n1", "n2", "n3"]);
        // n1 cannot reach n2: n1 and n3 are a majority.
        assert_eq!(
            majority_placement(all.clone(), &ids(&["n2"])),
            ids(&["n1", "n3"])
        );
        // n2 reaches neither: alone it is a minority and places nothing.
        assert!(majority_placement(all.clone(), &ids(&["n1", "n3"])).is_empty());
        assert_eq!(majority_placement(all.clone(), &[]), all);
        // Two nodes that lose each other both stand down until the store decides.
        assert!(majority_placement(ids(&["n1", "n2"]), &ids(&["n2"])).is_empty());
        assert_eq!(majority_placement(ids(&["n1"]), &[]), ids(&["n1"]));
        assert!(majority_placement(Vec::new(), &[]).is_empty());
    }
}
