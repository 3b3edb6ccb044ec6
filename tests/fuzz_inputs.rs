//! Property-based fuzzing (proptest) of every parser of outside input on the HTTP edge:
//! arbitrary and adversarial strings must never panic, and what a parser accepts must
//! keep its promise.
//!
//! - `Range` (+ `If-Range`, `If-None-Match`) → `media::range::select`
//! - ids and names in paths, queries and bodies → `SongId`, `ListenerId`, `Username`,
//!   `PlaylistName`; search queries → `http::search::rank`
//! - request bodies → the API's body types through serde (what `ApiJson` does)
//! - headers the edge reads → `X-Forwarded-For`/`Forwarded` (`http::proxy`),
//!   `Origin`/`Sec-Fetch-Site` (`http::browser_guard`), `Cookie`/`Host` (`http::session`)
//! - imported tags → `catalog::import::clean_text`
//!
//! Each property runs [`CASES`] cases (proptest shrinks any failure to a minimal input
//! and stores it under `proptest-regressions/`).

use proptest::prelude::*;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use spoofify_service::catalog::import::{clean_text, MAX_TAG_CHARS};
use spoofify_service::catalog::SongId;
use spoofify_service::http::browser_guard::same_origin;
use spoofify_service::http::proxy::client_info;
use spoofify_service::http::session::{is_secure_context, session_token};
use spoofify_service::media::range::{select, Selection};
use spoofify_service::store::{ListenerId, Username};

/// Cases per property.
const CASES: u32 = 2000;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: CASES,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Strings a header value can hold (visible ASCII and spaces), biased to the
/// characters parsers split on.
fn header_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ -~]{0,80}",
        "[0-9a-fA-F:.,;=\\[\\]\" -]{0,60}",
        "(bytes=)?[-0-9,]{0,30}",
    ]
}

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        if let Ok(v) = HeaderValue::from_str(v) {
            h.append(HeaderName::from_static(k), v);
        }
    }
    h
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn range_never_panics_and_partial_is_within_the_file(
        range in header_text(),
        if_range in proptest::option::of(header_text()),
        len in prop_oneof![Just(0u64), 1u64..10, 1u64..u64::MAX],
    ) {
        let mut pairs = vec![("range", range.as_str())];
        if let Some(r) = &if_range {
            pairs.push(("if-range", r.as_str()));
        }
        match select(&headers(&pairs), len, "\"tag\"") {
            Selection::Partial { start, end } => {
                prop_assert!(start <= end && end < len, "{start}-{end} of {len}");
            }
            Selection::Unsatisfiable => prop_assert!(if_range.is_none() || if_range.as_deref() == Some("\"tag\"")),
            Selection::Full | Selection::NotModified => {}
        }
    }

    #[test]
    fn well_formed_ranges_are_served_exactly(len in 1u64..1_000_000, a in 0u64..1_000_000, n in 0u64..1000) {
        let b = a.saturating_add(n);
        let sel = select(&headers(&[("range", &format!("bytes={a}-{b}"))]), len, "\"t\"");
        if a < len {
            prop_assert_eq!(sel, Selection::Partial { start: a, end: b.min(len - 1) });
        } else {
            prop_assert_eq!(sel, Selection::Unsatisfiable);
        }
    }

    #[test]
    fn ids_and_names_accept_only_what_they_promise(raw in "\\PC{0,70}") {
        if let Ok(id) = SongId::parse(&raw) {
            prop_assert_eq!(id.as_str(), raw.as_str());
            prop_assert!(!raw.is_empty() && raw.len() <= 64);
        }
        if let Ok(id) = ListenerId::parse(&raw) {
            prop_assert_eq!(id.as_str(), raw.as_str());
        }
        if let Ok(name) = Username::parse(&raw) {
            prop_assert!(name.as_str().chars().all(|c| c.is_ascii_lowercase()
                || c.is_ascii_digit() || "_-.".contains(c)));
        }
        if let Ok(name) = spoofify_service::http::playlists::PlaylistName::parse(&raw) {
            let _ = name;
            prop_assert!(!raw.trim().is_empty());
        }
    }

    #[test]
    fn request_bodies_never_panic(body in "\\PC{0,200}", json in arb_json()) {
        use spoofify_service::http::accounts::{Credentials, PasswordChange, PreferencesInput};
        for text in [body.clone(), json.to_string()] {
            let _ = serde_json::from_str::<Credentials>(&text);
            let _ = serde_json::from_str::<PreferencesInput>(&text);
            let _ = serde_json::from_str::<PasswordChange>(&text);
            let _ = serde_json::from_str::<spoofify_service::http::interactions::NewInteraction>(&text);
        }
    }

    #[test]
    fn search_never_panics_and_respects_its_limit(q in "\\PC{0,120}", limit in 0usize..200) {
        let songs = sample_songs();
        let (found, total) = spoofify_service::http::search::rank(&songs, &q, limit);
        prop_assert!(found.len() <= limit && found.len() <= total && total <= songs.len());
    }

    #[test]
    fn forwarding_headers_never_panic_and_untrusted_peers_are_the_client(
        xff in header_text(),
        fwd in header_text(),
        trusted in any::<bool>(),
    ) {
        let peer: std::net::IpAddr = "10.0.0.2".parse().unwrap();
        let nets: Vec<ipnet::IpNet> = if trusted { vec!["10.0.0.0/8".parse().unwrap()] } else { vec![] };
        let h = headers(&[("x-forwarded-for", &xff), ("forwarded", &fwd), ("x-forwarded-proto", &fwd)]);
        let c = client_info(Some(peer), &h, &nets);
        prop_assert!(c.addr.is_some());
        if !trusted {
            prop_assert_eq!(c.addr, Some(peer));
            prop_assert!(!c.https);
        }
    }

    #[test]
    fn origin_checks_never_panic_and_plain_clients_pass(
        origin in header_text(),
        site in header_text(),
        host in header_text(),
    ) {
        prop_assert!(same_origin(&headers(&[("host", &host)])).is_ok());
        let _ = same_origin(&headers(&[("origin", &origin), ("host", &host)]));
        let r = same_origin(&headers(&[("sec-fetch-site", &site), ("origin", &origin)]));
        if HeaderValue::from_str(&site).is_ok() && site != "same-origin" && site != "none" {
            prop_assert!(r.is_err());
        }
    }

    #[test]
    fn cookies_and_hosts_never_panic(cookie in header_text(), host in header_text()) {
        let h = headers(&[("cookie", &cookie), ("host", &host)]);
        if let Some(token) = session_token(&h) {
            prop_assert!(!token.is_empty());
        }
        let _ = is_secure_context(&h, false);
    }

    #[test]
    fn imported_tags_are_clean_short_and_stable(raw in "\\PC{0,300}|[\\x00-\\x1f\\u{202a}-\\u{202e} a-z]{0,300}|.{0,1000}") {
        if let Some(t) = clean_text(&raw, MAX_TAG_CHARS) {
            prop_assert!(!t.is_empty() && t.chars().count() <= MAX_TAG_CHARS);
            prop_assert!(!t.chars().any(char::is_control));
            let bidi = |c: char| ('\u{202A}'..='\u{202E}').contains(&c) || ('\u{2066}'..='\u{2069}').contains(&c);
            prop_assert!(!t.chars().any(bidi), "bidi controls left in {:?}", t);
            prop_assert_eq!(t.trim(), t.as_str());
            prop_assert!(!t.contains("  "));
            prop_assert_eq!(clean_text(&t, MAX_TAG_CHARS), Some(t.clone()), "cleaning is idempotent");
        }
    }
}

fn arb_json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(|f| serde_json::json!(f)),
        "\\PC{0,20}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(3, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    Just("username".to_owned()),
                    Just("password".to_owned()),
                    Just("genres".to_owned()),
                    Just("song_id".to_owned()),
                    Just("kind".to_owned()),
                    "[a-z_]{1,12}"
                ],
                inner,
                0..6
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

fn sample_songs() -> Vec<spoofify_service::catalog::Song> {
    use spoofify_service::catalog::{Features, Song, SongSource};
    (0..20)
        .map(|i| Song {
            id: SongId::parse(&format!("s-{i}")).unwrap(),
            title: format!("Blue Night {i} Échos"),
            artist: "The Ember Band".into(),
            album: "Paper Moon".into(),
            genre: ["jazz", "rock"][i % 2].into(),
            duration_ms: 1000,
            year: None,
            source: SongSource::Imported {
                path: "/x".into(),
                size: 0,
                mtime_ms: 0,
            },
            features: Features::from_raw([0.0; 8]),
            popularity: 0.5,
        })
        .collect()
}
