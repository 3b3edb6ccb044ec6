//! The demo catalog's plan: who the artists are, how each sounds within their genre,
//! their albums, and every song's synthesis plan — drawn serially from one seeded RNG,
//! before any audio is made.
//!
//! Artists are dealt to genres in a shuffled rotation, so every genre gets artists
//! early and, from 36 artists on, at least three. Each artist has a style of their own
//! inside the genre's bounds: a tempo range (a part of the genre's), a home key and how
//! often they play in minor, a loudness range (a part of the genre's gain range) and a
//! [`Timbre`]. Their songs come in albums of a few tracks. Song ids follow the plan
//! (artist by artist, album by album, track by track), so sorting by id lists albums
//! in track order; [`generation_order`] decides which songs are made first.

use std::collections::HashSet;

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::compose::{self, Plan, Timbre};
use super::genre::{Genre, GENRES};
use super::names;
use crate::catalog::song::SongId;

/// One artist per this many songs (400 songs → 44 artists, 3–4 per genre).
const SONGS_PER_ARTIST: usize = 9;
/// An artist's share of the catalog varies by this factor around the mean.
const ARTIST_WEIGHT: (f64, f64) = (0.6, 1.4);
/// Most tracks on an album. An artist's songs are split into as few albums as this
/// allows, as evenly as possible (9 songs: 5 + 4), so albums hold 4–8 tracks unless the
/// artist has fewer than 4 songs.
const MAX_ALBUM_TRACKS: usize = 8;
/// An artist's tempo range is this share of their genre's.
const ARTIST_TEMPO_SHARE: f32 = 0.4;
/// An artist's gain range (dB) is this wide, inside their genre's.
const ARTIST_GAIN_SPAN_DB: f32 = 2.0;
/// Chance that a song leaves the artist's home key for its fourth or fifth.
const OTHER_KEY_SHARE: f64 = 0.3;
/// Bounds of an artist's timbre (see [`Timbre`]). Kept moderate: brightness and grit
/// move the K-weighted loudness too, and loudness must follow the gain (audio truth).
const BRIGHTNESS: (f32, f32) = (0.65, 1.5);
const GRIT: (f32, f32) = (1.0, 1.8);
const WIDTH_CENTS: (f32, f32) = (0.0, 14.0);
const SOFTNESS: (f32, f32) = (0.6, 1.6);
/// Release years of demo albums; an artist's albums fall within a decade or two.
const YEARS: (u16, u16) = (1972, 2025);
const CAREER_YEARS: u16 = 18;
/// Target length is MIN + SPAN·u^SKEW seconds (u uniform): mostly short songs (mean
/// ~42 s) so 400 fit the first-start budget, with some long ones.
const LENGTH_SPAN_SECONDS: f32 = 50.0;
const LENGTH_SKEW: f32 = 3.0;
/// Attempts at drawing a name not used yet before numbering it.
const NAME_ATTEMPTS: usize = 20;

/// How one artist sounds within their genre.
#[derive(Debug, Clone)]
pub struct Artist {
    pub name: String,
    pub genre: &'static Genre,
    /// Tempo range (BPM) inside the genre's.
    pub tempo: (f32, f32),
    /// Home key as a pitch class (0 = C) and the share of songs in minor.
    pub root: i32,
    pub minor_share: f32,
    /// Master gain range (dB) inside the genre's.
    pub gain_db: (f32, f32),
    pub timbre: Timbre,
    /// Popularity prior of the artist in (0, 1).
    pub popularity: f32,
}

/// One song as planned: metadata plus the synthesis plan.
#[derive(Debug, Clone)]
pub struct Planned {
    pub id: SongId,
    pub title: String,
    pub artist: String,
    pub album: String,
    /// Index of the album in plan order, and the track number within it (from 1).
    pub album_index: usize,
    pub track: usize,
    pub year: u16,
    pub popularity: f32,
    pub plan: Plan,
}

/// Draws the whole catalog plan from the seed.
pub fn plan_catalog(songs: usize, seed: u64) -> Vec<Planned> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let artists = draw_artists(&mut rng, (songs / SONGS_PER_ARTIST).max(GENRES.len()));
    let shares = song_shares(&mut rng, songs, artists.len());
    let mut out = Vec::with_capacity(songs);
    let mut titles = HashSet::new();
    let mut album_index = 0;
    for (artist, share) in artists.iter().zip(shares) {
        let first_year = rng.random_range(YEARS.0..=YEARS.1 - CAREER_YEARS);
        let mut albums = HashSet::new();
        let albums_of_artist = share.div_ceil(MAX_ALBUM_TRACKS);
        for a in 0..albums_of_artist {
            let tracks = share / albums_of_artist + usize::from(a < share % albums_of_artist);
            let album = unique(&mut rng, &mut albums, names::album);
            let year = first_year + rng.random_range(0..=CAREER_YEARS);
            for track in 1..=tracks {
                let n = out.len() + 1;
                let Ok(id) = SongId::parse(&format!("demo-{n:04}")) else {
                    continue;
                };
                let title = unique(&mut rng, &mut titles, names::title);
                let plan = song_plan(&mut rng, artist);
                let popularity =
                    (artist.popularity * rng.random_range(0.4..1.0f32)).clamp(0.0, 1.0);
                out.push(Planned {
                    id,
                    title,
                    artist: artist.name.clone(),
                    album: album.clone(),
                    album_index,
                    track,
                    year,
                    popularity,
                    plan,
                });
            }
            album_index += 1;
        }
    }
    out
}

/// The order songs are made in: round-robin over albums (every album's first track,
/// then every album's second, …), so any prefix covers every genre, artist and album.
pub fn generation_order(planned: &[Planned]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..planned.len()).collect();
    order.sort_by_key(|&i| (planned[i].track, planned[i].album_index));
    order
}

fn draw_artists(rng: &mut ChaCha8Rng, count: usize) -> Vec<Artist> {
    let mut genres: Vec<usize> = (0..GENRES.len()).collect();
    genres.shuffle(rng);
    let mut used = HashSet::new();
    (0..count)
        .map(|k| {
            let genre = &GENRES[genres[k % genres.len()]];
            let name = unique(rng, &mut used, |r| names::artist(r, genre.name));
            draw_style(rng, name, genre)
        })
        .collect()
}

fn draw_style(rng: &mut ChaCha8Rng, name: String, genre: &'static Genre) -> Artist {
    let (lo, hi) = genre.tempo;
    let width = (hi - lo) * ARTIST_TEMPO_SHARE;
    let start = rng.random_range(lo..=hi - width);
    let (glo, ghi) = genre.gain_db;
    let gain_width = ARTIST_GAIN_SPAN_DB.min(ghi - glo);
    let gain_start = rng.random_range(glo..=ghi - gain_width);
    let minor_share = (genre.minor_share + rng.random_range(-0.25..0.25f32)).clamp(0.0, 1.0);
    Artist {
        name,
        genre,
        tempo: (start, start + width),
        root: rng.random_range(0..12),
        minor_share,
        gain_db: (gain_start, gain_start + gain_width),
        timbre: Timbre {
            brightness: rng.random_range(BRIGHTNESS.0..=BRIGHTNESS.1),
            grit: rng.random_range(GRIT.0..=GRIT.1),
            width_cents: rng.random_range(WIDTH_CENTS.0..=WIDTH_CENTS.1),
            softness: rng.random_range(SOFTNESS.0..=SOFTNESS.1),
        },
        popularity: rng.random_range(0.1..1.0),
    }
}

/// How many songs each artist gets: proportional to a random weight, at least one,
/// summing to `songs` (largest remainders).
fn song_shares(rng: &mut ChaCha8Rng, songs: usize, artists: usize) -> Vec<usize> {
    let weights: Vec<f64> = (0..artists)
        .map(|_| rng.random_range(ARTIST_WEIGHT.0..=ARTIST_WEIGHT.1))
        .collect();
    let total: f64 = weights.iter().sum();
    let spare = songs.saturating_sub(artists);
    let exact: Vec<f64> = weights.iter().map(|w| w / total * spare as f64).collect();
    let mut shares: Vec<usize> = exact.iter().map(|e| 1 + e.floor() as usize).collect();
    let mut by_remainder: Vec<usize> = (0..artists).collect();
    by_remainder.sort_by(|&a, &b| exact[b].fract().total_cmp(&exact[a].fract()));
    // The fractional parts sum to less than the number of artists.
    let missing = songs.saturating_sub(shares.iter().sum());
    for &i in by_remainder.iter().take(missing) {
        shares[i] += 1;
    }
    // Fewer songs than artists: the last artists get none.
    let mut excess = shares.iter().sum::<usize>().saturating_sub(songs);
    for s in shares.iter_mut().rev() {
        let cut = excess.min(*s);
        *s -= cut;
        excess -= cut;
    }
    shares
}

fn song_plan(rng: &mut ChaCha8Rng, artist: &Artist) -> Plan {
    let round = |x: f32| (x * 10.0).round() / 10.0;
    let root = if rng.random_bool(OTHER_KEY_SHARE) {
        artist.root + if rng.random_bool(0.5) { 5 } else { 7 }
    } else {
        artist.root
    };
    let u: f32 = rng.random();
    Plan {
        genre: artist.genre,
        timbre: artist.timbre,
        bpm: round(rng.random_range(artist.tempo.0..=artist.tempo.1)),
        root: root.rem_euclid(12),
        minor: rng.random_bool(f64::from(artist.minor_share)),
        gain_db: round(rng.random_range(artist.gain_db.0..=artist.gain_db.1)),
        target_seconds: compose::MIN_SECONDS + LENGTH_SPAN_SECONDS * u.powf(LENGTH_SKEW),
        seed: rng.random(),
    }
}

/// A name from `draw` not in `used` (numbered "II", "III", … when the word lists run dry).
fn unique(
    rng: &mut ChaCha8Rng,
    used: &mut HashSet<String>,
    draw: impl Fn(&mut ChaCha8Rng) -> String,
) -> String {
    let mut name = draw(rng);
    for _ in 0..NAME_ATTEMPTS {
        if !used.contains(&name) {
            break;
        }
        name = draw(rng);
    }
    let base = name.clone();
    let mut n = 2;
    while used.contains(&name) {
        name = format!("{base} {}", roman(n));
        n += 1;
    }
    used.insert(name.clone());
    name
}

fn roman(mut n: usize) -> String {
    const DIGITS: [(usize, &str); 9] = [
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ];
    let mut out = String::new();
    for (value, digits) in DIGITS {
        while n >= value {
            out.push_str(digits);
            n -= value;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn plan_is_deterministic_per_seed() {
        let key = |p: &[Planned]| -> Vec<(String, String, String, f32, u64)> {
            p.iter()
                .map(|s| {
                    let id = s.id.to_string();
                    (
                        id,
                        s.title.clone(),
                        s.artist.clone(),
                        s.plan.bpm,
                        s.plan.seed,
                    )
                })
                .collect()
        };
        let (a, b, c) = (
            plan_catalog(400, 42),
            plan_catalog(400, 42),
            plan_catalog(400, 43),
        );
        assert_eq!(key(&a), key(&b));
        assert_ne!(key(&a), key(&c));
        assert_eq!(a.len(), 400);
        assert_eq!(a[0].id.as_str(), "demo-0001");
        assert_eq!(a[399].id.as_str(), "demo-0400");
    }

    #[test]
    fn the_default_catalog_has_artists_with_styles_and_albums() {
        let plan = plan_catalog(400, 42);
        let mut artists: HashMap<&str, Vec<&Planned>> = HashMap::new();
        for p in &plan {
            artists.entry(p.artist.as_str()).or_default().push(p);
        }
        assert!(artists.len() >= 40, "{} artists", artists.len());
        let mut per_genre: HashMap<&str, usize> = HashMap::new();
        for songs in artists.values() {
            let genre = songs[0].plan.genre.name;
            assert!(songs.iter().all(|s| s.plan.genre.name == genre));
            *per_genre.entry(genre).or_default() += 1;
            // One style per artist: every song inside the artist's tempo range, which is
            // a part of the genre's.
            let bpm: Vec<f32> = songs.iter().map(|s| s.plan.bpm).collect();
            let (lo, hi) = songs[0].plan.genre.tempo;
            let spread = bpm.iter().cloned().fold(f32::MIN, f32::max)
                - bpm.iter().cloned().fold(f32::MAX, f32::min);
            assert!(spread <= (hi - lo) * ARTIST_TEMPO_SHARE + 0.2, "{spread}");
            assert!(songs.iter().all(|s| s.plan.timbre == songs[0].plan.timbre));
        }
        assert_eq!(per_genre.len(), GENRES.len());
        assert!(per_genre.values().all(|&n| n >= 3), "{per_genre:?}");
        let mut albums: Vec<(&str, &str)> = plan
            .iter()
            .map(|p| (p.artist.as_str(), p.album.as_str()))
            .collect();
        albums.dedup();
        let distinct: HashSet<_> = albums.iter().collect();
        assert_eq!(
            distinct.len(),
            albums.len(),
            "an album's tracks are contiguous"
        );
        let mut tracks: HashMap<usize, usize> = HashMap::new();
        for p in &plan {
            *tracks.entry(p.album_index).or_default() += 1;
        }
        assert_eq!(tracks.len(), albums.len());
        assert!(
            tracks
                .values()
                .all(|&n| (4..=MAX_ALBUM_TRACKS).contains(&n)),
            "{tracks:?}"
        );
        assert!(tracks.len() >= 50, "{} albums", tracks.len());
        let titles: HashSet<&str> = plan.iter().map(|p| p.title.as_str()).collect();
        assert_eq!(titles.len(), plan.len(), "titles are unique");
        assert!(plan.iter().all(|p| (0.0..=1.0).contains(&p.popularity)));
    }

    #[test]
    fn every_prefix_of_the_generation_order_spreads_over_albums() {
        let plan = plan_catalog(400, 7);
        let order = generation_order(&plan);
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..plan.len()).collect::<Vec<_>>());
        let albums = plan.iter().map(|p| p.album_index).max().unwrap_or(0) + 1;
        let first: HashSet<usize> = order[..albums]
            .iter()
            .map(|&i| plan[i].album_index)
            .collect();
        assert_eq!(first.len(), albums);
        let genres: HashSet<&str> = order[..albums]
            .iter()
            .map(|&i| plan[i].plan.genre.name)
            .collect();
        assert_eq!(genres.len(), GENRES.len());
    }

    #[test]
    fn small_catalogs_and_shares_add_up() {
        for songs in [0, 1, 5, 24, 160] {
            let plan = plan_catalog(songs, 3);
            assert_eq!(plan.len(), songs);
        }
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        assert_eq!(song_shares(&mut rng, 3, 12).iter().sum::<usize>(), 3);
        assert_eq!(roman(14), "XIV");
    }
}
