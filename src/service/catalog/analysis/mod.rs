//! Audio analysis: decoded audio in, a raw feature vector out.
//!
//! This is our replacement for Spotify's audio-features API (closed to new apps since
//! 2024-11): every feature is measured from the audio itself, the same way for demo
//! songs and imported ones. The pipeline:
//!
//! 1. downmix to mono (loudness alone is measured on the original channels, as EBU R128
//!    defines it);
//! 2. a short-time Fourier transform gives the spectral shape and an onset-strength
//!    envelope ([`spectral`]);
//! 3. the envelope gives the tempo and the onset rate ([`tempo`]).
//!
//! Every feature is finite: where a measure is undefined (silence, a too-short file) the
//! documented fallback in [`fallback`] is used instead of NaN or infinity, because a
//! non-finite feature would poison the catalog scaling and the forests.

pub mod spectral;
pub mod tempo;

use std::path::Path;

use super::features::{FeatureVector, FEATURE_COUNT};
use crate::audio::{decode_file_prefix, CodecError, Pcm};

/// How much of a file the analysis decodes: features are stable long before ten minutes,
/// and a bound keeps a two-hour DJ mix from costing gigabytes of PCM during an import.
pub const ANALYSIS_MAX_SECONDS: f64 = 600.0;

/// Fallback values for features that a signal does not define.
pub mod fallback {
    /// Tempo of a signal with no periodicity (or too short to tell): a mid-range BPM,
    /// so such songs scale to the middle of the catalog rather than an extreme.
    pub const TEMPO_BPM: f32 = 120.0;
    /// Loudness of silence: the EBU R128 absolute gate (-70 LUFS).
    pub const LOUDNESS_LUFS: f32 = -70.0;
    /// Spectral features, zero-crossing rate, onset rate and dynamic range of silence.
    pub const ZERO: f32 = 0.0;
}

/// What the analysis measured about one song.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Analysis {
    /// Raw features in the order of [`super::features::FEATURE_NAMES`].
    pub features: FeatureVector,
    pub duration_ms: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    #[error(transparent)]
    Decode(#[from] CodecError),
}

/// Decodes (a bounded prefix of) a file and analyses it; `duration_ms` is the whole file's.
pub fn analyze_file(path: &Path) -> Result<Analysis, AnalysisError> {
    let (pcm, total_ms) = decode_file_prefix(path, ANALYSIS_MAX_SECONDS)?;
    let mut analysis = analyze_pcm(&pcm);
    analysis.duration_ms = total_ms.max(analysis.duration_ms);
    Ok(analysis)
}

/// Measures the raw features of decoded audio. Never fails and never returns a
/// non-finite value (see [`fallback`]).
pub fn analyze_pcm(pcm: &Pcm) -> Analysis {
    let duration_ms = pcm.duration_ms();
    let mono = downmix(pcm);
    let sr = pcm.sample_rate;
    let spec = spectral::analyze(&mono, sr);
    let tempo = tempo::estimate_bpm(&spec.onset_envelope, spec.envelope_rate);
    let seconds = duration_ms as f32 / 1000.0;
    let onset_rate = if seconds > 0.0 {
        tempo::count_onsets(&spec.onset_envelope, spec.envelope_rate) as f32 / seconds
    } else {
        fallback::ZERO
    };
    let raw: [f32; FEATURE_COUNT] = [
        finite_or(tempo.unwrap_or(fallback::TEMPO_BPM), fallback::TEMPO_BPM),
        finite_or(loudness_lufs(pcm), fallback::LOUDNESS_LUFS).max(fallback::LOUDNESS_LUFS),
        finite_or(spec.centroid_hz, fallback::ZERO),
        finite_or(spec.rolloff_hz, fallback::ZERO),
        finite_or(spec.flatness, fallback::ZERO),
        finite_or(zero_crossing_rate(&mono), fallback::ZERO),
        finite_or(onset_rate, fallback::ZERO),
        finite_or(dynamic_range_db(&mono, sr), fallback::ZERO),
    ];
    Analysis {
        features: raw,
        duration_ms,
    }
}

fn finite_or(v: f32, fallback: f32) -> f32 {
    if v.is_finite() {
        v
    } else {
        fallback
    }
}

/// Mean of the channels, frame by frame.
pub fn downmix(pcm: &Pcm) -> Vec<f32> {
    let ch = usize::from(pcm.channels.max(1));
    if ch == 1 {
        return pcm.samples.clone();
    }
    let scale = 1.0 / ch as f32;
    pcm.samples
        .chunks_exact(ch)
        .map(|f| f.iter().sum::<f32>() * scale)
        .collect()
}

/// Integrated loudness (EBU R128 / ITU-R BS.1770) in LUFS over the original channels.
/// A mono file counts as dual mono, so it measures the same as its stereo copy.
/// Returns -inf for silence (mapped to the fallback by the caller).
fn loudness_lufs(pcm: &Pcm) -> f32 {
    /// Frames fed to the meter per call: bounds its scratch memory.
    const CHUNK_FRAMES: usize = 1 << 16;
    let ch = u32::from(pcm.channels);
    let Ok(mut meter) = ebur128::EbuR128::new(ch, pcm.sample_rate, ebur128::Mode::I) else {
        return f32::NEG_INFINITY;
    };
    if ch == 1 && meter.set_channel(0, ebur128::Channel::DualMono).is_err() {
        return f32::NEG_INFINITY;
    }
    for chunk in pcm.samples.chunks(CHUNK_FRAMES * ch as usize) {
        if meter.add_frames_f32(chunk).is_err() {
            return f32::NEG_INFINITY;
        }
    }
    meter
        .loudness_global()
        .map(|l| l as f32)
        .unwrap_or(f32::NEG_INFINITY)
}

/// Fraction of adjacent sample pairs whose sign differs (0..1), on the mono downmix.
fn zero_crossing_rate(mono: &[f32]) -> f32 {
    if mono.len() < 2 {
        return fallback::ZERO;
    }
    let crossings = mono
        .windows(2)
        .filter(|w| (w[0] >= 0.0) != (w[1] >= 0.0))
        .count();
    crossings as f32 / (mono.len() - 1) as f32
}

/// Dynamic range in dB: the spread between loud (95th percentile) and quiet (10th
/// percentile) passages, measured as RMS over 400 ms windows (50 % overlap). Windows
/// below -70 dBFS (silence between tracks, fades) are ignored, as in EBU R128 gating.
fn dynamic_range_db(mono: &[f32], sample_rate: u32) -> f32 {
    const WINDOW_SECONDS: f32 = 0.4;
    const SILENCE_DBFS: f32 = -70.0;
    let window = ((sample_rate as f32 * WINDOW_SECONDS) as usize).max(1);
    let hop = (window / 2).max(1);
    let mut levels: Vec<f32> = Vec::new();
    let mut start = 0;
    while start + window <= mono.len() {
        let block = &mono[start..start + window];
        let ms = block.iter().map(|s| s * s).sum::<f32>() / window as f32;
        let db = 10.0 * ms.max(1e-20).log10();
        if db > SILENCE_DBFS {
            levels.push(db);
        }
        start += hop;
    }
    if levels.len() < 2 {
        return fallback::ZERO;
    }
    levels.sort_by(f32::total_cmp);
    percentile(&levels, 0.95) - percentile(&levels, 0.10)
}

/// The `q` quantile of sorted values (nearest rank).
fn percentile(sorted: &[f32], q: f32) -> f32 {
    let idx = ((sorted.len() - 1) as f32 * q).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pcm(sr: u32, channels: u16, mut f: impl FnMut(f32) -> f32, seconds: f32) -> Pcm {
        let n = (sr as f32 * seconds) as usize;
        let mut samples = Vec::with_capacity(n * channels as usize);
        for i in 0..n {
            let v = f(i as f32 / sr as f32);
            samples.extend(std::iter::repeat_n(v, channels as usize));
        }
        Pcm {
            sample_rate: sr,
            channels,
            samples,
        }
    }

    #[test]
    fn silence_and_empty_give_finite_fallbacks() {
        for p in [
            pcm(44_100, 2, |_| 0.0, 3.0),
            Pcm {
                sample_rate: 44_100,
                channels: 2,
                samples: vec![],
            },
            pcm(8_000, 1, |_| 0.0, 0.01),
        ] {
            let a = analyze_pcm(&p);
            assert!(a.features.iter().all(|v| v.is_finite()), "{:?}", a.features);
            assert_eq!(a.features[1], fallback::LOUDNESS_LUFS);
        }
    }

    #[test]
    fn louder_is_louder_and_mono_matches_stereo() {
        let tone = |amp: f32| move |t: f32| amp * (t * 1000.0 * std::f32::consts::TAU).sin();
        let quiet = analyze_pcm(&pcm(44_100, 2, tone(0.05), 3.0)).features[1];
        let loud = analyze_pcm(&pcm(44_100, 2, tone(0.5), 3.0)).features[1];
        assert!((loud - quiet - 20.0).abs() < 0.5, "{quiet} {loud}");
        let mono = analyze_pcm(&pcm(44_100, 1, tone(0.5), 3.0)).features[1];
        assert!((mono - loud).abs() < 0.2, "{mono} vs {loud}");
    }

    #[test]
    fn spectral_shape_tracks_pitch_and_noise() {
        let low = analyze_pcm(&pcm(
            44_100,
            1,
            |t| 0.3 * (t * 200.0 * std::f32::consts::TAU).sin(),
            2.0,
        ));
        let high = analyze_pcm(&pcm(
            44_100,
            1,
            |t| 0.3 * (t * 4000.0 * std::f32::consts::TAU).sin(),
            2.0,
        ));
        assert!(low.features[2] < high.features[2]);
        assert!(low.features[5] < high.features[5]);
        let mut x = 1u32;
        let noise = analyze_pcm(&pcm(
            44_100,
            1,
            move |_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                (x as f32 / u32::MAX as f32 - 0.5) * 0.5
            },
            2.0,
        ));
        assert!(
            noise.features[4] > 10.0 * high.features[4],
            "{} {}",
            noise.features[4],
            high.features[4]
        );
    }

    #[test]
    fn click_track_tempo_is_found() {
        for bpm in [72.0f32, 97.0, 123.0, 150.0, 174.0] {
            let period = 60.0 / bpm;
            let click = move |t: f32| {
                let ph = t % period;
                (-ph * 60.0).exp() * (ph * 2000.0 * std::f32::consts::TAU).sin() * 0.5
            };
            let a = analyze_pcm(&pcm(44_100, 1, click, 20.0));
            let err = (a.features[0] - bpm).abs() / bpm;
            assert!(err < 0.02, "bpm {bpm}: measured {}", a.features[0]);
            let rate = a.features[6];
            assert!(
                (rate - bpm / 60.0).abs() < 0.3,
                "onset rate {rate} for {bpm}"
            );
        }
    }
}
