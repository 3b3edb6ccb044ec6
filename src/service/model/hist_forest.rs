//! A random forest built for this workload: catalog features are quantized once
//! ([`FeatureIndex`]), so a tree is grown on histograms of bin codes of the sampled
//! songs instead of sorting values, and trees are flat arrays of 8-byte nodes.
//!
//! Per tree: a bootstrap sample expressed as weights (no duplicated rows); at each node
//! up to `mtry` features that are not constant in the node are tried, each with one
//! pass building its weighted class histogram, then a scan over non-empty bins for the
//! best Gini split; the threshold sits in the middle of the gap of empty bins between
//! the two sides (at the gap's left edge AUC fell by 0.02 in the probe). Leaves hold
//! the weighted share of positives; the forest's probability is their mean.
//! Deterministic for a seed (ChaCha8).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::classifier::{validate, Engine, LabeledRow, ModelError};
use super::quantize::{FeatureIndex, MAX_BINS};
use crate::catalog::FEATURE_COUNT;

/// The forest's knobs. Defaults are what `spoofify bench model` measured best.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HistParams {
    /// Trees: 50 cost ≤ 0.004 AUC against 100 in the probe and halve time and size.
    pub trees: u16,
    /// Depth limit: bounds fit time, model size and scoring time (10 keeps 1000
    /// candidates under 1 ms; 12 cost 1.1-1.5 ms for no AUC gain in the benchmark).
    pub max_depth: u8,
    /// Fewest sampled rows in a leaf: stops trees from memorising single rows.
    pub min_leaf: u32,
    /// Features tried per split (≈ √8 rounded up).
    pub mtry: u8,
    /// Bootstrap draws per tree, at most: bounds a fit on very long histories.
    pub max_samples: u32,
}

impl Default for HistParams {
    fn default() -> Self {
        Self {
            trees: 50,
            max_depth: 10,
            min_leaf: 2,
            mtry: 3,
            max_samples: 4096,
        }
    }
}

/// Songs walked through a tree together when scoring.
const LANES: usize = 8;

/// Marks a leaf in [`Node::feature`].
const LEAF: u8 = u8::MAX;

/// One flat node: a split (`code[feature] <= split` goes to `next`, else `next + 1`)
/// or a leaf (`next` holds the f32 bits of the positive share).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Node {
    feature: u8,
    split: u8,
    next: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistForest {
    fingerprint: u64,
    roots: Vec<u32>,
    nodes: Vec<Node>,
}

/// A sampled row while growing a tree: its bin codes and its class weights.
#[derive(Clone, Copy)]
struct Item {
    code: [u8; FEATURE_COUNT],
    pos: f32,
    neg: f32,
}

/// A node waiting to be grown: its slot and its items `start..end`.
struct Pending {
    slot: usize,
    start: usize,
    end: usize,
    depth: u8,
}

struct Split {
    feature: u8,
    split: u8,
    impurity: f32,
}

impl Engine for HistForest {
    type Params = HistParams;

    fn fit(
        index: &FeatureIndex,
        rows: &[LabeledRow],
        params: &HistParams,
        seed: u64,
    ) -> Result<Self, ModelError> {
        validate(index, rows)?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let trees = params.trees.max(1) as usize;
        let draws = rows.len().min(params.max_samples.max(1) as usize);
        let mut counts = vec![0u32; rows.len()];
        let mut items: Vec<Item> = Vec::with_capacity(rows.len());
        let mut forest = HistForest {
            fingerprint: index.fingerprint(),
            roots: Vec::with_capacity(trees),
            nodes: Vec::new(),
        };
        let mut grower = Grower {
            params,
            bins: index.bins(),
            hist: Hist::default(),
        };
        for _ in 0..trees {
            counts.iter_mut().for_each(|c| *c = 0);
            for _ in 0..draws {
                counts[rng.random_range(0..rows.len())] += 1;
            }
            items.clear();
            for (row, &c) in rows.iter().zip(&counts) {
                if c == 0 {
                    continue;
                }
                let w = c as f32 * row.weight;
                let code = index.all_codes()[row.song as usize];
                let (pos, neg) = if row.positive { (w, 0.0) } else { (0.0, w) };
                items.push(Item { code, pos, neg });
            }
            let root = forest.nodes.len();
            forest.roots.push(root as u32);
            grower.grow(&mut forest.nodes, &mut items, &mut rng);
        }
        Ok(forest)
    }

    fn score(&self, index: &FeatureIndex, songs: &[u32], out: &mut [f32]) {
        let codes = index.all_codes();
        let inv = 1.0 / self.roots.len().max(1) as f32;
        for (chunk, outs) in songs.chunks(LANES).zip(out.chunks_mut(LANES)) {
            // Unknown songs (and unused lanes) walk with zero codes and score 0.
            let lane: [[u8; FEATURE_COUNT]; LANES] = std::array::from_fn(|l| {
                chunk
                    .get(l)
                    .and_then(|&s| codes.get(s as usize))
                    .copied()
                    .unwrap_or([0; FEATURE_COUNT])
            });
            let sums = self.walk_lanes(&lane);
            for (l, o) in outs.iter_mut().enumerate() {
                let known = chunk.get(l).is_some_and(|&s| (s as usize) < codes.len());
                *o = if known { sums[l] * inv } else { 0.0 };
            }
        }
    }

    fn to_bytes(&self) -> Vec<u8> {
        // Encoding plain owned data into a Vec cannot fail.
        bincode::serde::encode_to_vec(self, bincode::config::standard()).unwrap_or_default()
    }

    fn from_bytes(bytes: &[u8]) -> Result<Self, ModelError> {
        let (forest, _): (HistForest, usize) =
            bincode::serde::decode_from_slice(bytes, bincode::config::standard())
                .map_err(|e| ModelError::Malformed(e.to_string()))?;
        forest.check()?;
        Ok(forest)
    }

    fn fingerprint(&self) -> u64 {
        self.fingerprint
    }
}

impl HistForest {
    /// Walks every tree with [`LANES`] songs at once (independent walks interleave in
    /// the CPU) and sums their leaf values. Children always sit after their parent
    /// (made so by `grow`, checked on load), so every walk ends.
    fn walk_lanes(&self, lane: &[[u8; FEATURE_COUNT]; LANES]) -> [f32; LANES] {
        let mut sums = [0.0f32; LANES];
        for &root in &self.roots {
            let mut at = [root as usize; LANES];
            loop {
                let mut moved = false;
                for l in 0..LANES {
                    let n = self.nodes[at[l]];
                    if n.feature != LEAF {
                        let right = (lane[l][n.feature as usize] > n.split) as usize;
                        at[l] = n.next as usize + right;
                        moved = true;
                    }
                }
                if !moved {
                    break;
                }
            }
            for l in 0..LANES {
                sums[l] += f32::from_bits(self.nodes[at[l]].next);
            }
        }
        sums
    }

    /// Rejects bytes whose nodes point outside the forest (they come from storage).
    fn check(&self) -> Result<(), ModelError> {
        let n = self.nodes.len();
        let bad = |what: &str| Err(ModelError::Malformed(what.to_owned()));
        if self.roots.iter().any(|&r| r as usize >= n) {
            return bad("root out of range");
        }
        for (i, node) in self.nodes.iter().enumerate() {
            if node.feature == LEAF {
                let v = f32::from_bits(node.next);
                if !(0.0..=1.0).contains(&v) {
                    return bad("leaf value out of range");
                }
            } else if node.feature as usize >= FEATURE_COUNT
                || (node.next as usize) <= i
                || node.next as usize + 1 >= n
            {
                return bad("split node out of range");
            }
        }
        Ok(())
    }

    /// Model size in nodes (for the benchmark).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }
}

/// Class-weight and row-count histograms of one feature over a node's items.
struct Hist {
    pos: [f32; MAX_BINS],
    neg: [f32; MAX_BINS],
    count: [u32; MAX_BINS],
}

impl Default for Hist {
    fn default() -> Self {
        Self {
            pos: [0.0; MAX_BINS],
            neg: [0.0; MAX_BINS],
            count: [0; MAX_BINS],
        }
    }
}

struct Grower<'a> {
    params: &'a HistParams,
    bins: &'a [u8; FEATURE_COUNT],
    hist: Hist,
}

impl Grower<'_> {
    /// Grows one tree into `nodes` (depth-first, children allocated in pairs).
    fn grow(&mut self, nodes: &mut Vec<Node>, items: &mut [Item], rng: &mut ChaCha8Rng) {
        nodes.push(Node {
            feature: LEAF,
            split: 0,
            next: 0,
        });
        let mut stack = vec![Pending {
            slot: nodes.len() - 1,
            start: 0,
            end: items.len(),
            depth: 0,
        }];
        while let Some(p) = stack.pop() {
            let part = &mut items[p.start..p.end];
            let (pos, neg) = part
                .iter()
                .fold((0.0f32, 0.0f32), |(a, b), it| (a + it.pos, b + it.neg));
            let leaf = Node {
                feature: LEAF,
                split: 0,
                next: (pos / (pos + neg).max(f32::MIN_POSITIVE)).to_bits(),
            };
            let can_split = p.depth < self.params.max_depth
                && part.len() >= 2 * self.params.min_leaf as usize
                && pos > 0.0
                && neg > 0.0;
            let split = if can_split {
                self.best_split(part, pos, neg, rng)
            } else {
                None
            };
            let Some(s) = split else {
                nodes[p.slot] = leaf;
                continue;
            };
            let mid = partition(part, |it| it.code[s.feature as usize] <= s.split);
            let left = nodes.len();
            nodes.push(leaf);
            nodes.push(leaf);
            nodes[p.slot] = Node {
                feature: s.feature,
                split: s.split,
                next: left as u32,
            };
            stack.push(Pending {
                slot: left + 1,
                start: p.start + mid,
                end: p.end,
                depth: p.depth + 1,
            });
            stack.push(Pending {
                slot: left,
                start: p.start,
                end: p.start + mid,
                depth: p.depth + 1,
            });
        }
    }

    /// The best Gini split over up to `mtry` features that vary within the node.
    fn best_split(
        &mut self,
        items: &[Item],
        pos: f32,
        neg: f32,
        rng: &mut ChaCha8Rng,
    ) -> Option<Split> {
        let mut order: [u8; FEATURE_COUNT] = std::array::from_fn(|i| i as u8);
        let mut best: Option<Split> = None;
        let parent = gini(pos, neg);
        let mut tried = 0;
        let min_leaf = self.params.min_leaf.max(1);
        for k in 0..FEATURE_COUNT {
            if tried >= self.params.mtry.max(1) {
                break;
            }
            // Lazy Fisher–Yates: draw the next feature to try.
            let j = rng.random_range(k..FEATURE_COUNT);
            order.swap(k, j);
            let f = order[k] as usize;
            let nbins = self.bins[f] as usize;
            if nbins < 2 {
                continue;
            }
            let h = &mut self.hist;
            h.pos[..nbins].fill(0.0);
            h.neg[..nbins].fill(0.0);
            h.count[..nbins].fill(0);
            for it in items {
                let b = it.code[f] as usize;
                h.pos[b] += it.pos;
                h.neg[b] += it.neg;
                h.count[b] += 1;
            }
            if h.count[..nbins].iter().filter(|&&c| c > 0).count() < 2 {
                continue; // constant in this node: does not count toward mtry
            }
            tried += 1;
            let (mut lp, mut ln, mut lc) = (0.0f32, 0.0f32, 0u32);
            let mut prev: Option<usize> = None;
            for b in 0..nbins {
                if h.count[b] == 0 {
                    continue;
                }
                if let Some(a) = prev {
                    let rc = items.len() as u32 - lc;
                    if lc >= min_leaf && rc >= min_leaf {
                        let impurity = gini(lp, ln) + gini(pos - lp, neg - ln);
                        if impurity < parent - 1e-7
                            && best.as_ref().is_none_or(|s| impurity < s.impurity)
                        {
                            best = Some(Split {
                                feature: f as u8,
                                split: ((a + b - 1) / 2) as u8,
                                impurity,
                            });
                        }
                    }
                }
                lp += h.pos[b];
                ln += h.neg[b];
                lc += h.count[b];
                prev = Some(b);
            }
        }
        best
    }
}

/// Weighted Gini impurity of a side times its weight: 2·p·n / (p + n).
fn gini(p: f32, n: f32) -> f32 {
    let t = p + n;
    if t <= 0.0 {
        0.0
    } else {
        2.0 * p * n / t
    }
}

/// Moves items for which `left` holds to the front; returns how many there are.
fn partition(items: &mut [Item], left: impl Fn(&Item) -> bool) -> usize {
    let mut mid = 0;
    for i in 0..items.len() {
        if left(&items[i]) {
            items.swap(i, mid);
            mid += 1;
        }
    }
    mid
}
