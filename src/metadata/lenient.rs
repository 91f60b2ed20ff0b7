//! Field parsers that never fail a whole response over one odd value.
//!
//! The endpoint's JSON varies by platform, agent version and cgroup version (numbers where
//! strings were expected, `null` where objects were expected, floats in counters). A strict
//! parse would turn one unexpected field into a lost cycle, so numeric and text fields are
//! read leniently: a value of the wrong type becomes `None`, which the metric code treats as
//! "not reported" and never as zero.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// An unsigned counter or gauge. Accepts integers and non-negative integral floats
/// (some encoders write `1.0e9`); anything else is "not reported".
pub fn u64_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite() && *f >= 0.0 && f.fract() == 0.0 && *f < 1.8e19)
                .map(|f| f as u64)
        }),
        _ => None,
    })
}

/// A finite float (task limits are vCPU fractions like `0.25`).
pub fn f64_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Number(n) => n.as_f64().filter(|f| f.is_finite()),
        _ => None,
    })
}

/// A string; numbers are accepted and written out (the `Revision` field has been seen as both).
pub fn string_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

/// A list whose elements are parsed one by one; elements that do not fit are skipped
/// instead of failing the list (`null` and non-arrays read as empty).
pub fn vec_lenient<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    Ok(match Value::deserialize(d)? {
        Value::Array(items) => items
            .into_iter()
            .filter_map(|v| serde_json::from_value(v).ok())
            .collect(),
        _ => Vec::new(),
    })
}

/// Like [`vec_lenient`], but keeps "not reported" (`null`, missing, not a list) apart from
/// "reported empty" (`[]`): an empty list is a real zero, a missing one is no data.
pub fn opt_vec_lenient<'de, D, T>(d: D) -> Result<Option<Vec<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    Ok(match Value::deserialize(d)? {
        Value::Array(items) => Some(
            items
                .into_iter()
                .filter_map(|v| serde_json::from_value(v).ok())
                .collect(),
        ),
        _ => None,
    })
}
