//! Sound sources for the demo generator: oscillators, envelopes, a filter, plucked
//! strings and drum one-shots. Everything renders mono f32 at a given sample rate and is
//! deterministic (noise comes from a seeded xorshift, never from a global RNG).

use std::f32::consts::TAU;

/// A tiny deterministic noise source (xorshift32): audio noise needs speed, not quality.
#[derive(Debug, Clone)]
pub struct Noise(u32);

impl Noise {
    pub fn new(seed: u64) -> Self {
        let s = (seed ^ (seed >> 32)) as u32;
        Self(if s == 0 { 0x9E37_79B9 } else { s })
    }

    /// Uniform in [-1, 1).
    pub fn sample(&mut self) -> f32 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.0 = x;
        (x as f32 / u32::MAX as f32) * 2.0 - 1.0
    }
}

/// Oscillator shapes; each genre picks its own, which is most of what makes timbre differ.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Wave {
    Sine,
    Triangle,
    Saw,
    Square,
    /// Two-operator FM (electric piano, bells): modulator at `ratio` × pitch, modulation
    /// index decaying from `index` with time constant `decay` seconds.
    Fm {
        ratio: f32,
        index: f32,
        decay: f32,
    },
    /// A few sine partials with fixed weights (organ-like pads).
    Organ,
    /// Karplus-Strong plucked string; `damping` in (0, 1], higher rings shorter.
    Pluck {
        damping: f32,
    },
}

/// One pitched instrument: a wave through an optional envelope-swept low-pass filter and
/// an optional drive, shaped by an ADSR envelope.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tone {
    pub wave: Wave,
    pub attack: f32,
    pub decay: f32,
    pub sustain: f32,
    pub release: f32,
    /// Low-pass cutoff (Hz) and how far (Hz) the envelope opens it, with its decay time.
    pub cutoff: Option<(f32, f32, f32)>,
    pub resonance: f32,
    /// tanh drive: 1 is clean, 4+ is a distorted guitar.
    pub drive: f32,
    /// A second oscillator detuned by this many cents (0 = none): width and chorus.
    pub detune_cents: f32,
    /// Vibrato (rate Hz, depth in semitones).
    pub vibrato: (f32, f32),
}

impl Tone {
    pub const fn new(wave: Wave) -> Self {
        Self {
            wave,
            attack: 0.005,
            decay: 0.2,
            sustain: 0.7,
            release: 0.1,
            cutoff: None,
            resonance: 0.0,
            drive: 1.0,
            detune_cents: 0.0,
            vibrato: (0.0, 0.0),
        }
    }
}

/// ADSR envelope of a note held `held` seconds, `len` samples long. Computed with
/// per-sample multiplications (exponential segments as geometric recursions): an `exp`
/// per sample per note was the largest cost of synthesis.
fn adsr(tone: &Tone, held: f32, len: usize, sr: f32) -> Vec<f32> {
    let attack = ((tone.attack.max(1e-4) * sr) as usize).max(1);
    let held_n = (held * sr) as usize;
    let decay_k = (-3.0 / (tone.decay.max(1e-4) * sr)).exp();
    let release_k = (-5.0 / (tone.release.max(1e-4) * sr)).exp();
    let mut out = Vec::with_capacity(len);
    let mut over = 1.0f32; // (level - sustain) / (1 - sustain) during decay
    let mut level = 0.0f32;
    for i in 0..len {
        if i < held_n {
            level = if i < attack {
                i as f32 / attack as f32
            } else {
                over *= decay_k;
                tone.sustain + (1.0 - tone.sustain) * over
            };
        } else {
            level *= release_k;
        }
        out.push(level);
    }
    out
}

/// Zavalishin's topology-preserving state-variable filter (low-pass, band-pass, high-pass).
#[derive(Debug, Clone, Default)]
pub struct Svf {
    ic1: f32,
    ic2: f32,
    g: f32,
    k: f32,
}

impl Svf {
    pub fn new(cutoff: f32, resonance: f32, sample_rate: f32) -> Self {
        let mut f = Self::default();
        f.set(cutoff, resonance, sample_rate);
        f
    }

    pub fn set(&mut self, cutoff: f32, resonance: f32, sample_rate: f32) {
        let fc = cutoff.clamp(20.0, sample_rate * 0.45);
        self.g = (std::f32::consts::PI * fc / sample_rate).tan();
        self.k = 2.0 - 2.0 * resonance.clamp(0.0, 0.95);
    }

    /// Returns (low, band, high).
    pub fn tick(&mut self, x: f32) -> (f32, f32, f32) {
        let a1 = 1.0 / (1.0 + self.g * (self.g + self.k));
        let v3 = x - self.ic2;
        let v1 = a1 * self.ic1 + self.g * a1 * v3;
        let v2 = self.ic2 + self.g * v1;
        self.ic1 = 2.0 * v1 - self.ic1;
        self.ic2 = 2.0 * v2 - self.ic2;
        (v2, v1, x - self.k * v1 - v2)
    }
}

/// PolyBLEP correction for a discontinuity at phase 0 (anti-aliasing for saw and square).
fn poly_blep(phase: f32, dt: f32) -> f32 {
    if phase < dt {
        let t = phase / dt;
        t + t - t * t - 1.0
    } else if phase > 1.0 - dt {
        let t = (phase - 1.0) / dt;
        t * t + t + t + 1.0
    } else {
        0.0
    }
}

/// One oscillator sample; `fm_env` is the FM index envelope (1 at the note's start).
fn osc(wave: Wave, phase: f32, dt: f32, fm_env: f32, mod_phase: f32) -> f32 {
    match wave {
        Wave::Sine => (TAU * phase).sin(),
        Wave::Triangle => 4.0 * (phase - 0.5).abs() - 1.0,
        Wave::Saw => 2.0 * phase - 1.0 - poly_blep(phase, dt),
        Wave::Square => {
            let naive = if phase < 0.5 { 1.0 } else { -1.0 };
            naive + poly_blep(phase, dt) - poly_blep((phase + 0.5).fract(), dt)
        }
        Wave::Fm { index, .. } => (TAU * phase + index * fm_env * (TAU * mod_phase).sin()).sin(),
        Wave::Organ => {
            let p = TAU * phase;
            0.6 * p.sin() + 0.3 * (2.0 * p).sin() + 0.15 * (3.0 * p).sin() + 0.1 * (4.0 * p).sin()
        }
        Wave::Pluck { .. } => 0.0,
    }
}

/// Renders one note: `held` seconds of gate plus the release tail.
pub fn note(
    tone: &Tone,
    freq: f32,
    held: f32,
    velocity: f32,
    sr: f32,
    noise: &mut Noise,
) -> Vec<f32> {
    let len = ((held + tone.release * 1.2) * sr) as usize + 1;
    let mut out = if let Wave::Pluck { damping } = tone.wave {
        pluck(freq, len, damping, sr, noise)
    } else {
        let mut out = vec![0.0f32; len];
        let (ratio, fm_k) = match tone.wave {
            Wave::Fm { ratio, decay, .. } => (ratio, (-1.0 / (decay.max(1e-3) * sr)).exp()),
            _ => (1.0, 1.0),
        };
        let voices: &[f32] = if tone.detune_cents > 0.0 {
            &[-1.0, 1.0]
        } else {
            &[0.0]
        };
        let gain = 1.0 / voices.len() as f32;
        // Vibrato as a linear pitch factor: 2^(x/12) ~ 1 + x ln2/12 for small depths.
        let vib_depth = tone.vibrato.1 * std::f32::consts::LN_2 / 12.0;
        let vib_step = TAU * tone.vibrato.0 / sr;
        for (v, &sign) in voices.iter().enumerate() {
            let f0 = freq * (2.0f32).powf(sign * tone.detune_cents / 2400.0);
            let mut phase = 0.25 * v as f32;
            let mut mod_phase = 0.0f32;
            let mut fm_env = 1.0f32;
            let base_dt = (f0 / sr).min(0.49);
            for (i, o) in out.iter_mut().enumerate() {
                let dt = if vib_depth > 0.0 {
                    (base_dt * (1.0 + vib_depth * (vib_step * i as f32).sin())).min(0.49)
                } else {
                    base_dt
                };
                *o += gain * osc(tone.wave, phase, dt, fm_env, mod_phase);
                phase = (phase + dt).fract();
                mod_phase = (mod_phase + dt * ratio).fract();
                fm_env *= fm_k;
            }
        }
        out
    };
    if let Some((base, amount, decay)) = tone.cutoff {
        /// Recompute filter coefficients every this many samples (tan() is not free).
        const FILTER_UPDATE: usize = 32;
        let mut filter = Svf::new(base + amount, tone.resonance, sr);
        for (i, s) in out.iter_mut().enumerate() {
            if i % FILTER_UPDATE == 0 {
                let t = i as f32 / sr;
                filter.set(
                    base + amount * (-t / decay.max(1e-3)).exp(),
                    tone.resonance,
                    sr,
                );
            }
            *s = filter.tick(*s).0;
        }
    }
    let envelope = adsr(tone, held, out.len(), sr);
    for (s, env) in out.iter_mut().zip(envelope) {
        let x = *s * env;
        *s = velocity
            * if tone.drive > 1.0 {
                (x * tone.drive).tanh() / tone.drive.tanh()
            } else {
                x
            };
    }
    out
}

/// Karplus-Strong: a noise burst circulating in a delay line with an averaging filter.
fn pluck(freq: f32, len: usize, damping: f32, sr: f32, noise: &mut Noise) -> Vec<f32> {
    let period = (sr / freq.max(20.0)).round().max(2.0) as usize;
    let mut line: Vec<f32> = (0..period).map(|_| noise.sample()).collect();
    let feedback = 0.5 * (1.0 - 0.02 * damping.clamp(0.0, 1.0));
    let mut out = Vec::with_capacity(len);
    let mut idx = 0;
    for _ in 0..len {
        let next = (idx + 1) % period;
        let v = line[idx];
        line[idx] = feedback * (v + line[next]);
        out.push(v);
        idx = next;
    }
    out
}

/// Drum voices; a genre's kit sets their parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Drum {
    /// Pitch sweeps from `high` to `low` Hz; amplitude decays in `decay` s; `drive` ≥ 1.
    Kick {
        high: f32,
        low: f32,
        decay: f32,
        drive: f32,
    },
    /// Tone at `tone` Hz plus high-passed noise decaying in `decay` s.
    Snare {
        tone: f32,
        decay: f32,
        noise: f32,
    },
    Clap,
    /// High-passed noise; `decay` s (0.03 closed, 0.3 open).
    Hat {
        decay: f32,
    },
    /// Metallic inharmonic partials plus noise.
    Ride,
    Shaker,
    Rim,
    /// Soft noise swish (jazz brushes).
    Brush,
}

/// Renders one drum hit at full velocity.
pub fn drum(kind: Drum, sr: f32, noise: &mut Noise) -> Vec<f32> {
    let secs = match kind {
        Drum::Kick { decay, .. } => decay * 5.0,
        Drum::Snare { decay, .. } => decay * 5.0,
        Drum::Clap => 0.35,
        Drum::Hat { decay } => decay * 5.0,
        Drum::Ride => 1.2,
        Drum::Shaker => 0.2,
        Drum::Rim => 0.08,
        Drum::Brush => 0.4,
    };
    let len = (secs * sr) as usize + 1;
    let mut out = vec![0.0f32; len];
    match kind {
        Drum::Kick {
            high,
            low,
            decay,
            drive,
        } => {
            let mut phase = 0.0f32;
            for (i, o) in out.iter_mut().enumerate() {
                let t = i as f32 / sr;
                let f = low + (high - low) * (-t / 0.03).exp();
                phase = (phase + f / sr).fract();
                let click = if t < 0.002 { 0.5 * noise.sample() } else { 0.0 };
                let x = ((TAU * phase).sin() + click) * (-t / decay).exp();
                *o = (x * drive).tanh() / drive.tanh();
            }
        }
        Drum::Snare {
            tone,
            decay,
            noise: amount,
        } => {
            let mut hp = Svf::new(1800.0, 0.1, sr);
            for (i, o) in out.iter_mut().enumerate() {
                let t = i as f32 / sr;
                let body = (TAU * tone * t).sin() * (-t / 0.06).exp();
                let n = hp.tick(noise.sample()).2 * (-t / decay).exp();
                *o = (1.0 - amount) * body + amount * 1.4 * n;
            }
        }
        Drum::Clap => {
            let mut bp = Svf::new(1400.0, 0.5, sr);
            for (i, o) in out.iter_mut().enumerate() {
                let t = i as f32 / sr;
                let burst = [0.0f32, 0.011, 0.022]
                    .iter()
                    .map(|&s| {
                        if t >= s {
                            (-(t - s) / 0.006).exp()
                        } else {
                            0.0
                        }
                    })
                    .sum::<f32>()
                    + 0.6 * (-t / 0.1).exp();
                *o = 2.0 * bp.tick(noise.sample()).1 * burst;
            }
        }
        Drum::Hat { decay } => {
            let mut hp = Svf::new(7500.0, 0.2, sr);
            for (i, o) in out.iter_mut().enumerate() {
                let t = i as f32 / sr;
                *o = hp.tick(noise.sample()).2 * (-t / decay).exp();
            }
        }
        Drum::Ride => {
            const PARTIALS: [f32; 6] = [1.0, 1.342, 1.2312, 1.6532, 1.9523, 2.1523];
            let mut hp = Svf::new(5000.0, 0.1, sr);
            for (i, o) in out.iter_mut().enumerate() {
                let t = i as f32 / sr;
                let metal: f32 = PARTIALS
                    .iter()
                    .map(|p| {
                        if (TAU * 420.0 * p * t).sin() >= 0.0 {
                            1.0
                        } else {
                            -1.0
                        }
                    })
                    .sum::<f32>()
                    / 6.0;
                let x = hp.tick(metal + 0.5 * noise.sample()).2;
                *o = 0.6 * x * ((-t / 0.35).exp() + 0.6 * (-t / 0.015).exp());
            }
        }
        Drum::Shaker => {
            let mut hp = Svf::new(5000.0, 0.1, sr);
            for (i, o) in out.iter_mut().enumerate() {
                let t = i as f32 / sr;
                let env = (t / 0.01).min(1.0) * (-t / 0.05).exp();
                *o = hp.tick(noise.sample()).2 * env;
            }
        }
        Drum::Rim => {
            for (i, o) in out.iter_mut().enumerate() {
                let t = i as f32 / sr;
                *o = (TAU * 1700.0 * t).sin() * (-t / 0.012).exp();
            }
        }
        Drum::Brush => {
            let mut lp = Svf::new(4000.0, 0.0, sr);
            for (i, o) in out.iter_mut().enumerate() {
                let t = i as f32 / sr;
                let env = (t / 0.02).min(1.0) * (-t / 0.09).exp();
                *o = lp.tick(noise.sample()).0 * env;
            }
        }
    }
    out
}

/// MIDI note number to frequency (A4 = 69 = 440 Hz).
pub fn midi_hz(note: i32) -> f32 {
    440.0 * (2.0f32).powf((note - 69) as f32 / 12.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_and_drums_are_finite_and_bounded() {
        let sr = 44_100.0;
        let mut n = Noise::new(7);
        for wave in [
            Wave::Sine,
            Wave::Triangle,
            Wave::Saw,
            Wave::Square,
            Wave::Organ,
            Wave::Fm {
                ratio: 2.0,
                index: 3.0,
                decay: 0.3,
            },
            Wave::Pluck { damping: 0.5 },
        ] {
            let mut tone = Tone::new(wave);
            tone.cutoff = Some((800.0, 2000.0, 0.2));
            tone.detune_cents = 8.0;
            let v = note(&tone, 220.0, 0.3, 0.8, sr, &mut n);
            assert!(
                v.iter().all(|s| s.is_finite() && s.abs() <= 2.0),
                "{wave:?}"
            );
            assert!(v.iter().any(|s| s.abs() > 0.05), "{wave:?} is silent");
        }
        for d in [
            Drum::Kick {
                high: 150.0,
                low: 45.0,
                decay: 0.2,
                drive: 2.0,
            },
            Drum::Snare {
                tone: 190.0,
                decay: 0.12,
                noise: 0.6,
            },
            Drum::Clap,
            Drum::Hat { decay: 0.03 },
            Drum::Ride,
            Drum::Shaker,
            Drum::Rim,
            Drum::Brush,
        ] {
            let v = drum(d, sr, &mut n);
            assert!(v.iter().all(|s| s.is_finite() && s.abs() <= 3.0), "{d:?}");
            assert!(v.iter().any(|s| s.abs() > 0.05), "{d:?} is silent");
        }
    }

    #[test]
    fn noise_is_deterministic() {
        let a: Vec<f32> = {
            let mut n = Noise::new(3);
            (0..10).map(|_| n.sample()).collect()
        };
        let b: Vec<f32> = {
            let mut n = Noise::new(3);
            (0..10).map(|_| n.sample()).collect()
        };
        assert_eq!(a, b);
    }
}
