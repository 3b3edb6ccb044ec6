//! The seeded demo catalog generator: synthesises songs in Rust (no system packages),
//! encodes each one once (the High master) and measures its features from the same PCM
//! with the analysis an import uses.
//!
//! - [`genre`]: what each of the twelve genres sounds like (pure data).
//! - [`plan`]: artists with their own style within a genre, albums, every song's plan.
//! - [`synth`]: oscillators, filters, plucked strings and drum voices.
//! - [`compose`]: a song plan (and its artist's timbre) turned into stereo PCM.
//! - [`names`] and [`art`]: titles, artists, albums and SVG album covers.
//!
//! Songs are made on all cores and handed over in parts ([`Parts`]): a node publishes
//! the first part as soon as it is made and the rest as it comes, so a first start
//! serves within its budget however long the whole catalog takes.
//!
//! Determinism: the catalog plan (artists, styles, albums, tempi, keys, gains, lengths,
//! per-song seeds) is drawn serially from one ChaCha RNG seeded with the catalog seed;
//! each song is then rendered only from its own plan, so the output does not depend on
//! the number of worker threads, on which thread made which song, nor on the parts.

pub mod art;
pub mod compose;
pub mod genre;
pub mod names;
pub mod plan;
pub mod synth;

pub use art::cover_svg;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;

use super::analysis::analyze_pcm;
use super::features::Features;
use super::song::{DemoTruth, Song, SongSource};
use crate::audio::{encode_vorbis, CodecError, Quality};
use plan::{generation_order, plan_catalog, Planned};

const KEYS: [&str; 12] = [
    "C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B",
];

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("could not write {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Codec(#[from] CodecError),
    #[error("generating {0} failed unexpectedly (a worker panicked)")]
    Worker(String),
}

/// Progress callback: (songs done, songs total). Called from one thread at a time.
pub type Progress<'a> = &'a (dyn Fn(usize, usize) + Sync);

/// When songs are handed over while generating: once `first` songs are made, then
/// after every `every` more, and at the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parts {
    pub first: usize,
    pub every: usize,
}

impl Parts {
    /// A node's first start: the first 72 songs — in [`plan::generation_order`] that is
    /// one track of every album of the default 400 (71 albums), every artist and genre;
    /// ~20 s on two idle cores, inside the 90 s first-start budget even on a busy
    /// machine — then every 50 more: often enough to see the catalog grow, rarely
    /// enough that saving it and rebuilding the recommender's index cost nothing.
    pub const FIRST_START: Parts = Parts {
        first: 72,
        every: 50,
    };

    /// Everything at once, at the end.
    pub const WHOLE: Parts = Parts {
        first: usize::MAX,
        every: usize::MAX,
    };
}

/// Generates `songs` demo songs from `seed` into `data_dir` and returns them in id
/// order. Deterministic for a seed; runs on all available cores.
pub fn generate(
    data_dir: &Path,
    songs: usize,
    seed: u64,
    progress: Progress<'_>,
) -> Result<Vec<Song>, DemoError> {
    generate_parts(
        data_dir,
        songs,
        seed,
        Vec::new(),
        Parts::WHOLE,
        progress,
        &mut |_| {},
    )
}

/// Generates the songs of the (`songs`, `seed`) catalog that `made` does not hold yet
/// (see [`resumable`]), in [`generation_order`]: synthesis, one encode (the master,
/// `media/<id>/high.ogg`), analysis. `publish` gets every song made so far (`made`
/// included, in id order) each time a part is complete and once at the end. Returns
/// all songs in id order, or the first error (after the parts already published).
#[tracing::instrument(skip_all, fields(songs, seed))]
pub fn generate_parts(
    data_dir: &Path,
    songs: usize,
    seed: u64,
    made: Vec<Song>,
    parts: Parts,
    progress: Progress<'_>,
    publish: &mut dyn FnMut(&[Song]),
) -> Result<Vec<Song>, DemoError> {
    let planned = plan_catalog(songs, seed);
    let have: std::collections::HashSet<&str> = made.iter().map(|s| s.id.as_str()).collect();
    let todo: Vec<&Planned> = generation_order(&planned)
        .into_iter()
        .map(|i| &planned[i])
        .filter(|p| !have.contains(p.id.as_str()))
        .collect();
    let media = data_dir.join("media");
    std::fs::create_dir_all(&media).map_err(|source| DemoError::Io {
        path: media.display().to_string(),
        source,
    })?;
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(todo.len())
        .max(1);
    let total = made.len() + todo.len();
    let mut all = made;
    let mut next_part = parts.first;
    let mut first_error = None;
    progress(all.len(), total);
    // Resuming with the first part already made: serve it while the rest is made.
    if !all.is_empty() && all.len() >= next_part && all.len() < total {
        all.sort_by(|a, b| a.id.cmp(&b.id));
        publish(&all);
        next_part = all.len().saturating_add(parts.every);
    }
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let (tx, rx) = mpsc::channel::<Result<Song, DemoError>>();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let tx = tx.clone();
            let (next, failed, todo) = (&next, &failed, &todo);
            scope.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= todo.len() || failed.load(Ordering::Relaxed) {
                    break;
                }
                let result = make_song(data_dir, todo[i]);
                if result.is_err() {
                    failed.store(true, Ordering::Relaxed);
                }
                if tx.send(result).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        // Runs until every worker has stopped (the channel then closes).
        for result in rx {
            match result {
                Ok(song) => all.push(song),
                Err(e) => {
                    first_error.get_or_insert(e);
                    continue;
                }
            }
            progress(all.len(), total);
            if all.len() >= next_part && all.len() < total {
                all.sort_by(|a, b| a.id.cmp(&b.id));
                publish(&all);
                next_part = all.len().saturating_add(parts.every);
            }
        }
    });
    if let Some(e) = first_error {
        return Err(e);
    }
    if all.len() < total {
        return Err(DemoError::Worker(format!(
            "{} of {total} songs",
            total - all.len()
        )));
    }
    all.sort_by(|a, b| a.id.cmp(&b.id));
    publish(&all);
    Ok(all)
}

/// The songs of `stored` that generating (`songs`, `seed`) would make — same id, title
/// and song seed — with their masters in `data_dir`: what an interrupted first start
/// already made. `None` when `stored` holds anything else (imported songs, another
/// seed or size): that catalog is not ours to complete.
pub fn resumable(data_dir: &Path, songs: usize, seed: u64, stored: &[Song]) -> Option<Vec<Song>> {
    let planned = plan_catalog(songs, seed);
    let by_id: std::collections::HashMap<&str, &Planned> =
        planned.iter().map(|p| (p.id.as_str(), p)).collect();
    let ours = |s: &Song| match (&s.source, by_id.get(s.id.as_str())) {
        (SongSource::Demo { truth, .. }, Some(p)) => {
            truth.seed == p.plan.seed && s.title == p.title
        }
        _ => false,
    };
    if !stored.iter().all(ours) {
        return None;
    }
    let on_disk = |s: &&Song| match &s.source {
        SongSource::Demo { master, .. } => data_dir.join(master).is_file(),
        SongSource::Imported { .. } => false,
    };
    Some(stored.iter().filter(on_disk).cloned().collect())
}

/// Synthesises, analyses and encodes one song.
#[tracing::instrument(skip_all, fields(song = %p.id))]
fn make_song(data_dir: &Path, p: &Planned) -> Result<Song, DemoError> {
    let pcm = compose::render(&p.plan);
    let analysis = analyze_pcm(&pcm);
    let master: PathBuf = ["media", p.id.as_str(), "high.ogg"].iter().collect();
    let path = data_dir.join(&master);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|source| DemoError::Io {
            path: dir.display().to_string(),
            source,
        })?;
    }
    encode_vorbis(&pcm, Quality::High, &path)?;
    let plan = &p.plan;
    Ok(Song {
        id: p.id.clone(),
        title: p.title.clone(),
        artist: p.artist.clone(),
        album: p.album.clone(),
        genre: plan.genre.name.to_owned(),
        duration_ms: analysis.duration_ms,
        year: Some(p.year),
        source: SongSource::Demo {
            master,
            truth: DemoTruth {
                seed: plan.seed,
                tempo_bpm: plan.bpm,
                gain_db: plan.gain_db,
                key: KEYS[plan.root.rem_euclid(12) as usize].to_owned(),
                mode: if plan.minor { "minor" } else { "major" }.to_owned(),
            },
        },
        features: Features::from_raw(analysis.features),
        popularity: p.popularity,
    })
}

#[cfg(test)]
mod tests {
    use super::compose::{Plan, Timbre};
    use super::genre::GENRES;
    use super::*;

    #[test]
    fn rendered_songs_have_the_planned_shape() {
        for (i, genre) in GENRES.iter().enumerate() {
            let plan = Plan {
                genre,
                timbre: Timbre::NEUTRAL,
                bpm: (genre.tempo.0 + genre.tempo.1) / 2.0,
                root: i as i32,
                minor: i % 2 == 0,
                gain_db: 0.0,
                target_seconds: 31.0,
                seed: i as u64,
            };
            let pcm = compose::render(&plan);
            let seconds = pcm.frames() as f32 / pcm.sample_rate as f32;
            assert!(
                (compose::MIN_SECONDS..=compose::MAX_SECONDS).contains(&seconds),
                "{}: {seconds}",
                genre.name
            );
            assert!(
                pcm.samples.iter().all(|s| s.is_finite() && s.abs() <= 1.0),
                "{}",
                genre.name
            );
            assert_eq!(
                compose::render(&plan),
                pcm,
                "{} is not deterministic",
                genre.name
            );
        }
    }

    #[test]
    fn parts_are_published_as_they_complete_and_a_run_resumes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut published = Vec::new();
        let parts = Parts { first: 3, every: 2 };
        let all = generate_parts(dir.path(), 8, 5, Vec::new(), parts, &|_, _| {}, &mut |s| {
            published.push(s.len())
        })
        .expect("generate");
        assert_eq!(published, vec![3, 5, 7, 8]);
        assert_eq!(all.len(), 8);
        assert!(all.windows(2).all(|w| w[0].id < w[1].id));

        // An interrupted run: five songs stored, one of them without its master.
        let mut stored = all[..5].to_vec();
        let SongSource::Demo { master, .. } = &stored[4].source else {
            panic!("not a demo song");
        };
        std::fs::remove_file(dir.path().join(master)).expect("remove a master");
        let resumed = resumable(dir.path(), 8, 5, &stored).expect("ours to resume");
        assert_eq!(resumed.len(), 4);
        let done = std::sync::atomic::AtomicUsize::new(0);
        let progress = |d: usize, _| done.store(d, Ordering::Relaxed);
        let again = generate_parts(
            dir.path(),
            8,
            5,
            resumed,
            Parts::WHOLE,
            &progress,
            &mut |_| {},
        )
        .expect("resume");
        assert_eq!(again, all);
        assert_eq!(done.load(Ordering::Relaxed), 8);

        // Another seed, or a song that is not a demo song: not ours.
        assert!(resumable(dir.path(), 8, 6, &stored).is_none());
        stored[0].source = SongSource::Imported {
            path: "x.ogg".into(),
            size: 1,
            mtime_ms: 1,
        };
        assert!(resumable(dir.path(), 8, 5, &stored).is_none());
    }
}
