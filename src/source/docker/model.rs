//! Serde models of the Docker Engine API answers the daemon mode reads: `GET /info` and
//! `GET /containers/{id}/json` (the stats answer is the Task Metadata Endpoint's shape, read
//! with [`crate::source::metadata::ContainerStats`]).
//!
//! Lenient like `source::metadata::model`, for the same reason: the answer varies by Docker
//! version, storage and cgroup driver, and one odd value must not cost a container its
//! whole read. Only the fields the exporter uses are modelled, every one optional; a value
//! of the wrong type reads as `None` ("not reported"), never as an error of the whole answer.
//! Field names and types: Docker Engine API `ContainerInspectResponse` (`State` is
//! `ContainerState`, `HostConfig` is `HostConfig`, `Config` is `ContainerConfig`) and
//! `SystemInfo`.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::Deserializer;

use crate::source::metadata::lenient::{
    bool_opt, i64_opt, json_string_opt, object_opt, string_opt, u64_opt,
};

/// `GET /info`: what decides how the host's cgroups are laid out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DockerInfo {
    /// `cgroupfs` or `systemd`.
    #[serde(default, deserialize_with = "string_opt")]
    pub(crate) cgroup_driver: Option<String>,
    /// `1` or `2` (API 1.40+; absent on older daemons).
    #[serde(default, deserialize_with = "string_opt")]
    pub(crate) cgroup_version: Option<String>,
}

/// `GET /containers/{id}/json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Inspect {
    /// The full 64-hex id.
    #[serde(default, deserialize_with = "string_opt")]
    pub(crate) id: Option<String>,
    /// With Docker's leading `/` (`/web`).
    #[serde(default, deserialize_with = "string_opt")]
    pub(crate) name: Option<String>,
    #[serde(default, deserialize_with = "u64_opt")]
    pub(crate) restart_count: Option<u64>,
    #[serde(default, deserialize_with = "object_opt")]
    pub(crate) state: Option<InspectState>,
    #[serde(default, deserialize_with = "object_opt")]
    pub(crate) config: Option<InspectConfig>,
    #[serde(default, deserialize_with = "object_opt")]
    pub(crate) host_config: Option<InspectHostConfig>,
}

/// `State` (Docker's `ContainerState`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct InspectState {
    /// `created`, `running`, `paused`, `restarting`, `removing`, `exited` or `dead`.
    #[serde(default, deserialize_with = "string_opt")]
    pub(crate) status: Option<String>,
    /// Only a JSON boolean: a string `"true"` is not guessed at (stats are read only when
    /// this is `Some(true)`).
    #[serde(default, deserialize_with = "bool_opt")]
    pub(crate) running: Option<bool>,
    /// Whether a process of the container was OOM-killed since it last started.
    #[serde(default, rename = "OOMKilled", deserialize_with = "bool_opt")]
    pub(crate) oom_killed: Option<bool>,
    /// The last exit code; negative codes exist (`-1` for a container that could not start).
    #[serde(default, deserialize_with = "i64_opt")]
    pub(crate) exit_code: Option<i64>,
    /// The main process on the host; `0` when not running.
    #[serde(default, deserialize_with = "u64_opt")]
    pub(crate) pid: Option<u64>,
    /// RFC 3339; Docker writes `0001-01-01T00:00:00Z` for "never".
    #[serde(default, deserialize_with = "string_opt")]
    pub(crate) started_at: Option<String>,
    /// RFC 3339; Docker writes `0001-01-01T00:00:00Z` for "not finished".
    #[serde(default, deserialize_with = "string_opt")]
    pub(crate) finished_at: Option<String>,
}

/// `Config` (Docker's `ContainerConfig`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct InspectConfig {
    /// The image as the container was created with it (`nginx:1.27`).
    #[serde(default, deserialize_with = "string_opt")]
    pub(crate) image: Option<String>,
    /// The ECS agent's `com.amazonaws.ecs.*` labels among others. Values that are not
    /// strings are dropped (Docker's labels are `map[string]string`).
    #[serde(default, deserialize_with = "labels_opt")]
    pub(crate) labels: Option<BTreeMap<String, String>>,
}

/// `HostConfig`: the container's limits, as Docker's `int64`s.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct InspectHostConfig {
    /// Relative weight (ECS: the container's CPU units); `0` = default (1024).
    #[serde(default, deserialize_with = "i64_opt")]
    pub(crate) cpu_shares: Option<i64>,
    /// Microseconds per `CpuPeriod`; `-1` or `0` = no quota.
    #[serde(default, deserialize_with = "i64_opt")]
    pub(crate) cpu_quota: Option<i64>,
    /// Microseconds; `0` = the kernel's default (100 000).
    #[serde(default, deserialize_with = "i64_opt")]
    pub(crate) cpu_period: Option<i64>,
    /// CPU limit in 1e-9 CPUs (`--cpus`); `0` = none.
    #[serde(default, deserialize_with = "i64_opt")]
    pub(crate) nano_cpus: Option<i64>,
    /// Hard memory limit in bytes; `0` = none.
    #[serde(default, deserialize_with = "i64_opt")]
    pub(crate) memory: Option<i64>,
    /// Soft memory limit in bytes; `0` = none.
    #[serde(default, deserialize_with = "i64_opt")]
    pub(crate) memory_reservation: Option<i64>,
    /// `bridge`, `host`, `none`, `container:<id>` (awsvpc tasks share the pause
    /// container's), or a network's name.
    #[serde(default, deserialize_with = "string_opt")]
    pub(crate) network_mode: Option<String>,
    /// The parent cgroup (ECS: `/ecs/<task id>`); empty = Docker's default.
    #[serde(default, deserialize_with = "string_opt")]
    pub(crate) cgroup_parent: Option<String>,
}

/// One label value: a string, or `None` for anything else.
struct LabelValue(Option<String>);

impl<'de> Deserialize<'de> for LabelValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<LabelValue, D::Error> {
        Ok(LabelValue(json_string_opt(d)?))
    }
}

/// A map of string → string; entries whose value is not a string are dropped, and a value
/// that is not an object reads as "absent".
fn labels_opt<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<BTreeMap<String, String>>, D::Error> {
    let map: Option<BTreeMap<String, LabelValue>> = object_opt(d)?;
    Ok(map.map(|m| {
        m.into_iter()
            .filter_map(|(k, LabelValue(v))| Some((k, v?)))
            .collect()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::metadata::parse;

    #[test]
    fn inspect_values_of_the_wrong_type_read_as_absent_not_as_an_error() {
        let body = br#"{"Id": 7, "RestartCount": "x",
            "State": {"Running": "true", "OOMKilled": 1, "ExitCode": "137", "Pid": -1, "Status": null},
            "Config": {"Image": ["x"], "Labels": {"a": "1", "b": 2, "c": null, "d": {"e": "f"}}},
            "HostConfig": "oops"}"#;
        let inspect: Inspect = parse::json(body).expect("lenient");
        assert_eq!(inspect.id.as_deref(), Some("7"), "numbers read as strings");
        assert_eq!(inspect.restart_count, None);
        let state = inspect.state.expect("state");
        assert_eq!((state.running, state.oom_killed), (None, None));
        assert_eq!(state.exit_code, Some(137));
        assert_eq!((state.pid, state.status), (None, None));
        let config = inspect.config.expect("config");
        assert_eq!(config.image, None);
        let labels = config.labels.expect("labels");
        assert_eq!(
            labels.into_iter().collect::<Vec<_>>(),
            vec![("a".to_string(), "1".to_string())]
        );
        assert_eq!(inspect.host_config, None);
    }

    #[test]
    fn signed_limits_keep_their_sign_and_integral_floats_are_integers() {
        let body = br#"{"State": {"ExitCode": -1, "Running": false},
            "HostConfig": {"CpuQuota": -1, "Memory": 5.36870912e8, "NanoCpus": 1.5, "CpuShares": 18446744073709551615}}"#;
        let inspect: Inspect = parse::json(body).expect("lenient");
        let state = inspect.state.expect("state");
        assert_eq!((state.exit_code, state.running), (Some(-1), Some(false)));
        let host = inspect.host_config.expect("host config");
        assert_eq!(host.cpu_quota, Some(-1));
        assert_eq!(host.memory, Some(536_870_912));
        assert_eq!(host.nano_cpus, None, "not integral");
        assert_eq!(host.cpu_shares, None, "out of range");
    }
}
