//! The seeded demo catalog generator: synthesises songs in Rust (no system packages),
//! encodes each one once (the High master), and analyses the encoded file through the
//! same decode path an import uses.
//!
//! - [`genre`]: what each of the ten genres sounds like (pure data).
//! - [`synth`]: oscillators, filters, plucked strings and drum voices.
//! - [`compose`]: a song plan turned into stereo PCM.
//! - [`names`] and [`art`]: titles, artists, albums and SVG covers.
//!
//! Determinism: the catalog plan (genres, artists, albums, tempi, keys, gains, lengths,
//! per-song seeds) is drawn serially from one ChaCha RNG seeded with the catalog seed;
//! each song is then rendered only from its own plan, so the output does not depend on
//! the number of worker threads or on which thread made which song.

pub mod art;
pub mod compose;
pub mod genre;
pub mod names;
pub mod synth;

pub use art::cover_svg;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::analysis::{analyze_file, AnalysisError};
use super::features::Features;
use super::song::{DemoTruth, Song, SongId, SongSource};
use crate::audio::{encode_vorbis, CodecError, Quality};
use compose::Plan;
use genre::GENRES;

/// Songs per album: a small album keeps many artists in a small catalog.
const ALBUM_SONGS: (usize, usize) = (3, 6);
/// Chance that an album goes to a new artist rather than one the genre already has.
const NEW_ARTIST_SHARE: f64 = 0.5;
/// Release years of demo albums.
const YEARS: (u16, u16) = (1972, 2025);
/// Target length is MIN + SPAN·u^SKEW seconds (u uniform): skewed to short songs so the
/// mean (~47 s) keeps 160 songs inside the generation budget, with some long ones.
const LENGTH_SPAN_SECONDS: f32 = 60.0;
const LENGTH_SKEW: f32 = 2.5;
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
    #[error(transparent)]
    Analysis(#[from] AnalysisError),
    #[error("generating {0} failed unexpectedly (a worker panicked)")]
    Worker(String),
}

/// Progress callback: (songs done, songs total).
pub type Progress<'a> = &'a (dyn Fn(usize, usize) + Sync);

/// One song as planned: metadata plus the synthesis plan.
#[derive(Debug, Clone)]
struct Planned {
    id: SongId,
    title: String,
    artist: String,
    album: String,
    year: u16,
    popularity: f32,
    plan: Plan,
}

/// Generates `songs` demo songs from `seed` into `data_dir`: synthesis, one encode
/// (the master, `media/<id>/high.ogg`), analysis of the encoded file. Deterministic for
/// a seed; runs on all available cores.
#[tracing::instrument(skip_all, fields(songs, seed))]
pub fn generate(
    data_dir: &Path,
    songs: usize,
    seed: u64,
    progress: Progress<'_>,
) -> Result<Vec<Song>, DemoError> {
    let planned = plan_catalog(songs, seed);
    let media = data_dir.join("media");
    std::fs::create_dir_all(&media).map_err(|source| DemoError::Io {
        path: media.display().to_string(),
        source,
    })?;
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(planned.len())
        .max(1);
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let results: Vec<Mutex<Option<Result<Song, DemoError>>>> =
        planned.iter().map(|_| Mutex::new(None)).collect();
    progress(0, planned.len());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= planned.len() || failed.load(Ordering::Relaxed) {
                    break;
                }
                let result = make_song(data_dir, &planned[i]);
                if result.is_err() {
                    failed.store(true, Ordering::Relaxed);
                }
                if let Ok(mut slot) = results[i].lock() {
                    *slot = Some(result);
                }
                progress(done.fetch_add(1, Ordering::Relaxed) + 1, planned.len());
            });
        }
    });
    let mut out = Vec::with_capacity(planned.len());
    for (slot, p) in results.into_iter().zip(&planned) {
        match slot.into_inner().ok().flatten() {
            Some(Ok(song)) => out.push(song),
            Some(Err(e)) => return Err(e),
            None => return Err(DemoError::Worker(p.id.to_string())),
        }
    }
    Ok(out)
}

/// Synthesises, encodes and analyses one song.
#[tracing::instrument(skip_all, fields(song = %p.id))]
fn make_song(data_dir: &Path, p: &Planned) -> Result<Song, DemoError> {
    let pcm = compose::render(&p.plan);
    let master: PathBuf = ["media", p.id.as_str(), "high.ogg"].iter().collect();
    let path = data_dir.join(&master);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|source| DemoError::Io {
            path: dir.display().to_string(),
            source,
        })?;
    }
    encode_vorbis(&pcm, Quality::High, &path)?;
    drop(pcm);
    let analysis = analyze_file(&path)?;
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

/// Draws the whole catalog plan from the seed: albums of a few songs, each album by an
/// artist of its genre, genres taken in a shuffled rotation so all appear early.
fn plan_catalog(songs: usize, seed: u64) -> Vec<Planned> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut order: Vec<usize> = (0..GENRES.len()).collect();
    order.shuffle(&mut rng);
    // Per genre: (artist name, popularity) of artists made so far.
    let mut artists: Vec<Vec<(String, f32)>> = vec![Vec::new(); GENRES.len()];
    let mut out = Vec::with_capacity(songs);
    let mut album_index = 0;
    while out.len() < songs {
        let g = order[album_index % order.len()];
        album_index += 1;
        let genre = &GENRES[g];
        let roster = &mut artists[g];
        if roster.is_empty() || rng.random_bool(NEW_ARTIST_SHARE) {
            let name = names::artist(&mut rng, genre.name);
            roster.push((name, rng.random_range(0.1..1.0)));
        }
        let (artist, artist_pop) = roster[rng.random_range(0..roster.len())].clone();
        let album = names::album(&mut rng);
        let year = rng.random_range(YEARS.0..=YEARS.1);
        let size = rng.random_range(ALBUM_SONGS.0..=ALBUM_SONGS.1);
        for _ in 0..size.min(songs - out.len()) {
            let n = out.len() + 1;
            let Ok(id) = SongId::parse(&format!("demo-{n:04}")) else {
                continue;
            };
            let bpm = (rng.random_range(genre.tempo.0..=genre.tempo.1) * 10.0).round() / 10.0;
            let gain_db =
                (rng.random_range(genre.gain_db.0..=genre.gain_db.1) * 10.0).round() / 10.0;
            let u: f32 = rng.random();
            let plan = Plan {
                genre,
                bpm,
                root: rng.random_range(0..12),
                minor: rng.random_bool(f64::from(genre.minor_share)),
                gain_db,
                target_seconds: compose::MIN_SECONDS + LENGTH_SPAN_SECONDS * u.powf(LENGTH_SKEW),
                seed: rng.random(),
            };
            let popularity = (artist_pop * rng.random_range(0.4..1.0f32)).clamp(0.0, 1.0);
            out.push(Planned {
                id,
                title: names::title(&mut rng),
                artist: artist.clone(),
                album: album.clone(),
                year,
                popularity,
                plan,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_is_deterministic_and_covers_genres() {
        let a = plan_catalog(160, 42);
        let b = plan_catalog(160, 42);
        let c = plan_catalog(160, 43);
        let key = |p: &[Planned]| -> Vec<(String, String, f32, u64)> {
            p.iter()
                .map(|s| (s.id.to_string(), s.title.clone(), s.plan.bpm, s.plan.seed))
                .collect()
        };
        assert_eq!(key(&a), key(&b));
        assert_ne!(key(&a), key(&c));
        assert_eq!(a.len(), 160);
        assert_eq!(a[0].id.as_str(), "demo-0001");
        assert_eq!(a[159].id.as_str(), "demo-0160");
        let mut genres: Vec<&str> = a.iter().map(|p| p.plan.genre.name).collect();
        genres.sort();
        genres.dedup();
        assert_eq!(genres.len(), GENRES.len());
        let mut artists: Vec<&str> = a.iter().map(|p| p.artist.as_str()).collect();
        artists.sort();
        artists.dedup();
        assert!(
            artists.len() >= 10 && artists.len() < 100,
            "{} artists",
            artists.len()
        );
        assert!(a.iter().all(|p| (0.0..=1.0).contains(&p.popularity)));
    }

    #[test]
    fn rendered_songs_have_the_planned_shape() {
        for (i, genre) in GENRES.iter().enumerate() {
            let plan = Plan {
                genre,
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
}
