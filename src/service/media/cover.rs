//! Cover art as PNG, for Subsonic apps: the covers are SVG (drawn from code, see
//! `catalog::demo::art`), which browsers show at any size but the image loaders of
//! phone and desktop apps do not decode. `getCoverArt` asks for a `size`; it is rounded
//! up to one of [`SIZES`] so that a bounded cache holds every cover an app asks for,
//! and each (album, size) is drawn once with resvg on the blocking pool.
//!
//! Text on the cover needs a font: the system's fonts are loaded once, on the first
//! cover drawn. On a machine without fonts the cover is drawn without its text.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use resvg::{tiny_skia, usvg};

/// The sizes covers are drawn at, in pixels (square).
pub const SIZES: [u32; 5] = [64, 128, 256, 512, 1024];
/// The size when the app names none.
const DEFAULT_SIZE: u32 = 512;
/// Covers kept drawn; past that the cache starts over (a few MB at most).
const CACHE_ENTRIES: usize = 512;

#[derive(Debug, thiserror::Error)]
pub enum CoverError {
    #[error("the cover could not be drawn: {0}")]
    Draw(String),
}

/// The size a cover is drawn at for a requested `size`: the smallest of [`SIZES`] at
/// least that big (the largest for anything bigger).
pub fn drawn_size(size: Option<u32>) -> u32 {
    let want = size.unwrap_or(DEFAULT_SIZE);
    SIZES
        .iter()
        .copied()
        .find(|&s| s >= want)
        .unwrap_or(SIZES[SIZES.len() - 1])
}

fn fonts() -> Arc<usvg::fontdb::Database> {
    static FONTS: OnceLock<Arc<usvg::fontdb::Database>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            let mut db = usvg::fontdb::Database::new();
            db.load_system_fonts();
            Arc::new(db)
        })
        .clone()
}

/// Draws `svg` into a `size`×`size` PNG.
pub fn draw_png(svg: &str, size: u32) -> Result<Vec<u8>, CoverError> {
    let options = usvg::Options {
        fontdb: fonts(),
        ..usvg::Options::default()
    };
    let tree = usvg::Tree::from_str(svg, &options).map_err(|e| CoverError::Draw(e.to_string()))?;
    let view = tree.size();
    let scale = size as f32 / view.width().max(view.height());
    let mut pixmap = tiny_skia::Pixmap::new(size, size)
        .ok_or_else(|| CoverError::Draw(format!("no {size}×{size} canvas")))?;
    resvg::render(
        &tree,
        tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    pixmap
        .encode_png()
        .map_err(|e| CoverError::Draw(e.to_string()))
}

/// PNGs by (album key, drawn size).
type Drawn = HashMap<(String, u32), Arc<Vec<u8>>>;

/// Drawn covers by (album key, size).
#[derive(Clone, Default)]
pub struct Covers {
    drawn: Arc<Mutex<Drawn>>,
}

impl Covers {
    /// The PNG of the cover `key` (one per album) at `size`, drawn from `svg` once.
    pub async fn png(
        &self,
        key: &str,
        size: Option<u32>,
        svg: impl FnOnce() -> String,
    ) -> Result<Arc<Vec<u8>>, CoverError> {
        let size = drawn_size(size);
        let k = (key.to_owned(), size);
        if let Some(png) = self.lock().get(&k) {
            return Ok(png.clone());
        }
        let svg = svg();
        let png = tokio::task::spawn_blocking(move || draw_png(&svg, size))
            .await
            .map_err(|e| CoverError::Draw(e.to_string()))??;
        let png = Arc::new(png);
        let mut drawn = self.lock();
        if drawn.len() >= CACHE_ENTRIES {
            drawn.clear();
        }
        drawn.insert(k, png.clone());
        Ok(png)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Drawn> {
        // A panic while holding the lock leaves a valid map; keep using it.
        self.drawn.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_round_up_to_the_drawn_ones() {
        assert_eq!(drawn_size(None), 512);
        assert_eq!(drawn_size(Some(0)), 64);
        assert_eq!(drawn_size(Some(64)), 64);
        assert_eq!(drawn_size(Some(65)), 128);
        assert_eq!(drawn_size(Some(300)), 512);
        assert_eq!(drawn_size(Some(5000)), 1024);
    }

    #[test]
    fn an_svg_cover_becomes_a_png_of_the_asked_size() {
        let svg = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 300 300" width="300" height="300"><rect width="300" height="300" fill="#c33"/></svg>"##;
        let png = draw_png(svg, 128).expect("drawn");
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        // IHDR: width and height, big-endian, at bytes 16..24.
        assert_eq!(&png[16..24], &[0, 0, 0, 128, 0, 0, 0, 128]);
        let decoded = tiny_skia::Pixmap::decode_png(&png).expect("decodes");
        let px = decoded.pixel(64, 64).expect("a pixel");
        assert_eq!((px.red(), px.green(), px.blue()), (0xcc, 0x33, 0x33));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(draw_png("<svg", 64).is_err());
    }
}
