//! Audio files and their renditions on disk; HTTP Range streaming of them.
//!
//! Every song streams in three renditions (low / normal / high Ogg Vorbis). Only one
//! is made up front (the demo generator's master, or nothing for imported songs); the
//! others are transcoded on first request and cached under
//! `data_dir/media/<song>/<quality>.ogg`, as Navidrome does, so a first start stays
//! fast. Concurrent requests for a rendition being made wait for that one transcode
//! (never start a second, never fail because of it). Files are written atomically by
//! the codec, so a reader never sees half a rendition.

pub mod cover;
pub mod range;

pub use crate::audio::Quality;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tokio::sync::Semaphore;

use crate::catalog::{Song, SongSource};

/// At most this many transcodes run at once: each uses a whole core, and more would
/// only slow the streams already playing. Further requests queue for a permit.
const MAX_CONCURRENT_TRANSCODES: usize = 2;

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("no source audio for song {song}: {path} is missing")]
    SourceMissing { song: String, path: String },
    #[error("transcoding {song} to {quality}: {reason}")]
    Transcode {
        song: String,
        quality: &'static str,
        reason: String,
    },
}

/// One lock per rendition being made, so each is transcoded once.
type InFlight = Arc<Mutex<HashMap<(String, Quality), Arc<tokio::sync::Mutex<()>>>>>;

/// The renditions on disk for one node's data directory.
#[derive(Clone)]
pub struct Media {
    data_dir: PathBuf,
    in_flight: InFlight,
    transcodes: Arc<Semaphore>,
    /// Cover art drawn as PNG for apps (see [`cover`]).
    pub covers: cover::Covers,
}

impl Media {
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            in_flight: Arc::default(),
            transcodes: Arc::new(Semaphore::new(MAX_CONCURRENT_TRANSCODES)),
            covers: cover::Covers::default(),
        }
    }

    /// Where a rendition lives (whether or not it exists yet).
    pub fn rendition_path(&self, song: &Song, quality: Quality) -> PathBuf {
        self.data_dir
            .join("media")
            .join(song.id.as_str())
            .join(format!("{}.ogg", quality.as_str()))
    }

    /// The file the renditions are made from.
    pub fn source_path(&self, song: &Song) -> PathBuf {
        match &song.source {
            SongSource::Demo { master, .. } => self.data_dir.join(master),
            SongSource::Imported { path, .. } => path.clone(),
        }
    }

    /// Returns the path of the rendition, transcoding it first if it does not exist.
    #[tracing::instrument(skip_all, fields(song = %song.id, quality = quality.as_str()))]
    pub async fn rendition(&self, song: &Song, quality: Quality) -> Result<PathBuf, MediaError> {
        let path = self.rendition_path(song, quality);
        if path.exists() {
            return Ok(path);
        }
        let key = (song.id.as_str().to_owned(), quality);
        let lock = {
            let mut map = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
            map.entry(key.clone()).or_default().clone()
        };
        let _guard = lock.lock().await;
        if !path.exists() {
            self.transcode(song, quality, &path).await?;
        }
        self.in_flight
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&key);
        Ok(path)
    }

    async fn transcode(&self, song: &Song, quality: Quality, out: &Path) -> Result<(), MediaError> {
        let source = self.source_path(song);
        if !source.exists() {
            return Err(MediaError::SourceMissing {
                song: song.id.to_string(),
                path: source.display().to_string(),
            });
        }
        let fail = |reason: String| MediaError::Transcode {
            song: song.id.to_string(),
            quality: quality.as_str(),
            reason,
        };
        let _permit = self
            .transcodes
            .acquire()
            .await
            .map_err(|e| fail(e.to_string()))?;
        let out = out.to_path_buf();
        let started = std::time::Instant::now();
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            let _enter = span.enter();
            if let Some(dir) = out.parent() {
                std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
            }
            let pcm = crate::audio::decode_file(&source).map_err(|e| e.to_string())?;
            crate::audio::encode_vorbis(&pcm, quality, &out).map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| fail(e.to_string()))?
        .map_err(fail)?;
        tracing::info!(
            ms = started.elapsed().as_millis() as u64,
            "rendition transcoded"
        );
        Ok(())
    }
}
