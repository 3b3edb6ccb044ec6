//! Search as you type: `GET /api/search?q=` over title, artist, album and genre, in
//! memory over the loaded catalog (503 while it loads) — and people (issue 17): a
//! signed-in listener finds others by the start of their username, of their display
//! name, or of a later word of it, without regard to case ("ann", "Ann R", "ray" all
//! find "Ann Ray"). The store's name index answers that with one bounded range read
//! (`store::people`), so a keystroke costs at most [`MAX_PEOPLE`] accounts' reads,
//! however many listeners there are. Someone who blocked you is not found.
//!
//! Every word of the query must match some field, as the start of one of its words
//! (full weight) or anywhere inside it (half weight). A match in the title counts most,
//! then artist, album, genre; popularity breaks ties. A linear scan is fine: 10 000
//! songs × 4 short fields take well under a millisecond per keystroke.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::catalog::{loaded, CatalogReader, SongView};
use super::edge::ApiQuery;
use super::error::ErrorBody;
use super::session::CurrentListener;
use super::social::{user_views, UserView};
use super::{ApiError, AppState};
use crate::catalog::Song;
use crate::store::{people, Username};

/// Longest query accepted, in characters; a search box never needs more.
const MAX_QUERY_CHARS: usize = 100;
/// Words of a query that are matched; more add nothing but work.
const MAX_QUERY_WORDS: usize = 8;
/// Results returned when the client does not ask for a number.
const DEFAULT_LIMIT: usize = 20;
/// Most results one request may ask for.
const MAX_LIMIT: usize = 100;

/// The most people one search returns.
const MAX_PEOPLE: usize = 10;

/// Weights of a match in each field, in the order of [`fields`].
const FIELD_WEIGHTS: [f32; 4] = [4.0, 3.0, 2.0, 1.0];

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/search", get(search))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct SearchParams {
    /// What the listener typed; words are matched against title, artist, album, genre.
    pub q: Option<String>,
    /// At most this many results (default 20, at most 100).
    pub limit: Option<usize>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResults {
    pub query: String,
    #[schema(value_type = Vec<super::catalog::SongView>)]
    pub songs: Vec<SongView>,
    /// How many songs matched, of which `songs` are the best `limit`.
    pub total: usize,
    /// Listeners whose username or display name (or a later word of it) starts with
    /// the query, any case; an exact username first (only for a signed-in listener; at
    /// most 10).
    #[schema(value_type = Vec<super::social::UserView>)]
    pub people: Vec<UserView>,
}

#[utoipa::path(get, path = "/api/search", tag = "catalog", params(SearchParams),
    responses((status = 200, body = SearchResults),
              (status = 401, description = "Not signed in: the catalog is for listeners unless the node sets catalog.public", body = ErrorBody),
              (status = 400, description = "Query too long or limit out of range", body = ErrorBody),
              (status = 503, description = "The catalog is still loading", body = ErrorBody)))]
#[tracing::instrument(skip_all)]
async fn search(
    State(state): State<AppState>,
    _reader: CatalogReader,
    me: Result<CurrentListener, ApiError>,
    ApiQuery(params): ApiQuery<SearchParams>,
) -> Result<Json<SearchResults>, ApiError> {
    let query = params.q.unwrap_or_default();
    if query.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::invalid(format!(
            "the query is longer than {MAX_QUERY_CHARS} characters"
        )));
    }
    let limit = params.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::invalid(format!("limit must be 1-{MAX_LIMIT}")));
    }
    let catalog = loaded(&state)?;
    let (songs, total) = rank(catalog.songs(), &query, limit);
    let people = match me {
        Ok(me) => people(&state, &me, &query).await?,
        Err(_) => Vec::new(),
    };
    Ok(Json(SearchResults {
        query,
        songs: songs.into_iter().map(SongView::from).collect(),
        total,
        people,
    }))
}

/// People whose names start with the query (an exact username first), unless they
/// blocked `me`.
async fn people(
    state: &AppState,
    me: &CurrentListener,
    query: &str,
) -> Result<Vec<UserView>, ApiError> {
    let prefix = people::normalize(query);
    if prefix.is_empty() {
        return Ok(Vec::new());
    }
    let store = &state.store;
    let mut ids = Vec::with_capacity(MAX_PEOPLE);
    // An exact username is found even if the index missed it.
    if let Ok(name) = Username::parse(&prefix) {
        if let Some(account) = store.account_by_username(&name).await? {
            ids.push(account.id);
        }
    }
    for id in store.find_people(&prefix, MAX_PEOPLE).await? {
        if !ids.contains(&id) && ids.len() < MAX_PEOPLE {
            ids.push(id);
        }
    }
    let blocked_me =
        futures::future::try_join_all(ids.iter().map(|id| store.is_blocked(id, &me.id))).await?;
    let visible: Vec<_> = ids
        .into_iter()
        .zip(blocked_me)
        .filter_map(|(id, blocked)| (!blocked).then_some(id))
        .collect();
    user_views(store, &visible).await
}

/// The best `limit` songs for the query, and how many matched at all.
pub fn rank<'a>(songs: &'a [Song], query: &str, limit: usize) -> (Vec<&'a Song>, usize) {
    let words: Vec<String> = query
        .split_whitespace()
        .take(MAX_QUERY_WORDS)
        .map(str::to_lowercase)
        .collect();
    if words.is_empty() {
        return (Vec::new(), 0);
    }
    let mut hits: Vec<(f32, &Song)> = songs
        .iter()
        .filter_map(|s| score(s, &words).map(|sc| (sc + s.popularity * 0.5, s)))
        .collect();
    let total = hits.len();
    hits.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.title.cmp(&b.1.title)));
    hits.truncate(limit);
    (hits.into_iter().map(|(_, s)| s).collect(), total)
}

fn fields(s: &Song) -> [String; 4] {
    [
        s.title.to_lowercase(),
        s.artist.to_lowercase(),
        s.album.to_lowercase(),
        s.genre.to_lowercase(),
    ]
}

/// The song's score for these (lower-case) words, or `None` if some word matches nothing.
fn score(song: &Song, words: &[String]) -> Option<f32> {
    let fields = fields(song);
    let mut total = 0.0;
    for word in words {
        let best = fields
            .iter()
            .zip(FIELD_WEIGHTS)
            .filter_map(|(field, weight)| word_match(field, word).map(|m| m * weight))
            .fold(None, |acc: Option<f32>, m| {
                Some(acc.map_or(m, |a| a.max(m)))
            })?;
        total += best;
    }
    Some(total)
}

/// 1.0 when `word` starts a word of `field`, 0.5 when it is inside one, else `None`.
fn word_match(field: &str, word: &str) -> Option<f32> {
    let starts_word = field
        .split(|c: char| !c.is_alphanumeric())
        .any(|w| w.starts_with(word));
    if starts_word {
        Some(1.0)
    } else if field.contains(word) {
        Some(0.5)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Features, SongId, SongSource};

    fn song(id: &str, title: &str, artist: &str, genre: &str, pop: f32) -> Song {
        Song {
            id: SongId::parse(id).unwrap(),
            title: title.into(),
            artist: artist.into(),
            album: "Album".into(),
            genre: genre.into(),
            duration_ms: 1000,
            year: None,
            source: SongSource::Imported {
                path: "x".into(),
                size: 0,
                mtime_ms: 0,
            },
            features: Features::default(),
            popularity: pop,
        }
    }

    #[test]
    fn every_word_must_match_and_title_beats_genre() {
        let songs = vec![
            song("a", "Blue Night", "Ann Ray", "jazz", 0.1),
            song("b", "Red Sky", "Blue Band", "rock", 0.9),
            song("c", "Green", "Cy", "blues", 0.5),
        ];
        let (hits, total) = rank(&songs, "blue", 10);
        assert_eq!(total, 3);
        let ids: Vec<&str> = hits.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "c"]);
        let (hits, total) = rank(&songs, "BLUE rock", 10);
        assert_eq!((total, hits[0].id.as_str()), (1, "b"));
        assert_eq!(rank(&songs, "   ", 10).1, 0);
        assert_eq!(rank(&songs, "zzz", 10).1, 0);
        assert_eq!(
            rank(&songs, "ight", 10).0[0].id.as_str(),
            "a",
            "inside a word"
        );
        assert_eq!(rank(&songs, "blue", 1).0.len(), 1);
    }
}
