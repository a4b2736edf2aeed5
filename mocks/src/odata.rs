//! OData query options: `$select`, `$top`, `$filter` (simple `eq`), `$count`, `$expand`,
//! `$skiptoken` paging.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

/// Largest `$top` Graph accepts for directory and Intune lists.
pub(crate) const MAX_TOP: usize = 999;

#[derive(Debug, Default, Clone)]
pub(crate) struct Query {
    pub select: Option<Vec<String>>,
    pub top: Option<usize>,
    pub filter: Option<Filter>,
    /// `$filter=contains(property,'text')` (served only where Graph serves it, see
    /// `autopilot.rs`; every other route refuses it).
    pub contains: Option<Contains>,
    pub count: bool,
    pub expand: Vec<String>,
    /// Offset decoded from `$skiptoken`.
    pub offset: usize,
    /// Original parameters without `$skiptoken`, to rebuild the nextLink.
    pub carried: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Filter {
    pub property: String,
    pub value: Value,
}

impl Filter {
    pub fn matches(&self, item: &Value) -> bool {
        let Some(actual) = item.get(&self.property) else {
            return self.value.is_null();
        };
        match (&self.value, actual) {
            (Value::String(want), Value::String(have)) => want.eq_ignore_ascii_case(have),
            (want, have) => want == have,
        }
    }

    /// The string value, when the filter compares against one.
    pub fn text(&self) -> Option<&str> {
        self.value.as_str()
    }
}

fn normalise_name(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    if lower.starts_with('$') {
        lower
    } else {
        format!("${lower}")
    }
}

const KNOWN: &[&str] = &[
    "$select",
    "$top",
    "$filter",
    "$count",
    "$expand",
    "$skiptoken",
    "$orderby",
    "$search",
    "$skip",
    "$format",
];

/// Parses a raw query string. `Err` is the message of a 400 response.
pub(crate) fn parse(raw: &str) -> Result<Query, String> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(raw).map_err(|e| format!("Invalid query string: {e}"))?;
    let mut q = Query::default();
    for (name, value) in pairs {
        let key = normalise_name(&name);
        if !KNOWN.contains(&key.as_str()) {
            // Unknown non-OData parameters are ignored, like Graph does.
            if name.starts_with('$') {
                return Err(format!("Unsupported query option '{name}'."));
            }
            q.carried.push((name, value));
            continue;
        }
        match key.as_str() {
            "$select" => {
                q.select = Some(
                    value
                        .split(',')
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .collect(),
                )
            }
            "$top" => {
                let n: usize = value.trim().parse().map_err(|_| {
                    format!("Invalid page size specified: '{value}'. Must be between 1 and {MAX_TOP} inclusive.")
                })?;
                if n == 0 || n > MAX_TOP {
                    return Err(format!(
                        "Invalid page size specified: '{value}'. Must be between 1 and {MAX_TOP} inclusive."
                    ));
                }
                q.top = Some(n);
            }
            "$filter" => match parse_contains(&value) {
                Some(c) => q.contains = Some(c?),
                None => q.filter = Some(parse_filter(&value)?),
            },
            "$count" => match value.trim() {
                "true" => q.count = true,
                "false" => q.count = false,
                other => return Err(format!("Invalid value '{other}' for $count.")),
            },
            "$expand" => {
                q.expand = value
                    .split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            }
            "$skiptoken" => {
                q.offset = decode_skiptoken(&value).ok_or("Invalid skip token.")?;
                continue;
            }
            "$orderby" | "$search" | "$skip" | "$format" => {
                return Err(format!(
                    "Unsupported query: '{name}' is not supported by the mock."
                ));
            }
            _ => {}
        }
        q.carried.push((name, value));
    }
    Ok(q)
}

/// `contains(property,'text')`: a substring match, ASCII case ignored.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Contains {
    pub property: String,
    pub value: String,
}

/// `None` when the filter is not a `contains(…)` call.
fn parse_contains(text: &str) -> Option<Result<Contains, String>> {
    let t = text.trim();
    let inner = t
        .get(..9)
        .filter(|p| p.eq_ignore_ascii_case("contains("))
        .and_then(|_| t[9..].strip_suffix(')'))?;
    let unsupported = || format!("Unsupported query: the filter '{text}' is not supported.");
    let Some((property, literal)) = inner.split_once(',') else {
        return Some(Err(unsupported()));
    };
    let property = property.trim();
    let Some(value) = literal
        .trim()
        .strip_prefix('\'')
        .and_then(|v| v.strip_suffix('\''))
        .filter(|v| !v.replace("''", "").contains('\''))
    else {
        return Some(Err(unsupported()));
    };
    if property.is_empty() || !property.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Some(Err(unsupported()));
    }
    Some(Ok(Contains {
        property: property.to_string(),
        value: value.replace("''", "'"),
    }))
}

/// `property eq 'text'` | `property eq true|false|null|<number>`.
fn parse_filter(text: &str) -> Result<Filter, String> {
    let unsupported = || format!("Unsupported query: the filter '{text}' is not supported.");
    let trimmed = text.trim();
    let mut parts = trimmed.splitn(3, char::is_whitespace);
    let property = parts.next().ok_or_else(unsupported)?.trim();
    let op = parts.next().ok_or_else(unsupported)?.trim();
    let raw_value = parts.next().ok_or_else(unsupported)?.trim();
    if !op.eq_ignore_ascii_case("eq")
        || property.is_empty()
        || !property
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(unsupported());
    }
    let value = if let Some(inner) = raw_value
        .strip_prefix('\'')
        .and_then(|v| v.strip_suffix('\''))
    {
        if inner.replace("''", "").contains('\'') {
            return Err(unsupported());
        }
        Value::String(inner.replace("''", "'"))
    } else {
        match raw_value {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            "null" => Value::Null,
            n => n
                .parse::<i64>()
                .map(Value::from)
                .map_err(|_| unsupported())?,
        }
    };
    Ok(Filter {
        property: property.to_string(),
        value,
    })
}

/// Decodes `%XX` escapes (invalid ones are kept as they are; invalid UTF-8 is replaced).
pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Some(v) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub(crate) fn encode_skiptoken(offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("mock-page:{offset}"))
}

pub(crate) fn decode_skiptoken(token: &str) -> Option<usize> {
    let bytes = URL_SAFE_NO_PAD.decode(token.trim()).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    text.strip_prefix("mock-page:")?.parse().ok()
}

/// Keeps the selected top-level properties (plus `id`, `@odata.type` and expanded navigations).
pub(crate) fn project<S: AsRef<str>>(item: Value, select: &[S], expanded: &[String]) -> Value {
    keep_fields(item, &|k| selected(k, select, expanded))
}

/// Whether [`project`] keeps property `k`.
pub(crate) fn selected<S: AsRef<str>>(k: &str, select: &[S], expanded: &[String]) -> bool {
    k == "id"
        || k == "@odata.type"
        || select.iter().any(|s| s.as_ref().eq_ignore_ascii_case(k))
        || expanded.iter().any(|e| e.eq_ignore_ascii_case(k))
}

/// The top-level properties `keep` accepts, in their order.
pub(crate) fn keep_fields(item: Value, keep: &dyn Fn(&str) -> bool) -> Value {
    let Value::Object(o) = item else {
        return item;
    };
    let mut out = Map::new();
    for (k, v) in o {
        if keep(&k) {
            out.insert(k, v);
        }
    }
    Value::Object(out)
}

/// Builds a query string (keeping `$` readable in option names).
pub(crate) fn query_string(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Percent-encodes a query component, leaving characters Graph's own links keep readable.
fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~,'@:$()/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_options_and_filters() {
        let q =
            parse("$select=id,userPrincipalName&$top=5&$filter=deviceId%20eq%20'abc'&$count=true")
                .unwrap_or_default();
        assert_eq!(q.top, Some(5));
        assert_eq!(
            q.select,
            Some(vec!["id".to_string(), "userPrincipalName".to_string()])
        );
        assert_eq!(
            q.filter,
            Some(Filter {
                property: "deviceId".into(),
                value: Value::String("abc".into())
            })
        );
        assert!(q.count);
        assert!(parse("$top=1000").is_err());
        assert!(parse("$filter=startswith(displayName,'a')").is_err());
        assert!(parse("$orderby=displayName").is_err());
        let q = parse("$filter=displayName eq 'O''Brien'").unwrap_or_default();
        assert_eq!(
            q.filter.map(|f| f.value),
            Some(Value::String("O'Brien".into()))
        );
    }

    #[test]
    fn skiptoken_round_trips_and_rejects_garbage() {
        let q = parse(&format!("$skiptoken={}", encode_skiptoken(300))).unwrap_or_default();
        assert_eq!(q.offset, 300);
        assert!(parse("$skiptoken=nonsense").is_err());
    }

    #[test]
    fn projection_keeps_id_and_type() {
        let v = serde_json::json!({"@odata.type": "#t", "id": "1", "a": 1, "b": 2});
        let p = project(v, &["b".to_string()], &[]);
        assert_eq!(
            p,
            serde_json::json!({"@odata.type": "#t", "id": "1", "b": 2})
        );
    }
}
