//! Simulated listeners and a small quality run: seeded, deterministic, and the model
//! beats the popularity baseline.

use std::sync::Arc;

use spoofify_service::model::{CatalogIndex, EngineKind};
use spoofify_tools::sim::quality::{evaluate, EvalConfig, Policy};
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
        interactions: 50,
        ..EvalConfig::default()
    };
    let policies = [Policy::Popularity, Policy::Engine(EngineKind::Histogram)];
    let a = evaluate(&idx, &cfg, &policies);
    let b = evaluate(&idx, &cfg, &policies);
    let strip = |r: &spoofify_tools::sim::quality::EvalReport| {
        r.policies
            .iter()
            .map(|p| (p.skip_rate_at.clone(), p.ndcg_at_10, p.hit_rate_at_10))
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&a), strip(&b));
    let pop = a.policies[0].skip_at(50).unwrap();
    let model = a.policies[1].skip_at(50).unwrap();
    assert!(model < pop, "model skip@50 {model} vs popularity {pop}");
    assert!(a.policies[1].ndcg_at_10 > a.policies[0].ndcg_at_10);
}
