//! `spoofify bench model`: the model engines side by side on the same data — fit
//! time for 50, 500 and 5000 rows, scoring time for 1000 candidates, AUC on those
//! candidates, and model size — averaged over several simulated tastes. One thread.
//!
//! Variants: `histogram` (ours, the default), `randomforest` (the crate as the
//! product runs it: 31 trees, at most 128 rows per tree) and `randomforest-full`
//! (the crate's own defaults, 100 trees made odd, every row; skipped at 5000 rows,
//! where one fit takes minutes). biosphere is not compared: it would add ndarray to
//! the build; DESIGN.md records its figures on the same kind of data.

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use std::sync::Arc;
use std::time::Instant;

use crate::sim::eval::{load_catalog, CatalogChoice};
use crate::sim::{Listener, TasteShape};
use spoofify_service::model::crate_forest::{CrateForest, CrateParams};
use spoofify_service::model::hist_forest::{HistForest, HistParams};
use spoofify_service::model::quantize::FeatureIndex;
use spoofify_service::model::{Engine, LabeledRow};

/// Training sizes measured (the issue's).
pub const ROWS: [usize; 3] = [50, 500, 5000];
/// Candidates scored and used for AUC.
pub const CANDIDATES: usize = 1000;
/// Synthetic catalog size: room for 5000 training rows plus 1000 distinct candidates.
pub const BENCH_SONGS: usize = 8000;
/// Tastes the figures are averaged over.
const TASTES: [TasteShape; 4] = [
    TasteShape::GenreLoyal,
    TasteShape::Tempo,
    TasteShape::Energy,
    TasteShape::Mixed,
];
/// The full crate at this many rows takes minutes per fit: not run.
const FULL_CRATE_MAX_ROWS: usize = 500;

/// Options of `spoofify bench model`.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Catalog the data comes from.
    #[arg(long, value_enum, default_value_t = CatalogChoice::Demo)]
    pub catalog: CatalogChoice,
    /// Songs in the catalog.
    #[arg(long)]
    pub songs: Option<usize>,
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Skip `randomforest-full` (it takes ~30 s).
    #[arg(long)]
    pub quick: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct BenchRow {
    pub engine: String,
    pub rows: usize,
    pub fit_ms: f64,
    pub score_ms: f64,
    pub auc: f64,
    pub model_bytes: usize,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Variant {
    Histogram,
    Crate,
    CrateFull,
}

impl Variant {
    fn name(self) -> &'static str {
        match self {
            Variant::Histogram => "histogram",
            Variant::Crate => "randomforest",
            Variant::CrateFull => "randomforest-full",
        }
    }
}

/// One taste's data: training rows per size and labelled candidates.
struct Data {
    rows: Vec<LabeledRow>,
    candidates: Vec<u32>,
    labels: Vec<bool>,
}

fn make_data(catalog: &spoofify_service::catalog::Catalog, shape: TasteShape, seed: u64) -> Data {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let listener = Listener::new(shape, catalog, seed);
    let n = catalog.len() as u32;
    let mut order: Vec<u32> = (0..n).collect();
    order.shuffle(&mut rng);
    let label = |s: u32, rng: &mut ChaCha8Rng| {
        rng.random::<f32>() < listener.finish_probability(&catalog.songs()[s as usize])
    };
    // Candidates first, then training rows from the rest (with replacement when the
    // catalog is too small for distinct rows).
    let candidates: Vec<u32> = order.iter().copied().cycle().take(CANDIDATES).collect();
    let labels = candidates.iter().map(|&s| label(s, &mut rng)).collect();
    let rest: Vec<u32> = order.iter().copied().skip(CANDIDATES).collect();
    let max_rows = ROWS[ROWS.len() - 1];
    let rows = (0..max_rows)
        .map(|i| {
            let song = if rest.len() >= max_rows {
                rest[i]
            } else {
                order[rng.random_range(0..order.len())]
            };
            LabeledRow {
                song,
                positive: label(song, &mut rng),
                weight: 1.0,
            }
        })
        .collect();
    Data {
        rows,
        candidates,
        labels,
    }
}

/// Median wall time of `reps` runs, in ms, and the last result.
fn timed<T>(reps: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut times = Vec::with_capacity(reps);
    let mut last = None;
    for _ in 0..reps.max(1) {
        let t = Instant::now();
        last = Some(f());
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    let out = last.unwrap_or_else(f);
    (times[times.len() / 2], out)
}

fn measure(
    v: Variant,
    index: &FeatureIndex,
    data: &Data,
    rows: usize,
    seed: u64,
) -> Option<BenchRow> {
    let train = &data.rows[..rows];
    let mut scores = vec![0.0f32; data.candidates.len()];
    let (fit_ms, score_ms, bytes) = match v {
        Variant::Histogram => {
            let p = HistParams::default();
            let (fit_ms, m) = timed(7, || HistForest::fit(index, train, &p, seed));
            let m = m.ok()?;
            let (score_ms, _) = timed(21, || m.score(index, &data.candidates, &mut scores));
            (fit_ms, score_ms, m.to_bytes().len())
        }
        Variant::Crate | Variant::CrateFull => {
            let p = if v == Variant::Crate {
                CrateParams::default()
            } else {
                CrateParams {
                    trees: 101,
                    max_samples: None,
                }
            };
            let reps = if v == Variant::CrateFull || rows > 500 {
                1
            } else {
                3
            };
            let (fit_ms, m) = timed(reps, || CrateForest::fit(index, train, &p, seed));
            let m = m.ok()?;
            let (score_ms, _) = timed(5, || m.score(index, &data.candidates, &mut scores));
            (fit_ms, score_ms, m.to_bytes().len())
        }
    };
    Some(BenchRow {
        engine: v.name().into(),
        rows,
        fit_ms,
        score_ms,
        auc: auc(&scores, &data.labels),
        model_bytes: bytes,
    })
}

/// Area under the ROC curve (Mann–Whitney, ties count half).
pub fn auc(scores: &[f32], labels: &[bool]) -> f64 {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let (mut rank_sum, mut pos) = (0.0f64, 0usize);
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j < idx.len() && scores[idx[j]] == scores[idx[i]] {
            j += 1;
        }
        let mid = (i + j + 1) as f64 / 2.0; // average 1-based rank of the tie group
        for &k in &idx[i..j] {
            if labels[k] {
                rank_sum += mid;
                pos += 1;
            }
        }
        i = j;
    }
    let neg = labels.len() - pos;
    if pos == 0 || neg == 0 {
        return 0.5;
    }
    (rank_sum - (pos * (pos + 1)) as f64 / 2.0) / (pos * neg) as f64
}

/// Runs the benchmark; rows are averaged over tastes.
pub fn bench(
    index: &FeatureIndex,
    catalog: &spoofify_service::catalog::Catalog,
    seed: u64,
    quick: bool,
) -> Vec<BenchRow> {
    let datas: Vec<Data> = TASTES
        .iter()
        .enumerate()
        .map(|(i, &s)| make_data(catalog, s, seed.wrapping_add(i as u64)))
        .collect();
    let mut out = Vec::new();
    let mut variants = vec![Variant::Histogram, Variant::Crate];
    if !quick {
        variants.push(Variant::CrateFull);
    }
    for &rows in &ROWS {
        for &v in &variants {
            if v == Variant::CrateFull && rows > FULL_CRATE_MAX_ROWS {
                continue;
            }
            let per: Vec<BenchRow> = datas
                .iter()
                .filter_map(|d| measure(v, index, d, rows, seed))
                .collect();
            if per.is_empty() {
                continue;
            }
            let k = per.len() as f64;
            out.push(BenchRow {
                engine: v.name().into(),
                rows,
                fit_ms: per.iter().map(|r| r.fit_ms).sum::<f64>() / k,
                score_ms: per.iter().map(|r| r.score_ms).sum::<f64>() / k,
                auc: per.iter().map(|r| r.auc).sum::<f64>() / k,
                model_bytes: (per.iter().map(|r| r.model_bytes).sum::<usize>() as f64 / k) as usize,
            });
        }
    }
    out
}

/// Runs the benchmark and prints its table (or JSON) to stdout.
pub fn run(args: &BenchArgs) -> anyhow::Result<()> {
    let (catalog, note) = load_catalog(args.catalog, args.songs, BENCH_SONGS, args.seed)?;
    anyhow::ensure!(!catalog.is_empty(), "the catalog is empty");
    let catalog = Arc::new(catalog);
    let index = FeatureIndex::new(catalog.songs().iter().map(|s| s.features.scaled).collect());
    let rows = bench(&index, &catalog, args.seed, args.quick);
    if args.json {
        let v = serde_json::json!({ "catalog": note, "candidates": CANDIDATES, "rows": rows });
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    println!(
        "spoofify bench model: {note}; {CANDIDATES} candidates; mean of {} tastes; one thread",
        TASTES.len()
    );
    println!(
        "{:<18} {:>6} {:>10} {:>10} {:>7} {:>10}",
        "engine", "rows", "fit ms", "score ms", "AUC", "bytes"
    );
    for r in &rows {
        println!(
            "{:<18} {:>6} {:>10.2} {:>10.3} {:>7.4} {:>10}",
            r.engine, r.rows, r.fit_ms, r.score_ms, r.auc, r.model_bytes
        );
    }
    println!();
    for line in targets(&rows) {
        println!("{line}");
    }
    Ok(())
}

/// The targets for the histogram engine, checked against the figures.
pub fn targets(rows: &[BenchRow]) -> Vec<String> {
    let get = |e: &str, n: usize| rows.iter().find(|r| r.engine == e && r.rows == n);
    let verdict = |ok: bool| if ok { "met" } else { "MISSED" };
    let mut out = Vec::new();
    if let Some(h) = get("histogram", 500) {
        out.push(format!(
            "fit 500 rows {:.2} ms <= 5 ms: {}",
            h.fit_ms,
            verdict(h.fit_ms <= 5.0)
        ));
    }
    if let Some(h) = get("histogram", 5000) {
        out.push(format!(
            "fit 5000 rows {:.2} ms <= 50 ms: {}",
            h.fit_ms,
            verdict(h.fit_ms <= 50.0)
        ));
    }
    let worst_score = rows
        .iter()
        .filter(|r| r.engine == "histogram")
        .map(|r| r.score_ms)
        .fold(0.0, f64::max);
    out.push(format!(
        "score {CANDIDATES} candidates {worst_score:.3} ms (worst) <= 1 ms: {}",
        verdict(worst_score <= 1.0)
    ));
    for &n in &ROWS {
        let Some(h) = get("histogram", n) else {
            continue;
        };
        for other in ["randomforest", "randomforest-full"] {
            if let Some(o) = get(other, n) {
                out.push(format!(
                    "AUC at {n} rows: histogram {:.4} >= {other} {:.4} - 0.01: {}",
                    h.auc,
                    o.auc,
                    verdict(h.auc >= o.auc - 0.01)
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::auc;

    #[test]
    fn auc_of_perfect_random_and_reversed() {
        let labels = [false, false, true, true];
        assert_eq!(auc(&[0.1, 0.2, 0.8, 0.9], &labels), 1.0);
        assert_eq!(auc(&[0.9, 0.8, 0.2, 0.1], &labels), 0.0);
        assert_eq!(auc(&[0.5; 4], &labels), 0.5);
    }
}
