//! `spoofify eval`: recommendation quality over hours of simulated listening (see
//! [`super::quality`] for the protocol), on the demo catalog, the synthetic one, or
//! both. Prints a table (or JSON), writes `eval-<catalog>.json` and the curves as
//! `eval-<catalog>.svg` into `--out`, and says which of issue 11's goals are met.
//!
//! The demo catalog is generated into a temporary directory (about a minute for 160
//! songs); `--demo-cache FILE` keeps its songs as JSON so later runs skip that. When
//! the generator yields no songs the synthetic catalog is used and the output says so.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;

use super::plot;
use super::quality::{evaluate, EvalConfig, EvalReport, Group, GroupReport, Policy};
use super::synthetic::synthetic_catalog;
use spoofify_service::catalog::{Catalog, Song};
use spoofify_service::model::{CatalogIndex, EngineKind};

/// Which catalog a benchmark runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CatalogChoice {
    /// The seeded demo catalog (real audio analysis); falls back to synthetic if empty.
    Demo,
    /// The synthetic catalog: genre clusters in feature space, no audio.
    Synthetic,
}

/// Which catalogs `spoofify eval` runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EvalCatalogs {
    Demo,
    Synthetic,
    /// The demo catalog, then the synthetic one.
    Both,
}

/// Options of `spoofify eval`.
#[derive(Debug, Clone, clap::Args)]
pub struct EvalArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Catalogs to listen to.
    #[arg(long, value_enum, default_value_t = EvalCatalogs::Both)]
    pub catalog: EvalCatalogs,
    /// Songs in the demo catalog (generation is slow: about 0.5 s of CPU a song).
    #[arg(long, default_value_t = DEMO_SONGS)]
    pub demo_songs: usize,
    /// Songs in the synthetic catalog.
    #[arg(long, default_value_t = SYNTHETIC_SONGS)]
    pub synthetic_songs: usize,
    /// Keep the generated demo songs in this JSON file and reuse them when it exists
    /// (with the same song count and seed).
    #[arg(long)]
    pub demo_cache: Option<PathBuf>,
    /// Seed for the catalogs and the listeners.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Simulated listeners per taste shape (4 steady shapes and 1 drifting).
    #[arg(long, default_value_t = 12)]
    pub listeners_per_shape: usize,
    /// Interactions per listener.
    #[arg(long, default_value_t = 400)]
    pub interactions: usize,
    /// Worker threads.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Model engine of the model policies.
    #[arg(long, default_value_t = EngineKind::Histogram)]
    pub engine: EngineKind,
    /// Directory for `eval-<catalog>.json` and `eval-<catalog>.svg`.
    #[arg(long, default_value = "eval-results")]
    pub out: PathBuf,
    /// Measure learning from everyone instead (`sim::cooc_eval`): NDCG@10 with and
    /// without co-occurrence on a population whose tastes come in shared clusters.
    #[arg(long)]
    pub cooccurrence: bool,
    /// Measure the social graph instead (`sim::social_eval`): NDCG@10 and skip rate
    /// with and without friends' finishes, on simulated friend graphs.
    #[arg(long, conflicts_with = "cooccurrence")]
    pub social: bool,
    /// Measure what each training signal adds instead (`sim::signals_eval`):
    /// playlist adds and removals, search finishes, repeat plays — ablation rows.
    #[arg(long, conflicts_with_all = ["cooccurrence", "social"])]
    pub signals: bool,
}

/// Synthetic catalog size: large enough that 400 interactions never exhaust a taste.
pub const SYNTHETIC_SONGS: usize = 3000;
/// Demo catalog size: the default node's (`catalog.demo_songs`).
pub const DEMO_SONGS: usize = 400;
/// Skip-rate goals (issue 11): synthetic ≤ 20 % from interaction 50, demo ≤ 25 %
/// from 60; drifting listeners under 25 % within 50 interactions of the change.
pub const SYNTHETIC_SKIP_GOAL: (f64, usize) = (0.20, 50);
pub const DEMO_SKIP_GOAL: (f64, usize) = (0.25, 60);
pub const DRIFT_SKIP_GOAL: f64 = 0.25;
pub const DRIFT_RECOVERY: usize = 50;
/// Liked-share goals for steady listeners from round 6: at least this, and at least
/// this multiple of the catalog's base rate; and distinct songs in any 100 items.
pub const LIKED_SHARE_GOAL: f64 = 0.6;
pub const LIKED_BASE_MULTIPLE: f64 = 2.0;
pub const DISTINCT_GOAL: f64 = 30.0;

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
        if let Some(found) = demo_catalog(n, seed, None)? {
            return Ok(found);
        }
    }
    let n = songs.unwrap_or(synthetic_songs);
    let c = synthetic_catalog(n, seed);
    let note = format!("synthetic catalog, {} songs, seed {seed}", c.len());
    Ok((c, note))
}

/// The demo catalog of `n` songs, from `cache` when it holds one made with the same
/// count and seed, else generated (and written to `cache`). `None` when the
/// generator yields no songs.
fn demo_catalog(
    n: usize,
    seed: u64,
    cache: Option<&Path>,
) -> anyhow::Result<Option<(Catalog, String)>> {
    let note = |c: &Catalog| format!("demo catalog, {} songs, seed {seed}", c.len());
    let tag = format!("{n}:{seed}");
    if let Some(path) = cache.filter(|p| p.exists()) {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let (found, songs): (String, Vec<Song>) =
            serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        if found == tag && !songs.is_empty() {
            let c = Catalog::new(songs);
            let line = format!("{} (cached in {})", note(&c), path.display());
            return Ok(Some((c, line)));
        }
    }
    let dir = std::env::temp_dir().join(format!("spoofify-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let generated = spoofify_service::catalog::demo::generate(&dir, n, seed, &|_, _| {});
    let _ = std::fs::remove_dir_all(&dir);
    let generated = generated?;
    if generated.is_empty() {
        eprintln!("note: the demo generator produced no songs; using the synthetic catalog");
        return Ok(None);
    }
    if let Some(path) = cache {
        let text = serde_json::to_string(&(&tag, &generated))?;
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    let c = Catalog::new(generated);
    let line = note(&c);
    Ok(Some((c, line)))
}

/// Runs the evaluation on the chosen catalogs: prints, writes JSON and SVG.
pub fn run(args: &EvalArgs) -> anyhow::Result<()> {
    if args.cooccurrence {
        return super::cooc_eval::run(args);
    }
    if args.social {
        return super::social_eval::run(args);
    }
    if args.signals {
        return super::signals_eval::run(args);
    }
    let kinds: &[CatalogChoice] = match args.catalog {
        EvalCatalogs::Demo => &[CatalogChoice::Demo],
        EvalCatalogs::Synthetic => &[CatalogChoice::Synthetic],
        EvalCatalogs::Both => &[CatalogChoice::Demo, CatalogChoice::Synthetic],
    };
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let mut all = Vec::new();
    for &kind in kinds {
        let (catalog, note, demo) = match kind {
            CatalogChoice::Demo => {
                match demo_catalog(args.demo_songs, args.seed, args.demo_cache.as_deref())? {
                    Some((c, n)) => (c, n, true),
                    None => synthetic(args),
                }
            }
            CatalogChoice::Synthetic => synthetic(args),
        };
        anyhow::ensure!(!catalog.is_empty(), "the catalog is empty");
        let index = CatalogIndex::build(Arc::new(catalog));
        let cfg = EvalConfig {
            listeners_per_shape: args.listeners_per_shape,
            interactions: args.interactions,
            seed: args.seed,
            threads: args.threads,
            engine: args.engine,
            ..EvalConfig::default()
        };
        let report = evaluate(&index, &cfg, &Policy::ALL);
        let name = if demo { "demo" } else { "synthetic" };
        let skip_goal = if demo {
            DEMO_SKIP_GOAL
        } else {
            SYNTHETIC_SKIP_GOAL
        };
        let goals = goals(&report, skip_goal);
        let mut v = serde_json::to_value(&report)?;
        v["catalog"] = serde_json::Value::String(note.clone());
        v["goals"] = serde_json::to_value(&goals)?;
        let json_path = args.out.join(format!("eval-{name}.json"));
        std::fs::write(&json_path, serde_json::to_string_pretty(&v)?)
            .with_context(|| format!("writing {}", json_path.display()))?;
        let svg_path = args.out.join(format!("eval-{name}.svg"));
        let title = format!("spoofify eval: {note}");
        std::fs::write(&svg_path, plot::render(&report, &title, skip_goal.0))
            .with_context(|| format!("writing {}", svg_path.display()))?;
        if args.json {
            all.push(v);
        } else {
            print_report(&report, &note, &goals);
            println!(
                "written: {} and {}\n",
                json_path.display(),
                svg_path.display()
            );
        }
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&all)?);
    }
    Ok(())
}

fn synthetic(args: &EvalArgs) -> (Catalog, String, bool) {
    let c = synthetic_catalog(args.synthetic_songs, args.seed);
    let note = format!("synthetic catalog, {} songs, seed {}", c.len(), args.seed);
    (c, note, false)
}

/// One goal of issue 11, measured on the product (model + mix).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Goal {
    pub goal: String,
    pub measured: String,
    pub met: bool,
}

/// The goals for the product policy: skip rate (steady), liked share, distinct
/// songs, drifting recovery, and no wall.
pub fn goals(r: &EvalReport, (skip_max, skip_from): (f64, usize)) -> Vec<Goal> {
    let mut out = Vec::new();
    let Some(p) = r.policy(Policy::ModelMix) else {
        return out;
    };
    if let Some(g) = p.group(Group::Steady) {
        let worst = g
            .points
            .iter()
            .filter(|pt| pt.at >= skip_from)
            .filter_map(|pt| pt.skip_rate.map(|s| (pt.at, s)))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        if let Some((at, s)) = worst {
            out.push(Goal {
                goal: format!(
                    "steady skip rate <= {:.0}% at every checkpoint {skip_from}..{}",
                    skip_max * 100.0,
                    r.config.interactions
                ),
                measured: format!("worst {:.1}% (at {at})", s * 100.0),
                met: s <= skip_max,
            });
        }
        if let Some(min) = g.min_liked_share_from_round_6 {
            let need = LIKED_SHARE_GOAL.max(LIKED_BASE_MULTIPLE * g.base_rate);
            out.push(Goal {
                goal: format!(
                    "steady liked share >= 0.6 and >= 2x base rate ({:.2}) in every round from 6",
                    g.base_rate
                ),
                measured: format!("lowest round {min:.2} (need {need:.2})"),
                met: min >= need,
            });
        }
        distinct_goal(&mut out, g);
        out.push(Goal {
            goal: "the feed never runs dry (steady)".into(),
            measured: format!("{} walls", g.walls),
            met: g.walls == 0,
        });
    }
    if let Some(g) = p.group(Group::Drifting) {
        let at = r.drift_at + DRIFT_RECOVERY;
        if let Some(s) = g.at(at).and_then(|pt| pt.skip_rate) {
            out.push(Goal {
                goal: format!(
                    "drifting skip rate < {:.0}% by interaction {at} ({DRIFT_RECOVERY} after the change)",
                    DRIFT_SKIP_GOAL * 100.0
                ),
                measured: format!("{:.1}%", s * 100.0),
                met: s < DRIFT_SKIP_GOAL,
            });
        }
        distinct_goal(&mut out, g);
    }
    out
}

fn distinct_goal(out: &mut Vec<Goal>, g: &GroupReport) {
    let min = g
        .points
        .iter()
        .filter_map(|pt| pt.distinct_per_100)
        .reduce(f64::min);
    if let Some(min) = min {
        out.push(Goal {
            goal: format!(
                "{}: >= {DISTINCT_GOAL:.0} distinct songs per 100 items",
                g.group.as_str()
            ),
            measured: format!("lowest mean {min:.1}"),
            met: min >= DISTINCT_GOAL,
        });
    }
}

fn print_report(r: &EvalReport, note: &str, goals: &[Goal]) {
    println!(
        "spoofify eval: {note}; {} listeners x {} interactions, pages of {}, engine {}; {:.1} s",
        r.listeners, r.config.interactions, r.config.page, r.config.engine, r.seconds
    );
    type Measure = (
        &'static str,
        fn(&super::quality::Point) -> Option<f64>,
        bool,
    );
    let measures: [Measure; 4] = [
        ("skip rate", |p| p.skip_rate, true),
        ("liked share", |p| p.liked_share, true),
        ("distinct songs per 100", |p| p.distinct_per_100, false),
        ("NDCG@10", |p| p.ndcg_at_10, false),
    ];
    for group in Group::ALL {
        let Some(first) = r.policies.first().and_then(|p| p.group(group)) else {
            continue;
        };
        let change = match group {
            Group::Drifting => format!(", taste changes at {}", r.drift_at),
            Group::Steady => String::new(),
        };
        println!(
            "\n{} listeners ({}{change}; base rate of liked songs {:.2})",
            group.as_str(),
            first.listeners,
            first.base_rate
        );
        for (title, value, percent) in measures {
            print!("{:<24}", title);
            for k in &r.checkpoints {
                print!(" {k:>6}");
            }
            println!();
            for p in &r.policies {
                let Some(g) = p.group(group) else { continue };
                print!("  {:<22}", p.policy);
                for k in &r.checkpoints {
                    match g.at(*k).and_then(value) {
                        Some(x) if percent => print!(" {:>5.1}%", x * 100.0),
                        Some(x) if x > 1.0 => print!(" {x:>6.1}"),
                        Some(x) => print!(" {x:>6.3}"),
                        None => print!(" {:>6}", "-"),
                    }
                }
                if let (Some(at), true) = (g.first_wall_at, title == "skip rate") {
                    print!("  ({} walls, first at {at})", g.walls);
                }
                println!();
            }
        }
    }
    println!();
    for p in r.policies.iter().filter(|p| p.fits > 0) {
        println!(
            "{}: {} fits, {:.2} ms mean",
            p.policy, p.fits, p.fit_ms_mean
        );
    }
    if let Some(p) = r.policy(Policy::ModelMix) {
        println!("\nwhere model+mix's skips come from (reason: skips/items):");
        for g in &p.groups {
            print!(
                "\n  {}: taste judged moved for {} of {} listeners (median at {})",
                g.group.as_str(),
                g.shifts_noticed,
                g.listeners,
                g.median_shift_at.map_or("-".into(), |a| a.to_string())
            );
            let mut span = None;
            for x in &g.by_reason {
                if span != Some((x.from, x.to)) {
                    span = Some((x.from, x.to));
                    print!("\n  {:<8} {:>3}..{:<3}", g.group.as_str(), x.from, x.to);
                }
                print!("  {} {}/{}", x.reason, x.skips, x.items);
            }
        }
        println!();
    }
    println!("\ngoals (model+mix):");
    for g in goals {
        println!(
            "  {:<7} {} — {}",
            if g.met { "met" } else { "MISSED" },
            g.goal,
            g.measured
        );
    }
}
