//! Who the client is, as far as this node can tell: its address and whether it came over
//! https. Both come from the TCP peer, unless the peer is one of the configured
//! `trusted_proxies` (CIDRs, default none): then from what that proxy says.
//!
//! Headers from anyone else are ignored — otherwise a client rotating `X-Forwarded-For`
//! would get a fresh login count per request, and any client could claim https. Behind a
//! trusted proxy the client is the right-most `X-Forwarded-For` (or `Forwarded: for=`)
//! address that is not itself a trusted proxy: every proxy appends the address it saw, so
//! the addresses left of the first untrusted one were written by the client.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use ipnet::IpNet;

use super::AppState;

/// The client of a request (see the module doc).
#[derive(Debug, Clone, Copy)]
pub struct ClientInfo {
    /// `None` when the server runs without connection info (in-process tests).
    pub addr: Option<IpAddr>,
    /// The browser reached us over TLS (a trusted proxy says so).
    pub https: bool,
}

impl FromRequestParts<AppState> for ClientInfo {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        Ok(client_info(
            peer,
            &parts.headers,
            &state.settings.trusted_proxies,
        ))
    }
}

/// The client of a request from `peer` with `headers`, trusting only `trusted` proxies.
pub fn client_info(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[IpNet]) -> ClientInfo {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    let Some(peer) = peer else {
        return ClientInfo {
            addr: None,
            https: false,
        };
    };
    if !is_trusted(&peer) {
        return ClientInfo {
            addr: Some(peer),
            https: false,
        };
    }
    let chain = forwarded_chain(headers);
    let addr = chain
        .iter()
        .rev()
        .find(|ip| !is_trusted(ip))
        .or(chain.first())
        .copied()
        .unwrap_or(peer);
    ClientInfo {
        addr: Some(addr),
        https: says_https(headers),
    }
}

/// Every address in `Forwarded: for=` or else `X-Forwarded-For`, in order (left =
/// nearest the client). Unparseable entries are skipped.
fn forwarded_chain(headers: &HeaderMap) -> Vec<IpAddr> {
    let values = |name| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect::<Vec<_>>()
    };
    let forwarded: Vec<IpAddr> = values("forwarded")
        .into_iter()
        .flat_map(|element| element.split(';'))
        .filter_map(|pair| {
            let (k, v) = pair.trim().split_once('=')?;
            k.trim()
                .eq_ignore_ascii_case("for")
                .then(|| parse_node(v))?
        })
        .collect();
    if !forwarded.is_empty() {
        return forwarded;
    }
    values("x-forwarded-for")
        .into_iter()
        .filter_map(parse_node)
        .collect()
}

/// An address as proxies write it: `1.2.3.4`, `1.2.3.4:80`, `"[2001:db8::1]:80"`.
fn parse_node(raw: &str) -> Option<IpAddr> {
    let s = raw.trim().trim_matches('"');
    if let Ok(ip) = s.parse() {
        return Some(ip);
    }
    if let Ok(sa) = s.parse::<SocketAddr>() {
        return Some(sa.ip());
    }
    s.strip_prefix('[')?.split(']').next()?.parse().ok()
}

/// `X-Forwarded-Proto: https` or `Forwarded: proto=https` (only asked of trusted proxies).
fn says_https(headers: &HeaderMap) -> bool {
    let any = |name: &str, pred: &dyn Fn(&str) -> bool| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(pred)
    };
    any("x-forwarded-proto", &|v| {
        v.split(',')
            .next()
            .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"))
    }) || any("forwarded", &|v| {
        v.split([';', ','])
            .any(|kv| kv.trim().eq_ignore_ascii_case("proto=https"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn headers_from_an_untrusted_peer_are_ignored() {
        let h = headers(&[
            ("x-forwarded-for", "9.9.9.9"),
            ("x-forwarded-proto", "https"),
        ]);
        let c = client_info(Some("127.0.0.1".parse().unwrap()), &h, &[]);
        assert_eq!(c.addr, Some("127.0.0.1".parse().unwrap()));
        assert!(!c.https);
    }

    #[test]
    fn behind_trusted_proxies_the_rightmost_untrusted_address_is_the_client() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 1.2.3.4, 10.0.0.7")]);
        let c = client_info(Some("10.0.0.2".parse().unwrap()), &h, &trusted);
        assert_eq!(c.addr, Some("1.2.3.4".parse().unwrap()));
        let h = headers(&[("forwarded", "for=\"[2001:db8::1]:443\";proto=https")]);
        let c = client_info(Some("10.0.0.2".parse().unwrap()), &h, &trusted);
        assert_eq!(c.addr, Some("2001:db8::1".parse().unwrap()));
        assert!(c.https);
    }
}
