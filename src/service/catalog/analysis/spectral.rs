//! Short-time spectra of the mono signal: the spectral shape features (centroid,
//! rolloff, flatness) and an onset-strength envelope for [`super::tempo`].
//!
//! Frames are about 46 ms (a power of two at the file's rate) with a quarter-frame hop,
//! Hann-windowed. The onset envelope is the half-wave rectified increase of
//! log-compressed energy in log-spaced bands (spectral flux): compressing relative to the
//! song's mean band energy lets loud low events (kick, snare, bass) carry the beat rather
//! than faint hiss in otherwise empty high bands.

use rustfft::num_complex::Complex32;
use rustfft::FftPlanner;

/// Target frame length; the actual length is the largest power of two not above it.
const FRAME_SECONDS: f32 = 0.05;
/// Hop as a fraction of the frame: 4 gives ~11.6 ms at 44.1 kHz, fine enough for tempo.
const HOPS_PER_FRAME: usize = 4;
/// Share of spectral energy below the rolloff frequency.
const ROLLOFF_SHARE: f32 = 0.85;
/// Bands of the onset envelope, log-spaced between these edges (Hz).
const ONSET_BANDS: usize = 24;
const ONSET_LOW_HZ: f32 = 40.0;
const ONSET_HIGH_HZ: f32 = 16_000.0;
/// Compression reference as a share of the song's mean band energy (see module docs).
const ONSET_COMPRESSION_REF: f32 = 0.05;
/// Frames quieter than this (mean power per bin) are skipped by the spectral-shape means:
/// they are silence, whose "shape" is rounding noise.
const SILENT_FRAME_POWER: f32 = 1e-12;

/// What the spectra say about a song.
#[derive(Debug, Clone, Default)]
pub struct Spectral {
    pub centroid_hz: f32,
    pub rolloff_hz: f32,
    /// Wiener entropy (geometric over arithmetic mean of the power spectrum), 0..1.
    pub flatness: f32,
    /// Onset strength per hop.
    pub onset_envelope: Vec<f32>,
    /// Envelope samples per second.
    pub envelope_rate: f32,
}

/// Frame length for a sample rate (largest power of two within [`FRAME_SECONDS`]).
fn frame_len(sample_rate: u32) -> usize {
    let target = (sample_rate as f32 * FRAME_SECONDS).max(64.0) as usize;
    1usize << (usize::BITS - 1 - target.leading_zeros())
}

pub fn analyze(mono: &[f32], sample_rate: u32) -> Spectral {
    if sample_rate == 0 {
        return Spectral::default();
    }
    let n = frame_len(sample_rate);
    let hop = n / HOPS_PER_FRAME;
    let envelope_rate = sample_rate as f32 / hop as f32;
    if mono.len() < n {
        return Spectral {
            envelope_rate,
            ..Spectral::default()
        };
    }
    let bins = n / 2 + 1;
    let bin_hz = sample_rate as f32 / n as f32;
    let window: Vec<f32> = (0..n)
        .map(|i| 0.5 - 0.5 * (std::f32::consts::TAU * i as f32 / n as f32).cos())
        .collect();
    let band_of_bin = band_map(bins, bin_hz, sample_rate as f32 / 2.0);

    let fft = FftPlanner::<f32>::new().plan_fft_forward(n);
    let mut buf = vec![Complex32::new(0.0, 0.0); n];
    let mut scratch = vec![Complex32::new(0.0, 0.0); fft.get_inplace_scratch_len()];
    let mut power = vec![0.0f32; bins];
    let frames = (mono.len() - n) / hop + 1;
    let mut band_energy = vec![0.0f32; frames * ONSET_BANDS];
    let (mut centroid_sum, mut rolloff_sum, mut flat_sum, mut counted) =
        (0.0f64, 0.0f64, 0.0f64, 0usize);

    for f in 0..frames {
        let frame = &mono[f * hop..f * hop + n];
        for ((b, &x), &w) in buf.iter_mut().zip(frame).zip(&window) {
            *b = Complex32::new(x * w, 0.0);
        }
        fft.process_with_scratch(&mut buf, &mut scratch);
        let mut total = 0.0f32;
        for (p, c) in power.iter_mut().zip(&buf[..bins]) {
            *p = c.norm_sqr();
            total += *p;
        }
        let bands = &mut band_energy[f * ONSET_BANDS..(f + 1) * ONSET_BANDS];
        for (p, band) in power.iter().zip(&band_of_bin) {
            if let Some(b) = band {
                bands[*b] += p;
            }
        }
        if total / (bins as f32) < SILENT_FRAME_POWER {
            continue;
        }
        let mut weighted = 0.0f32;
        let mut log_sum = 0.0f32;
        for (k, p) in power.iter().enumerate() {
            weighted += k as f32 * bin_hz * p;
            log_sum += (p + 1e-20).ln();
        }
        centroid_sum += f64::from(weighted / total);
        let threshold = ROLLOFF_SHARE * total;
        let mut cumulative = 0.0f32;
        let mut rolloff_bin = bins - 1;
        for (k, p) in power.iter().enumerate() {
            cumulative += p;
            if cumulative >= threshold {
                rolloff_bin = k;
                break;
            }
        }
        rolloff_sum += f64::from(rolloff_bin as f32 * bin_hz);
        let geometric = (log_sum / bins as f32).exp();
        flat_sum += f64::from((geometric / (total / bins as f32)).clamp(0.0, 1.0));
        counted += 1;
    }

    let mean = |sum: f64| {
        if counted > 0 {
            (sum / counted as f64) as f32
        } else {
            0.0
        }
    };
    Spectral {
        centroid_hz: mean(centroid_sum),
        rolloff_hz: mean(rolloff_sum),
        flatness: mean(flat_sum),
        onset_envelope: onset_envelope(&band_energy, frames),
        envelope_rate,
    }
}

/// Which onset band each FFT bin falls in (None outside the band range).
fn band_map(bins: usize, bin_hz: f32, nyquist: f32) -> Vec<Option<usize>> {
    let high = ONSET_HIGH_HZ.min(nyquist);
    let ratio = (high / ONSET_LOW_HZ).max(1.0001).ln();
    (0..bins)
        .map(|k| {
            let hz = k as f32 * bin_hz;
            if hz < ONSET_LOW_HZ || hz >= high {
                return None;
            }
            let b = ((hz / ONSET_LOW_HZ).ln() / ratio * ONSET_BANDS as f32) as usize;
            Some(b.min(ONSET_BANDS - 1))
        })
        .collect()
}

/// Spectral flux of log-compressed band energies: sum over bands of the rectified
/// frame-to-frame increase of ln(1 + E / ref).
fn onset_envelope(band_energy: &[f32], frames: usize) -> Vec<f32> {
    if frames == 0 {
        return Vec::new();
    }
    let mean = band_energy.iter().map(|&e| f64::from(e)).sum::<f64>() / band_energy.len() as f64;
    let reference = (mean as f32 * ONSET_COMPRESSION_REF).max(1e-12);
    let compressed: Vec<f32> = band_energy
        .iter()
        .map(|&e| (e / reference).ln_1p())
        .collect();
    let mut env = vec![0.0f32; frames];
    for f in 1..frames {
        let now = &compressed[f * ONSET_BANDS..(f + 1) * ONSET_BANDS];
        let before = &compressed[(f - 1) * ONSET_BANDS..f * ONSET_BANDS];
        env[f] = now.iter().zip(before).map(|(a, b)| (a - b).max(0.0)).sum();
    }
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_lengths_are_powers_of_two_near_50ms() {
        assert_eq!(frame_len(44_100), 2048);
        assert_eq!(frame_len(48_000), 2048);
        assert_eq!(frame_len(22_050), 1024);
        assert_eq!(frame_len(8_000), 256);
    }

    #[test]
    fn short_input_is_empty_not_a_panic() {
        let s = analyze(&[0.1; 100], 44_100);
        assert!(s.onset_envelope.is_empty());
        assert_eq!(s.centroid_hz, 0.0);
    }
}
