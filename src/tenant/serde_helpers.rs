//! Serde helpers for Graph's messy values: empty strings and nulls as unset, values of the
//! wrong shape as `None` (one odd item must not sink a list), scalars read without a tree.

use serde::{Deserialize, Deserializer};

/// `""` and `null` both mean "unset".
pub(crate) fn empty_as_none<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let v: Option<String> = Option::deserialize(d)?;
    Ok(v.filter(|s| !s.trim().is_empty()))
}

/// `null` collections read as empty.
pub(crate) fn null_as_empty<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    let v: Option<Vec<T>> = Option::deserialize(d)?;
    Ok(v.unwrap_or_default())
}

/// A value of the wrong shape reads as `None` instead of failing the whole collection: one odd
/// item of a polymorphic list (a type this tool has never seen) must not hide the others.
/// The value is held as a tree while it is tried, so this is for small objects only (a
/// platform restriction); scalars go through [`Scalar`], which keeps nothing else.
pub(crate) fn lenient<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let v = serde_json::Value::deserialize(d)?;
    Ok(serde_json::from_value(v).ok())
}

/// [`empty_as_none`] that also tolerates a non-string value (as `None`).
pub(super) fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Scalar::deserialize(d)? {
        Scalar::Str(s) if !s.trim().is_empty() => Some(s),
        _ => None,
    })
}

/// A whole number, or `None` for anything else (a string, a fraction, an object).
pub(super) fn lenient_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(match Scalar::deserialize(d)? {
        Scalar::I64(n) => Some(n),
        Scalar::U64(n) => i64::try_from(n).ok(),
        _ => None,
    })
}

/// A priority: a number (or numeric string). `null` or garbage sorts last (never the default,
/// never a winner over a real priority).
pub(super) fn lenient_priority<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    Ok(match Scalar::deserialize(d)? {
        Scalar::I64(n) => n,
        Scalar::U64(n) => i64::try_from(n).unwrap_or(i64::MAX),
        Scalar::Str(s) => s.trim().parse().unwrap_or(i64::MAX),
        Scalar::Other => i64::MAX,
    })
}

/// One JSON value where a scalar is expected: a string or a whole number is kept, anything
/// else (a fraction, `null`, an array, an object) is skipped as it is read, without building
/// a tree of it.
pub(super) enum Scalar {
    Str(String),
    I64(i64),
    U64(u64),
    Other,
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Scalar, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_str<E>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar::Str(v.to_string()))
            }
            fn visit_string<E>(self, v: String) -> Result<Scalar, E> {
                Ok(Scalar::Str(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar::I64(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar::U64(v))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Scalar, E> {
                Ok(Scalar::Other)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Scalar, E> {
                Ok(Scalar::Other)
            }
            fn visit_unit<E>(self) -> Result<Scalar, E> {
                Ok(Scalar::Other)
            }
            fn visit_none<E>(self) -> Result<Scalar, E> {
                Ok(Scalar::Other)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Scalar, D::Error> {
                Scalar::deserialize(d)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<Scalar, A::Error> {
                while a.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut a: A) -> Result<Scalar, A::Error> {
                while a
                    .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(Scalar::Other)
            }
        }
        d.deserialize_any(V)
    }
}

/// Case-insensitive comparison for Graph enum strings (`ServerAd` / `serverAd`).
pub fn eq_ci(a: Option<&str>, b: &str) -> bool {
    a.is_some_and(|a| a.eq_ignore_ascii_case(b))
}

/// An `@odata.type` without its leading `#` (generated docs omit it, real responses keep it).
pub fn odata_type_is(t: Option<&str>, expected: &str) -> bool {
    let norm = |s: &str| s.trim_start_matches('#').to_ascii_lowercase();
    t.is_some_and(|t| norm(t) == norm(expected))
}
