//! Turns a song plan (genre, tempo, key, mode, gain, length) into stereo PCM.
//!
//! A song is built from four-bar loops: each layer (drums, bass, harmony, pulse, lead,
//! texture) is rendered once as a loop with its release tail, then the loops are laid
//! end to end at exact (rounded, never accumulated) sample positions, with an
//! arrangement that drops layers in the intro, a breakdown and the outro. Rendering each
//! loop once keeps synthesis cheap next to the Vorbis encode; exact placement keeps the
//! tempo exactly the plan's. Finally the mix is normalised to a reference RMS, the
//! song's gain applied, and a soft limiter keeps peaks below full scale.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::genre::{Genre, Lead, Part, Style, Texture};
use super::synth::{drum, midi_hz, note, Noise, Svf, Tone, Wave};
use crate::audio::Pcm;

/// 44.1 kHz stereo: what listeners expect; the 160-song budget was measured with it.
pub const SAMPLE_RATE: u32 = 44_100;
/// Songs are between these lengths (seconds), tails and fades included.
pub const MIN_SECONDS: f32 = 30.0;
pub const MAX_SECONDS: f32 = 90.0;
const LOOP_BARS: usize = 4;
const STEPS_PER_BAR: usize = 16;
const STEPS_PER_LOOP: usize = LOOP_BARS * STEPS_PER_BAR;
/// Room after a loop for release tails (pads ring for seconds).
const LOOP_TAIL_SECONDS: f32 = 4.0;
/// Silence-ish ring-out after the last loop, and the fade over the last seconds.
const END_TAIL_SECONDS: f32 = 1.0;
const FADE_SECONDS: f32 = 2.0;
/// RMS of a song at 0 dB gain (dBFS). With the loudest genre gain (+9 dB) this leaves
/// room for the crest factor of drum-heavy mixes before the limiter.
const REFERENCE_DBFS: f32 = -23.0;
/// The limiter is linear below this level and bends peaks smoothly towards 1.0 above it.
const LIMIT_KNEE: f32 = 0.85;
/// Fraction of a note's slot that it sounds (the rest is the gap before the next note).
const GATE: f32 = 0.9;
/// Delay between strings in a strum.
const STRUM_SECONDS: f32 = 0.012;

/// An artist's sound within their genre: applied to the genre's pitched instruments
/// (drums are left as the genre has them, so the beat stays the genre's).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timbre {
    /// Multiplies filter cutoffs; below 1 also darkens unfiltered parts with a low-pass.
    pub brightness: f32,
    /// Multiplies each instrument's drive (1 = as the genre has it; more is grittier).
    pub grit: f32,
    /// Detune (cents) added to harmony and lead: wider, more chorused.
    pub width_cents: f32,
    /// Scales attack and release times: above 1 softer, below 1 snappier.
    pub softness: f32,
}

impl Timbre {
    /// The genre's own sound, unchanged.
    pub const NEUTRAL: Timbre = Timbre {
        brightness: 1.0,
        grit: 1.0,
        width_cents: 0.0,
        softness: 1.0,
    };

    /// The tone as this artist plays it.
    fn voice(&self, tone: &Tone, widen: bool) -> Tone {
        /// Cutoff of the low-pass a dark artist puts on an unfiltered part, at brightness 1.
        const DARK_CUTOFF_HZ: f32 = 5000.0;
        let mut t = *tone;
        t.cutoff = match t.cutoff {
            Some((base, amount, decay)) => {
                Some((base * self.brightness, amount * self.brightness, decay))
            }
            None if self.brightness < 1.0 && !matches!(t.wave, Wave::Pluck { .. }) => {
                Some((DARK_CUTOFF_HZ * self.brightness, 0.0, 1.0))
            }
            None => None,
        };
        t.drive = (t.drive * self.grit).max(1.0);
        if widen && !matches!(t.wave, Wave::Pluck { .. }) {
            t.detune_cents += self.width_cents;
        }
        t.attack *= self.softness;
        t.release *= self.softness;
        t
    }
}

/// Everything that decides how a song sounds.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub genre: &'static Genre,
    pub timbre: Timbre,
    pub bpm: f32,
    /// Key root as a pitch class (0 = C).
    pub root: i32,
    pub minor: bool,
    pub gain_db: f32,
    pub target_seconds: f32,
    pub seed: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Drums,
    Bass,
    Harmony,
    Pulse,
    Lead,
    Texture,
}

struct Layer {
    role: Role,
    buf: Vec<f32>,
    pan: f32,
}

/// Timing and pitch context shared by the loop renderers.
struct Ctx {
    sr: f32,
    step_s: f32,
    swing: f32,
    scale: [i32; 7],
    root: i32,
    chords: [usize; LOOP_BARS],
    sevenths: bool,
    loop_len: usize,
}

impl Ctx {
    /// Sample offset of a step in the loop, with swing on off-beat eighths.
    fn at(&self, step: usize) -> usize {
        let swing = if step % 4 == 2 { self.swing } else { 0.0 };
        (((step as f32 + swing) * self.step_s) * self.sr).round() as usize
    }

    /// Semitones above the tonic of a scale degree (may exceed an octave).
    fn semis(&self, degree: usize) -> i32 {
        self.scale[degree % 7] + 12 * (degree / 7) as i32
    }

    fn midi(&self, octave: i32, degree: usize) -> i32 {
        12 * (octave + 1) + self.root + self.semis(degree)
    }

    fn chord_degrees(&self, bar: usize) -> Vec<usize> {
        let d = self.chords[bar % LOOP_BARS];
        let mut v = vec![d, d + 2, d + 4];
        if self.sevenths {
            v.push(d + 6);
        }
        v
    }
}

/// Velocity of a pattern symbol, or None for a rest/hold.
fn velocity(c: u8, rng: &mut ChaCha8Rng) -> Option<f32> {
    match c {
        b'X' => Some(1.0),
        b'x' | b'F' | b'O' => Some(0.75),
        b'o' => Some(0.4),
        b'?' => rng.random_bool(0.5).then_some(0.5),
        _ => None,
    }
}

/// Steps a note starting at `step` lasts: itself plus the holds (`-`) after it.
fn held_steps(pattern: &[u8], step: usize) -> usize {
    1 + (1..STEPS_PER_LOOP)
        .take_while(|k| pattern[(step + k) % pattern.len()] == b'-')
        .count()
}

fn add(buf: &mut [f32], at: usize, src: &[f32], gain: f32) {
    if at >= buf.len() {
        return;
    }
    for (d, s) in buf[at..].iter_mut().zip(src) {
        *d += s * gain;
    }
}

pub fn render(plan: &Plan) -> Pcm {
    let mut rng = ChaCha8Rng::seed_from_u64(plan.seed);
    let mut noise = Noise::new(plan.seed);
    let g = plan.genre;
    let sr = SAMPLE_RATE as f32;
    let step_s = 60.0 / plan.bpm / 4.0;
    let loop_exact = STEPS_PER_LOOP as f64 * f64::from(step_s) * f64::from(sr);
    let loop_s = loop_exact as f32 / sr;
    let progression = g.progressions[rng.random_range(0..g.progressions.len())];
    let ctx = Ctx {
        sr,
        step_s,
        swing: g.swing,
        scale: if plan.minor {
            [0, 2, 3, 5, 7, 8, 10]
        } else {
            [0, 2, 4, 5, 7, 9, 11]
        },
        root: plan.root,
        chords: progression,
        sevenths: g.sevenths,
        loop_len: loop_exact.round() as usize + (LOOP_TAIL_SECONDS * sr) as usize,
    };

    let mut layers = Vec::new();
    for d in g.drums {
        let hit = drum(d.drum, sr, &mut noise);
        let mut buf = vec![0.0; ctx.loop_len];
        let pat = d.pattern.as_bytes();
        for step in 0..STEPS_PER_LOOP {
            if let Some(v) = velocity(pat[step % pat.len()], &mut rng) {
                let human = 1.0 + 0.08 * noise.sample();
                add(&mut buf, ctx.at(step), &hit, v * human * d.level);
            }
        }
        layers.push(Layer {
            role: Role::Drums,
            buf,
            pan: d.pan,
        });
    }
    let t = &plan.timbre;
    let bass = Part {
        tone: t.voice(&g.bass.tone, false),
        ..g.bass
    };
    layers.push(pitched(&ctx, &bass, Role::Bass, &mut rng, &mut noise));
    let harmony = Part {
        tone: t.voice(&g.harmony.tone, true),
        ..g.harmony
    };
    layers.push(pitched(&ctx, &harmony, Role::Harmony, &mut rng, &mut noise));
    if let Some(p) = &g.pulse {
        let pulse = Part {
            tone: t.voice(&p.tone, false),
            ..*p
        };
        layers.push(pitched(&ctx, &pulse, Role::Pulse, &mut rng, &mut noise));
    }
    if let Some(l) = &g.lead {
        let lead_part = Lead {
            tone: t.voice(&l.tone, true),
            ..*l
        };
        layers.push(lead(&ctx, &lead_part, &mut rng, &mut noise));
    }
    if let Some(t) = g.texture {
        layers.push(texture(&ctx, t, &mut noise));
    }

    let min_loops = ((MIN_SECONDS - END_TAIL_SECONDS) / loop_s).ceil() as usize;
    let max_loops = ((MAX_SECONDS - END_TAIL_SECONDS - 0.5) / loop_s).floor() as usize;
    let loops = (((plan.target_seconds - END_TAIL_SECONDS) / loop_s).round() as usize)
        .clamp(min_loops, max_loops.max(min_loops));
    let body_len = (loops as f64 * loop_exact).round() as usize;
    let total = body_len + (END_TAIL_SECONDS * sr) as usize;
    let mut left = vec![0.0f32; total];
    let mut right = vec![0.0f32; total];
    for i in 0..loops {
        let start = (i as f64 * loop_exact).round() as usize;
        for layer in &layers {
            if !active(layer.role, i, loops) {
                continue;
            }
            let angle = (layer.pan.clamp(-1.0, 1.0) + 1.0) * std::f32::consts::FRAC_PI_4;
            add(&mut left, start, &layer.buf, angle.cos());
            add(&mut right, start, &layer.buf, angle.sin());
        }
    }
    let fade_start = body_len.saturating_sub((FADE_SECONDS * sr) as usize);
    for i in fade_start..total {
        let f = (1.0 - (i - fade_start) as f32 / (total - fade_start) as f32).max(0.0);
        left[i] *= f;
        right[i] *= f;
    }
    master(left, right, plan.gain_db)
}

/// Which layers play in loop `i` of `n`: intro without bass and lead, a breakdown
/// without drums and bass in the middle of long songs, the lead every other loop.
fn active(role: Role, i: usize, n: usize) -> bool {
    let intro = i == 0 && n >= 3;
    let outro = i == n - 1 && n >= 4;
    let breakdown = n >= 6 && i == n / 2;
    match role {
        Role::Harmony | Role::Pulse | Role::Texture => true,
        Role::Drums => !breakdown,
        Role::Bass => !intro && !breakdown,
        Role::Lead => !intro && !outro && (i.is_multiple_of(2) || breakdown),
    }
}

/// Normalises to the reference RMS, applies the gain and the soft limiter, interleaves.
fn master(left: Vec<f32>, right: Vec<f32>, gain_db: f32) -> Pcm {
    let energy: f64 = left
        .iter()
        .chain(&right)
        .map(|&s| f64::from(s) * f64::from(s))
        .sum();
    let rms = (energy / (2 * left.len()).max(1) as f64).sqrt() as f32;
    let target = 10f32.powf((REFERENCE_DBFS + gain_db) / 20.0);
    let scale = if rms > 1e-9 { target / rms } else { 0.0 };
    let limit = |x: f32| {
        let y = x * scale;
        let a = y.abs();
        if a <= LIMIT_KNEE {
            y
        } else {
            let over = (a - LIMIT_KNEE) / (1.0 - LIMIT_KNEE);
            y.signum() * (LIMIT_KNEE + (1.0 - LIMIT_KNEE) * over.tanh())
        }
    };
    let mut samples = Vec::with_capacity(left.len() * 2);
    for (l, r) in left.iter().zip(&right) {
        samples.push(limit(*l));
        samples.push(limit(*r));
    }
    Pcm {
        sample_rate: SAMPLE_RATE,
        channels: 2,
        samples,
    }
}

/// Renders a bass, harmony or pulse part over one loop.
fn pitched(ctx: &Ctx, part: &Part, role: Role, rng: &mut ChaCha8Rng, noise: &mut Noise) -> Layer {
    let mut buf = vec![0.0f32; ctx.loop_len];
    let pat = part.pattern.as_bytes();
    let mut arp = 0usize;
    for step in 0..STEPS_PER_LOOP {
        let c = pat[step % pat.len()];
        let Some(v) = velocity(c, rng) else { continue };
        let bar = step / STEPS_PER_BAR;
        let held = held_steps(pat, step) as f32 * ctx.step_s * GATE;
        let degrees = ctx.chord_degrees(bar);
        let root = degrees[0];
        let at = ctx.at(step);
        let notes: Vec<i32> = match part.style {
            Style::Bass => {
                let base = 12 * (part.octave + 1) + ctx.root + ctx.scale[root % 7];
                vec![
                    base + if c == b'F' {
                        7
                    } else if c == b'O' {
                        12
                    } else {
                        0
                    },
                ]
            }
            Style::Walk => vec![walk_note(ctx, part.octave, bar, step, rng)],
            Style::Chord | Style::Strum => {
                degrees.iter().map(|&d| ctx.midi(part.octave, d)).collect()
            }
            Style::Arp => {
                let mut tones: Vec<i32> =
                    degrees.iter().map(|&d| ctx.midi(part.octave, d)).collect();
                tones.push(ctx.midi(part.octave, root + 7));
                arp += 1;
                vec![tones[(arp - 1) % tones.len()]]
            }
        };
        let count = notes.len() as f32;
        let upstroke = c == b'o';
        for (k, &m) in notes.iter().enumerate() {
            let rendered = note(&part.tone, midi_hz(m), held, 1.0, ctx.sr, noise);
            let (delay, gain) = match part.style {
                Style::Strum => {
                    let order = if upstroke { notes.len() - 1 - k } else { k };
                    (
                        (order as f32 * STRUM_SECONDS * ctx.sr) as usize,
                        1.0 - 0.08 * order as f32,
                    )
                }
                _ => (0, 1.0),
            };
            add(
                &mut buf,
                at + delay,
                &rendered,
                v * gain * part.level / count.sqrt(),
            );
        }
    }
    Layer {
        role,
        buf,
        pan: part.pan,
    }
}

/// A walking bass note for the quarter at `step`: root on one, chord or scale tones
/// after, and a chromatic approach to the next bar's root on four.
fn walk_note(ctx: &Ctx, octave: i32, bar: usize, step: usize, rng: &mut ChaCha8Rng) -> i32 {
    let degree = ctx.chords[bar % LOOP_BARS];
    let base = 12 * (octave + 1) + ctx.root;
    let beat = (step % STEPS_PER_BAR) / 4;
    match beat {
        0 => base + ctx.scale[degree % 7],
        1 => base + ctx.semis(degree + [1, 2][rng.random_range(0..2)]),
        2 => base + ctx.semis(degree + [4, 2][rng.random_range(0..2)]),
        _ => {
            let next = ctx.chords[(bar + 1) % LOOP_BARS];
            base + ctx.scale[next % 7] + if rng.random_bool(0.5) { 1 } else { -1 }
        }
    }
}

/// A melody over one loop: a random walk on the scale, landing on chord tones at bar starts.
fn lead(ctx: &Ctx, lead: &Lead, rng: &mut ChaCha8Rng, noise: &mut Noise) -> Layer {
    let mut buf = vec![0.0f32; ctx.loop_len];
    let grid = lead.grid.max(1);
    let mut starts: Vec<usize> = (0..STEPS_PER_LOOP)
        .step_by(grid)
        .filter(|&s| s % STEPS_PER_BAR == 0 || rng.random_bool(f64::from(lead.density)))
        .collect();
    starts.push(STEPS_PER_LOOP);
    let mut degree: i32 = 7;
    for w in starts.windows(2) {
        let (step, next) = (w[0], w[1]);
        if step % STEPS_PER_BAR == 0 {
            let chord = ctx.chord_degrees(step / STEPS_PER_BAR);
            let target = chord[rng.random_range(0..chord.len())] as i32 % 7 + 7;
            degree = target;
        } else {
            degree = (degree + rng.random_range(-2..=2)).clamp(2, 13);
        }
        let len = (next - step).min(4 * grid);
        let held = len as f32 * ctx.step_s * GATE;
        let m = ctx.midi(lead.octave - 1, degree as usize);
        let v = 0.8 + 0.2 * noise.sample().abs();
        let rendered = note(&lead.tone, midi_hz(m), held, 1.0, ctx.sr, noise);
        add(&mut buf, ctx.at(step), &rendered, v * lead.level);
    }
    Layer {
        role: Role::Lead,
        buf,
        pan: lead.pan,
    }
}

/// A rhythm-free background: vinyl crackle and hiss, or swelling wind.
fn texture(ctx: &Ctx, kind: Texture, noise: &mut Noise) -> Layer {
    let len = ctx.loop_len - (LOOP_TAIL_SECONDS * ctx.sr) as usize;
    let mut buf = vec![0.0f32; ctx.loop_len];
    let mut filter = Svf::new(3000.0, 0.0, ctx.sr);
    for (i, o) in buf.iter_mut().take(len).enumerate() {
        let t = i as f32 / ctx.sr;
        *o = match kind {
            Texture::Vinyl => {
                let crackle = if noise.sample() > 0.9997 {
                    noise.sample() * 0.5
                } else {
                    0.0
                };
                crackle + 0.01 * filter.tick(noise.sample()).0
            }
            Texture::Wind => {
                if i % 64 == 0 {
                    filter.set(600.0 + 400.0 * (t * 0.3).sin(), 0.6, ctx.sr);
                }
                0.03 * (0.6 + 0.4 * (t * 0.21).sin()) * filter.tick(noise.sample()).1
            }
        };
    }
    Layer {
        role: Role::Texture,
        buf,
        pan: 0.0,
    }
}
