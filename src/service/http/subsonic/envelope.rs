//! The `subsonic-response` envelope in JSON (`f=json`) or XML (the default), and the
//! Subsonic errors.
//!
//! Every answer that is not a file is HTTP 200 — clients read `status` and
//! `error.code`, and some check the HTTP status first, so a non-200 would hide the
//! code. A payload is built once as JSON values; the XML form is derived from it the
//! way Subsonic servers map their types: an object is an element whose scalar fields
//! are attributes (a field named `value` is the element's text), an array is its
//! elements repeated under the array's name. quick-xml writes and escapes it.

use std::io::Cursor;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;
use serde_json::{Map, Value};

/// The Subsonic API version we speak.
pub const API_VERSION: &str = "1.16.1";
const XMLNS: &str = "http://subsonic.org/restapi";

/// How the client asked to be answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
}

impl Format {
    /// `f=json` (or `jsonp`, answered as JSON) → JSON; anything else → XML.
    pub fn parse(f: Option<&str>) -> Self {
        match f {
            Some(f) if f.eq_ignore_ascii_case("json") || f.eq_ignore_ascii_case("jsonp") => {
                Format::Json
            }
            _ => Format::Xml,
        }
    }
}

/// A Subsonic error: `code` as the API defines it, and a message for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fail {
    pub code: u32,
    pub message: String,
}

impl Fail {
    pub fn new(code: u32, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
    /// 0: a generic error (the store is down, the catalog is loading, …).
    pub fn generic(message: impl Into<String>) -> Self {
        Self::new(0, message)
    }
    /// 10: a required parameter is missing (or unusable).
    pub fn missing(name: &str) -> Self {
        Self::new(10, format!("required parameter is missing: {name}"))
    }
    /// 10 as well: a parameter that cannot be used as given.
    pub fn bad(message: impl Into<String>) -> Self {
        Self::new(10, message)
    }
    /// 70: the requested data was not found.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(70, message)
    }
}

impl From<crate::http::ApiError> for Fail {
    fn from(e: crate::http::ApiError) -> Self {
        let code = match e.status.as_u16() {
            404 => 70,
            400 => 10,
            401 => 40,
            403 => 50,
            _ => 0,
        };
        Fail::new(code, e.message)
    }
}

/// A successful answer: named payload entries (e.g. `("song", {...})`), possibly none.
pub type Payload = Vec<(&'static str, Value)>;

/// The envelope's own fields, then the payload's.
fn envelope(status: &str, payload: Payload) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("status".into(), status.into());
    m.insert("version".into(), API_VERSION.into());
    m.insert("type".into(), "spoofify".into());
    m.insert("serverVersion".into(), env!("CARGO_PKG_VERSION").into());
    m.insert("openSubsonic".into(), true.into());
    for (k, v) in payload {
        m.insert(k.into(), v);
    }
    m
}

pub fn ok(format: Format, payload: Payload) -> Response {
    render(format, envelope("ok", payload))
}

pub fn fail(format: Format, f: &Fail) -> Response {
    let mut error = Map::new();
    error.insert("code".into(), f.code.into());
    error.insert("message".into(), f.message.clone().into());
    render(
        format,
        envelope("failed", vec![("error", Value::Object(error))]),
    )
}

fn render(format: Format, body: Map<String, Value>) -> Response {
    match format {
        Format::Json => {
            let mut root = Map::new();
            root.insert("subsonic-response".into(), Value::Object(body));
            let bytes = serde_json::to_vec(&Value::Object(root)).unwrap_or_default();
            ([(header::CONTENT_TYPE, "application/json")], bytes).into_response()
        }
        Format::Xml => {
            let bytes = to_xml(&body).unwrap_or_default();
            (
                [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
                bytes,
            )
                .into_response()
        }
    }
}

/// The envelope as Subsonic XML.
pub fn to_xml(body: &Map<String, Value>) -> std::io::Result<Vec<u8>> {
    let mut w = Writer::new(Cursor::new(Vec::new()));
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    element(&mut w, "subsonic-response", body, Some(XMLNS))?;
    Ok(w.into_inner().into_inner())
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn element(
    w: &mut Writer<Cursor<Vec<u8>>>,
    name: &str,
    fields: &Map<String, Value>,
    xmlns: Option<&str>,
) -> std::io::Result<()> {
    let mut start = BytesStart::new(name);
    if let Some(ns) = xmlns {
        start.push_attribute(("xmlns", ns));
    }
    let mut text = None;
    for (k, v) in fields {
        if let Some(s) = scalar(v) {
            if k == "value" {
                text = Some(s);
            } else {
                start.push_attribute((k.as_str(), s.as_str()));
            }
        }
    }
    let has_children = fields
        .values()
        .any(|v| matches!(v, Value::Object(_) | Value::Array(_)));
    if text.is_none() && !has_children {
        return w.write_event(Event::Empty(start));
    }
    w.write_event(Event::Start(start))?;
    if let Some(t) = text {
        w.write_event(Event::Text(BytesText::new(&t)))?;
    }
    for (k, v) in fields {
        match v {
            Value::Object(o) => element(w, k, o, None)?,
            Value::Array(items) => {
                for item in items {
                    match item {
                        Value::Object(o) => element(w, k, o, None)?,
                        other => {
                            if let Some(s) = scalar(other) {
                                w.write_event(Event::Start(BytesStart::new(k.as_str())))?;
                                w.write_event(Event::Text(BytesText::new(&s)))?;
                                w.write_event(Event::End(BytesEnd::new(k.as_str())))?;
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    w.write_event(Event::End(BytesEnd::new(name)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn xml_maps_scalars_to_attributes_arrays_to_repeated_elements() {
        let Value::Object(body) = json!({
            "status": "ok",
            "genres": {"genre": [{"value": "Rock & Roll", "songCount": 2}, {"value": "Jazz", "songCount": 1}]},
            "song": {"id": "s<1>", "isDir": false}
        }) else {
            unreachable!()
        };
        let xml = String::from_utf8(to_xml(&body).unwrap()).unwrap();
        assert!(
            xml.contains(r#"<subsonic-response xmlns="http://subsonic.org/restapi" status="ok">"#),
            "{xml}"
        );
        assert!(
            xml.contains(
                r#"<genre songCount="2">Rock &amp; Roll</genre><genre songCount="1">Jazz</genre>"#
            ),
            "{xml}"
        );
        assert!(
            xml.contains(r#"<song id="s&lt;1&gt;" isDir="false"/>"#),
            "{xml}"
        );
    }

    #[test]
    fn only_json_and_jsonp_ask_for_json() {
        assert_eq!(Format::parse(Some("json")), Format::Json);
        assert_eq!(Format::parse(Some("JSONP")), Format::Json);
        assert_eq!(Format::parse(Some("xml")), Format::Xml);
        assert_eq!(Format::parse(None), Format::Xml);
    }
}
