//! Reading a [`Source`] as a stream. The derived reader of an internally tagged enum
//! (`"status": "collected"`) buffers the whole object in a tree of values before it builds the
//! variant — for the users of a 100,000-user snapshot several times the file's size. This one
//! reads each field straight into its type, in whatever order the fields come.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};

use super::snapshot::{MissingReason, Source};

const VARIANTS: &[&str] = &["collected", "missing"];

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Source<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(SourceVisitor(PhantomData))
    }
}

struct SourceVisitor<T>(PhantomData<T>);

/// A key of a source object: the known ones, anything else skipped.
enum Key {
    Status,
    Endpoint,
    Data,
    Reason,
    Other,
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
                Ok(match v {
                    "status" => Key::Status,
                    "endpoint" => Key::Endpoint,
                    "data" => Key::Data,
                    "reason" => Key::Reason,
                    _ => Key::Other,
                })
            }
        }
        d.deserialize_identifier(KeyVisitor)
    }
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for SourceVisitor<T> {
    type Value = Source<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a source object with a \"status\"")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Source<T>, A::Error> {
        let mut status: Option<String> = None;
        let mut endpoint: Option<String> = None;
        let mut data: Option<T> = None;
        let mut reason: Option<MissingReason> = None;
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::Status if status.is_some() => {
                    return Err(de::Error::duplicate_field("status"));
                }
                Key::Status => status = Some(map.next_value()?),
                Key::Endpoint if endpoint.is_some() => {
                    return Err(de::Error::duplicate_field("endpoint"));
                }
                Key::Endpoint => endpoint = Some(map.next_value()?),
                Key::Data if data.is_some() => return Err(de::Error::duplicate_field("data")),
                Key::Data => data = Some(map.next_value()?),
                Key::Reason if reason.is_some() => {
                    return Err(de::Error::duplicate_field("reason"));
                }
                Key::Reason => reason = Some(map.next_value()?),
                Key::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        match status.as_deref() {
            Some("collected") => Ok(Source::Collected {
                endpoint: endpoint.ok_or_else(|| de::Error::missing_field("endpoint"))?,
                data: data.ok_or_else(|| de::Error::missing_field("data"))?,
            }),
            Some("missing") => Ok(Source::Missing {
                reason: reason.ok_or_else(|| de::Error::missing_field("reason"))?,
            }),
            Some(other) => Err(de::Error::unknown_variant(other, VARIANTS)),
            None => Err(de::Error::missing_field("status")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_in_any_order_unknown_ones_skipped_and_errors_named() {
        let s: Source<Vec<u32>> = serde_json::from_str(
            r#"{"data":[1,2],"x":{"y":[]},"endpoint":"GET /a","status":"collected"}"#,
        )
        .unwrap();
        assert_eq!(
            s,
            Source::Collected {
                endpoint: "GET /a".into(),
                data: vec![1, 2]
            }
        );
        let s: Source<Vec<u32>> =
            serde_json::from_str(r#"{"status":"missing","reason":{"kind":"not-collected"}}"#)
                .unwrap();
        assert_eq!(
            s,
            Source::Missing {
                reason: MissingReason::NotCollected
            }
        );
        let err = |j: &str| {
            serde_json::from_str::<Source<Vec<u32>>>(j)
                .unwrap_err()
                .to_string()
        };
        assert!(err(r#"{"data":[]}"#).contains("missing field `status`"));
        assert!(err(r#"{"status":"collected","data":[]}"#).contains("missing field `endpoint`"));
        assert!(err(r#"{"status":"gone"}"#).contains("unknown variant `gone`"));
        assert!(err(r#"{"status":"missing","status":"missing"}"#).contains("duplicate field"));
        assert!(
            err(r#"{"status":"collected","endpoint":"e","data":["x"]}"#).contains("invalid type")
        );
        assert!(err("[1]").contains("invalid type"));
    }
}
