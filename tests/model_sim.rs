//! Simulated listeners and a small quality run: seeded, deterministic, and the model
//! beats the popularity baseline.

use std::sync::Arc;

use spoofify_service::model::CatalogIndex;
use spoofify_tools::sim::quality::{evaluate, EvalConfig, EvalReport, Group, Policy};
use spoofify_tools::sim::{synthetic_catalog, Listener, TasteShape};

#[test]
fn listeners_are_deterministic() {
    let c = synthetic_catalog(300, 1);
    let run = || {
        let mut l = Listener::new(TasteShape::Mixed, &c, 77);
        let p = l.onboarding(&c);
        let r: Vec<_> = c.songs().iter().take(50).map(|s| l.react(s)).collect();
        (p, r)
    };
    assert_eq!(run(), run());
}

#[test]
fn a_small_eval_is_deterministic_and_the_model_beats_popularity() {
    let idx = CatalogIndex::build(Arc::new(synthetic_catalog(1500, 3)));
    let cfg = EvalConfig {
        listeners_per_shape: 2,
        interactions: 100,
        ..EvalConfig::default()
    };
    let policies = [Policy::Popularity, Policy::ModelOnly, Policy::ModelMix];
    let a = evaluate(&idx, &cfg, &policies);
    let b = evaluate(&idx, &cfg, &policies);
    // Everything but the fit times (wall clock).
    let strip = |r: &EvalReport| {
        r.policies
            .iter()
            .map(|p| (serde_json::to_string(&p.groups).unwrap(), p.fits))
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&a), strip(&b), "same seed, same figures");
    let steady = |p: Policy| a.policy(p).unwrap().group(Group::Steady).unwrap().clone();
    let (pop, model, mixed) = (
        steady(Policy::Popularity),
        steady(Policy::ModelOnly),
        steady(Policy::ModelMix),
    );
    let skip =
        |g: &spoofify_tools::sim::quality::GroupReport| g.at(100).unwrap().skip_rate.unwrap();
    assert!(
        skip(&model) < skip(&pop),
        "model {} vs popularity {}",
        skip(&model),
        skip(&pop)
    );
    assert!(
        skip(&mixed) < skip(&pop),
        "mix {} vs popularity {}",
        skip(&mixed),
        skip(&pop)
    );
    let ndcg =
        |g: &spoofify_tools::sim::quality::GroupReport| g.at(100).unwrap().ndcg_at_10.unwrap();
    assert!(ndcg(&model) > ndcg(&pop));
    // Checkpoints 50, 60, 100; distinct songs from 100 on; no wall on 1500 songs.
    assert_eq!(a.checkpoints, vec![50, 60, 100]);
    assert!(mixed.at(100).unwrap().distinct_per_100.unwrap() >= 30.0);
    assert_eq!(mixed.walls, 0);
}
