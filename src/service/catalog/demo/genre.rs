//! The twelve demo genres: what makes each one sound like itself — tempo range, mode, drum kit
//! and patterns, bass and harmony instruments and their rhythms, lead, texture and how
//! loud it is mastered. Pure data; [`super::compose`] turns it into audio.
//!
//! Patterns are 16 steps (sixteenth notes) per bar and may span several bars. Drum and
//! pitched patterns share one alphabet: `X` accent, `x` normal, `o` ghost, `?` a hit
//! decided per song (variation), `.` rest; pitched parts also use `-` to hold the
//! previous note, and bass parts `F` (fifth) and `O` (octave) instead of the root.

use super::synth::{Drum, Tone, Wave};

/// How a pitched part turns the bar's chord into notes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Style {
    /// The chord root (or fifth/octave as the pattern says).
    Bass,
    /// Walking bass: a quarter-note line through chord and scale tones.
    Walk,
    /// All chord tones at once.
    Chord,
    /// All chord tones, each string a few ms after the last (guitar strum).
    Strum,
    /// One chord tone per hit, cycling upward (arpeggio).
    Arp,
}

#[derive(Debug, Clone, Copy)]
pub struct DrumLine {
    pub drum: Drum,
    pub pattern: &'static str,
    pub level: f32,
    pub pan: f32,
}

#[derive(Debug, Clone, Copy)]
pub struct Part {
    pub tone: Tone,
    pub style: Style,
    pub pattern: &'static str,
    /// MIDI octave of the part's root (4 = middle C's octave).
    pub octave: i32,
    pub level: f32,
    pub pan: f32,
}

#[derive(Debug, Clone, Copy)]
pub struct Lead {
    pub tone: Tone,
    /// Chance that a note starts on a grid step.
    pub density: f32,
    /// Grid in sixteenths (2 = eighth notes, 4 = quarters).
    pub grid: usize,
    pub octave: i32,
    pub level: f32,
    pub pan: f32,
}

/// A background layer without rhythm.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Texture {
    /// Vinyl crackle and hiss.
    Vinyl,
    /// Slowly swelling filtered noise.
    Wind,
}

#[derive(Debug, Clone, Copy)]
pub struct Genre {
    pub name: &'static str,
    pub tempo: (f32, f32),
    /// Share of songs in a minor key.
    pub minor_share: f32,
    /// Master gain range in dB relative to the reference level.
    pub gain_db: (f32, f32),
    /// Delay of off-beat eighths as a share of a sixteenth (0 straight, ~0.33 swung).
    pub swing: f32,
    /// Chord progressions as 0-based scale degrees, one chord per bar.
    pub progressions: &'static [[usize; 4]],
    pub sevenths: bool,
    pub drums: &'static [DrumLine],
    pub bass: Part,
    pub harmony: Part,
    pub pulse: Option<Part>,
    pub lead: Option<Lead>,
    pub texture: Option<Texture>,
}

const POP: &[[usize; 4]] = &[[0, 4, 5, 3], [0, 5, 3, 4], [5, 3, 0, 4]];
const MINOR: &[[usize; 4]] = &[[0, 5, 2, 6], [0, 3, 4, 0], [0, 6, 5, 6], [0, 5, 3, 4]];
const JAZZ: &[[usize; 4]] = &[[1, 4, 0, 0], [0, 5, 1, 4], [2, 5, 1, 4]];
const ROCK: &[[usize; 4]] = &[[0, 3, 0, 4], [0, 6, 3, 0], [0, 4, 3, 3]];

const fn tone(wave: Wave, attack: f32, decay: f32, sustain: f32, release: f32) -> Tone {
    Tone {
        attack,
        decay,
        sustain,
        release,
        ..Tone::new(wave)
    }
}

const fn line(drum: Drum, pattern: &'static str, level: f32, pan: f32) -> DrumLine {
    DrumLine {
        drum,
        pattern,
        level,
        pan,
    }
}

const HOUSE_KICK: Drum = Drum::Kick {
    high: 160.0,
    low: 48.0,
    decay: 0.12,
    drive: 2.0,
};
const SUB_KICK: Drum = Drum::Kick {
    high: 120.0,
    low: 42.0,
    decay: 0.18,
    drive: 1.5,
};
const ROCK_KICK: Drum = Drum::Kick {
    high: 180.0,
    low: 60.0,
    decay: 0.08,
    drive: 3.0,
};
const SOFT_KICK: Drum = Drum::Kick {
    high: 110.0,
    low: 55.0,
    decay: 0.1,
    drive: 1.0,
};
const CLOSED: Drum = Drum::Hat { decay: 0.025 };
const OPEN: Drum = Drum::Hat { decay: 0.12 };

pub const GENRES: [Genre; 12] = [
    Genre {
        name: "house",
        tempo: (118.0, 128.0),
        minor_share: 0.5,
        gain_db: (3.0, 7.0),
        swing: 0.0,
        progressions: MINOR,
        sevenths: true,
        drums: &[
            line(HOUSE_KICK, "X...X...X...X...", 1.0, 0.0),
            line(Drum::Clap, "....x.......x...", 0.5, 0.1),
            line(OPEN, "..o...o...o...o.", 0.15, 0.3),
            line(CLOSED, "o.?.o.?.o.?.o.?o", 0.1, -0.3),
        ],
        bass: Part {
            tone: Tone {
                cutoff: Some((300.0, 900.0, 0.1)),
                ..tone(Wave::Saw, 0.003, 0.1, 0.6, 0.05)
            },
            style: Style::Bass,
            pattern: "..x-..x-..x-..xO",
            octave: 2,
            level: 0.5,
            pan: 0.0,
        },
        harmony: Part {
            tone: Tone {
                cutoff: Some((900.0, 2500.0, 0.15)),
                detune_cents: 12.0,
                ..tone(Wave::Saw, 0.005, 0.2, 0.3, 0.1)
            },
            style: Style::Chord,
            pattern: "...x-.x-...x-..o",
            octave: 4,
            level: 0.25,
            pan: 0.0,
        },
        pulse: None,
        lead: Some(Lead {
            tone: Tone {
                cutoff: Some((2000.0, 3000.0, 0.2)),
                ..tone(Wave::Square, 0.005, 0.1, 0.5, 0.1)
            },
            density: 0.4,
            grid: 2,
            octave: 5,
            level: 0.14,
            pan: 0.2,
        }),
        texture: None,
    },
    Genre {
        name: "techno",
        tempo: (126.0, 138.0),
        minor_share: 0.9,
        gain_db: (4.0, 8.0),
        swing: 0.0,
        progressions: &[[0, 0, 0, 0], [0, 0, 5, 0], [0, 0, 6, 0]],
        sevenths: false,
        drums: &[
            line(
                Drum::Kick {
                    high: 200.0,
                    low: 45.0,
                    decay: 0.15,
                    drive: 4.0,
                },
                "X...X...X...X...",
                1.0,
                0.0,
            ),
            line(CLOSED, "o.x.o.x.o.x.o.x.", 0.12, 0.3),
            line(Drum::Rim, "......x......x..", 0.2, -0.4),
            line(Drum::Clap, "....x.......x...", 0.3, 0.0),
        ],
        bass: Part {
            tone: Tone {
                cutoff: Some((200.0, 600.0, 0.05)),
                resonance: 0.5,
                ..tone(Wave::Square, 0.002, 0.08, 0.2, 0.05)
            },
            style: Style::Bass,
            pattern: ".xx..xx..xx..xx.",
            octave: 2,
            level: 0.4,
            pan: 0.0,
        },
        harmony: Part {
            tone: Tone {
                cutoff: Some((600.0, 4000.0, 0.08)),
                resonance: 0.7,
                ..tone(Wave::Saw, 0.002, 0.15, 0.0, 0.1)
            },
            style: Style::Chord,
            pattern: "..x.....x.x.....",
            octave: 3,
            level: 0.22,
            pan: -0.2,
        },
        pulse: None,
        lead: Some(Lead {
            tone: Tone {
                wave: Wave::Fm {
                    ratio: 3.5,
                    index: 4.0,
                    decay: 0.1,
                },
                ..tone(Wave::Sine, 0.002, 0.1, 0.2, 0.1)
            },
            density: 0.3,
            grid: 2,
            octave: 5,
            level: 0.12,
            pan: 0.4,
        }),
        texture: None,
    },
    Genre {
        name: "drum-and-bass",
        tempo: (164.0, 176.0),
        minor_share: 0.9,
        gain_db: (4.0, 8.0),
        swing: 0.0,
        progressions: MINOR,
        sevenths: true,
        drums: &[
            line(SUB_KICK, "X.........x.....", 1.0, 0.0),
            line(
                Drum::Snare {
                    tone: 220.0,
                    decay: 0.1,
                    noise: 0.7,
                },
                "....X.......X..o",
                0.9,
                0.05,
            ),
            line(Drum::Shaker, "x.x.x.x.x.x.x.x.", 0.18, -0.3),
            line(Drum::Ride, "X...X...X...X...", 0.2, 0.35),
        ],
        bass: Part {
            tone: tone(Wave::Sine, 0.01, 0.3, 0.8, 0.1),
            style: Style::Bass,
            // On beats 1 and 3: a sub note entering on the "and" of 3 (the genre's usual
            // syncopation) made the analysis hear half time in 15 of 26 songs.
            pattern: "x-------x-------",
            octave: 1,
            level: 0.7,
            pan: 0.0,
        },
        harmony: Part {
            tone: Tone {
                cutoff: Some((1500.0, 0.0, 1.0)),
                detune_cents: 15.0,
                ..tone(Wave::Saw, 0.4, 1.0, 0.8, 0.8)
            },
            style: Style::Chord,
            pattern: "x---------------",
            octave: 4,
            level: 0.14,
            pan: 0.0,
        },
        pulse: None,
        lead: Some(Lead {
            tone: Tone {
                vibrato: (5.0, 0.1),
                ..tone(Wave::Triangle, 0.02, 0.3, 0.6, 0.3)
            },
            density: 0.25,
            grid: 4,
            octave: 5,
            level: 0.15,
            pan: -0.2,
        }),
        texture: Some(Texture::Wind),
    },
    Genre {
        name: "hip-hop",
        tempo: (82.0, 96.0),
        minor_share: 0.7,
        gain_db: (1.0, 5.0),
        swing: 0.3,
        progressions: MINOR,
        sevenths: true,
        drums: &[
            line(
                Drum::Kick {
                    high: 130.0,
                    low: 50.0,
                    decay: 0.22,
                    drive: 1.5,
                },
                "X.....x.X.?.....",
                1.0,
                0.0,
            ),
            line(
                Drum::Snare {
                    tone: 180.0,
                    decay: 0.12,
                    noise: 0.6,
                },
                "....X.......X...",
                0.9,
                0.0,
            ),
            line(CLOSED, "x.o.x.o.x.o.x.o.", 0.12, 0.25),
        ],
        bass: Part {
            tone: tone(Wave::Sine, 0.005, 0.4, 0.6, 0.1),
            style: Style::Bass,
            pattern: "X-----x-X-x-----",
            octave: 1,
            level: 0.6,
            pan: 0.0,
        },
        harmony: Part {
            tone: tone(
                Wave::Fm {
                    ratio: 1.0,
                    index: 1.5,
                    decay: 0.4,
                },
                0.005,
                0.8,
                0.3,
                0.3,
            ),
            style: Style::Chord,
            pattern: "x-------..x-----",
            octave: 4,
            level: 0.22,
            pan: -0.15,
        },
        pulse: None,
        lead: Some(Lead {
            tone: Tone {
                wave: Wave::Fm {
                    ratio: 4.0,
                    index: 2.0,
                    decay: 0.2,
                },
                ..tone(Wave::Sine, 0.003, 0.3, 0.2, 0.2)
            },
            density: 0.3,
            grid: 2,
            octave: 5,
            level: 0.1,
            pan: 0.3,
        }),
        texture: Some(Texture::Vinyl),
    },
    Genre {
        name: "rock",
        tempo: (100.0, 150.0),
        minor_share: 0.3,
        gain_db: (2.0, 7.0),
        swing: 0.0,
        progressions: ROCK,
        sevenths: false,
        drums: &[
            line(ROCK_KICK, "X.....x.X.......", 1.0, 0.0),
            line(
                Drum::Snare {
                    tone: 200.0,
                    decay: 0.15,
                    noise: 0.6,
                },
                "....X.......X...",
                1.0,
                0.0,
            ),
            line(CLOSED, "x.o.x.o.x.o.x.o.", 0.15, 0.3),
        ],
        bass: Part {
            tone: Tone {
                cutoff: Some((500.0, 800.0, 0.1)),
                drive: 2.0,
                ..tone(Wave::Saw, 0.003, 0.2, 0.6, 0.05)
            },
            style: Style::Bass,
            pattern: "x.x.x.x.x.x.x.x.",
            octave: 2,
            level: 0.4,
            pan: 0.0,
        },
        harmony: Part {
            tone: Tone {
                cutoff: Some((2500.0, 1000.0, 0.1)),
                drive: 6.0,
                detune_cents: 8.0,
                ..tone(Wave::Saw, 0.003, 0.3, 0.7, 0.05)
            },
            style: Style::Strum,
            pattern: "X-x-X-x-X-x-X-x-",
            octave: 3,
            level: 0.2,
            pan: -0.3,
        },
        pulse: None,
        lead: Some(Lead {
            tone: Tone {
                drive: 5.0,
                vibrato: (5.5, 0.15),
                cutoff: Some((3000.0, 0.0, 1.0)),
                ..tone(Wave::Square, 0.01, 0.3, 0.8, 0.1)
            },
            density: 0.35,
            grid: 2,
            octave: 5,
            level: 0.12,
            pan: 0.35,
        }),
        texture: None,
    },
    Genre {
        name: "metal",
        tempo: (140.0, 176.0),
        minor_share: 1.0,
        gain_db: (5.0, 9.0),
        swing: 0.0,
        progressions: &[[0, 0, 6, 5], [0, 1, 0, 6], [0, 5, 6, 0]],
        sevenths: false,
        drums: &[
            line(ROCK_KICK, "x.x.x.x.x.x.x.x.", 0.8, 0.0),
            line(
                Drum::Snare {
                    tone: 230.0,
                    decay: 0.12,
                    noise: 0.7,
                },
                "....X.......X...",
                1.0,
                0.0,
            ),
            line(Drum::Ride, "X...X...X...X...", 0.35, 0.3),
        ],
        bass: Part {
            tone: Tone {
                drive: 4.0,
                cutoff: Some((700.0, 500.0, 0.1)),
                ..tone(Wave::Saw, 0.002, 0.1, 0.7, 0.03)
            },
            style: Style::Bass,
            pattern: "x.x.x.x.x.x.x.x.",
            octave: 1,
            level: 0.35,
            pan: 0.0,
        },
        harmony: Part {
            tone: Tone {
                drive: 12.0,
                detune_cents: 10.0,
                cutoff: Some((3500.0, 0.0, 1.0)),
                ..tone(Wave::Saw, 0.002, 0.1, 0.8, 0.03)
            },
            style: Style::Strum,
            pattern: "X-x-x-x-X-x-x-x-",
            octave: 2,
            level: 0.25,
            pan: 0.0,
        },
        pulse: None,
        lead: Some(Lead {
            tone: Tone {
                drive: 8.0,
                vibrato: (6.0, 0.2),
                ..tone(Wave::Saw, 0.005, 0.2, 0.8, 0.1)
            },
            density: 0.5,
            grid: 2,
            octave: 5,
            level: 0.1,
            pan: 0.2,
        }),
        texture: None,
    },
    Genre {
        name: "jazz",
        tempo: (96.0, 150.0),
        minor_share: 0.3,
        gain_db: (-5.0, 0.0),
        swing: 0.33,
        progressions: JAZZ,
        sevenths: true,
        drums: &[
            line(Drum::Ride, "X...x.x.X...x.x.", 0.6, 0.3),
            line(Drum::Brush, "....x.......x...", 0.35, -0.2),
            line(SOFT_KICK, "o...o...o...o...", 0.4, 0.0),
        ],
        bass: Part {
            tone: Tone {
                cutoff: Some((600.0, 600.0, 0.1)),
                ..tone(Wave::Triangle, 0.005, 0.3, 0.4, 0.08)
            },
            style: Style::Walk,
            pattern: "X...x...x...x...",
            octave: 2,
            level: 0.6,
            pan: 0.0,
        },
        harmony: Part {
            tone: tone(
                Wave::Fm {
                    ratio: 1.0,
                    index: 2.0,
                    decay: 0.3,
                },
                0.003,
                0.6,
                0.2,
                0.2,
            ),
            style: Style::Chord,
            pattern: "......x-......x-",
            octave: 4,
            level: 0.2,
            pan: -0.25,
        },
        pulse: None,
        lead: Some(Lead {
            tone: Tone {
                cutoff: Some((1800.0, 800.0, 0.2)),
                vibrato: (5.0, 0.12),
                ..tone(Wave::Saw, 0.03, 0.3, 0.7, 0.1)
            },
            density: 0.45,
            grid: 2,
            octave: 4,
            level: 0.14,
            pan: 0.2,
        }),
        texture: None,
    },
    Genre {
        name: "folk",
        tempo: (88.0, 118.0),
        minor_share: 0.35,
        gain_db: (-3.0, 2.0),
        swing: 0.1,
        progressions: POP,
        sevenths: false,
        drums: &[
            line(SOFT_KICK, "X.......x.......", 0.6, 0.0),
            line(Drum::Shaker, "....x.......x...", 0.4, 0.4),
        ],
        bass: Part {
            tone: tone(Wave::Pluck { damping: 0.6 }, 0.001, 0.5, 0.5, 0.1),
            style: Style::Bass,
            pattern: "x-------F-------",
            octave: 2,
            level: 0.5,
            pan: 0.0,
        },
        harmony: Part {
            tone: tone(Wave::Pluck { damping: 0.2 }, 0.001, 1.0, 0.8, 0.1),
            style: Style::Strum,
            pattern: "X-o-x-o-X-o-x-o-",
            octave: 3,
            level: 0.35,
            pan: -0.2,
        },
        pulse: None,
        lead: Some(Lead {
            tone: Tone {
                vibrato: (5.0, 0.1),
                ..tone(Wave::Triangle, 0.04, 0.3, 0.7, 0.15)
            },
            density: 0.35,
            grid: 2,
            octave: 5,
            level: 0.15,
            pan: 0.25,
        }),
        texture: None,
    },
    Genre {
        name: "ambient",
        tempo: (72.0, 90.0),
        minor_share: 0.5,
        gain_db: (-10.0, -4.0),
        swing: 0.0,
        progressions: &[[0, 3, 0, 4], [0, 5, 3, 0], [0, 2, 3, 0]],
        sevenths: true,
        drums: &[],
        bass: Part {
            tone: tone(Wave::Sine, 1.0, 2.0, 0.8, 1.5),
            style: Style::Bass,
            pattern: "x---------------",
            octave: 2,
            level: 0.4,
            pan: 0.0,
        },
        harmony: Part {
            tone: Tone {
                cutoff: Some((900.0, 0.0, 1.0)),
                detune_cents: 18.0,
                ..tone(Wave::Organ, 1.2, 2.0, 0.8, 2.0)
            },
            style: Style::Chord,
            pattern: "x---------------",
            octave: 4,
            level: 0.25,
            pan: 0.0,
        },
        pulse: Some(Part {
            tone: tone(
                Wave::Fm {
                    ratio: 3.5,
                    index: 2.5,
                    decay: 0.5,
                },
                0.002,
                1.0,
                0.0,
                0.8,
            ),
            style: Style::Arp,
            pattern: "X...x...x...x...",
            octave: 5,
            level: 0.3,
            pan: 0.3,
        }),
        lead: None,
        texture: Some(Texture::Wind),
    },
    Genre {
        name: "classical",
        tempo: (76.0, 112.0),
        minor_share: 0.4,
        gain_db: (-9.0, -3.0),
        swing: 0.0,
        progressions: POP,
        sevenths: false,
        drums: &[],
        bass: Part {
            tone: Tone {
                vibrato: (5.0, 0.08),
                cutoff: Some((900.0, 0.0, 1.0)),
                ..tone(Wave::Saw, 0.05, 0.3, 0.7, 0.2)
            },
            style: Style::Bass,
            pattern: "X---x---X---x---",
            octave: 2,
            level: 0.4,
            pan: 0.1,
        },
        harmony: Part {
            tone: Tone {
                vibrato: (5.5, 0.06),
                cutoff: Some((1600.0, 0.0, 1.0)),
                detune_cents: 6.0,
                ..tone(Wave::Saw, 0.3, 1.0, 0.8, 0.5)
            },
            style: Style::Chord,
            pattern: "x---------------",
            octave: 4,
            level: 0.14,
            pan: -0.1,
        },
        pulse: Some(Part {
            tone: tone(Wave::Pluck { damping: 0.1 }, 0.001, 1.0, 0.8, 0.3),
            style: Style::Arp,
            pattern: "X---x---x---x---",
            octave: 4,
            level: 0.45,
            pan: 0.2,
        }),
        lead: Some(Lead {
            tone: Tone {
                vibrato: (5.5, 0.1),
                cutoff: Some((2500.0, 0.0, 1.0)),
                ..tone(Wave::Triangle, 0.06, 0.3, 0.8, 0.2)
            },
            density: 0.5,
            grid: 4,
            octave: 5,
            level: 0.16,
            pan: 0.0,
        }),
        texture: None,
    },
    Genre {
        name: "reggae",
        tempo: (72.0, 92.0),
        minor_share: 0.4,
        gain_db: (-1.0, 4.0),
        swing: 0.1,
        progressions: &[[0, 3, 0, 3], [0, 4, 3, 0], [0, 5, 3, 4]],
        sevenths: false,
        drums: &[
            line(SOFT_KICK, "........X.......", 1.0, 0.0),
            line(Drum::Rim, "........x.......", 0.5, -0.2),
            line(CLOSED, "x.o.x.o.x.o.x.o.", 0.2, 0.3),
        ],
        bass: Part {
            tone: Tone {
                cutoff: Some((400.0, 300.0, 0.2)),
                ..tone(Wave::Sine, 0.01, 0.3, 0.7, 0.08)
            },
            style: Style::Bass,
            pattern: "X-----x.F---x.O.",
            octave: 1,
            level: 0.7,
            pan: 0.0,
        },
        harmony: Part {
            tone: Tone {
                cutoff: Some((1800.0, 1500.0, 0.05)),
                ..tone(Wave::Square, 0.002, 0.08, 0.0, 0.05)
            },
            style: Style::Chord,
            pattern: "....x.......x...",
            octave: 4,
            level: 0.3,
            pan: -0.25,
        },
        pulse: Some(Part {
            tone: tone(Wave::Organ, 0.005, 0.1, 0.3, 0.05),
            style: Style::Chord,
            pattern: "..o...o...o...o.",
            octave: 4,
            level: 0.12,
            pan: 0.3,
        }),
        lead: Some(Lead {
            tone: Tone {
                vibrato: (5.0, 0.1),
                ..tone(Wave::Triangle, 0.02, 0.3, 0.6, 0.2)
            },
            density: 0.25,
            grid: 4,
            octave: 5,
            level: 0.12,
            pan: 0.15,
        }),
        texture: None,
    },
    Genre {
        name: "synthwave",
        tempo: (88.0, 118.0),
        minor_share: 0.8,
        gain_db: (2.0, 6.0),
        swing: 0.0,
        progressions: MINOR,
        sevenths: false,
        drums: &[
            line(HOUSE_KICK, "X.......X.......", 1.0, 0.0),
            line(
                Drum::Snare {
                    tone: 180.0,
                    decay: 0.25,
                    noise: 0.75,
                },
                "....X.......X...",
                0.9,
                0.0,
            ),
            line(CLOSED, "x.x.x.x.x.x.x.x.", 0.12, 0.35),
        ],
        bass: Part {
            tone: Tone {
                cutoff: Some((350.0, 700.0, 0.08)),
                ..tone(Wave::Saw, 0.003, 0.1, 0.5, 0.04)
            },
            style: Style::Bass,
            pattern: "xOxOxOxOxOxOxOxO",
            octave: 1,
            level: 0.4,
            pan: 0.0,
        },
        harmony: Part {
            tone: Tone {
                cutoff: Some((1400.0, 0.0, 1.0)),
                detune_cents: 16.0,
                ..tone(Wave::Saw, 0.3, 1.0, 0.8, 0.6)
            },
            style: Style::Chord,
            pattern: "x---------------",
            octave: 4,
            level: 0.16,
            pan: 0.0,
        },
        pulse: Some(Part {
            tone: Tone {
                cutoff: Some((2500.0, 1500.0, 0.05)),
                ..tone(Wave::Square, 0.002, 0.1, 0.2, 0.05)
            },
            style: Style::Arp,
            pattern: "x.x.x.x.x.x.x.x.",
            octave: 4,
            level: 0.14,
            pan: -0.35,
        }),
        lead: Some(Lead {
            tone: Tone {
                vibrato: (5.5, 0.12),
                detune_cents: 10.0,
                cutoff: Some((3000.0, 0.0, 1.0)),
                ..tone(Wave::Saw, 0.02, 0.3, 0.7, 0.2)
            },
            density: 0.3,
            grid: 4,
            octave: 5,
            level: 0.12,
            pan: 0.2,
        }),
        texture: None,
    },
];
