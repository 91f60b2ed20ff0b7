//! Field parsers that never fail a whole response over one odd value.
//!
//! The endpoint's JSON varies by platform, agent version and cgroup version (numbers where
//! strings were expected, `null` where objects were expected, floats in counters). A strict
//! parse would turn one unexpected field into a lost cycle, so scalar fields are read
//! leniently: a value of the wrong type becomes `None`, which the metric code treats as
//! "not reported" and never as zero. Visitors, not `serde_json::Value`, so nothing is
//! allocated for the many fields that parse normally (this is the hot path of a cycle).

use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// What a lenient scalar makes of each JSON type; everything unlisted is `None`.
trait Scalar: Sized {
    fn from_bool(_: bool) -> Option<Self> {
        None
    }
    fn from_u64(_: u64) -> Option<Self> {
        None
    }
    fn from_i64(v: i64) -> Option<Self> {
        u64::try_from(v).ok().and_then(Self::from_u64)
    }
    fn from_f64(_: f64) -> Option<Self> {
        None
    }
    fn from_str(_: &str) -> Option<Self> {
        None
    }
}

impl Scalar for u64 {
    fn from_u64(v: u64) -> Option<u64> {
        Some(v)
    }
    /// Some encoders write integral counters as floats (`1.0e9`).
    fn from_f64(f: f64) -> Option<u64> {
        (f.is_finite() && f >= 0.0 && f.fract() == 0.0 && f < 1.8e19).then_some(f as u64)
    }
    /// A number written as a string (`"256"`).
    fn from_str(s: &str) -> Option<u64> {
        s.trim().parse().ok()
    }
}

impl Scalar for f64 {
    fn from_u64(v: u64) -> Option<f64> {
        Some(v as f64)
    }
    fn from_i64(v: i64) -> Option<f64> {
        Some(v as f64)
    }
    fn from_f64(f: f64) -> Option<f64> {
        f.is_finite().then_some(f)
    }
    /// A number written as a string (`"0.25"`).
    fn from_str(s: &str) -> Option<f64> {
        s.trim().parse::<f64>().ok().filter(|f| f.is_finite())
    }
}

/// A JSON number and nothing else: unlike `f64`, a number written as a string is refused.
struct Number(f64);

impl Scalar for Number {
    fn from_u64(v: u64) -> Option<Number> {
        Some(Number(v as f64))
    }
    fn from_i64(v: i64) -> Option<Number> {
        Some(Number(v as f64))
    }
    fn from_f64(f: f64) -> Option<Number> {
        f.is_finite().then_some(Number(f))
    }
}

impl Scalar for String {
    /// `Revision` has been seen as a number.
    fn from_u64(v: u64) -> Option<String> {
        Some(v.to_string())
    }
    fn from_i64(v: i64) -> Option<String> {
        Some(v.to_string())
    }
    fn from_str(s: &str) -> Option<String> {
        Some(s.to_string())
    }
}

impl Scalar for bool {
    fn from_bool(v: bool) -> Option<bool> {
        Some(v)
    }
}

impl Scalar for i64 {
    fn from_u64(v: u64) -> Option<i64> {
        i64::try_from(v).ok()
    }
    fn from_i64(v: i64) -> Option<i64> {
        Some(v)
    }
    /// Integral floats (`1.0e9`), as counters are read.
    fn from_f64(f: f64) -> Option<i64> {
        (f.is_finite() && f.fract() == 0.0 && (-9.2e18..9.2e18).contains(&f)).then_some(f as i64)
    }
    /// A number written as a string (`"137"`).
    fn from_str(s: &str) -> Option<i64> {
        s.trim().parse().ok()
    }
}

/// A JSON string and nothing else: unlike `String`, a number is refused.
struct JsonString(String);

impl Scalar for JsonString {
    fn from_str(s: &str) -> Option<JsonString> {
        Some(JsonString(s.to_string()))
    }
}

struct Lenient<T>(std::marker::PhantomData<T>);

impl<'de, T: Scalar> Visitor<'de> for Lenient<T> {
    type Value = Option<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Option<T>, E> {
        Ok(T::from_u64(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Option<T>, E> {
        Ok(T::from_i64(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Option<T>, E> {
        Ok(T::from_f64(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Option<T>, E> {
        Ok(T::from_str(v))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Option<T>, E> {
        Ok(T::from_bool(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Option<T>, E> {
        Ok(None)
    }
    fn visit_none<E: de::Error>(self) -> Result<Option<T>, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Option<T>, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Option<T>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<T>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }
}

fn lenient<'de, D: Deserializer<'de>, T: Scalar>(d: D) -> Result<Option<T>, D::Error> {
    d.deserialize_any(Lenient::<T>(std::marker::PhantomData))
}

/// An unsigned counter or gauge: integers and non-negative integral floats.
pub(crate) fn u64_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    lenient(d)
}

/// A finite float (task limits are vCPU fractions like `0.25`).
pub(crate) fn f64_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    lenient(d)
}

/// A finite JSON number, strictly: a string (`"0.43"`), a boolean, `null`, a list or an object
/// is `None`. For values whose documented type is a number and that nothing else in the
/// response cross-checks (`ClockDrift.ClockErrorBound`): a string there means the field is not
/// what the documentation describes, and is left out rather than guessed at.
pub(crate) fn number_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Ok(lenient::<D, Number>(d)?.map(|Number(v)| v))
}

/// A JSON boolean; anything else (`"true"`, `1`) is `None`.
pub(crate) fn bool_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    lenient(d)
}

/// A signed integer: integers in range, integral floats, numeric strings.
pub(crate) fn i64_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    lenient(d)
}

/// A JSON string and nothing else (a number is `None`).
pub(crate) fn json_string_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(lenient::<D, JsonString>(d)?.map(|JsonString(s)| s))
}

/// A string; numbers are accepted and written out.
pub(crate) fn string_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    lenient(d)
}

/// Reads an object with `T`'s own `Deserialize`, and anything that is not an object
/// (`null`, a string, a number, a list) as "absent". Errors inside the object still
/// propagate, which is why every field of the models is itself lenient.
struct ObjectOrNone<T>(std::marker::PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectOrNone<T> {
    type Value = Option<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Option<T>, A::Error> {
        T::deserialize(MapAccessDeserializer::new(map)).map(Some)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Option<T>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Option<T>, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_none<E: de::Error>(self) -> Result<Option<T>, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Option<T>, E> {
        Ok(None)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Option<T>, E> {
        Ok(None)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Option<T>, E> {
        Ok(None)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Option<T>, E> {
        Ok(None)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Option<T>, E> {
        Ok(None)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Option<T>, E> {
        Ok(None)
    }
}

/// A nested object; any other JSON type reads as "absent".
pub(crate) fn object_opt<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    d.deserialize_any(ObjectOrNone::<T>(std::marker::PhantomData))
}

/// One element of a lenient list or map: an object, or `None` for anything else.
pub(crate) struct Element<T>(pub Option<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Element<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Element<T>, D::Error> {
        object_opt(d).map(Element)
    }
}

struct ListOfObjects<T>(std::marker::PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for ListOfObjects<T> {
    type Value = Option<Vec<T>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Option<Vec<T>>, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(Element(item)) = seq.next_element::<Element<T>>()? {
            items.extend(item);
        }
        Ok(Some(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<Vec<T>>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Option<Vec<T>>, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_none<E: de::Error>(self) -> Result<Option<Vec<T>>, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Option<Vec<T>>, E> {
        Ok(None)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Option<Vec<T>>, E> {
        Ok(None)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Option<Vec<T>>, E> {
        Ok(None)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Option<Vec<T>>, E> {
        Ok(None)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Option<Vec<T>>, E> {
        Ok(None)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Option<Vec<T>>, E> {
        Ok(None)
    }
}

/// A list of objects, in one pass: elements that are not objects are skipped instead of
/// failing the list. `None` when the value is not a list (`null`, missing), so "not
/// reported" stays apart from "reported empty".
pub(crate) fn opt_vec_lenient<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Vec<T>>, D::Error> {
    d.deserialize_any(ListOfObjects::<T>(std::marker::PhantomData))
}

/// Like [`opt_vec_lenient`], with "not a list" read as empty.
pub(crate) fn vec_lenient<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Vec<T>, D::Error> {
    Ok(opt_vec_lenient(d)?.unwrap_or_default())
}

/// A map of name → object (`networks`); entries whose value is not an object are skipped,
/// and a value that is not a map reads as "absent".
pub(crate) fn map_lenient<'de, D, T>(
    d: D,
) -> Result<Option<std::collections::BTreeMap<String, T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    let map: Option<std::collections::BTreeMap<String, Element<T>>> = object_or_none_map(d)?;
    Ok(map.map(|m| {
        m.into_iter()
            .filter_map(|(k, Element(v))| Some((k, v?)))
            .collect()
    }))
}

/// A JSON object read as a map (values parse leniently as [`Element`]s); other types → `None`.
fn object_or_none_map<'de, D, V>(
    d: D,
) -> Result<Option<std::collections::BTreeMap<String, V>>, D::Error>
where
    D: Deserializer<'de>,
    V: Deserialize<'de>,
{
    object_opt(d)
}

use serde::Deserialize;
use serde::de::value::MapAccessDeserializer;
