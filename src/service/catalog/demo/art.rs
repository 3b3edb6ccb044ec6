//! Generated cover art: one SVG per album — every track of an album shows the same
//! cover. Colours come from the genre's palette, the kind of shapes from the artist (an
//! artist's albums look related), their layout from the album; the album title and the
//! artist are written on it (XML-escaped: they are data).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::catalog::Song;

/// Cover side in SVG user units.
const SIZE: u32 = 300;
/// Title/artist are cut to this many characters so they fit the cover.
const MAX_TEXT_CHARS: usize = 26;

/// Four colours per genre: background from/to and two accents.
fn palette(genre: &str) -> [&'static str; 4] {
    match genre {
        "house" => ["#1b1464", "#6f1e51", "#f79f1f", "#12cbc4"],
        "techno" => ["#0b0b0b", "#2d3436", "#00d2d3", "#c8d6e5"],
        "drum-and-bass" => ["#130f40", "#30336b", "#e056fd", "#7ed6df"],
        "hip-hop" => ["#2d1e12", "#6d4c41", "#ffb142", "#ff5252"],
        "rock" => ["#2c2c2c", "#8e1b1b", "#f5f6fa", "#e1b12c"],
        "metal" => ["#000000", "#3d0000", "#b33939", "#aaaaaa"],
        "jazz" => ["#0c2461", "#1e3799", "#f6b93b", "#fad390"],
        "folk" => ["#3b5e2b", "#a47148", "#f4e285", "#f7b267"],
        "ambient" => ["#a8d8ea", "#aa96da", "#fcbad3", "#ffffd2"],
        "classical" => ["#f5f0e1", "#c9b79c", "#7b5e57", "#3e2723"],
        "reggae" => ["#1e5128", "#d4a017", "#c0392b", "#27ae60"],
        "synthwave" => ["#2b0f54", "#ab1f65", "#ff4f69", "#fff7ad"],
        _ => ["#222f3e", "#576574", "#ff9f43", "#54a0ff"],
    }
}

/// Escapes text for XML character data and attribute values.
pub fn escape_xml(s: &str) -> String {
    // XML 1.0 cannot carry control characters at all: drop them, then escape.
    let text: String = s.chars().filter(|c| !c.is_control()).collect();
    quick_xml::escape::escape(&text).into_owned()
}

fn clip(s: &str) -> String {
    if s.chars().count() <= MAX_TEXT_CHARS {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(MAX_TEXT_CHARS - 1).collect();
        t.push('…');
        t
    }
}

/// FNV-1a: a stable hash of the id (std's hasher is not stable across releases).
fn stable_hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The deterministic SVG cover of the song's album.
pub fn cover_svg(song: &Song) -> String {
    let album_key = format!("{}\u{1f}{}", song.artist, song.album);
    let mut rng = ChaCha8Rng::seed_from_u64(stable_hash(&album_key));
    let family = stable_hash(&song.artist) % 4;
    let [from, to, a1, a2] = palette(&song.genre);
    let mut shapes = String::new();
    let count = rng.random_range(5..11);
    for i in 0..count {
        let color = if i % 2 == 0 { a1 } else { a2 };
        let opacity = rng.random_range(0.25..0.8);
        let (x, y) = (rng.random_range(0..SIZE), rng.random_range(0..SIZE));
        let r = rng.random_range(15..90);
        // Family 3 mixes every kind; the others keep to one.
        let kind = if family == 3 {
            rng.random_range(0..3)
        } else {
            family
        };
        let shape = match kind {
            0 => format!(
                r#"<circle cx="{x}" cy="{y}" r="{r}" fill="{color}" fill-opacity="{opacity:.2}"/>"#
            ),
            1 => {
                let angle = rng.random_range(0..90);
                format!(
                    r#"<rect x="{x}" y="{y}" width="{}" height="{}" fill="{color}" fill-opacity="{opacity:.2}" transform="rotate({angle} {x} {y})"/>"#,
                    r * 2,
                    r
                )
            }
            _ => format!(
                r#"<polygon points="{x},{y} {},{} {},{}" fill="{color}" fill-opacity="{opacity:.2}"/>"#,
                x + r,
                y + r * 2,
                x.saturating_sub(r),
                y + r
            ),
        };
        shapes.push_str(&shape);
        shapes.push('\n');
    }
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {SIZE} {SIZE}" width="{SIZE}" height="{SIZE}">
<defs><linearGradient id="bg" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="{from}"/><stop offset="1" stop-color="{to}"/></linearGradient></defs>
<rect width="{SIZE}" height="{SIZE}" fill="url(#bg)"/>
{shapes}<rect y="{band}" width="{SIZE}" height="70" fill="#000" fill-opacity="0.55"/>
<text x="14" y="{ty}" font-family="sans-serif" font-size="20" font-weight="bold" fill="#fff">{title}</text>
<text x="14" y="{ay}" font-family="sans-serif" font-size="14" fill="#ddd">{artist}</text>
</svg>
"##,
        band = SIZE - 70,
        ty = SIZE - 40,
        ay = SIZE - 16,
        title = escape_xml(&clip(&song.album)),
        artist = escape_xml(&clip(&song.artist)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape_xml(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&apos;"
        );
    }

    #[test]
    fn tracks_of_an_album_share_its_cover() {
        let song = |id: &str, artist: &str, album: &str| Song {
            id: crate::catalog::SongId::parse(id).expect("id"),
            title: format!("title of {id}"),
            artist: artist.into(),
            album: album.into(),
            genre: "jazz".into(),
            duration_ms: 1,
            year: None,
            source: crate::catalog::SongSource::Imported {
                path: "x".into(),
                size: 0,
                mtime_ms: 0,
            },
            features: Default::default(),
            popularity: 0.5,
        };
        let a = cover_svg(&song("a", "Trio & Co", "Blue <Hour>"));
        assert_eq!(a, cover_svg(&song("b", "Trio & Co", "Blue <Hour>")));
        assert_ne!(a, cover_svg(&song("c", "Trio & Co", "Other Album")));
        assert!(a.contains("Blue &lt;Hour&gt;") && a.contains("Trio &amp; Co"));
        assert!(!a.contains("title of"));
    }

    #[test]
    fn clips_long_text_by_chars() {
        let long = "é".repeat(40);
        assert_eq!(clip(&long).chars().count(), MAX_TEXT_CHARS);
    }
}
