//! The demo catalog checked against its own truth: the analysis must find the tempo the
//! generator used and rank songs by loudness as the generator's gains do; generation
//! must be deterministic and fast; decoding must reject broken files without panicking.
//!
//! In a release build (CI: `cargo test --release`) the full 400-song catalog is used and
//! the first-start budget is asserted: the first part a node publishes is made within
//! 90 s; a debug build uses a smaller catalog, as unoptimised synthesis is several times
//! slower.

use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use spoofify_service::audio::{decode_file, CodecError};
use spoofify_service::catalog::demo::{self, cover_svg, Parts};
use spoofify_service::catalog::{Song, SongSource};

/// The catalog size the service generates on first start (config/default.toml).
const FULL_CATALOG: usize = 400;
/// Debug builds check a smaller catalog that still has every genre several times.
const DEBUG_CATALOG: usize = 48;
const SEED: u64 = 2026;
/// Issue 11: a first start is ready (its first part published) within 90 s in a
/// release build on the 2-core machines.
const BUDGET: Duration = Duration::from_secs(90);
/// What the default catalog holds (issue 11).
const MIN_GENRES: usize = 12;
const MIN_ARTISTS: usize = 40;
const MIN_ARTISTS_PER_GENRE: usize = 3;
/// Issue 2: tempo within 4 % for at least 90 % of songs.
const TEMPO_TOLERANCE: f32 = 0.04;
const TEMPO_MIN_SHARE: f64 = 0.9;
/// Loudness must follow the gains: rank correlation, and pairs of songs whose gains
/// differ by at least PAIR_GAP_DB must be measured in that order. Genres differ by up to
/// ~3.5 dB in LUFS at equal gain (K-weighting of bass-heavy vs bright mixes; the
/// limiter), so a handful of ≥ 3 dB pairs across genres may flip: measured 2 of 7463.
const MIN_SPEARMAN: f64 = 0.9;
const PAIR_GAP_DB: f32 = 3.0;
const MAX_FLIPPED_SHARE: f64 = 0.005;

struct Demo {
    dir: tempfile::TempDir,
    songs: Vec<Song>,
    took: Duration,
    /// CPU time the generation used (all threads), when the OS tells us.
    cpu: Option<Duration>,
    /// Wall and CPU time until the first part a node publishes was made.
    first_part: Option<(usize, Duration, Option<Duration>)>,
}

/// This process's user + system CPU time, from /proc (Linux; USER_HZ is 100 there).
fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

fn catalog() -> &'static Demo {
    static DEMO: OnceLock<Demo> = OnceLock::new();
    DEMO.get_or_init(|| {
        let n = if cfg!(debug_assertions) {
            DEBUG_CATALOG
        } else {
            FULL_CATALOG
        };
        let dir = tempfile::tempdir().expect("tempdir");
        let (start, cpu_start) = (Instant::now(), process_cpu());
        let cpu_since = || {
            process_cpu()
                .zip(cpu_start)
                .map(|(end, start)| end.saturating_sub(start))
        };
        let mut first_part = None;
        let songs = demo::generate_parts(
            dir.path(),
            n,
            SEED,
            Vec::new(),
            Parts::FIRST_START,
            &|_, _| {},
            &mut |made| {
                if first_part.is_none() {
                    first_part = Some((made.len(), start.elapsed(), cpu_since()));
                }
            },
        )
        .expect("generate");
        let took = start.elapsed();
        let cpu = cpu_since();
        eprintln!(
            "generated {n} songs in {:.1} s wall, {cpu:?} CPU; first part {first_part:?}",
            took.as_secs_f64()
        );
        Demo {
            dir,
            songs,
            took,
            cpu,
            first_part,
        }
    })
}

fn truth(song: &Song) -> (f32, f32) {
    match &song.source {
        SongSource::Demo { truth, .. } => (truth.tempo_bpm, truth.gain_db),
        other => panic!("{} is not a demo song: {other:?}", song.id),
    }
}

#[test]
fn generation_fits_the_budget_and_is_complete() {
    let demo = catalog();
    let n = demo.songs.len();
    eprintln!("{n} songs, {:.1} s", demo.took.as_secs_f64());
    if !cfg!(debug_assertions) {
        assert_eq!(n, FULL_CATALOG);
        // The budget is for a 2-core machine to ourselves. CI shares its cores with
        // other builds, so judge by the CPU time spent spread over the two cores (the
        // wall time on an idle machine) when we can read it, else by the wall clock.
        let (songs, wall, cpu) = demo.first_part.expect("a first part was published");
        assert_eq!(songs, Parts::FIRST_START.first);
        let idle_wall = cpu.map_or(wall, |cpu| cpu / 2);
        eprintln!(
            "budget check: first {songs} songs in {:.1} s (CPU / 2), wall {:.1} s; all {n} in {:.1} s (CPU / 2), wall {:.1} s",
            idle_wall.as_secs_f64(),
            wall.as_secs_f64(),
            demo.cpu.map_or(demo.took, |c| c / 2).as_secs_f64(),
            demo.took.as_secs_f64()
        );
        assert!(
            idle_wall <= BUDGET,
            "the first part took {idle_wall:?} of CPU per core, budget {BUDGET:?}"
        );
    }
    let mut genres: Vec<&str> = demo.songs.iter().map(|s| s.genre.as_str()).collect();
    genres.sort();
    genres.dedup();
    let mut artists: Vec<(&str, &str)> = demo
        .songs
        .iter()
        .map(|s| (s.genre.as_str(), s.artist.as_str()))
        .collect();
    artists.sort();
    artists.dedup();
    eprintln!("{} genres, {} artists", genres.len(), artists.len());
    if !cfg!(debug_assertions) {
        assert!(genres.len() >= MIN_GENRES, "{genres:?}");
        assert!(artists.len() >= MIN_ARTISTS, "{} artists", artists.len());
        for g in &genres {
            let of_genre = artists.iter().filter(|(genre, _)| genre == g).count();
            assert!(of_genre >= MIN_ARTISTS_PER_GENRE, "{g}: {of_genre} artists");
        }
    }
    let total_s: f64 = demo
        .songs
        .iter()
        .map(|s| s.duration_ms as f64 / 1000.0)
        .sum();
    eprintln!(
        "{} genres, {:.0} s of audio (mean {:.1} s)",
        genres.len(),
        total_s,
        total_s / n as f64
    );
    for (i, s) in demo.songs.iter().enumerate() {
        assert_eq!(s.id.as_str(), format!("demo-{:04}", i + 1));
        assert!(
            (30_000..=90_000).contains(&s.duration_ms),
            "{}: {} ms",
            s.id,
            s.duration_ms
        );
        assert!(
            s.features.raw.iter().all(|v| v.is_finite()),
            "{}: {:?}",
            s.id,
            s.features.raw
        );
        assert!((0.0..=1.0).contains(&s.popularity));
        let SongSource::Demo { master, .. } = &s.source else {
            unreachable!()
        };
        assert_eq!(
            master,
            &Path::new("media").join(s.id.as_str()).join("high.ogg")
        );
        assert!(demo.dir.path().join(master).is_file());
        let svg = cover_svg(s);
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg, cover_svg(s));
    }
    let mut albums: Vec<(&str, &str)> = demo
        .songs
        .iter()
        .map(|s| (s.artist.as_str(), s.album.as_str()))
        .collect();
    albums.sort();
    albums.dedup();
    assert!(
        albums.len() * 3 <= n,
        "albums should hold several songs: {} albums",
        albums.len()
    );
    // One cover per album: every track of an album shows it.
    let first = &demo.songs[0];
    for s in demo
        .songs
        .iter()
        .filter(|s| s.album == first.album && s.artist == first.artist)
    {
        assert_eq!(cover_svg(s), cover_svg(first), "{} and {}", s.id, first.id);
    }
}

#[test]
fn detected_tempo_matches_the_generated_tempo() {
    let demo = catalog();
    let (mut ok, mut half, mut double, mut other) = (0, 0, 0, Vec::new());
    let near = |a: f32, b: f32| (a - b).abs() <= TEMPO_TOLERANCE * b;
    for s in &demo.songs {
        let (bpm, _) = truth(s);
        let got = s.features.raw[0];
        if near(got, bpm) {
            ok += 1;
        } else if near(got, bpm / 2.0) {
            half += 1;
            eprintln!("half tempo: {} {} truth {bpm} got {got:.1}", s.id, s.genre);
        } else if near(got, bpm * 2.0) {
            double += 1;
            eprintln!(
                "double tempo: {} {} truth {bpm} got {got:.1}",
                s.id, s.genre
            );
        } else {
            eprintln!("wrong tempo: {} {} truth {bpm} got {got:.1}", s.id, s.genre);
            other.push(s.id.to_string());
        }
    }
    let n = demo.songs.len();
    let share = ok as f64 / n as f64;
    eprintln!(
        "tempo within {:.0} %: {ok}/{n} ({:.1} %); half {half}, double {double}, other {}",
        TEMPO_TOLERANCE * 100.0,
        share * 100.0,
        other.len()
    );
    assert!(share >= TEMPO_MIN_SHARE, "only {ok}/{n} within tolerance");
}

/// Ranks with ties averaged.
fn ranks(v: &[f32]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut r = vec![0.0; v.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && v[idx[j + 1]] == v[idx[i]] {
            j += 1;
        }
        for &k in &idx[i..=j] {
            r[k] = (i + j) as f64 / 2.0;
        }
        i = j + 1;
    }
    r
}

fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
    cov / (va * vb).sqrt()
}

#[test]
fn loudness_follows_the_generated_gain() {
    let demo = catalog();
    let gains: Vec<f32> = demo.songs.iter().map(|s| truth(s).1).collect();
    let lufs: Vec<f32> = demo.songs.iter().map(|s| s.features.raw[1]).collect();
    let rho = pearson(&ranks(&gains), &ranks(&lufs));
    let (mut pairs, mut flipped) = (0, 0);
    for i in 0..gains.len() {
        for j in 0..gains.len() {
            if gains[i] - gains[j] >= PAIR_GAP_DB {
                pairs += 1;
                if lufs[i] <= lufs[j] {
                    flipped += 1;
                    eprintln!(
                        "flipped: {} gain {} -> {:.1} LUFS vs {} gain {} -> {:.1} LUFS",
                        demo.songs[i].id, gains[i], lufs[i], demo.songs[j].id, gains[j], lufs[j]
                    );
                }
            }
        }
    }
    let offsets: Vec<f32> = lufs.iter().zip(&gains).map(|(l, g)| l - g).collect();
    let mean = offsets.iter().sum::<f32>() / offsets.len() as f32;
    let sd =
        (offsets.iter().map(|o| (o - mean).powi(2)).sum::<f32>() / offsets.len() as f32).sqrt();
    eprintln!(
        "loudness: Spearman {rho:.3}; pairs >= {PAIR_GAP_DB} dB apart in order: {}/{pairs}; LUFS - gain = {mean:.1} ± {sd:.2} dB",
        pairs - flipped
    );
    assert!(rho >= MIN_SPEARMAN, "Spearman {rho:.3}");
    assert!(
        flipped as f64 <= MAX_FLIPPED_SHARE * pairs as f64,
        "{flipped} of {pairs} pairs out of order"
    );
}

#[test]
fn generation_is_deterministic_per_seed() {
    // Not while the timed catalog is being generated: it would steal its cores.
    let _ = catalog();
    let n = 4;
    let (a, b, c) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let first = demo::generate(a.path(), n, 11, &|_, _| {}).unwrap();
    let again = demo::generate(b.path(), n, 11, &|_, _| {}).unwrap();
    let other = demo::generate(c.path(), n, 12, &|_, _| {}).unwrap();
    assert_eq!(first, again);
    assert_ne!(first, other);
    for s in &first {
        let rel = Path::new("media").join(s.id.as_str()).join("high.ogg");
        let x = std::fs::read(a.path().join(&rel)).unwrap();
        let y = std::fs::read(b.path().join(&rel)).unwrap();
        assert!(x == y, "{} master differs between runs", s.id);
    }
}

#[test]
fn decode_rejects_truncated_and_garbage_files() {
    let demo = catalog();
    let dir = tempfile::tempdir().unwrap();
    let master = demo.dir.path().join("media/demo-0001/high.ogg");
    let bytes = std::fs::read(&master).unwrap();
    assert!(decode_file(&master).is_ok());

    // Cut inside the headers / first second: nothing substantial decodes.
    let stub = dir.path().join("stub.ogg");
    std::fs::write(&stub, &bytes[..bytes.len().min(6_000)]).unwrap();
    let err = decode_file(&stub).expect_err("a 6 kB stub must not decode");
    assert!(err.to_string().contains("stub.ogg"), "{err}");

    // Cut in the middle: must not panic (Ogg does not declare its length up front, so
    // the first half may decode as a shorter song).
    let half = dir.path().join("half.ogg");
    std::fs::write(&half, &bytes[..bytes.len() / 2]).unwrap();
    let _ = decode_file(&half);

    // A WAV declares its length: half of one is reported as truncated.
    let wav = dir.path().join("cut.wav");
    std::fs::write(&wav, &wav_bytes(44_100, 4.0)[..44 + 44_100 * 2 * 2]).unwrap();
    assert!(
        matches!(decode_file(&wav), Err(CodecError::Truncated { .. })),
        "{:?}",
        decode_file(&wav).map(|p| p.frames())
    );
    let full = dir.path().join("full.wav");
    std::fs::write(&full, wav_bytes(44_100, 4.0)).unwrap();
    assert_eq!(decode_file(&full).unwrap().frames(), 4 * 44_100);

    // Garbage with an audio extension, and a text file.
    let garbage = dir.path().join("noise.mp3");
    let junk: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
        .collect();
    std::fs::write(&garbage, junk).unwrap();
    assert!(decode_file(&garbage).is_err());
    let text = dir.path().join("notes.flac");
    std::fs::write(
        &text,
        "these are not the songs you are looking for\n".repeat(100),
    )
    .unwrap();
    assert!(decode_file(&text).is_err());

    // Random corruption in the middle of a real file: an error or shorter audio, no panic.
    let mut corrupt = bytes.clone();
    let mid = corrupt.len() / 3;
    for (k, b) in corrupt[mid..mid + 20_000].iter_mut().enumerate() {
        *b ^= (k as u8).wrapping_mul(151) | 1;
    }
    let corrupted = dir.path().join("corrupt.ogg");
    std::fs::write(&corrupted, corrupt).unwrap();
    let _ = decode_file(&corrupted);
}

/// A mono 16-bit PCM WAV of a 440 Hz tone.
fn wav_bytes(rate: u32, seconds: f32) -> Vec<u8> {
    let frames = (rate as f32 * seconds) as u32;
    let data_len = frames * 2;
    let mut v = Vec::with_capacity(44 + data_len as usize);
    v.extend_from_slice(b"RIFF");
    v.extend_from_slice(&(36 + data_len).to_le_bytes());
    v.extend_from_slice(b"WAVEfmt ");
    v.extend_from_slice(&16u32.to_le_bytes());
    v.extend_from_slice(&1u16.to_le_bytes());
    v.extend_from_slice(&1u16.to_le_bytes());
    v.extend_from_slice(&rate.to_le_bytes());
    v.extend_from_slice(&(rate * 2).to_le_bytes());
    v.extend_from_slice(&2u16.to_le_bytes());
    v.extend_from_slice(&16u16.to_le_bytes());
    v.extend_from_slice(b"data");
    v.extend_from_slice(&data_len.to_le_bytes());
    for i in 0..frames {
        let s =
            (0.3 * (i as f32 * 440.0 * std::f32::consts::TAU / rate as f32).sin() * 32767.0) as i16;
        v.extend_from_slice(&s.to_le_bytes());
    }
    v
}
