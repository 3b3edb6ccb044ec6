//! Catalog features quantized once per catalog: each feature cut into at most
//! [`MAX_BINS`] quantile bins, so that trees split on small integers and a fit only
//! builds histograms of song indices.

use crate::catalog::{FeatureVector, FEATURE_COUNT};

/// Bins per feature. 64 keeps a bin code in a byte and a histogram in cache; the
/// probe in DESIGN.md lost no AUC against exact splits at this resolution.
pub const MAX_BINS: usize = 64;

/// The scaled features of every song, their bin codes, and a fingerprint of the cuts
/// (a model fitted on one quantization is only valid for the same one).
#[derive(Debug, Clone)]
pub struct FeatureIndex {
    scaled: Vec<FeatureVector>,
    /// Bin codes, one row of [`FEATURE_COUNT`] bytes per song (row-major for scoring).
    codes: Vec<[u8; FEATURE_COUNT]>,
    /// Number of bins per feature (1 = the feature is constant over the catalog).
    bins: [u8; FEATURE_COUNT],
    fingerprint: u64,
}

impl FeatureIndex {
    /// Quantizes the given feature rows (row i = song index i). Non-finite values get
    /// bin 0 here; engines refuse to fit on them (see [`FeatureIndex::is_finite`]).
    pub fn new(scaled: Vec<FeatureVector>) -> Self {
        let mut cuts_all: Vec<Vec<f32>> = Vec::with_capacity(FEATURE_COUNT);
        for f in 0..FEATURE_COUNT {
            let mut vals: Vec<f32> = scaled
                .iter()
                .map(|r| r[f])
                .filter(|v| v.is_finite())
                .collect();
            vals.sort_by(f32::total_cmp);
            cuts_all.push(quantile_cuts(&vals));
        }
        let codes = scaled
            .iter()
            .map(|row| {
                let mut c = [0u8; FEATURE_COUNT];
                for f in 0..FEATURE_COUNT {
                    c[f] = bin_of(&cuts_all[f], row[f]);
                }
                c
            })
            .collect();
        let mut bins = [1u8; FEATURE_COUNT];
        let mut hash = Fnv::new();
        hash.write(&(scaled.len() as u64).to_le_bytes());
        for f in 0..FEATURE_COUNT {
            bins[f] = (cuts_all[f].len() + 1) as u8;
            for c in &cuts_all[f] {
                hash.write(&c.to_bits().to_le_bytes());
            }
            hash.write(&[0xff]);
        }
        Self {
            scaled,
            codes,
            bins,
            fingerprint: hash.finish(),
        }
    }

    pub fn len(&self) -> usize {
        self.scaled.len()
    }

    pub fn is_empty(&self) -> bool {
        self.scaled.is_empty()
    }

    pub fn scaled(&self, song: usize) -> Option<&FeatureVector> {
        self.scaled.get(song)
    }

    pub fn codes(&self, song: usize) -> Option<&[u8; FEATURE_COUNT]> {
        self.codes.get(song)
    }

    pub fn all_codes(&self) -> &[[u8; FEATURE_COUNT]] {
        &self.codes
    }

    pub fn bins(&self) -> &[u8; FEATURE_COUNT] {
        &self.bins
    }

    /// Identifies the quantization: same songs, same cuts, same fingerprint.
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    /// The first non-finite feature of a song, if any.
    pub fn non_finite_feature(&self, song: usize) -> Option<usize> {
        self.scaled
            .get(song)
            .and_then(|r| r.iter().position(|v| !v.is_finite()))
    }
}

/// Up to `MAX_BINS - 1` distinct cut values at the quantiles of sorted finite values.
fn quantile_cuts(sorted: &[f32]) -> Vec<f32> {
    let mut cuts: Vec<f32> = Vec::new();
    if sorted.is_empty() {
        return cuts;
    }
    for q in 1..MAX_BINS {
        let v = sorted[q * sorted.len() / MAX_BINS];
        // A cut must separate something: it has to exceed the smallest value and the
        // previous cut.
        if v > sorted[0] && cuts.last().is_none_or(|&last| v > last) {
            cuts.push(v);
        }
    }
    cuts
}

/// The bin of a value: how many cuts are at or below it.
fn bin_of(cuts: &[f32], v: f32) -> u8 {
    if !v.is_finite() {
        return 0;
    }
    cuts.partition_point(|&c| c <= v) as u8
}

/// FNV-1a: a fingerprint that stays the same across Rust releases (std's hasher may not).
struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= *b as u64;
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_are_bounded_and_ordered() {
        let rows: Vec<FeatureVector> = (0..1000)
            .map(|i| {
                let x = i as f32 / 10.0;
                [x, -x, 1.0, (i % 3) as f32, x * x, 0.0, x, x]
            })
            .collect();
        let idx = FeatureIndex::new(rows);
        assert!(idx.bins().iter().all(|&b| b as usize <= MAX_BINS));
        assert_eq!(idx.bins()[2], 1, "a constant feature has one bin");
        assert_eq!(idx.bins()[3], 3);
        for w in idx.all_codes().windows(2) {
            assert!(w[0][0] <= w[1][0], "bins follow the values' order");
        }
    }
}
