//! Made-up titles, artists and albums for demo songs, drawn from word lists with the
//! catalog's seeded RNG (so a seed always names its catalog the same way).

use rand::seq::IndexedRandom;
use rand::Rng;

const ADJECTIVES: &[&str] = &[
    "Amber",
    "Broken",
    "Crimson",
    "Distant",
    "Electric",
    "Faded",
    "Golden",
    "Hollow",
    "Indigo",
    "Jagged",
    "Lunar",
    "Midnight",
    "Neon",
    "Paper",
    "Quiet",
    "Restless",
    "Silver",
    "Slow",
    "Velvet",
    "Wild",
    "Frozen",
    "Burning",
    "Secret",
    "Endless",
    "Glass",
    "Iron",
    "Northern",
    "Sunlit",
    "Static",
    "Wandering",
];
const NOUNS: &[&str] = &[
    "Harbor",
    "Signal",
    "River",
    "Engine",
    "Garden",
    "Orbit",
    "Lantern",
    "Canyon",
    "Mirror",
    "Tide",
    "Circuit",
    "Meadow",
    "Tower",
    "Echo",
    "Comet",
    "Horizon",
    "Window",
    "Ember",
    "Satellite",
    "Valley",
    "Bridge",
    "Forest",
    "Island",
    "Machine",
    "Ocean",
    "Road",
    "Storm",
    "Thunder",
    "Winter",
    "Summer",
];
const VERBS: &[&str] = &[
    "Chasing", "Falling", "Running", "Waiting", "Dreaming", "Burning", "Drifting", "Dancing",
    "Leaving", "Holding", "Turning", "Calling",
];
const FIRST: &[&str] = &[
    "Ada", "Bruno", "Clara", "Dmitri", "Elena", "Femi", "Greta", "Hiro", "Ines", "Jonas", "Kofi",
    "Lena", "Mateo", "Nora", "Omar", "Priya", "Rosa", "Sven", "Tomás", "Yuki",
];
const LAST: &[&str] = &[
    "Alvarez",
    "Berg",
    "Castell",
    "Duarte",
    "Eriksen",
    "Fontaine",
    "Gallo",
    "Hale",
    "Ivanova",
    "Jansen",
    "Kowalski",
    "Lindqvist",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Petrov",
    "Quinn",
    "Rossi",
    "Sato",
    "Varga",
];
const GROUP_SUFFIX: &[&str] = &[
    "Collective",
    "Trio",
    "Quartet",
    "Ensemble",
    "Orchestra",
    "Sound System",
    "Club",
];

fn pick<R: Rng + ?Sized>(rng: &mut R, words: &[&'static str]) -> &'static str {
    words.choose(rng).copied().unwrap_or("Untitled")
}

/// An artist name that fits the genre's conventions (DJs, bands, ensembles, soloists).
pub fn artist<R: Rng + ?Sized>(rng: &mut R, genre: &str) -> String {
    let solo = format!("{} {}", pick(rng, FIRST), pick(rng, LAST));
    match (genre, rng.random_range(0..3)) {
        ("house" | "techno" | "drum-and-bass" | "synthwave", 0) => {
            format!("DJ {}", pick(rng, NOUNS))
        }
        ("house" | "techno" | "drum-and-bass" | "synthwave", _) => {
            format!("{} {}", pick(rng, ADJECTIVES), pick(rng, NOUNS))
        }
        ("hip-hop", 0) => format!("MC {}", pick(rng, NOUNS)),
        ("hip-hop", _) => format!("Lil {}", pick(rng, NOUNS)),
        ("rock" | "metal", 0) => format!("The {} {}s", pick(rng, ADJECTIVES), pick(rng, NOUNS)),
        ("rock" | "metal", _) => format!("{} {}", pick(rng, NOUNS), pick(rng, NOUNS)),
        ("reggae", 0) => format!("{} & the {}s", pick(rng, FIRST), pick(rng, NOUNS)),
        ("jazz" | "classical", 0) => format!("The {} {}", pick(rng, LAST), pick(rng, GROUP_SUFFIX)),
        (_, 0) => format!("{} {}", pick(rng, ADJECTIVES), pick(rng, GROUP_SUFFIX)),
        _ => solo,
    }
}

pub fn album<R: Rng + ?Sized>(rng: &mut R) -> String {
    match rng.random_range(0..3) {
        0 => format!("{} {}", pick(rng, ADJECTIVES), pick(rng, NOUNS)),
        1 => format!("{} of the {}", pick(rng, NOUNS), pick(rng, NOUNS)),
        _ => format!("{}s", pick(rng, NOUNS)),
    }
}

pub fn title<R: Rng + ?Sized>(rng: &mut R) -> String {
    match rng.random_range(0..4) {
        0 => format!("{} {}", pick(rng, ADJECTIVES), pick(rng, NOUNS)),
        1 => format!("{} the {}", pick(rng, VERBS), pick(rng, NOUNS)),
        2 => format!("{} & {}", pick(rng, NOUNS), pick(rng, NOUNS)),
        _ => pick(rng, NOUNS).to_owned(),
    }
}
