//! What one Graph call names: the API version and the OData query options, encoded.

use serde::Serialize;

/// Graph API version, chosen per call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum ApiVersion {
    #[serde(rename = "v1.0")]
    V1,
    #[serde(rename = "beta")]
    Beta,
}

impl ApiVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            ApiVersion::V1 => "v1.0",
            ApiVersion::Beta => "beta",
        }
    }
}

/// OData query options and request headers for one call. Values are percent-encoded here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pairs: Vec<(String, String)>,
    pub(super) eventual: bool,
    pub(super) no_top: bool,
}

impl Query {
    pub fn new() -> Query {
        Query::default()
    }
    /// `$select=a,b,c`.
    pub fn select(self, fields: &[&str]) -> Query {
        self.param("$select", &fields.join(","))
    }
    /// `$filter=...` (give it unencoded).
    pub fn filter(self, expr: &str) -> Query {
        self.param("$filter", expr)
    }
    pub fn expand(self, expr: &str) -> Query {
        self.param("$expand", expr)
    }
    pub fn top(self, n: u32) -> Query {
        self.param("$top", &n.to_string())
    }
    /// Do not add `$top` when listing (for endpoints that reject it).
    pub fn without_top(mut self) -> Query {
        self.no_top = true;
        self
    }
    /// Advanced directory query: sends `ConsistencyLevel: eventual` on every page.
    pub fn eventual_consistency(mut self) -> Query {
        self.eventual = true;
        self
    }
    pub fn param(mut self, key: &str, value: &str) -> Query {
        self.pairs.push((key.to_string(), value.to_string()));
        self
    }
    pub(super) fn has(&self, key: &str) -> bool {
        self.pairs.iter().any(|(k, _)| k.eq_ignore_ascii_case(key))
    }
    /// The encoded query string (without `?`).
    pub fn encode(&self) -> String {
        self.pairs
            .iter()
            .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// Percent-encodes everything but unreserved characters and the few OData needs readable
/// (`$ , ' ( ) : / @ *`). Spaces become `%20`, never `+`.
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'$'
                    | b','
                    | b'\''
                    | b'('
                    | b')'
                    | b':'
                    | b'/'
                    | b'@'
                    | b'*'
            );
        if keep {
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
    fn query_encoding_keeps_odata_readable() {
        let q = Query::new()
            .select(&["id", "displayName"])
            .filter("deviceId eq 'a b&c'")
            .top(5);
        assert_eq!(
            q.encode(),
            "$select=id,displayName&$filter=deviceId%20eq%20'a%20b%26c'&$top=5"
        );
    }
}
