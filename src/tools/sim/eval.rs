//! `spoofify eval`: recommendation quality with simulated listeners (see
//! [`super::quality`] for the protocol), printed as a table or JSON.
//!
//! The catalog is the demo catalog by default (generated into a temporary directory);
//! when the generator yields no songs the synthetic catalog is used instead and the
//! output says so.

use std::sync::Arc;

use super::quality::{evaluate, EvalConfig, EvalReport, Policy, CHECKPOINTS};
use super::synthetic::synthetic_catalog;
use spoofify_service::catalog::Catalog;
use spoofify_service::model::CatalogIndex;

/// Which catalog a benchmark runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CatalogChoice {
    /// The seeded demo catalog (real audio analysis); falls back to synthetic if empty.
    Demo,
    /// The synthetic catalog: genre clusters in feature space, no audio.
    Synthetic,
}

/// Options of `spoofify eval`.
#[derive(Debug, Clone, clap::Args)]
pub struct EvalArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Catalog to listen to.
    #[arg(long, value_enum, default_value_t = CatalogChoice::Demo)]
    pub catalog: CatalogChoice,
    /// Songs in the catalog (demo generation is slow: keep it small there).
    #[arg(long)]
    pub songs: Option<usize>,
    /// Seed for the catalog and the listeners.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Simulated listeners per taste shape (5 shapes).
    #[arg(long, default_value_t = 12)]
    pub listeners_per_shape: usize,
    /// Interactions per listener.
    #[arg(long, default_value_t = 100)]
    pub interactions: usize,
    /// Worker threads.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Measure learning from everyone instead (`sim::cooc_eval`): NDCG@10 with and
    /// without co-occurrence on a population whose tastes come in shared clusters.
    #[arg(long)]
    pub cooccurrence: bool,
}

/// Synthetic catalog size: large enough that 100 interactions never exhaust a taste.
pub const SYNTHETIC_SONGS: usize = 3000;
/// Demo catalog size: the `spoofify catalog demo` default (synthesis takes time).
pub const DEMO_SONGS: usize = 160;

/// Loads the chosen catalog (`songs` songs, or the default of its kind; the synthetic
/// one defaults to `synthetic_songs`); returns it with a line saying what was used.
pub fn load_catalog(
    choice: CatalogChoice,
    songs: Option<usize>,
    synthetic_songs: usize,
    seed: u64,
) -> anyhow::Result<(Catalog, String)> {
    if choice == CatalogChoice::Demo {
        let n = songs.unwrap_or(DEMO_SONGS);
        let dir = std::env::temp_dir().join(format!("spoofify-demo-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let generated = spoofify_service::catalog::demo::generate(&dir, n, seed, &|_, _| {});
        let _ = std::fs::remove_dir_all(&dir);
        let generated = generated?;
        if !generated.is_empty() {
            let c = Catalog::new(generated);
            let note = format!("demo catalog, {} songs, seed {seed}", c.len());
            return Ok((c, note));
        }
        eprintln!("note: the demo generator produced no songs; using the synthetic catalog");
    }
    let n = songs.unwrap_or(synthetic_songs);
    let c = synthetic_catalog(n, seed);
    let note = format!("synthetic catalog, {} songs, seed {seed}", c.len());
    Ok((c, note))
}

/// Runs the evaluation and prints its table (or JSON) to stdout.
pub fn run(args: &EvalArgs) -> anyhow::Result<()> {
    if args.cooccurrence {
        return super::cooc_eval::run(args);
    }
    let (catalog, note) = load_catalog(args.catalog, args.songs, SYNTHETIC_SONGS, args.seed)?;
    anyhow::ensure!(!catalog.is_empty(), "the catalog is empty");
    let index = CatalogIndex::build(Arc::new(catalog));
    let cfg = EvalConfig {
        listeners_per_shape: args.listeners_per_shape,
        interactions: args.interactions,
        seed: args.seed,
        threads: args.threads,
        ..EvalConfig::default()
    };
    let report = evaluate(&index, &cfg, &Policy::all());
    if args.json {
        let mut v = serde_json::to_value(&report)?;
        v["catalog"] = serde_json::Value::String(note);
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        print_table(&report, &note);
    }
    Ok(())
}

fn print_table(r: &EvalReport, note: &str) {
    println!(
        "spoofify eval: {note}; {} listeners x {} interactions, pages of {}; {:.1} s",
        r.listeners, r.config.interactions, r.config.page, r.seconds
    );
    print!("{:<14}", "policy");
    for k in CHECKPOINTS {
        print!(" {:>8}", format!("skip@{k}"));
    }
    println!(
        " {:>8} {:>8} {:>7} {:>8}",
        "NDCG@10", "HR@10", "fits", "fit ms"
    );
    for p in &r.policies {
        print!("{:<14}", p.policy);
        for k in CHECKPOINTS {
            match p.skip_at(k) {
                Some(x) => print!(" {:>7.1}%", x * 100.0),
                None => print!(" {:>8}", "-"),
            }
        }
        println!(
            " {:>8.3} {:>8.3} {:>7} {:>8.2}",
            p.ndcg_at_10, p.hit_rate_at_10, p.fits, p.fit_ms_mean
        );
    }
    println!();
    print!("{:<14}", "skip@50 by");
    for (s, _) in r
        .policies
        .first()
        .map(|p| p.skip_rate_at_50_by_shape.as_slice())
        .unwrap_or(&[])
    {
        print!(" {s:>11}");
    }
    println!();
    for p in &r.policies {
        print!("{:<14}", p.policy);
        for (_, x) in &p.skip_rate_at_50_by_shape {
            print!(" {:>10.1}%", x * 100.0);
        }
        println!();
    }
    let pop = r
        .policies
        .iter()
        .find(|p| p.policy == "popularity")
        .and_then(|p| p.skip_at(50));
    println!();
    for p in r.policies.iter().filter(|p| p.fits > 0) {
        if let (Some(s), Some(pop)) = (p.skip_at(50), pop) {
            let met = s <= 0.20 && s <= pop / 2.0;
            println!(
                "goal for {}: skip@50 {:.1}% <= 20% and <= half of popularity's {:.1}%: {}",
                p.policy,
                s * 100.0,
                pop * 100.0,
                if met { "met" } else { "MISSED" }
            );
        }
    }
}
