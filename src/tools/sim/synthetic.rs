//! A seeded synthetic catalog: genres as clusters in the 8 raw audio features, artists
//! as small offsets within their genre, albums of a few songs, and a skewed
//! popularity. No audio is made; it stands in where the demo catalog is unavailable.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::PathBuf;

use spoofify_service::catalog::song::DemoTruth;
use spoofify_service::catalog::{Catalog, Features, Song, SongId, SongSource, FEATURE_COUNT};

/// A genre's typical raw features: tempo (BPM), loudness (LUFS), spectral centroid
/// and rolloff (Hz), flatness, zero-crossing rate, onset rate (Hz), dynamic range (dB).
pub const GENRES: [(&str, [f32; FEATURE_COUNT]); 10] = [
    (
        "ambient",
        [75.0, -22.0, 1200.0, 3000.0, 0.05, 0.03, 0.8, 14.0],
    ),
    (
        "classical",
        [95.0, -20.0, 1600.0, 4000.0, 0.04, 0.04, 1.5, 18.0],
    ),
    (
        "jazz",
        [120.0, -16.0, 2000.0, 5000.0, 0.08, 0.06, 3.0, 12.0],
    ),
    (
        "folk",
        [105.0, -14.0, 1900.0, 4500.0, 0.06, 0.05, 2.5, 11.0],
    ),
    ("pop", [118.0, -9.0, 2600.0, 6500.0, 0.12, 0.08, 4.0, 7.0]),
    ("rock", [128.0, -8.0, 3000.0, 7500.0, 0.18, 0.10, 5.0, 7.0]),
    ("metal", [150.0, -6.0, 3800.0, 9500.0, 0.30, 0.15, 7.0, 5.0]),
    (
        "electronic",
        [126.0, -7.0, 2800.0, 8000.0, 0.25, 0.09, 6.0, 5.0],
    ),
    ("hiphop", [92.0, -8.0, 2200.0, 6000.0, 0.15, 0.07, 4.5, 6.0]),
    ("punk", [170.0, -7.0, 3300.0, 8500.0, 0.28, 0.13, 7.5, 5.0]),
];

/// Spread of each feature within a genre (one standard deviation).
const SPREAD: [f32; FEATURE_COUNT] = [14.0, 2.5, 350.0, 900.0, 0.04, 0.015, 0.9, 2.0];
/// Songs per album and albums per artist: small, so diversity rules have work to do.
const SONGS_PER_ALBUM: usize = 6;
const ALBUMS_PER_ARTIST: usize = 2;

/// Builds `n` songs (ids `syn-00000`, …) spread over the genres. Deterministic.
pub fn synthetic_catalog(n: usize, seed: u64) -> Catalog {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let per_artist = SONGS_PER_ALBUM * ALBUMS_PER_ARTIST;
    let mut songs = Vec::with_capacity(n);
    let mut artist_centre = [0.0f32; FEATURE_COUNT];
    let mut genre = 0usize;
    for i in 0..n {
        let artist = i / per_artist;
        if i % per_artist == 0 {
            genre = rng.random_range(0..GENRES.len());
            for f in 0..FEATURE_COUNT {
                artist_centre[f] = GENRES[genre].1[f] + 0.6 * SPREAD[f] * normal(&mut rng);
            }
        }
        let mut raw = [0.0f32; FEATURE_COUNT];
        for f in 0..FEATURE_COUNT {
            raw[f] = artist_centre[f] + 0.7 * SPREAD[f] * normal(&mut rng);
        }
        raw[0] = raw[0].clamp(50.0, 200.0);
        raw[4] = raw[4].clamp(0.0, 1.0);
        raw[5] = raw[5].clamp(0.0, 1.0);
        raw[6] = raw[6].max(0.1);
        raw[7] = raw[7].max(1.0);
        // Popularity: most songs obscure, a few hits.
        let popularity = rng.random::<f32>().powi(3);
        let album = (i % per_artist) / SONGS_PER_ALBUM;
        let seed_i = rng.random::<u64>();
        let Ok(id) = SongId::parse(&format!("syn-{i:05}")) else {
            continue; // cannot happen: the id is made of valid characters
        };
        songs.push(Song {
            id,
            title: format!("Synthetic {i}"),
            artist: format!("Artist {artist}"),
            album: format!("Album {artist}-{album}"),
            genre: GENRES[genre].0.to_owned(),
            duration_ms: rng.random_range(120_000..360_000),
            year: Some(1970 + (seed_i % 55) as u16),
            source: SongSource::Demo {
                master: PathBuf::new(),
                truth: DemoTruth {
                    seed: seed_i,
                    tempo_bpm: raw[0],
                    gain_db: 0.0,
                    key: "C".into(),
                    mode: "major".into(),
                },
            },
            features: Features::from_raw(raw),
            popularity,
        });
    }
    Catalog::new(songs)
}

/// A standard normal draw (Box–Muller).
pub fn normal(rng: &mut impl Rng) -> f32 {
    let u1: f32 = rng.random::<f32>().max(1e-7);
    let u2: f32 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_clustered() {
        let a = synthetic_catalog(300, 7);
        let b = synthetic_catalog(300, 7);
        assert_eq!(a.songs(), b.songs());
        assert_eq!(a.len(), 300);
        let tempo = |g: &str| {
            let v: Vec<f32> = a
                .songs()
                .iter()
                .filter(|s| s.genre == g)
                .map(|s| s.features.raw[0])
                .collect();
            v.iter().sum::<f32>() / v.len().max(1) as f32
        };
        assert!(tempo("punk") > tempo("ambient") + 40.0);
    }
}
