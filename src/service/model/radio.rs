//! A radio: an endless-feeling list of songs grown from one seed — a song or an
//! artist — then re-ranked for the listener.
//!
//! Two steps, so the heavy personal part can run wherever the listener's model
//! lives (the owner actor) while the rest runs on any node:
//!
//! 1. [`candidates`]: every song scored by closeness to the seed — audio similarity
//!    (scaled features, as the content baseline measures it) plus co-occurrence
//!    ([`crate::model::cooccurrence`], weighted by [`RADIO_COOC_WEIGHT`]) — keeping the
//!    best [`RADIO_POOL`]. An artist seed uses the artist's songs as seeds and keeps
//!    some of the artist's own songs.
//! 2. [`rank`]: closeness plus [`PERSONAL_WEIGHT`] × the listener's own score for
//!    each candidate (`None` = the listener rejected or just played it: left out),
//!    then a greedy pass: never the seed song, never a song twice, never the same
//!    artist back to back while another fits, at most [`MAX_PER_ARTIST`] songs of one
//!    artist (the seed artist may fill up to half an artist radio).
//!
//! Without the listener's scores (the owner unreachable) step 2 still runs with
//! closeness alone: a degraded radio is still a radio.

use std::collections::HashMap;
use std::fmt;

use super::catalog_index::CatalogIndex;
use super::neighbours::distance2;
use crate::catalog::{SongId, FEATURE_COUNT};

/// Candidates kept for ranking: several pages' worth, so that the listener's own
/// scores have room to reorder and exclusions do not leave the page short.
pub const RADIO_POOL: usize = 300;
/// Weight of the listener's own score (a probability, or a cold-start score) next
/// to closeness to the seed (≈ [0, 2]). Below one, so the seed stays the theme.
pub const PERSONAL_WEIGHT: f32 = 0.5;
/// Weight of co-occurrence next to audio similarity, both in [0, 1]: the strongest
/// co-occurrence (everyone who finished the seed finished this) counts as much as a
/// sonic twin. (Higher than the feed's blend: here it measures closeness to one
/// seed, not taste.)
pub const RADIO_COOC_WEIGHT: f32 = 1.0;
/// Songs of one artist per radio page (other than the seed artist's).
pub const MAX_PER_ARTIST: usize = 3;
/// An artist radio seeds from at most this many of the artist's songs (most
/// popular first): enough to cover their styles, bounded cost.
pub const ARTIST_SEEDS: usize = 20;
/// Closeness given to the seed artist's own songs in an artist radio.
const OWN_SONG_CLOSENESS: f32 = 1.0;

/// What a radio grows from, resolved against the catalog.
#[derive(Debug, Clone, PartialEq)]
pub enum Seed {
    Song(u32),
    /// The artist's songs (catalog indices, most popular first) and their name.
    Artist {
        name: String,
        songs: Vec<u32>,
    },
}

impl Seed {
    /// An artist seed, matching the name without regard to case; `None` when the
    /// catalog has no song by that artist.
    pub fn artist(index: &CatalogIndex, name: &str) -> Option<Seed> {
        let all = index.catalog().songs();
        let songs: Vec<u32> = index
            .popular()
            .iter()
            .copied()
            .filter(|&i| all[i as usize].artist.eq_ignore_ascii_case(name.trim()))
            .collect();
        let first = songs.first()?;
        Some(Seed::Artist {
            name: all[*first as usize].artist.clone(),
            songs,
        })
    }

    fn seeds(&self) -> &[u32] {
        match self {
            Seed::Song(s) => std::slice::from_ref(s),
            Seed::Artist { songs, .. } => &songs[..songs.len().min(ARTIST_SEEDS)],
        }
    }
}

/// Why a song is on the radio.
#[derive(Debug, Clone, PartialEq)]
pub enum RadioReason {
    SoundsLike { title: String },
    AlsoFinished { title: String },
    ByArtist { artist: String },
}

impl fmt::Display for RadioReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RadioReason::SoundsLike { title } => write!(f, "sounds like \u{201c}{title}\u{201d}"),
            RadioReason::AlsoFinished { title } => write!(
                f,
                "listeners who finished \u{201c}{title}\u{201d} also finished this"
            ),
            RadioReason::ByArtist { artist } => write!(f, "more from {artist}"),
        }
    }
}

/// A song considered for the radio.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub song: u32,
    /// Closeness to the seed: audio similarity plus weighted co-occurrence.
    pub closeness: f32,
    pub reason: RadioReason,
}

/// One radio entry.
#[derive(Debug, Clone, PartialEq)]
pub struct RadioItem {
    pub song_id: SongId,
    pub score: f32,
    pub reason: RadioReason,
}

/// The songs closest to the seed, closest first (at most [`RADIO_POOL`]); never a
/// song-seed itself.
pub fn candidates(index: &CatalogIndex, seed: &Seed) -> Vec<Candidate> {
    let all = index.catalog().songs();
    let features = index.features();
    let cooc = index.cooc();
    let seeds = seed.seeds();
    let mut co: HashMap<u32, (f32, u32)> = HashMap::new();
    for &s in seeds {
        for &(nb, sim) in cooc.of(s) {
            let e = co.entry(nb).or_insert((0.0, s));
            if sim > e.0 {
                *e = (sim, s);
            }
        }
    }
    let title = |s: u32| all[s as usize].title.clone();
    let mut out: Vec<Candidate> = Vec::new();
    for j in 0..all.len() as u32 {
        if matches!(seed, Seed::Song(s) if *s == j) {
            continue;
        }
        if let Seed::Artist { name, .. } = seed {
            if all[j as usize].artist == *name {
                out.push(Candidate {
                    song: j,
                    closeness: OWN_SONG_CLOSENESS,
                    reason: RadioReason::ByArtist {
                        artist: name.clone(),
                    },
                });
                continue;
            }
        }
        let Some(x) = features.scaled(j as usize) else {
            continue;
        };
        let (mut audio, mut nearest) = (0.0f32, seeds[0]);
        for &s in seeds {
            if let Some(y) = features.scaled(s as usize) {
                let sim = (-distance2(x, y) / FEATURE_COUNT as f32).exp();
                if sim > audio {
                    (audio, nearest) = (sim, s);
                }
            }
        }
        let (co_sim, via) = co.get(&j).copied().unwrap_or((0.0, nearest));
        let reason = if RADIO_COOC_WEIGHT * co_sim >= audio {
            RadioReason::AlsoFinished { title: title(via) }
        } else {
            RadioReason::SoundsLike {
                title: title(nearest),
            }
        };
        out.push(Candidate {
            song: j,
            closeness: audio + RADIO_COOC_WEIGHT * co_sim,
            reason,
        });
    }
    out.sort_by(|a, b| {
        b.closeness
            .total_cmp(&a.closeness)
            .then(a.song.cmp(&b.song))
    });
    out.truncate(RADIO_POOL);
    out
}

/// Re-ranks candidates with the listener's scores (one per candidate, `None` = leave
/// out; no scores at all = closeness alone) and picks at most `limit` songs.
pub fn rank(
    index: &CatalogIndex,
    seed: &Seed,
    candidates: &[Candidate],
    personal: Option<&[Option<f32>]>,
    limit: usize,
) -> Vec<RadioItem> {
    let all = index.catalog().songs();
    let mut scored: Vec<(f32, &Candidate)> = candidates
        .iter()
        .enumerate()
        .filter_map(|(i, c)| match personal {
            None => Some((c.closeness, c)),
            Some(p) => p
                .get(i)
                .copied()
                .flatten()
                .map(|s| (c.closeness + PERSONAL_WEIGHT * s, c)),
        })
        .filter(|(s, _)| s.is_finite())
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.song.cmp(&b.1.song)));
    let seed_artist = match seed {
        Seed::Artist { name, .. } => Some(name.as_str()),
        Seed::Song(_) => None,
    };
    let cap = |artist: &str| match seed_artist {
        Some(a) if a == artist => limit.div_ceil(2).max(1),
        _ => MAX_PER_ARTIST,
    };
    let mut used = vec![false; scored.len()];
    let mut per_artist: HashMap<&str, usize> = HashMap::new();
    let mut out: Vec<RadioItem> = Vec::with_capacity(limit);
    let mut prev_artist: Option<&str> = None;
    while out.len() < limit {
        let pick = [true, false].into_iter().find_map(|apart| {
            scored.iter().enumerate().position(|(i, (_, c))| {
                let artist = all[c.song as usize].artist.as_str();
                !used[i]
                    && per_artist.get(artist).copied().unwrap_or(0) < cap(artist)
                    && (!apart || prev_artist != Some(artist))
            })
        });
        let Some(i) = pick else { break };
        used[i] = true;
        let (score, c) = scored[i];
        let song = &all[c.song as usize];
        *per_artist.entry(song.artist.as_str()).or_default() += 1;
        prev_artist = Some(song.artist.as_str());
        out.push(RadioItem {
            song_id: song.id.clone(),
            score,
            reason: c.reason.clone(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Catalog, Features, Song, SongSource};
    use crate::model::cooccurrence::table::{CoocEntry, CoocTable};
    use std::collections::HashSet;
    use std::sync::Arc;

    /// 400 songs: 4 genres apart in feature space, 40 artists of 10 songs each, and a
    /// little spread within each artist (a deterministic hash as noise).
    fn index() -> CatalogIndex {
        let noise = |i: usize, f: usize| {
            let h = (i * 2_654_435_761 + f * 40_503) % 1000;
            h as f32 / 1000.0 - 0.5
        };
        let songs = (0..400)
            .map(|i| {
                let (genre, artist) = (i % 4, i % 40);
                let g = genre as f32;
                let a = artist as f32 / 40.0;
                let raw = std::array::from_fn(|f| 10.0 * g + 3.0 * a + noise(i, f) + f as f32);
                Song {
                    id: SongId::parse(&format!("s-{i:04}")).unwrap(),
                    title: format!("Song {i}"),
                    artist: format!("Artist {artist}"),
                    album: format!("Album {artist}"),
                    genre: format!("genre-{genre}"),
                    duration_ms: 200_000,
                    year: None,
                    source: SongSource::Imported {
                        path: format!("/nonexistent/{i}.ogg").into(),
                        size: 0,
                        mtime_ms: 0,
                    },
                    features: Features::from_raw(raw),
                    popularity: (i as f32 * 0.37).fract(),
                }
            })
            .collect();
        CatalogIndex::build(Arc::new(Catalog::new(songs)))
    }

    #[test]
    fn a_song_radio_never_has_the_seed_or_a_song_twice() {
        let index = index();
        let seed = Seed::Song(5);
        let cands = candidates(&index, &seed);
        assert_eq!(cands.len(), RADIO_POOL);
        let items = rank(&index, &seed, &cands, None, 50);
        assert_eq!(items.len(), 50);
        let seed_id = &index.catalog().songs()[5].id;
        assert!(items.iter().all(|i| &i.song_id != seed_id));
        let distinct: HashSet<_> = items.iter().map(|i| &i.song_id).collect();
        assert_eq!(distinct.len(), items.len());
        // Closest by sound first: the top item is among the seed's audio neighbours.
        let first = index.index_of(&items[0].song_id).unwrap();
        assert!(index.neighbours().of(5).any(|n| n == first));
    }

    #[test]
    fn co_occurrence_partners_come_in_with_their_reason() {
        let index = index();
        let all = index.catalog().songs();
        // A far-away song that listeners finish with song 5.
        let far = (0..all.len() as u32)
            .rev()
            .find(|&j| all[j as usize].genre != all[5].genre)
            .unwrap();
        index.cooc_handle().publish(CoocTable {
            version: 1,
            entries: vec![CoocEntry {
                song: all[5].id.clone(),
                neighbours: vec![(all[far as usize].id.clone(), 1.0)],
            }],
        });
        let seed = Seed::Song(5);
        let items = rank(&index, &seed, &candidates(&index, &seed), None, 10);
        let hit = items
            .iter()
            .find(|i| i.song_id == all[far as usize].id)
            .expect("the co-occurring song is on the radio");
        assert!(hit.reason.to_string().starts_with("listeners who finished"));
    }

    #[test]
    fn the_listeners_scores_reorder_and_exclude() {
        let index = index();
        let seed = Seed::Song(5);
        let cands = candidates(&index, &seed);
        let plain = rank(&index, &seed, &cands, None, 10);
        // The listener rejected the top song, and loves the 100th candidate.
        let mut personal: Vec<Option<f32>> = vec![Some(0.0); cands.len()];
        let top = cands
            .iter()
            .position(|c| index.catalog().songs()[c.song as usize].id == plain[0].song_id)
            .unwrap();
        personal[top] = None;
        personal[99] = Some(1.0);
        let mine = rank(&index, &seed, &cands, Some(&personal), 10);
        assert!(mine.iter().all(|i| i.song_id != plain[0].song_id));
        let loved = &index.catalog().songs()[cands[99].song as usize].id;
        assert!(
            mine.iter().any(|i| &i.song_id == loved),
            "a loved song rises"
        );
    }

    #[test]
    fn an_artist_radio_mixes_the_artist_with_others() {
        let index = index();
        let artist = index.catalog().songs()[3].artist.clone();
        let seed = Seed::artist(&index, &artist.to_uppercase()).expect("artist found");
        let items = rank(&index, &seed, &candidates(&index, &seed), None, 20);
        assert_eq!(items.len(), 20);
        let own = items
            .iter()
            .filter(|i| matches!(&i.reason, RadioReason::ByArtist { .. }))
            .count();
        assert!((1..=10).contains(&own), "{own} of 20 by the seed artist");
        assert!(Seed::artist(&index, "nobody at all").is_none());
    }
}
