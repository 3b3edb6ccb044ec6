//! Import of a real music folder into the catalog.
//!
//! Scans a folder recursively, reads each audio file's tags, analyses its
//! audio (the same [`analysis`](super::analysis) the demo uses) and returns the songs,
//! with a report of what was skipped and why. A corrupt, truncated or non-audio file
//! is reported by name and skipped; it never aborts the import. Re-running is
//! incremental: a file whose size and mtime match the catalog's record keeps its
//! analysis. Renditions are made on first request (see `media`).
//!
//! Tags are outside input: every text taken from a file (tags, and the file and folder
//! names used when tags are missing) is cleaned by [`clean_text`] — control and
//! bidirectional-override characters removed, whitespace runs collapsed, length capped
//! — so a crafted file cannot put megabytes, terminal escapes or reversed text into
//! every listener's page and every log line.
//!
//! Song ids are stable: `imp-` + a 64-bit FNV-1a hash of the path relative to the
//! import root, so the same file keeps its id (and its listeners' history) across
//! re-imports.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::UNIX_EPOCH;

use super::{analysis, Features, Song, SongId, SongSource};
use crate::audio;

/// File extensions tried as audio; anything else is reported as "not audio".
pub const AUDIO_EXTENSIONS: [&str; 9] = [
    "mp3", "flac", "ogg", "oga", "wav", "m4a", "aac", "mp4", "aiff",
];

/// Longest title, artist or album kept, in characters (longer ones are cut): no real
/// one comes close, and every page and log line that shows it pays for it.
pub const MAX_TAG_CHARS: usize = 200;
/// Longest genre kept: genres are short words, and each is a filter in the app.
pub const MAX_GENRE_CHARS: usize = 64;

/// Popularity given to imported songs until real plays say otherwise.
const IMPORTED_POPULARITY: f32 = 0.5;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{path} is not a readable folder: {reason}")]
    NotAFolder { path: String, reason: String },
}

/// A file that was not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub path: PathBuf,
    pub reason: String,
}

/// What an import did.
#[derive(Debug, Default)]
pub struct ImportReport {
    /// The import root's songs after this run (new, re-analysed and unchanged).
    pub songs: Vec<Song>,
    pub analysed: usize,
    pub unchanged: usize,
    pub skipped: Vec<Skipped>,
}

/// Events for a progress display.
pub trait ImportProgress: Sync {
    fn start(&self, files: usize);
    fn file_done(&self, path: &Path);
}

/// Imports `root`; `previous` holds the catalog's songs so unchanged files are not
/// analysed again. Analysis runs on `workers` threads.
pub fn import_dir(
    root: &Path,
    previous: &[Song],
    workers: usize,
    progress: &dyn ImportProgress,
) -> Result<ImportReport, ImportError> {
    let root = root.canonicalize().map_err(|e| ImportError::NotAFolder {
        path: root.display().to_string(),
        reason: e.to_string(),
    })?;
    if !root.is_dir() {
        return Err(ImportError::NotAFolder {
            path: root.display().to_string(),
            reason: "not a directory".into(),
        });
    }
    let mut report = ImportReport::default();
    let mut audio = Vec::new();
    for entry in walkdir::WalkDir::new(&root).sort_by_file_name() {
        match entry {
            Ok(e) if e.file_type().is_file() => {
                if is_audio_name(e.path()) {
                    audio.push(e.into_path());
                } else {
                    report.skipped.push(Skipped {
                        path: e.into_path(),
                        reason: "not an audio file (by extension)".into(),
                    });
                }
            }
            Ok(_) => {}
            Err(e) => report.skipped.push(Skipped {
                path: e.path().map(Path::to_path_buf).unwrap_or_default(),
                reason: format!("unreadable: {e}"),
            }),
        }
    }
    progress.start(audio.len());

    let known: HashMap<&SongId, &Song> = previous.iter().map(|s| (&s.id, s)).collect();
    let results = Mutex::new(Vec::with_capacity(audio.len()));
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..workers.max(1) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(path) = audio.get(i) else { break };
                let outcome = import_file(&root, path, &known);
                progress.file_done(path);
                results
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push((i, outcome));
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_else(|p| p.into_inner());
    results.sort_by_key(|(i, _)| *i);
    for (i, outcome) in results {
        match outcome {
            FileOutcome::Unchanged(song) => {
                report.unchanged += 1;
                report.songs.push(song);
            }
            FileOutcome::Analysed(song) => {
                report.analysed += 1;
                report.songs.push(song);
            }
            FileOutcome::Skipped(reason) => report.skipped.push(Skipped {
                path: audio[i].clone(),
                reason,
            }),
        }
    }
    Ok(report)
}

enum FileOutcome {
    Unchanged(Song),
    Analysed(Song),
    Skipped(String),
}

fn is_audio_name(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| AUDIO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

fn import_file(root: &Path, path: &Path, known: &HashMap<&SongId, &Song>) -> FileOutcome {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) => return FileOutcome::Skipped(format!("unreadable: {e}")),
    };
    let size = meta.len();
    let mtime_ms = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let rel = path.strip_prefix(root).unwrap_or(path);
    let id = song_id_for(rel);
    if let Some(old) = known.get(&id) {
        if let SongSource::Imported {
            size: s,
            mtime_ms: m,
            path: p,
        } = &old.source
        {
            if *s == size && *m == mtime_ms && p == path {
                return FileOutcome::Unchanged((*old).clone());
            }
        }
    }
    // A panic inside a decoder must not abort the import: treat it as a corrupt file.
    let analysed = std::panic::catch_unwind(|| analysis::analyze_file(path));
    let analysis = match analysed {
        Ok(Ok(a)) => a,
        Ok(Err(e)) => return FileOutcome::Skipped(format!("cannot decode: {e}")),
        Err(_) => {
            return FileOutcome::Skipped("cannot decode: the decoder failed on this file".into())
        }
    };
    if analysis.duration_ms == 0 {
        return FileOutcome::Skipped("no audio in the file".into());
    }
    let tags = read_tags(path);
    FileOutcome::Analysed(Song {
        id,
        title: tags.title.unwrap_or_else(|| file_stem(path)),
        artist: tags.artist.unwrap_or_else(|| "Unknown artist".into()),
        album: tags.album.unwrap_or_else(|| {
            rel.parent()
                .and_then(|p| p.file_name())
                .and_then(|n| clean_text(&n.to_string_lossy(), MAX_TAG_CHARS))
                .unwrap_or_else(|| "Unknown album".into())
        }),
        genre: tags
            .genre
            .map(|g| normalize_genre(&g))
            .unwrap_or_else(|| "unknown".into()),
        duration_ms: analysis.duration_ms,
        year: tags.year,
        source: SongSource::Imported {
            path: path.to_path_buf(),
            size,
            mtime_ms,
        },
        features: Features::from_raw(analysis.features),
        popularity: IMPORTED_POPULARITY,
    })
}

/// `imp-` + FNV-1a-64 of the relative path: stable across runs, machines and Rust
/// versions (std's hasher is not).
pub fn song_id_for(rel: &Path) -> SongId {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in rel.to_string_lossy().as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    SongId::parse(&format!("imp-{h:016x}")).unwrap_or_else(|_| unreachable!("hex ids are valid"))
}

#[derive(Default)]
struct Tags {
    title: Option<String>,
    artist: Option<String>,
    album: Option<String>,
    genre: Option<String>,
    year: Option<u16>,
}

/// Tags are optional: a file without readable tags still imports, named by its path.
fn read_tags(path: &Path) -> Tags {
    let raw = audio::read_tags(path);
    let clean = |s: Option<String>, max: usize| clean_text(&s?, max);
    Tags {
        year: raw.date.as_deref().and_then(year_of),
        title: clean(raw.title, MAX_TAG_CHARS),
        artist: clean(raw.artist, MAX_TAG_CHARS),
        album: clean(raw.album, MAX_TAG_CHARS),
        genre: clean(raw.genre, MAX_GENRE_CHARS),
    }
}

/// The year of a tag's date (`2004`, `2004-05-01`, `2004/05`): its first four digits,
/// when they make a plausible year.
fn year_of(date: &str) -> Option<u16> {
    let digits = date.trim().get(..4)?;
    let year: u16 = digits.parse().ok()?;
    (1000..=2999).contains(&year).then_some(year)
}

fn file_stem(path: &Path) -> String {
    path.file_stem()
        .and_then(|s| clean_text(&s.to_string_lossy(), MAX_TAG_CHARS))
        .unwrap_or_else(|| "Untitled".into())
}

/// A text from a file made fit to show: control characters (terminal escapes, NULs)
/// and bidirectional overrides dropped, whitespace runs made one space, trimmed, at most
/// `max` characters. `None` when nothing is left.
pub fn clean_text(raw: &str, max: usize) -> Option<String> {
    let mut out = String::with_capacity(raw.len().min(max * 4));
    let mut chars = 0;
    let mut space = false;
    for c in raw.chars() {
        if c.is_whitespace() {
            space = !out.is_empty();
            continue;
        }
        if c.is_control() || is_bidi_control(c) || is_invisible(c) {
            continue;
        }
        if chars + usize::from(space) + 1 > max {
            break;
        }
        if space {
            out.push(' ');
            chars += 1;
            space = false;
        }
        out.push(c);
        chars += 1;
    }
    (!out.is_empty()).then_some(out)
}

/// Characters that reorder the text around them (the "Trojan Source" kind).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Zero-width characters that make two names look alike, and the BOM.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}')
}

fn normalize_genre(g: &str) -> String {
    // Lower-casing can lengthen a text; cut again.
    clean_text(&g.to_lowercase(), MAX_GENRE_CHARS).unwrap_or_else(|| "unknown".into())
}

/// Merges an import into the catalog: songs of this root are replaced by the
/// import's, everything else (the demo, other folders) is kept.
pub fn merge(previous: Vec<Song>, root: &Path, imported: Vec<Song>) -> Vec<Song> {
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let mut songs: Vec<Song> = previous
        .into_iter()
        .filter(
            |s| !matches!(&s.source, SongSource::Imported { path, .. } if path.starts_with(&root)),
        )
        .collect();
    songs.extend(imported);
    songs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_valid() {
        let a = song_id_for(Path::new("album/one.ogg"));
        assert_eq!(a, song_id_for(Path::new("album/one.ogg")));
        assert_ne!(a, song_id_for(Path::new("album/two.ogg")));
        assert!(a.as_str().starts_with("imp-"));
    }

    #[test]
    fn a_tag_date_gives_its_year_when_plausible() {
        assert_eq!(year_of("2004"), Some(2004));
        assert_eq!(year_of(" 1999-05-01"), Some(1999));
        assert_eq!(year_of("2004/05"), Some(2004));
        assert_eq!(year_of("04"), None);
        assert_eq!(year_of("abcd"), None);
        assert_eq!(year_of("0042"), None);
        assert_eq!(year_of("é200"), None);
    }

    #[test]
    fn tags_are_cleaned_and_capped() {
        assert_eq!(
            clean_text("  A\u{1b}[31m\ttitle \u{202E}evil\u{0}  ", 200).as_deref(),
            Some("A[31m title evil")
        );
        assert_eq!(clean_text("\u{7}\u{200B} \n", 200), None);
        let long = "x".repeat(10_000);
        assert_eq!(clean_text(&long, 200).map(|s| s.chars().count()), Some(200));
        assert_eq!(clean_text("ab cd", 3).as_deref(), Some("ab"));
        assert_eq!(normalize_genre("  ROCK\u{0}\n"), "rock");
    }

    #[test]
    fn audio_names() {
        assert!(is_audio_name(Path::new("x/a.OGG")));
        assert!(is_audio_name(Path::new("a.flac")));
        assert!(!is_audio_name(Path::new("cover.jpg")));
        assert!(!is_audio_name(Path::new("README")));
    }
}
