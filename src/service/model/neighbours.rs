//! Content neighbours: for every song, its nearest songs by scaled audio features.
//! Built once per catalog by brute force (n² distance computations over 8 floats:
//! about 0.1 s for 5 000 songs in release), then looked up in O(1).

use crate::catalog::FeatureVector;

/// Neighbours kept per song: enough to fill a feed page from one seed song even after
/// excluding what was just played.
pub const NEIGHBOURS_PER_SONG: usize = 16;

#[derive(Debug, Clone, Default)]
pub struct Neighbours {
    /// `NEIGHBOURS_PER_SONG` slots per song, nearest first; `u32::MAX` = empty slot.
    table: Vec<u32>,
}

impl Neighbours {
    pub fn build(features: &[FeatureVector]) -> Self {
        let k = NEIGHBOURS_PER_SONG;
        let mut table = vec![u32::MAX; features.len() * k];
        let mut best: Vec<(f32, u32)> = Vec::with_capacity(k + 1);
        for (i, a) in features.iter().enumerate() {
            best.clear();
            for (j, b) in features.iter().enumerate() {
                if i == j {
                    continue;
                }
                let d = distance2(a, b);
                if !d.is_finite() || (best.len() == k && d >= best[k - 1].0) {
                    continue;
                }
                let at = best.partition_point(|&(e, _)| e <= d);
                best.insert(at, (d, j as u32));
                best.truncate(k);
            }
            for (slot, &(_, j)) in table[i * k..].iter_mut().zip(&best) {
                *slot = j;
            }
        }
        Self { table }
    }

    /// The neighbours of a song, nearest first.
    pub fn of(&self, song: usize) -> impl Iterator<Item = u32> + '_ {
        let k = NEIGHBOURS_PER_SONG;
        self.table
            .get(song * k..song * k + k)
            .unwrap_or(&[])
            .iter()
            .copied()
            .filter(|&j| j != u32::MAX)
    }
}

/// Squared Euclidean distance between two scaled feature vectors.
pub fn distance2(a: &FeatureVector, b: &FeatureVector) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_come_first() {
        let feats: Vec<FeatureVector> = (0..40).map(|i| [i as f32; 8]).collect();
        let n = Neighbours::build(&feats);
        let first: Vec<u32> = n.of(10).take(2).collect();
        assert!(first.contains(&9) && first.contains(&11));
        assert_eq!(n.of(0).count(), NEIGHBOURS_PER_SONG);
        assert_eq!(n.of(99).count(), 0);
    }
}
