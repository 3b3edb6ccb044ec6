//! Commands that act on a node's data directory while no node runs on it: generate
//! the demo catalog, import a music folder (`spoofify catalog ...`). Synchronous entry
//! points that run their async parts on their own runtime, so the binary calls no async
//! code of this crate (its build would otherwise compile the store's futures again).

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::catalog::demo::{self, Progress};
use crate::catalog::import::{self, ImportProgress, Skipped};
use crate::catalog::Catalog;
use crate::config::Settings;
use crate::node::runtime;
use crate::store::{self, SharedStore};

/// What `catalog demo` made.
#[derive(Debug)]
pub struct DemoReport {
    pub songs: usize,
    pub genres: usize,
    pub elapsed: Duration,
}

/// What `catalog import` did.
#[derive(Debug)]
pub struct ImportReport {
    /// Songs found in the folder (analysed now or unchanged since the last import).
    pub imported: usize,
    pub analysed: usize,
    pub unchanged: usize,
    pub skipped: Vec<Skipped>,
    /// Songs in the catalog after the merge.
    pub catalog_songs: usize,
    pub elapsed: Duration,
}

/// Generates the seeded demo catalog into the data dir and saves it (replacing the
/// catalog); `progress` is called with (songs done, songs total).
pub fn generate_demo(
    settings: &Settings,
    songs: usize,
    seed: u64,
    progress: Progress<'_>,
) -> anyhow::Result<DemoReport> {
    let rt = runtime()?;
    let store = rt.block_on(open_store(settings))?;
    let started = Instant::now();
    let made = demo::generate(&settings.data_dir, songs, seed, progress)?;
    rt.block_on(store.put_catalog(&made))
        .context("saving the catalog")?;
    let catalog = Catalog::new(made);
    Ok(DemoReport {
        songs: catalog.len(),
        genres: catalog.genres().len(),
        elapsed: started.elapsed(),
    })
}

/// Imports `dir` (recursively, incrementally: unchanged files are not analysed again)
/// and merges it into the catalog.
pub fn import_dir(
    settings: &Settings,
    dir: &Path,
    progress: &dyn ImportProgress,
) -> anyhow::Result<ImportReport> {
    let rt = runtime()?;
    let store = rt.block_on(open_store(settings))?;
    let previous = rt
        .block_on(store.catalog())
        .context("reading the catalog")?;
    let started = Instant::now();
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let report = import::import_dir(dir, &previous, workers, progress)?;
    let imported = report.songs.len();
    let songs = import::merge(previous, dir, report.songs);
    rt.block_on(store.put_catalog(&songs))
        .context("saving the catalog")?;
    Ok(ImportReport {
        imported,
        analysed: report.analysed,
        unchanged: report.unchanged,
        skipped: report.skipped,
        catalog_songs: songs.len(),
        elapsed: started.elapsed(),
    })
}

async fn open_store(settings: &Settings) -> anyhow::Result<SharedStore> {
    let dir = &settings.data_dir;
    std::fs::create_dir_all(dir).with_context(|| format!("creating data dir {}", dir.display()))?;
    store::open(settings)
        .await
        .context("opening the store (is a node already running on this data dir? stop it first)")
}
