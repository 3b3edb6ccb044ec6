//! `stream`, `download` and `getCoverArt`: the web app's files, with the same
//! renditions, Range handling (`media::range`) and cover art.
//!
//! `maxBitRate` (kbit/s; 0 or absent = no limit) picks the best rendition at or under
//! it (the lowest when none is); `download` and `format=raw` give the best one. Every
//! rendition is Ogg Vorbis, so `format` asks for nothing else.

use axum::http::header;
use axum::response::IntoResponse;

use super::ctx::{Answer, Ctx, Reply};
use super::envelope::Fail;
use crate::catalog::demo;
use crate::media::{range, Quality};

/// The rendition nearest to `max_kbps` from below (0 = unlimited).
pub fn pick(max_kbps: u32) -> Quality {
    if max_kbps == 0 {
        return Quality::High;
    }
    Quality::ALL
        .into_iter()
        .filter(|q| q.nominal_kbps() <= max_kbps)
        .max_by_key(|q| q.nominal_kbps())
        .unwrap_or(Quality::Low)
}

pub async fn stream(ctx: &Ctx, download: bool) -> Answer {
    let lib = ctx.library()?;
    let song = lib.song(ctx.need("id")?)?;
    let max: u32 = ctx
        .params
        .number("maxBitRate")
        .map_err(Fail::bad)?
        .unwrap_or(0);
    let quality = if download || ctx.params.get("format") == Some("raw") {
        Quality::High
    } else {
        pick(max)
    };
    let path = ctx
        .state
        .media
        .rendition(song, quality)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "rendition unavailable");
            Fail::generic(format!("the song cannot be served right now: {e}"))
        })?;
    let mut response = range::serve_file(&path, "audio/ogg", &ctx.headers)
        .await
        .map_err(|e| Fail::generic(format!("reading the song: {e}")))?;
    if download {
        let name = format!("{} - {}.ogg", song.artist, song.title)
            .replace(['"', '\\', '/', '\r', '\n'], "_");
        if let Ok(v) = format!("attachment; filename=\"{}\"", name.escape_default()).parse() {
            response
                .headers_mut()
                .insert(header::CONTENT_DISPOSITION, v);
        }
    }
    Ok(Reply::File(response))
}

pub async fn cover_art(ctx: &Ctx) -> Answer {
    let lib = ctx.library()?;
    let song = lib.cover_song(ctx.need("id")?)?;
    let size: Option<u32> = ctx.params.number("size").map_err(Fail::bad)?;
    // The covers are SVG, which apps' image loaders do not decode: drawn as PNG at the
    // nearest size up (`media::cover`), once per album and size.
    let key = format!("{}\u{1f}{}", song.artist, song.album);
    let png = ctx
        .state
        .media
        .covers
        .png(&key, size, || demo::cover_svg(song))
        .await
        .map_err(|e| Fail::generic(e.to_string()))?;
    Ok(Reply::File(
        (
            [
                (header::CONTENT_TYPE, "image/png"),
                (header::CACHE_CONTROL, "public, max-age=86400"),
            ],
            png.as_ref().clone(),
        )
            .into_response(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_bit_rate_picks_the_nearest_rendition_below() {
        assert_eq!(pick(0), Quality::High);
        assert_eq!(pick(32), Quality::Low);
        assert_eq!(pick(Quality::Low.nominal_kbps()), Quality::Low);
        assert_eq!(pick(Quality::Normal.nominal_kbps() + 1), Quality::Normal);
        assert_eq!(pick(10_000), Quality::High);
    }
}
