//! Import of real recorded music that nobody here made — Debian's
//! `singularity-music` (Ogg Vorbis, CC BY-SA; installed by scripts/setup) — mixed
//! with corrupt, truncated and non-audio files, through the real `spoofify catalog
//! import` command: the good files are imported with their tags and features, each
//! bad file is reported by name and skipped, and a second run analyses nothing.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

const MUSIC: &str = "/usr/share/games/singularity/music";

/// A folder with the real tracks (copied, in two sub-folders) and bad files.
fn fixture() -> (tempfile::TempDir, usize) {
    let dir = tempfile::tempdir().unwrap();
    let music = Path::new(MUSIC);
    assert!(
        music.is_dir(),
        "{MUSIC} is missing: run scripts/setup (installs singularity-music)"
    );
    let mut real = 0;
    for entry in walkdir::WalkDir::new(music) {
        let entry = entry.unwrap();
        if entry.file_type().is_file() && entry.path().extension().is_some_and(|e| e == "ogg") {
            let rel = entry.path().strip_prefix(music).unwrap();
            let to = dir.path().join("real").join(rel);
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(entry.path(), &to).unwrap();
            real += 1;
        }
    }
    assert!(real >= 16, "expected 16 tracks, found {real}");
    let bad = dir.path().join("bad");
    std::fs::create_dir_all(&bad).unwrap();
    // Truncated: the first 6 KB of a real track (headers, almost no audio).
    let first = dir.path().join("real/Awakening.ogg");
    let bytes = std::fs::read(&first).unwrap();
    std::fs::write(bad.join("truncated.ogg"), &bytes[..6 * 1024]).unwrap();
    // Garbage with an audio extension.
    let noise: Vec<u8> = (0..50_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(bad.join("garbage.mp3"), &noise).unwrap();
    std::fs::write(bad.join("empty.flac"), b"").unwrap();
    // A text file pretending to be WAV, and plain non-audio files.
    std::fs::write(bad.join("notes.wav"), b"this is not a RIFF file at all").unwrap();
    std::fs::write(bad.join("cover.jpg"), &noise[..1000]).unwrap();
    std::fs::write(dir.path().join("README.txt"), b"liner notes").unwrap();
    (dir, real)
}

fn import(data: &Path, folder: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_spoofify"))
        .args(["catalog", "import"])
        .arg(folder)
        .arg("--data-dir")
        .arg(data)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "import failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn field(summary: &str, word: &str) -> usize {
    // "… 16 analysed, 0 unchanged, 6 skipped; …"
    summary
        .split([',', ':', ';'])
        .find_map(|part| {
            let part = part.trim();
            part.strip_suffix(word).and_then(|n| n.trim().parse().ok())
        })
        .unwrap_or_else(|| panic!("no '{word}' count in {summary}"))
}

#[test]
fn imports_real_music_skips_bad_files_and_is_incremental() {
    let (folder, real) = fixture();
    let data = tempfile::tempdir().unwrap();

    let first = import(data.path(), folder.path());
    let summary = first.lines().next().unwrap();
    assert_eq!(field(summary, "analysed"), real, "{first}");
    assert_eq!(field(summary, "unchanged"), 0, "{first}");
    let bad: Vec<PathBuf> = [
        "bad/truncated.ogg",
        "bad/garbage.mp3",
        "bad/empty.flac",
        "bad/notes.wav",
        "bad/cover.jpg",
        "README.txt",
    ]
    .iter()
    .map(|p| folder.path().canonicalize().unwrap().join(p))
    .collect();
    for b in &bad {
        assert!(
            first.contains(&format!("skipped {}", b.display())),
            "{} not reported:\n{first}",
            b.display()
        );
    }
    assert_eq!(field(summary, "skipped"), bad.len(), "{first}");

    // Nothing changed: nothing is analysed again.
    let second = import(data.path(), folder.path());
    let summary2 = second.lines().next().unwrap();
    assert_eq!(field(summary2, "analysed"), 0, "{second}");
    assert_eq!(field(summary2, "unchanged"), real, "{second}");

    // A touched file is analysed again, the rest are not.
    let touched = folder.path().join("real/Nebula.ogg");
    let bytes = std::fs::read(&touched).unwrap();
    std::fs::write(&touched, &bytes).unwrap();
    let when = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
    std::fs::File::options()
        .write(true)
        .open(&touched)
        .unwrap()
        .set_modified(when)
        .unwrap();
    let third = import(data.path(), folder.path());
    let summary3 = third.lines().next().unwrap();
    assert_eq!(field(summary3, "analysed"), 1, "{third}");
    assert_eq!(field(summary3, "unchanged"), real - 1, "{third}");
}

#[test]
fn imported_songs_carry_tags_and_finite_features() {
    use spoofify_service::catalog::import::{import_dir, ImportProgress};
    struct Quiet;
    impl ImportProgress for Quiet {
        fn start(&self, _: usize) {}
        fn file_done(&self, _: &Path) {}
    }
    let report = import_dir(Path::new(MUSIC), &[], 2, &Quiet).unwrap();
    assert!(report.songs.len() >= 16, "{} songs", report.songs.len());
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    let titles: Vec<&str> = report.songs.iter().map(|s| s.title.as_str()).collect();
    assert!(titles.contains(&"Nebula"), "{titles:?}");
    for s in &report.songs {
        assert_ne!(s.artist, "Unknown artist", "{} has no artist tag", s.title);
        assert!(
            s.duration_ms > 10_000,
            "{} is {} ms",
            s.title,
            s.duration_ms
        );
        assert!(
            s.features.raw.iter().all(|v| v.is_finite()),
            "{:?}",
            s.features.raw
        );
        // Tempo in a musical range, loudness in a sane LUFS range.
        let (tempo, lufs) = (s.features.raw[0], s.features.raw[1]);
        assert!((40.0..=250.0).contains(&tempo), "{} tempo {tempo}", s.title);
        assert!((-60.0..=0.0).contains(&lufs), "{} loudness {lufs}", s.title);
    }
}
