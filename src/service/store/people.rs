//! People search's name index (issue 17): the keys under which a listener is found.
//!
//! A listener is found by a prefix of their username, of their display name, or of a
//! later word of their display name ("ray" finds "Ann Ray"), without regard to case.
//! Both backends keep an index ordered by key — one entry per (key, listener) — so a
//! search is one bounded range read from the prefix on (Redis: `ZRANGEBYLEX` on one
//! sorted set under its own hash tag; embedded: a redb range), never a scan of every
//! account. Keys are [`normalize`]d: lowercase, words separated by single spaces.
//!
//! Where the index and the names it points at cannot change in one atomic step
//! (Redis Cluster: the index's slot is not the listener's), new keys are added before
//! the name changes and old keys removed after, and readers keep only entries whose
//! key is among the listener's current [`name_keys`]: an entry left behind by a
//! failed step is never shown.

use super::{DisplayName, ListenerId, StoreError, StoreResult, Username};

/// Later words of a display name that get their own key (bounds a listener's keys).
const MAX_LATER_WORDS: usize = 3;
/// The most candidates one search reads from the index for `limit` results: room for
/// a listener found under two keys and for entries left behind by failed steps.
pub fn candidates_for(limit: usize) -> usize {
    limit.saturating_mul(3).saturating_add(8).min(1000)
}

/// `s` as index keys and queries are: lowercase, words separated by single spaces
/// (control characters count as spaces), no space at either end.
pub fn normalize(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Every key `username` (with `display`, if set) is found under, without duplicates:
/// the username, the display name, and the display name from each of its next
/// [`MAX_LATER_WORDS`] words on.
pub fn name_keys(username: &Username, display: Option<&DisplayName>) -> Vec<String> {
    let mut keys = vec![username.as_str().to_owned()];
    if let Some(display) = display {
        let words: Vec<String> = normalize(display.as_str())
            .split(' ')
            .map(str::to_owned)
            .collect();
        for from in 0..words.len().min(MAX_LATER_WORDS + 1) {
            let key = words[from..].join(" ");
            if !key.is_empty() && !keys.contains(&key) {
                keys.push(key);
            }
        }
    }
    keys
}

/// The separator between a key and the listener id in an index entry: no key holds it
/// (keys have no control characters), and it sorts before every character, so all
/// entries of one key are together and before longer keys.
const SEP: char = '\0';

/// An index entry: the key, then the listener.
pub fn entry(key: &str, listener: &ListenerId) -> String {
    format!("{key}{SEP}{listener}")
}

/// The key and listener of an index entry.
pub fn parse_entry(raw: &str) -> StoreResult<(&str, ListenerId)> {
    let (key, id) = raw
        .rsplit_once(SEP)
        .ok_or_else(|| StoreError::Corrupt(format!("people index entry {raw:?}")))?;
    let id = ListenerId::parse(id)
        .map_err(|e| StoreError::Corrupt(format!("people index entry {raw:?}: {e}")))?;
    Ok((key, id))
}

/// Keys to drop when a listener's display name changes from `old` to `new`: old keys
/// that are not current (never the username's).
pub fn stale_keys(
    username: &Username,
    old: Option<&DisplayName>,
    new: Option<&DisplayName>,
) -> Vec<String> {
    let current = name_keys(username, new);
    name_keys(username, old)
        .into_iter()
        .filter(|k| !current.contains(k))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Username {
        Username::parse(s).unwrap()
    }
    fn d(s: &str) -> DisplayName {
        DisplayName::parse(s).unwrap()
    }

    #[test]
    fn keys_are_the_username_the_display_name_and_its_later_words() {
        assert_eq!(name_keys(&u("ann"), None), ["ann"]);
        assert_eq!(
            name_keys(&u("ann1"), Some(&d("Ann  Marie RAY"))),
            ["ann1", "ann marie ray", "marie ray", "ray"]
        );
        assert_eq!(name_keys(&u("ann"), Some(&d("ANN"))), ["ann"]);
        let long = d("a b c d e f");
        assert_eq!(
            name_keys(&u("xyz"), Some(&long)).len(),
            1 + 1 + MAX_LATER_WORDS
        );
    }

    #[test]
    fn stale_keys_never_include_the_username_or_current_ones() {
        let (old, new) = (d("Anna Berg"), d("Anna Lind"));
        assert_eq!(
            stale_keys(&u("anna"), Some(&old), Some(&new)),
            ["anna berg", "berg"]
        );
        assert!(stale_keys(&u("anna"), Some(&d("Anna")), None).is_empty());
    }

    #[test]
    fn entries_round_trip_and_sort_by_key_first() {
        let id = ListenerId::parse("L1").unwrap();
        let e = entry("ann ray", &id);
        assert_eq!(parse_entry(&e).unwrap(), ("ann ray", id.clone()));
        assert!(entry("ann", &id) < entry("ann ray", &id));
        assert!(parse_entry("no separator").is_err());
        assert_eq!(normalize("  Ann\t\u{7}RAY  "), "ann ray");
    }

    #[test]
    fn display_names_are_bounded_and_plain() {
        assert!(DisplayName::parse("Ann Ray").is_ok());
        assert!(DisplayName::parse("Ænne Øst 🎵").is_ok());
        assert!(DisplayName::parse("").is_err());
        assert!(DisplayName::parse(" Ann").is_err());
        assert!(DisplayName::parse("Ann\nRay").is_err());
        assert!(DisplayName::parse(&"x".repeat(41)).is_err());
        assert!(DisplayName::parse(&"é".repeat(40)).is_ok());
    }
}
