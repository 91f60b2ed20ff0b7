//! Turning response bodies into models, isolating damage to the smallest unit.
//!
//! A stats body is parsed container by container (`RawValue`), so one malformed entry costs
//! that container its metrics for the cycle and nothing else.

use std::collections::HashMap;

use serde::Deserialize;
use serde::de::value::MapAccessDeserializer;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::model::{ContainerMetadata, ContainerStats, TaskMetadata, TaskTagsResponse};
use crate::pipeline::events::Outside;

/// Why a body could not be used. The message names the problem; the caller adds the path.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseError(pub String);

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// `/task/stats`, parsed: usable entries by DockerId, plus the ids whose entry was present
/// but unusable (not an object of the expected shape), for one log line.
#[derive(Debug, Clone, Default)]
pub struct StatsResponse {
    pub containers: HashMap<String, ContainerStats>,
    pub malformed: Vec<String>,
}

fn json_error(body: &[u8], err: &serde_json::Error) -> ParseError {
    if body.iter().all(u8::is_ascii_whitespace) {
        return ParseError("empty body".to_string());
    }
    // serde's message may quote the body; it reaches the log as text from outside.
    let said = Outside(&err.to_string()).to_string();
    if err.is_data() {
        return ParseError(format!("unexpected JSON shape ({said})"));
    }
    ParseError(format!("invalid JSON ({said})"))
}

/// serde's derived `Deserialize` also reads a struct from a JSON array, field by field in
/// order: `[]` read as an empty task and `["prod"]` as cluster `prod` (found by fuzzing).
/// The endpoint answers with an object; a body that parsed but is not one is the wrong shape.
fn object_body(body: &[u8]) -> Result<(), ParseError> {
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => Ok(()),
        _ => Err(ParseError(
            "unexpected JSON shape (expected an object)".to_string(),
        )),
    }
}

/// A JSON object answer as `T` (whose fields are all lenient): the endpoints' and the
/// introspection API's.
pub(crate) fn json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ParseError> {
    let value = serde_json::from_slice(body).map_err(|e| json_error(body, &e))?;
    object_body(body)?;
    Ok(value)
}

pub fn task(body: &[u8]) -> Result<TaskMetadata, ParseError> {
    json(body)
}

/// The container's own metadata (`${ECS_CONTAINER_METADATA_URI_V4}`): one `Containers[]`
/// entry.
pub fn container(body: &[u8]) -> Result<ContainerMetadata, ParseError> {
    json(body)
}

pub fn task_with_tags(body: &[u8]) -> Result<TaskTagsResponse, ParseError> {
    json(body)
}

/// One stats entry as read in the single-pass parse.
enum Entry {
    /// `null`: a stopped container on Fargate.
    Absent,
    Stats(Box<ContainerStats>),
    /// Not an object: kept apart so it can be reported.
    Malformed,
}

impl<'de> Deserialize<'de> for Entry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Entry, D::Error> {
        struct EntryVisitor;
        impl<'de> Visitor<'de> for EntryVisitor {
            type Value = Entry;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a container's stats")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Entry, A::Error> {
                ContainerStats::deserialize(MapAccessDeserializer::new(map))
                    .map(|s| Entry::Stats(Box::new(s)))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Entry, E> {
                Ok(Entry::Absent)
            }
            fn visit_none<E: de::Error>(self) -> Result<Entry, E> {
                Ok(Entry::Absent)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Entry, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Entry::Malformed)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Entry, E> {
                Ok(Entry::Malformed)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Entry, E> {
                Ok(Entry::Malformed)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Entry, E> {
                Ok(Entry::Malformed)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Entry, E> {
                Ok(Entry::Malformed)
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Entry, E> {
                Ok(Entry::Malformed)
            }
        }
        d.deserialize_any(EntryVisitor)
    }
}

/// `/task/stats`. One pass over the body in the usual case; when it fails (a duplicated key,
/// a number out of range such as `1e400` in one entry), each container is parsed on its own,
/// so one bad entry costs only that container; only a body that is not a JSON object of
/// entries at all is an error.
pub fn stats(body: &[u8]) -> Result<StatsResponse, ParseError> {
    match serde_json::from_slice::<HashMap<String, Entry>>(body) {
        Ok(entries) => {
            let mut out = StatsResponse::default();
            for (docker_id, entry) in entries {
                match entry {
                    Entry::Stats(stats) if has_samples(&stats) => {
                        out.containers.insert(docker_id, *stats);
                    }
                    Entry::Stats(_) | Entry::Absent => {}
                    Entry::Malformed => out.malformed.push(docker_id),
                }
            }
            out.malformed.sort();
            Ok(out)
        }
        Err(_) => stats_entry_by_entry(body),
    }
}

fn stats_entry_by_entry(body: &[u8]) -> Result<StatsResponse, ParseError> {
    let raw: HashMap<String, Option<&RawValue>> =
        serde_json::from_slice(body).map_err(|e| json_error(body, &e))?;
    let mut out = StatsResponse::default();
    for (docker_id, entry) in raw {
        // `null` (Fargate, stopped) and `{}` (EC2, stopped) mean "no stats this cycle".
        let Some(entry) = entry else { continue };
        // Read as `Entry`, as in the one-pass parse: `ContainerStats` alone also reads a JSON
        // array (field by field), so an entry that is not an object was dropped or even read
        // as stats here instead of reported (found by fuzzing).
        match serde_json::from_str::<Entry>(entry.get()) {
            Ok(Entry::Stats(stats)) if has_samples(&stats) => {
                out.containers.insert(docker_id, *stats);
            }
            Ok(Entry::Stats(_) | Entry::Absent) => {}
            Ok(Entry::Malformed) | Err(_) => out.malformed.push(docker_id),
        }
    }
    out.malformed.sort();
    Ok(out)
}

/// An entry carries a sample when it has any of the sections metrics are computed from.
fn has_samples(s: &ContainerStats) -> bool {
    s.cpu_stats.is_some()
        || s.memory_stats.is_some()
        || s.networks.is_some()
        || s.blkio_stats.is_some()
        || s.pids_stats.as_ref().is_some_and(|p| p.current.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_and_empty_entries_are_absent_not_zero() {
        let body = br#"{"a": null, "b": {}, "c": {"memory_stats": {"usage": 5}}}"#;
        let parsed = stats(body).expect("valid body");
        assert_eq!(parsed.containers.len(), 1);
        assert_eq!(
            parsed.containers["c"]
                .memory_stats
                .as_ref()
                .and_then(|m| m.usage),
            Some(5)
        );
        assert!(parsed.malformed.is_empty());
    }

    #[test]
    fn a_number_out_of_range_in_one_entry_costs_only_that_container() {
        // serde_json calls `1e400` a syntax error: the one-pass parse failed for the whole
        // body, and every container lost its values every cycle.
        let body =
            br#"{"bad": {"memory_stats": {"usage": 1e400}}, "ok": {"memory_stats": {"usage": 7}}}"#;
        let parsed = stats(body).expect("the body is read entry by entry");
        assert_eq!(parsed.malformed, vec!["bad".to_string()]);
        assert_eq!(
            parsed.containers["ok"]
                .memory_stats
                .as_ref()
                .and_then(|m| m.usage),
            Some(7)
        );
        assert!(
            stats(br#"{"ok": {"memory_stats": {"usage": 7}}"#).is_err(),
            "cut short"
        );
    }

    #[test]
    fn a_malformed_entry_costs_only_that_container() {
        // Wrong types at any depth read as "absent"; an entry that is not an object at all
        // is reported.
        let body = br#"{"bad": "oops", "odd": {"cpu_stats": "oops", "memory_stats": {"usage": 3}}, "ok": {"memory_stats": {"usage": 7}}}"#;
        let parsed = stats(body).expect("valid body");
        assert_eq!(parsed.malformed, vec!["bad".to_string()]);
        assert!(parsed.containers["odd"].cpu_stats.is_none());
        assert_eq!(
            parsed.containers["odd"]
                .memory_stats
                .as_ref()
                .and_then(|m| m.usage),
            Some(3)
        );
        assert!(parsed.containers.contains_key("ok"));
    }

    #[test]
    fn valid_json_that_does_not_fit_falls_back_to_one_container_at_a_time() {
        // A duplicated key fails the one-pass parse; only that container is lost.
        let body = br#"{"dup": {"read": "a", "read": "b"}, "ok": {"memory_stats": {"usage": 7}}}"#;
        let parsed = stats(body).expect("valid body");
        assert_eq!(parsed.malformed, vec!["dup".to_string()]);
        assert_eq!(
            parsed.containers["ok"]
                .memory_stats
                .as_ref()
                .and_then(|m| m.usage),
            Some(7)
        );
    }

    #[test]
    fn lists_and_maps_skip_elements_of_the_wrong_type() {
        let body = br#"{"c": {"blkio_stats": {"io_service_bytes_recursive": [1, {"op": "Read", "value": 5}, null]},
                         "networks": {"eth0": {"rx_bytes": 9}, "eth1": "down"}}}"#;
        let parsed = stats(body).expect("valid body");
        let c = &parsed.containers["c"];
        let blkio = c
            .blkio_stats
            .as_ref()
            .and_then(|b| b.io_service_bytes_recursive.as_ref())
            .expect("list");
        assert_eq!(blkio.len(), 1);
        assert_eq!(blkio[0].value, Some(5));
        let nets = c.networks.as_ref().expect("networks");
        assert_eq!(nets.keys().collect::<Vec<_>>(), vec!["eth0"]);
    }

    #[test]
    fn odd_scalar_types_read_as_not_reported() {
        let body = br#"{"c": {"memory_stats": {"usage": -3, "limit": 1.0e9}, "networks": {"eth0": {"rx_bytes": "12", "tx_bytes": "NaN", "rx_packets": true}}}}"#;
        let parsed = stats(body).expect("valid body");
        let c = &parsed.containers["c"];
        let mem = c.memory_stats.as_ref().expect("memory");
        assert_eq!(mem.usage, None, "negative");
        assert_eq!(mem.limit, Some(1_000_000_000), "integral float");
        let eth0 = &c.networks.as_ref().expect("networks")["eth0"];
        assert_eq!(eth0.rx_bytes, Some(12), "numeric string");
        assert_eq!((eth0.tx_bytes, eth0.rx_packets), (None, None));
    }

    #[test]
    fn truncated_and_empty_bodies_are_errors_with_a_reason() {
        let err = stats(br#"{"c": {"memory_stats": {"us"#).expect_err("truncated");
        assert!(err.0.starts_with("invalid JSON"), "{err}");
        assert_eq!(stats(b"  ").expect_err("empty").0, "empty body");
        assert!(
            task(b"<html>")
                .expect_err("html")
                .0
                .starts_with("invalid JSON")
        );
    }

    #[test]
    fn revision_as_number_and_unknown_containers_entries_are_tolerated() {
        let body = br#"{"Revision": 9, "Containers": [{"Name": "a"}, 42, {"Name": "b", "Limits": {"CPU": "x"}}]}"#;
        let t = task(body).expect("valid");
        assert_eq!(t.revision.as_deref(), Some("9"));
        let names: Vec<_> = t.containers.iter().filter_map(|c| c.name.clone()).collect();
        assert_eq!(names, vec!["a".to_string(), "b".to_string()]);
        assert_eq!(t.containers[1].limits.as_ref().and_then(|l| l.cpu), None);
    }
}
