//! Decoding any supported audio file to PCM, and encoding PCM to Ogg Vorbis.
//!
//! This is the one place that touches codecs: the demo generator encodes its masters
//! here, the import and the analysis decode here, and the streaming side transcodes
//! renditions here. Decoding uses symphonia (MP3, FLAC, Ogg Vorbis, WAV, AAC/M4A, …);
//! encoding uses vorbis_rs (a bundled libvorbis). Tags (ID3, Vorbis comments, MP4,
//! RIFF INFO) are read here too, by the same probe.
//!
//! Decoding treats every file as untrusted input: a file that is not audio, is cut
//! short, or is corrupt is an error naming the file — never a panic (a panic inside a
//! decoder is caught and reported as an error too). Corrupt packets in the middle of a
//! stream are skipped up to a bound, and what decoded is kept only when it is
//! substantial and, where the container declares its length, nearly complete.
//!
//! Encoding writes to a temporary file next to the target and renames it into place,
//! so a reader (the streaming handler) never sees half a file.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::num::{NonZeroU32, NonZeroU8};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{DecoderOptions, CODEC_TYPE_NULL};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::{MetadataOptions, MetadataRevision, StandardTagKey};
use symphonia::core::probe::Hint;
use vorbis_rs::{VorbisBitrateManagementStrategy, VorbisEncoderBuilder};

/// Longest audio [`decode_file`] accepts. Decoded PCM is held in memory as f32 (a 30-min
/// stereo 48 kHz file is ~690 MB); longer files are refused rather than risk the node.
pub const MAX_DECODE_SECONDS: f64 = 30.0 * 60.0;

/// Less decoded audio than this is "not a song": a file that yields only a sliver of
/// sound before failing (a truncated header, a garbage file that happens to probe) is an error.
pub const MIN_DECODED_SECONDS: f64 = 1.0;

/// When the container declares its length (WAV, FLAC, most MP4), decoding less than this
/// fraction of it means the file was cut short: an error, so an import reports it.
pub const MIN_DECLARED_FRACTION: f64 = 0.9;

/// Corrupt packets skipped before giving up on a file: a few bad packets in a long file
/// are survivable; many mean the file is garbage that merely looked like audio.
pub const MAX_BAD_PACKETS: usize = 64;

/// Frames handed to libvorbis per call: the vorbis_rs docs advise blocks of at most a few
/// thousand samples (huge blocks slow libvorbis down by orders of magnitude).
const ENCODE_BLOCK_FRAMES: usize = 4096;

/// The Ogg stream serial of our encodes: fixed so the same PCM encodes to the same bytes.
const OGG_STREAM_SERIAL: i32 = 0x5370_6f6f; // "Spoo"

/// Decoded audio: interleaved f32 samples in [-1, 1].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pcm {
    pub sample_rate: u32,
    pub channels: u16,
    /// Interleaved: frame `i`, channel `c` is at `i * channels + c`.
    pub samples: Vec<f32>,
}

impl Pcm {
    /// Number of frames (samples per channel).
    pub fn frames(&self) -> usize {
        self.samples.len() / usize::from(self.channels.max(1))
    }

    /// Duration in milliseconds (0 for an empty or malformed buffer).
    pub fn duration_ms(&self) -> u64 {
        if self.sample_rate == 0 {
            return 0;
        }
        (self.frames() as u64 * 1000) / u64::from(self.sample_rate)
    }
}

/// A rendition's quality: the nominal Vorbis bitrate it is encoded at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Quality {
    Low,
    Normal,
    High,
}

impl Quality {
    pub const ALL: [Quality; 3] = [Quality::Low, Quality::Normal, Quality::High];

    /// Parses `low`, `normal` or `high` (case-insensitive).
    pub fn parse(s: &str) -> Option<Quality> {
        match s.to_ascii_lowercase().as_str() {
            "low" => Some(Quality::Low),
            "normal" => Some(Quality::Normal),
            "high" => Some(Quality::High),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Quality::Low => "low",
            Quality::Normal => "normal",
            Quality::High => "high",
        }
    }

    /// Nominal (VBR target) bitrate in kbit/s for stereo; mono gets half of it.
    pub fn nominal_kbps(self) -> u32 {
        match self {
            Quality::Low => 64,
            Quality::Normal => 128,
            Quality::High => 192,
        }
    }
}

impl std::fmt::Display for Quality {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a supported audio file: {reason}")]
    Unsupported { path: PathBuf, reason: String },
    #[error("{path}: corrupt audio: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    #[error("{path}: truncated: decoded {decoded_ms} ms of {declared_ms} ms")]
    Truncated {
        path: PathBuf,
        decoded_ms: u64,
        declared_ms: u64,
    },
    #[error("{path}: longer than the {max_s} s limit")]
    TooLong { path: PathBuf, max_s: u64 },
    #[error("{path}: cannot encode: {reason}")]
    Encode { path: PathBuf, reason: String },
}

/// A file's tags as written, uncleaned (the caller cleans what it shows).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileTags {
    pub title: Option<String>,
    pub artist: Option<String>,
    pub album: Option<String>,
    pub genre: Option<String>,
    /// A release or recording date as written (`2004`, `2004-05-01`, …).
    pub date: Option<String>,
}

impl FileTags {
    /// Fills what is still missing from one revision of a file's metadata.
    fn fill_from(&mut self, revision: &MetadataRevision) {
        for tag in revision.tags() {
            let slot = match tag.std_key {
                Some(StandardTagKey::TrackTitle) => &mut self.title,
                Some(StandardTagKey::Artist) => &mut self.artist,
                Some(StandardTagKey::AlbumArtist) if self.artist.is_none() => &mut self.artist,
                Some(StandardTagKey::Album) => &mut self.album,
                Some(StandardTagKey::Genre) => &mut self.genre,
                Some(
                    StandardTagKey::Date
                    | StandardTagKey::ReleaseDate
                    | StandardTagKey::OriginalDate,
                ) => &mut self.date,
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(tag.value.to_string());
            }
        }
    }
}

/// The tags of an audio file: the container's own (Vorbis comments, FLAC, MP4, RIFF
/// INFO) first, then any found before it (an MP3's ID3v2). A file that cannot be probed
/// has none; a panic inside a reader counts as none too.
pub fn read_tags(path: &Path) -> FileTags {
    catch_unwind(AssertUnwindSafe(|| read_tags_inner(path))).unwrap_or_default()
}

fn read_tags_inner(path: &Path) -> FileTags {
    let mut tags = FileTags::default();
    let Ok(file) = File::open(path) else {
        return tags;
    };
    let mss = MediaSourceStream::new(Box::new(file), Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }
    let Ok(mut probed) = symphonia::default::get_probe().format(
        &hint,
        mss,
        &FormatOptions::default(),
        &MetadataOptions::default(),
    ) else {
        return tags;
    };
    if let Some(revision) = probed.format.metadata().current() {
        tags.fill_from(revision);
    }
    if let Some(revision) = probed.metadata.get().as_ref().and_then(|m| m.current()) {
        tags.fill_from(revision);
    }
    tags
}

/// Decodes the first audio track of any symphonia-supported file to interleaved f32 PCM.
/// Fails on non-audio, corrupt or truncated files and on files longer than
/// [`MAX_DECODE_SECONDS`].
pub fn decode_file(path: &Path) -> Result<Pcm, CodecError> {
    let (pcm, _) = guarded_decode(path, Limit::Refuse(MAX_DECODE_SECONDS))?;
    Ok(pcm)
}

/// Decodes at most the first `max_seconds` of a file (the rest is not read), returning the
/// PCM and the file's full duration in ms (declared by the container when it says, else
/// what was decoded). For analysis, which needs a bounded prefix of long files.
pub fn decode_file_prefix(path: &Path, max_seconds: f64) -> Result<(Pcm, u64), CodecError> {
    guarded_decode(path, Limit::Stop(max_seconds))
}

/// What to do when a file is longer than a limit.
#[derive(Debug, Clone, Copy)]
enum Limit {
    Refuse(f64),
    Stop(f64),
}

/// Runs the decoder with panics caught: a decoder bug on a hostile file is an error
/// for that file, not a crash of the node.
fn guarded_decode(path: &Path, limit: Limit) -> Result<(Pcm, u64), CodecError> {
    match catch_unwind(AssertUnwindSafe(|| decode_inner(path, limit))) {
        Ok(result) => result,
        Err(_) => Err(CodecError::Corrupt {
            path: path.to_owned(),
            reason: "the decoder panicked".into(),
        }),
    }
}

fn decode_inner(path: &Path, limit: Limit) -> Result<(Pcm, u64), CodecError> {
    let corrupt = |reason: String| CodecError::Corrupt {
        path: path.to_owned(),
        reason,
    };
    let file = File::open(path).map_err(|source| CodecError::Io {
        path: path.to_owned(),
        source,
    })?;
    let mss = MediaSourceStream::new(Box::new(file), Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }
    let probed = symphonia::default::get_probe()
        .format(
            &hint,
            mss,
            &FormatOptions::default(),
            &MetadataOptions::default(),
        )
        .map_err(|e| CodecError::Unsupported {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
    let mut format = probed.format;
    let track = format
        .tracks()
        .iter()
        .find(|t| t.codec_params.codec != CODEC_TYPE_NULL && t.codec_params.sample_rate.is_some())
        .ok_or_else(|| CodecError::Unsupported {
            path: path.to_owned(),
            reason: "no audio track".into(),
        })?;
    let track_id = track.id;
    let params = track.codec_params.clone();
    let mut decoder = symphonia::default::get_codecs()
        .make(&params, &DecoderOptions::default())
        .map_err(|e| CodecError::Unsupported {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;

    let mut sample_rate = params.sample_rate.unwrap_or(0);
    let mut channels = params.channels.map(|c| c.count() as u16).unwrap_or(0);
    let declared_frames = params.n_frames;
    let mut samples: Vec<f32> = Vec::new();
    let mut bad_packets = 0usize;
    let mut buf: Option<SampleBuffer<f32>> = None;
    let mut buf_frames = 0u64;
    let mut stopped_at_limit = false;

    loop {
        let packet = match format.next_packet() {
            Ok(p) => p,
            // End of stream (or a cut-short file: judged by length below).
            Err(SymError::IoError(_)) => break,
            Err(SymError::ResetRequired) => break,
            Err(SymError::DecodeError(e)) => {
                bad_packets += 1;
                if bad_packets > MAX_BAD_PACKETS {
                    return Err(corrupt(format!("too many corrupt packets ({e})")));
                }
                continue;
            }
            Err(e) => return Err(corrupt(e.to_string())),
        };
        if packet.track_id() != track_id {
            continue;
        }
        let decoded = match decoder.decode(&packet) {
            Ok(d) => d,
            Err(SymError::DecodeError(e)) => {
                bad_packets += 1;
                if bad_packets > MAX_BAD_PACKETS {
                    return Err(corrupt(format!("too many corrupt packets ({e})")));
                }
                continue;
            }
            Err(SymError::IoError(_)) => break,
            Err(e) => return Err(corrupt(e.to_string())),
        };
        let spec = *decoded.spec();
        if sample_rate == 0 {
            sample_rate = spec.rate;
        }
        if channels == 0 {
            channels = spec.channels.count() as u16;
        }
        if spec.rate != sample_rate || spec.channels.count() as u16 != channels {
            return Err(corrupt("the stream changes format midway".into()));
        }
        let capacity = decoded.capacity() as u64;
        if capacity > buf_frames || buf.is_none() {
            buf = Some(SampleBuffer::<f32>::new(capacity, spec));
            buf_frames = capacity;
        }
        let Some(sb) = buf.as_mut() else { continue };
        sb.copy_interleaved_ref(decoded);
        samples.extend_from_slice(sb.samples());

        let seconds = samples.len() as f64 / f64::from(channels.max(1)) / f64::from(sample_rate);
        match limit {
            Limit::Refuse(max) if seconds > max => {
                return Err(CodecError::TooLong {
                    path: path.to_owned(),
                    max_s: max as u64,
                })
            }
            Limit::Stop(max) if seconds >= max => {
                stopped_at_limit = true;
                break;
            }
            _ => {}
        }
    }

    if sample_rate == 0 || channels == 0 {
        return Err(corrupt("no decodable audio".into()));
    }
    let pcm = Pcm {
        sample_rate,
        channels,
        samples,
    };
    let decoded_frames = pcm.frames() as u64;
    let to_ms = |frames: u64| frames * 1000 / u64::from(sample_rate);
    if (decoded_frames as f64) < MIN_DECODED_SECONDS * f64::from(sample_rate) {
        return Err(CodecError::Truncated {
            path: path.to_owned(),
            decoded_ms: to_ms(decoded_frames),
            declared_ms: to_ms(declared_frames.unwrap_or(0)),
        });
    }
    if let Some(declared) = declared_frames {
        if !stopped_at_limit && (decoded_frames as f64) < MIN_DECLARED_FRACTION * declared as f64 {
            return Err(CodecError::Truncated {
                path: path.to_owned(),
                decoded_ms: to_ms(decoded_frames),
                declared_ms: to_ms(declared),
            });
        }
    }
    let total_ms = to_ms(declared_frames.unwrap_or(0).max(decoded_frames));
    Ok((pcm, total_ms))
}

/// Encodes PCM to Ogg Vorbis at the quality's nominal bitrate, atomically: the bytes go
/// to a temporary file in the target's directory which is then renamed over `out`.
pub fn encode_vorbis(pcm: &Pcm, quality: Quality, out: &Path) -> Result<(), CodecError> {
    let encode_err = |reason: String| CodecError::Encode {
        path: out.to_owned(),
        reason,
    };
    let io_err = |source: std::io::Error| CodecError::Io {
        path: out.to_owned(),
        source,
    };
    let rate =
        NonZeroU32::new(pcm.sample_rate).ok_or_else(|| encode_err("sample rate 0".into()))?;
    let channels = u8::try_from(pcm.channels)
        .ok()
        .and_then(NonZeroU8::new)
        .ok_or_else(|| encode_err(format!("unsupported channel count {}", pcm.channels)))?;
    let ch = usize::from(channels.get());
    let per_channel = quality.nominal_kbps() * 1000 / 2;
    let target = NonZeroU32::new(per_channel * u32::from(channels.get()).min(2))
        .ok_or_else(|| encode_err("bitrate 0".into()))?;

    let dir = out.parent().unwrap_or_else(|| Path::new("."));
    let file_name = out
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| encode_err("no file name".into()))?;
    let tmp = dir.join(format!(".{file_name}.{}.tmp", std::process::id()));
    let result = (|| {
        let file = File::create(&tmp).map_err(io_err)?;
        let mut encoder = VorbisEncoderBuilder::new_with_serial(
            rate,
            channels,
            BufWriter::new(file),
            OGG_STREAM_SERIAL,
        )
        .bitrate_management_strategy(VorbisBitrateManagementStrategy::Vbr {
            target_bitrate: target,
        })
        .build()
        .map_err(|e| encode_err(e.to_string()))?;
        let mut planar: Vec<Vec<f32>> = vec![Vec::with_capacity(ENCODE_BLOCK_FRAMES); ch];
        for block in pcm.samples.chunks(ENCODE_BLOCK_FRAMES * ch) {
            for p in planar.iter_mut() {
                p.clear();
            }
            for frame in block.chunks_exact(ch) {
                for (p, s) in planar.iter_mut().zip(frame) {
                    p.push(*s);
                }
            }
            encoder
                .encode_audio_block(&planar)
                .map_err(|e| encode_err(e.to_string()))?;
        }
        let mut writer = encoder.finish().map_err(|e| encode_err(e.to_string()))?;
        writer.flush().map_err(io_err)?;
        let file = writer.into_inner().map_err(|e| io_err(e.into_error()))?;
        file.sync_all().map_err(io_err)?;
        std::fs::rename(&tmp, out).map_err(io_err)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(seconds: f32, channels: u16) -> Pcm {
        let sr = 44_100;
        let n = (seconds * sr as f32) as usize;
        let mut samples = Vec::with_capacity(n * channels as usize);
        for i in 0..n {
            let v = 0.3 * (i as f32 * 440.0 * std::f32::consts::TAU / sr as f32).sin();
            for _ in 0..channels {
                samples.push(v);
            }
        }
        Pcm {
            sample_rate: sr,
            channels,
            samples,
        }
    }

    #[test]
    fn quality_parses_and_names() {
        for q in Quality::ALL {
            assert_eq!(Quality::parse(q.as_str()), Some(q));
        }
        assert_eq!(Quality::parse("HIGH"), Some(Quality::High));
        assert_eq!(Quality::parse("best"), None);
        assert!(Quality::Low.nominal_kbps() < Quality::Normal.nominal_kbps());
        assert!(Quality::Normal.nominal_kbps() < Quality::High.nominal_kbps());
    }

    #[test]
    fn vorbis_round_trip_keeps_rate_channels_and_length() {
        let dir = tempfile::tempdir().unwrap();
        for channels in [1u16, 2] {
            let pcm = tone(3.0, channels);
            let out = dir.path().join(format!("t{channels}.ogg"));
            encode_vorbis(&pcm, Quality::Normal, &out).unwrap();
            let back = decode_file(&out).unwrap();
            assert_eq!(back.sample_rate, 44_100);
            assert_eq!(back.channels, channels);
            let diff = back.frames() as i64 - pcm.frames() as i64;
            assert!(diff.abs() < 2048, "length changed by {diff} frames");
            // No temp file left behind.
            let leftovers: Vec<_> = std::fs::read_dir(dir.path())
                .unwrap()
                .filter_map(|e| e.ok())
                .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
                .collect();
            assert!(leftovers.is_empty());
        }
    }

    #[test]
    fn lower_quality_is_smaller() {
        let dir = tempfile::tempdir().unwrap();
        // Noise needs bits; a pure tone would fit any bitrate.
        let mut pcm = tone(4.0, 2);
        let mut x = 1u32;
        for s in pcm.samples.iter_mut() {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            *s += (x as f32 / u32::MAX as f32 - 0.5) * 0.4;
        }
        let mut sizes = Vec::new();
        for q in Quality::ALL {
            let out = dir.path().join(format!("{q}.ogg"));
            encode_vorbis(&pcm, q, &out).unwrap();
            sizes.push(std::fs::metadata(&out).unwrap().len());
        }
        assert!(sizes[0] <= sizes[1] && sizes[1] <= sizes[2], "{sizes:?}");
    }

    #[test]
    fn garbage_empty_and_missing_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let garbage = dir.path().join("garbage.mp3");
        let bytes: Vec<u8> = (0..50_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        std::fs::write(&garbage, bytes).unwrap();
        assert!(decode_file(&garbage).is_err());
        let empty = dir.path().join("empty.ogg");
        std::fs::write(&empty, b"").unwrap();
        assert!(decode_file(&empty).is_err());
        assert!(matches!(
            decode_file(&dir.path().join("missing.flac")),
            Err(CodecError::Io { .. })
        ));
    }
}
