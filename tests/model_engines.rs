//! The model engines: determinism, degenerate data, save/load, non-finite input.

use spoofify_service::catalog::{FeatureVector, FEATURE_COUNT};
use spoofify_service::model::crate_forest::{CrateForest, CrateParams};
use spoofify_service::model::hist_forest::{HistForest, HistParams};
use spoofify_service::model::{Engine, EngineKind, FeatureIndex, LabeledRow, Model, ModelError};

/// Songs on a grid where "positive" = feature 0 + feature 1 > 0 (with a little noise).
fn data(n: usize) -> (FeatureIndex, Vec<LabeledRow>) {
    let mut state = 12345u64;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 33) as f32 / (1u64 << 31) as f32) * 4.0 - 2.0
    };
    let feats: Vec<FeatureVector> = (0..n).map(|_| std::array::from_fn(|_| next())).collect();
    let rows = feats
        .iter()
        .enumerate()
        .map(|(i, f)| LabeledRow {
            song: i as u32,
            positive: f[0] + f[1] > 0.0,
            weight: 1.0,
        })
        .collect();
    (FeatureIndex::new(feats), rows)
}

fn scores<E: Engine>(m: &E, idx: &FeatureIndex) -> Vec<f32> {
    let songs: Vec<u32> = (0..idx.len() as u32).collect();
    let mut out = vec![0.0; songs.len()];
    m.score(idx, &songs, &mut out);
    out
}

#[test]
fn histogram_is_deterministic_for_a_seed_and_learns() {
    let (idx, rows) = data(400);
    let p = HistParams::default();
    let a = HistForest::fit(&idx, &rows[..300], &p, 7).unwrap();
    let b = HistForest::fit(&idx, &rows[..300], &p, 7).unwrap();
    let c = HistForest::fit(&idx, &rows[..300], &p, 8).unwrap();
    assert_eq!(a.to_bytes(), b.to_bytes());
    assert_ne!(a.to_bytes(), c.to_bytes(), "another seed grows other trees");
    let s = scores(&a, &idx);
    assert!(s.iter().all(|p| (0.0..=1.0).contains(p)));
    // Held-out rows 300..400: mostly right.
    let right = (300..400)
        .filter(|&i| (s[i] > 0.5) == rows[i].positive)
        .count();
    assert!(right >= 85, "only {right}/100 held-out rows right");
}

#[test]
fn crate_engine_is_deterministic_for_a_seed() {
    let (idx, rows) = data(120);
    let p = CrateParams::default();
    let a = CrateForest::fit(&idx, &rows, &p, 3).unwrap();
    let b = CrateForest::fit(&idx, &rows, &p, 3).unwrap();
    assert_eq!(a.to_bytes(), b.to_bytes());
    assert_eq!(scores(&a, &idx), scores(&b, &idx));
}

#[test]
fn empty_and_one_class_data_are_clear_errors_for_every_engine() {
    let (idx, rows) = data(50);
    let positives: Vec<LabeledRow> = rows.iter().copied().filter(|r| r.positive).collect();
    for kind in EngineKind::ALL {
        assert_eq!(
            Model::fit(kind, &idx, &[], 1).err(),
            Some(ModelError::Empty)
        );
        match Model::fit(kind, &idx, &positives, 1) {
            Err(ModelError::OneClass {
                positives: p,
                negatives: 0,
            }) => {
                assert_eq!(p, positives.len())
            }
            other => panic!("{kind}: expected one-class error, got {other:?}"),
        }
    }
    let empty = FeatureIndex::new(Vec::new());
    assert_eq!(
        Model::fit(EngineKind::Histogram, &empty, &rows[..2], 1).err(),
        Some(ModelError::UnknownSong(rows[0].song))
    );
}

#[test]
fn save_and_load_give_identical_scores() {
    let (idx, rows) = data(200);
    for kind in EngineKind::ALL {
        let m = Model::fit(kind, &idx, &rows, 11).unwrap();
        let bytes = m.to_bytes();
        let back = Model::from_bytes(&bytes).unwrap();
        assert_eq!(back.kind(), kind);
        let songs: Vec<u32> = (0..200).collect();
        let (mut a, mut b) = (vec![0.0; 200], vec![0.0; 200]);
        m.score(&idx, &songs, &mut a);
        back.score(&idx, &songs, &mut b);
        assert_eq!(a, b, "{kind}");
        assert_eq!(back.to_bytes(), bytes);
    }
}

#[test]
fn malformed_bytes_are_errors_not_panics() {
    assert!(Model::from_bytes(&[]).is_err());
    assert!(Model::from_bytes(&[9, 1, 2]).is_err());
    let (idx, rows) = data(100);
    let m = Model::fit(EngineKind::Histogram, &idx, &rows, 1).unwrap();
    let bytes = m.to_bytes();
    for cut in [1, bytes.len() / 2, bytes.len() - 1] {
        assert!(Model::from_bytes(&bytes[..cut]).is_err(), "cut at {cut}");
    }
}

#[test]
fn non_finite_features_are_rejected_before_fit() {
    let (_, rows) = data(60);
    for bad in [f32::INFINITY, f32::NEG_INFINITY, f32::NAN] {
        let mut feats: Vec<FeatureVector> = (0..60).map(|i| [i as f32; FEATURE_COUNT]).collect();
        feats[5][3] = bad;
        let idx = FeatureIndex::new(feats);
        for kind in EngineKind::ALL {
            match Model::fit(kind, &idx, &rows, 1) {
                Err(ModelError::NonFinite { song: 5, .. }) => {}
                other => panic!("{kind} with {bad}: {other:?}"),
            }
        }
    }
}

#[test]
fn bad_weights_are_rejected() {
    let (idx, mut rows) = data(30);
    rows[4].weight = f32::NAN;
    assert_eq!(
        Model::fit(EngineKind::Histogram, &idx, &rows, 1).err(),
        Some(ModelError::BadWeight(4))
    );
}
