//! Tempo and onset rate from an onset-strength envelope.
//!
//! Tempo: the envelope (minus its local mean) is autocorrelated; every candidate beat
//! period L on a fine log grid is scored by the mean autocorrelation at L, 2L, 3L, 4L (a
//! comb: a true beat repeats at all its multiples, so the comb rewards the beat and not
//! its fast subdivisions, whose odd multiples fall between beats). A period and its
//! multiples (bars) score alike, so the estimate then steps down to the shortest period
//! — half or a third of the best — that still scores nearly as well. The result is
//! refined with a longer comb and folded into [`FOLD_MIN_BPM`, `FOLD_MAX_BPM`].
//!
//! Onsets: local maxima of the detrended envelope above an adaptive threshold, at least
//! [`MIN_ONSET_GAP_SECONDS`] apart.

use rustfft::num_complex::Complex32;
use rustfft::FftPlanner;

/// Range searched for beat periods.
const SEARCH_MIN_BPM: f32 = 50.0;
const SEARCH_MAX_BPM: f32 = 230.0;
/// Reported tempi are folded (by octaves) into this range: the span of tempi listeners
/// tap to; outside it the tempo is read as half or double.
pub const FOLD_MIN_BPM: f32 = 70.0;
pub const FOLD_MAX_BPM: f32 = 180.0;
/// Multiplicative step of the coarse grid (0.5 %, well inside the 4 % accuracy goal).
const GRID_STEP: f32 = 1.005;
/// Multiples of the period summed by the coarse and the refining comb.
const COARSE_HARMONICS: usize = 4;
const FINE_HARMONICS: usize = 8;
/// A shorter period (half, third) replaces the best one when it scores at least this
/// share of the best: its comb must hit strong beats at its odd multiples too.
const SHORTER_PERIOD_SHARE: f32 = 0.85;
/// Window of the local mean removed from the envelope before autocorrelation.
const DETREND_SECONDS: f32 = 0.5;
/// Less envelope than this gives no tempo (the caller falls back).
const MIN_SECONDS: f32 = 4.0;
/// Onset peaks: threshold above the mean in standard deviations, an absolute floor (in
/// envelope units: summed log-energy increase) so steady tones have no onsets, and the
/// shortest gap between two onsets (a flam is one onset).
const ONSET_THRESHOLD_SD: f32 = 0.5;
const ONSET_MIN_STRENGTH: f32 = 0.5;
const MIN_ONSET_GAP_SECONDS: f32 = 0.05;

/// Estimated tempo in BPM, or None when the envelope is too short or aperiodic.
pub fn estimate_bpm(envelope: &[f32], rate: f32) -> Option<f32> {
    if rate <= 0.0 || (envelope.len() as f32) < MIN_SECONDS * rate {
        return None;
    }
    let e = detrend(envelope, rate);
    let max_lag = (60.0 / SEARCH_MIN_BPM * rate * FINE_HARMONICS as f32).ceil() as usize + 2;
    let ac = autocorrelation(&e, max_lag.min(e.len() / 2));
    let period = |bpm: f32| 60.0 * rate / bpm;

    let mut best: Option<(f32, f32)> = None; // (bpm, score)
    let mut bpm = SEARCH_MIN_BPM;
    while bpm <= SEARCH_MAX_BPM {
        if let Some(s) = comb(&ac, period(bpm), COARSE_HARMONICS) {
            if best.is_none_or(|(_, b)| s > b) {
                best = Some((bpm, s));
            }
        }
        bpm *= GRID_STEP;
    }
    let (mut chosen, best_score) = best?;
    if best_score <= 0.0 {
        return None;
    }
    // Step down to the shortest period that still scores nearly as well.
    'shorter: loop {
        for divisor in [2.0f32, 3.0] {
            let faster = chosen * divisor;
            if faster > SEARCH_MAX_BPM {
                continue;
            }
            let local = refine(&ac, rate, faster, COARSE_HARMONICS, 0.02);
            if let Some((bpm, s)) = local {
                if s >= SHORTER_PERIOD_SHARE * best_score {
                    chosen = bpm;
                    continue 'shorter;
                }
            }
        }
        break;
    }
    let refined = refine(&ac, rate, chosen, FINE_HARMONICS, 0.015)
        .or_else(|| refine(&ac, rate, chosen, COARSE_HARMONICS, 0.015))
        .map_or(chosen, |(bpm, _)| bpm);
    Some(fold(refined))
}

/// Best-scoring tempo within ±`span` (relative) of `bpm`, on a 0.05 % grid.
fn refine(ac: &[f32], rate: f32, bpm: f32, harmonics: usize, span: f32) -> Option<(f32, f32)> {
    const FINE_STEP: f32 = 1.0005;
    let mut best: Option<(f32, f32)> = None;
    let mut b = bpm * (1.0 - span);
    while b <= bpm * (1.0 + span) {
        if let Some(s) = comb(ac, 60.0 * rate / b, harmonics) {
            if best.is_none_or(|(_, v)| s > v) {
                best = Some((b, s));
            }
        }
        b *= FINE_STEP;
    }
    best
}

/// Folds a tempo by octaves into [`FOLD_MIN_BPM`, `FOLD_MAX_BPM`].
pub fn fold(mut bpm: f32) -> f32 {
    if !bpm.is_finite() || bpm <= 0.0 {
        return bpm;
    }
    while bpm < FOLD_MIN_BPM {
        bpm *= 2.0;
    }
    while bpm > FOLD_MAX_BPM {
        bpm /= 2.0;
    }
    bpm
}

/// Mean autocorrelation at `harmonics` multiples of a (fractional) lag; None when the
/// lags run past the autocorrelation.
fn comb(ac: &[f32], lag: f32, harmonics: usize) -> Option<f32> {
    let mut sum = 0.0;
    for k in 1..=harmonics {
        sum += interpolate(ac, lag * k as f32)?;
    }
    Some(sum / harmonics as f32)
}

fn interpolate(ac: &[f32], lag: f32) -> Option<f32> {
    let i = lag.floor() as usize;
    let frac = lag - i as f32;
    let (a, b) = (*ac.get(i)?, *ac.get(i + 1)?);
    Some(a + (b - a) * frac)
}

/// The envelope minus its centred moving average, rectified: what stands out locally.
fn detrend(envelope: &[f32], rate: f32) -> Vec<f32> {
    let half = ((DETREND_SECONDS * rate) as usize / 2).max(1);
    let mut prefix = Vec::with_capacity(envelope.len() + 1);
    prefix.push(0.0f64);
    for &v in envelope {
        let last = prefix[prefix.len() - 1];
        prefix.push(last + f64::from(v));
    }
    (0..envelope.len())
        .map(|i| {
            let lo = i.saturating_sub(half);
            let hi = (i + half + 1).min(envelope.len());
            let mean = (prefix[hi] - prefix[lo]) / (hi - lo) as f64;
            (envelope[i] - mean as f32).max(0.0)
        })
        .collect()
}

/// Unbiased autocorrelation for lags 0..=max_lag, normalised so lag 0 is 1 (all zeros
/// for a zero signal).
fn autocorrelation(x: &[f32], max_lag: usize) -> Vec<f32> {
    let n = x.len();
    let size = (2 * n).next_power_of_two();
    let mut planner = FftPlanner::<f32>::new();
    let forward = planner.plan_fft_forward(size);
    let inverse = planner.plan_fft_inverse(size);
    let mut buf: Vec<Complex32> = x
        .iter()
        .map(|&v| Complex32::new(v, 0.0))
        .chain(std::iter::repeat(Complex32::new(0.0, 0.0)))
        .take(size)
        .collect();
    forward.process(&mut buf);
    for c in buf.iter_mut() {
        *c = Complex32::new(c.norm_sqr(), 0.0);
    }
    inverse.process(&mut buf);
    let zero = buf[0].re / n as f32;
    if zero <= 0.0 || !zero.is_finite() {
        return vec![0.0; max_lag + 1];
    }
    (0..=max_lag.min(n.saturating_sub(1)))
        .map(|l| buf[l].re / (n - l) as f32 / zero)
        .collect()
}

/// Number of onsets: peaks of the detrended envelope above an adaptive threshold.
pub fn count_onsets(envelope: &[f32], rate: f32) -> usize {
    if envelope.is_empty() || rate <= 0.0 {
        return 0;
    }
    let e = detrend(envelope, rate);
    let n = e.len() as f32;
    let mean = e.iter().sum::<f32>() / n;
    let sd = (e.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / n).sqrt();
    let threshold = (mean + ONSET_THRESHOLD_SD * sd).max(ONSET_MIN_STRENGTH);
    let gap = ((MIN_ONSET_GAP_SECONDS * rate).round() as usize).max(1);
    let mut count = 0;
    let mut last: Option<usize> = None;
    for i in 0..e.len() {
        let v = e[i];
        if v < threshold {
            continue;
        }
        let lo = i.saturating_sub(gap);
        let hi = (i + gap + 1).min(e.len());
        // A peak is the first maximum of its neighbourhood (plateaus count once).
        let is_peak = e[lo..i].iter().all(|&w| w < v) && e[i + 1..hi].iter().all(|&w| w <= v);
        if is_peak && last.is_none_or(|l| i - l >= gap) {
            count += 1;
            last = Some(i);
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pulses(bpm: f32, rate: f32, seconds: f32, offbeat: f32) -> Vec<f32> {
        let n = (seconds * rate) as usize;
        let period = 60.0 * rate / bpm;
        let mut env = vec![0.0; n];
        let mut t = 0.0f32;
        while (t as usize) < n {
            env[t as usize] += 10.0;
            let off = (t + period / 2.0) as usize;
            if off < n {
                env[off] += 10.0 * offbeat;
            }
            t += period;
        }
        env
    }

    #[test]
    fn pulse_trains_give_their_tempo_not_a_multiple() {
        let rate = 86.13;
        for bpm in [72.0f32, 88.0, 121.0, 140.0, 176.0] {
            // Off-beats at ~30 % of the beat read as double tempo at slow tempi (a known limit
            // of the octave rule); weaker subdivisions must not.
            for offbeat in [0.0, 0.15] {
                let got = estimate_bpm(&pulses(bpm, rate, 30.0, offbeat), rate).unwrap();
                assert!(
                    (got - bpm).abs() / bpm < 0.02,
                    "{bpm} (offbeat {offbeat}): got {got}"
                );
            }
        }
    }

    #[test]
    fn too_short_or_flat_gives_none() {
        assert_eq!(estimate_bpm(&[1.0; 100], 86.0), None);
        assert_eq!(estimate_bpm(&vec![0.0; 3000], 86.0), None);
        assert_eq!(estimate_bpm(&[], 0.0), None);
    }

    #[test]
    fn folding_is_by_octaves() {
        assert_eq!(fold(50.0), 100.0);
        assert_eq!(fold(200.0), 100.0);
        assert_eq!(fold(120.0), 120.0);
    }

    #[test]
    fn onsets_are_counted_once_each() {
        let rate = 86.13;
        let env = pulses(120.0, rate, 10.0, 0.0);
        let n = count_onsets(&env, rate);
        assert!((19..=21).contains(&n), "{n}");
        assert_eq!(count_onsets(&vec![0.01; 1000], rate), 0);
    }
}
