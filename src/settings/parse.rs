//! Each setting's rules: text in, a checked value or a [`SettingsError`] out.

use std::path::PathBuf;
use std::time::Duration;

use super::glob::{NameFilter, is_glob};
use super::{
    AgentEndpoint, DEFAULT_AGENT_ENDPOINT, DEFAULT_HEALTH_FILE, DEFAULT_NAMESPACE, LogFormat,
    OutputKind, RawSettings, SettingsError,
};
use crate::pipeline::dimensions::{Builtin, DimensionConfig, PROPERTY_NAMES};
use crate::pipeline::{CATALOG, catalog};
use crate::source::metadata::{EndpointUrl, UrlProblem};

pub(super) fn err(
    variable: &'static str,
    value: &str,
    expected: impl Into<String>,
) -> SettingsError {
    SettingsError {
        variable,
        value: value.to_string(),
        expected: expected.into(),
    }
}

/// `healthcheck` runs as a separate process (from the container's health check, whose working
/// directory is not ours to choose), so both must name the same file: an absolute path.
pub(super) fn health_file(value: Option<&str>) -> Result<PathBuf, SettingsError> {
    match value.map(str::trim) {
        None => Ok(PathBuf::from(DEFAULT_HEALTH_FILE)),
        Some(path) if path.starts_with('/') && !path.ends_with('/') => Ok(PathBuf::from(path)),
        Some(path) => Err(err(
            "ECS_EMF_HEALTH_FILE",
            path,
            "expected an absolute file path, e.g. /tmp/ecs-emf-exporter.health",
        )),
    }
}

/// `ECS_CONTAINER_METADATA_URI_V4`, checked by the client's own rules (`EndpointUrl::parse`).
pub(super) fn metadata_url(uri: &str, allow_any_host: bool) -> Result<EndpointUrl, SettingsError> {
    const VAR: &str = "ECS_CONTAINER_METADATA_URI_V4";
    EndpointUrl::parse(uri, allow_any_host).map_err(|problem| match problem {
        UrlProblem::NotHttp => err(
            VAR,
            uri,
            "expected an http:// URL (ECS sets it; the endpoint is plain HTTP on a link-local address)",
        ),
        // The URL's credentials are not echoed.
        UrlProblem::Credentials => err(
            VAR,
            "(a URL with credentials)",
            "a URL without user:password@",
        ),
        UrlProblem::NotLocal => err(
            VAR,
            uri,
            "a loopback or link-local host (ECS uses 169.254.170.2); set ECS_EMF_ALLOW_ANY_METADATA_HOST=true to poll another host",
        ),
    })
}

/// `ECS_EMF_INTROSPECTION_URI`: plain HTTP like the metadata endpoint, on the host or one of
/// its own networks (loopback with host networking; the Docker bridge's gateway, a private
/// address, with bridge networking), unless any host is allowed.
pub(super) fn introspection_url(
    uri: &str,
    allow_any_host: bool,
) -> Result<EndpointUrl, SettingsError> {
    const VAR: &str = "ECS_EMF_INTROSPECTION_URI";
    let url = EndpointUrl::parse(uri, true).map_err(|problem| match problem {
        UrlProblem::Credentials => err(
            VAR,
            "(a URL with credentials)",
            "a URL without user:password@",
        ),
        UrlProblem::NotHttp | UrlProblem::NotLocal => err(
            VAR,
            uri,
            "expected an http:// URL such as http://127.0.0.1:51678 (the agent serves it over plain HTTP)",
        ),
    })?;
    if !url.private_host && !allow_any_host {
        return Err(err(
            VAR,
            uri,
            "a loopback, link-local or private address (the agent listens on the container instance); set ECS_EMF_ALLOW_ANY_METADATA_HOST=true to use another host",
        ));
    }
    Ok(url)
}

/// `90s`, `5m`, `1h`, `1500ms`, or a bare number of seconds.
fn parse_duration(text: &str) -> Option<Duration> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: u64 = digits.parse().ok()?;
    let ms = match unit.trim() {
        "ms" => n,
        "" | "s" => n.checked_mul(1000)?,
        "m" => n.checked_mul(60_000)?,
        "h" => n.checked_mul(3_600_000)?,
        _ => return None,
    };
    Some(Duration::from_millis(ms))
}

pub(crate) fn parse_bool(
    variable: &'static str,
    value: Option<&str>,
    default: bool,
) -> Result<bool, SettingsError> {
    match value.map(|v| v.trim().to_ascii_lowercase()) {
        None => Ok(default),
        Some(v) if matches!(v.as_str(), "true" | "1" | "yes" | "on") => Ok(true),
        Some(v) if matches!(v.as_str(), "false" | "0" | "no" | "off") => Ok(false),
        Some(_) => Err(err(
            variable,
            value.unwrap_or_default(),
            "expected true or false",
        )),
    }
}

pub(super) fn parse_bounded_duration(
    variable: &'static str,
    value: Option<&str>,
    default: Duration,
    min: Duration,
    max: Duration,
    bounds: &str,
) -> Result<Duration, SettingsError> {
    let Some(text) = value else {
        return Ok(default);
    };
    match parse_duration(text) {
        Some(d) if d >= min && d <= max => Ok(d),
        _ => Err(err(
            variable,
            text,
            format!("expected a duration from {bounds}, like 60s, 5m or 1h"),
        )),
    }
}

pub(super) fn split_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// `ClusterName,ServiceName;ClusterName` → sets of built-in dimensions. An empty value
/// means one set with no built-in dimensions (tags and statics still apply).
fn parse_sets(
    variable: &'static str,
    text: &str,
    container: bool,
) -> Result<Vec<Vec<Builtin>>, SettingsError> {
    let allowed: Vec<&str> = Builtin::ALL
        .iter()
        .filter(|b| container || **b != Builtin::ContainerName)
        .map(|b| b.name())
        .collect();
    let mut sets = Vec::new();
    for part in text.split(';') {
        let mut set = Vec::new();
        for name in split_list(part) {
            let b = Builtin::parse(&name)
                .filter(|b| container || *b != Builtin::ContainerName)
                .ok_or_else(|| {
                    err(
                        variable,
                        text,
                        format!(
                            "unknown dimension {name:?}; accepted: {}",
                            allowed.join(", ")
                        ),
                    )
                })?;
            if !set.contains(&b) {
                set.push(b);
            }
        }
        if !sets.contains(&set) {
            sets.push(set);
        }
    }
    Ok(sets)
}

/// A tag or static dimension name that CloudWatch accepts and that collides with nothing
/// else on the document's root.
fn check_extra_name(variable: &'static str, text: &str, name: &str) -> Result<(), SettingsError> {
    let printable = name.chars().all(|c| c.is_ascii() && !c.is_ascii_control());
    if name.is_empty() || name.len() > 250 || !printable || name.starts_with(':') {
        return Err(err(
            variable,
            text,
            format!(
                "dimension name {name:?} must be 1-250 printable ASCII characters, not starting with ':'"
            ),
        ));
    }
    if PROPERTY_NAMES.contains(&name)
        || Builtin::parse(name).is_some()
        || catalog::find(name).is_some()
    {
        return Err(err(
            variable,
            text,
            format!(
                "dimension name {name:?} collides with a built-in dimension, property or metric name"
            ),
        ));
    }
    Ok(())
}

pub(super) fn parse_metric_list(
    variable: &'static str,
    text: Option<&str>,
) -> Result<NameFilter, SettingsError> {
    let Some(text) = text else {
        return Ok(NameFilter::default());
    };
    let patterns = split_list(text);
    for p in &patterns {
        let known = if is_glob(p) {
            CATALOG
                .iter()
                .any(|m| crate::settings::glob::glob_match(p, m.name))
        } else {
            catalog::find(p).is_some()
        };
        if !known {
            return Err(err(
                variable,
                text,
                format!("{p:?} matches no metric; see `ecs-emf-exporter metrics` for the names"),
            ));
        }
    }
    Ok(NameFilter::new(patterns))
}

/// `ECS_EMF_OUTPUT`.
pub(super) fn output(value: Option<&str>) -> Result<OutputKind, SettingsError> {
    match value.map(str::trim) {
        None | Some("stdout") => Ok(OutputKind::Stdout),
        Some("agent") => Ok(OutputKind::Agent),
        Some("cloudwatch") => Ok(OutputKind::Cloudwatch),
        Some(other) => Err(err(
            "ECS_EMF_OUTPUT",
            other,
            "expected stdout, agent or cloudwatch",
        )),
    }
}

/// `ECS_EMF_NAMESPACE`, else `AWS_EMF_NAMESPACE`, else the default, by CloudWatch's rules
/// (the Namespace of PutMetricData: 1-255 characters, pattern `[^:].*`, no `AWS/` prefix),
/// printable ASCII, and no space at either end (a typo, which also hid the `AWS/` prefix).
pub(super) fn namespace(raw: &RawSettings) -> Result<String, SettingsError> {
    let (variable, namespace) = match (&raw.namespace, &raw.aws_emf_namespace) {
        (Some(ns), _) => ("ECS_EMF_NAMESPACE", ns.clone()),
        (None, Some(ns)) => ("AWS_EMF_NAMESPACE", ns.clone()),
        (None, None) => ("ECS_EMF_NAMESPACE", DEFAULT_NAMESPACE.to_string()),
    };
    let printable = namespace
        .chars()
        .all(|c| c.is_ascii() && !c.is_ascii_control());
    if namespace.trim().is_empty()
        || namespace.len() > 255
        || !printable
        || namespace.starts_with("AWS/")
        || namespace.starts_with(':')
        || namespace.trim() != namespace
    {
        return Err(err(
            variable,
            &namespace,
            "expected 1-255 printable ASCII characters, not starting with AWS/ or ':', no space at either end",
        ));
    }
    Ok(namespace)
}

/// `ECS_EMF_TAG_DIMENSIONS`: each key once, in order.
fn tag_keys(value: Option<&str>) -> Result<Vec<String>, SettingsError> {
    let mut keys = Vec::new();
    if let Some(text) = value {
        for key in split_list(text) {
            check_extra_name("ECS_EMF_TAG_DIMENSIONS", text, &key)?;
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
    }
    Ok(keys)
}

/// `ECS_EMF_STATIC_DIMENSIONS`: `name=value` pairs, each name once.
fn static_dimensions(value: Option<&str>) -> Result<Vec<(String, String)>, SettingsError> {
    const VAR: &str = "ECS_EMF_STATIC_DIMENSIONS";
    let mut dims: Vec<(String, String)> = Vec::new();
    let Some(text) = value else {
        return Ok(dims);
    };
    for pair in split_list(text) {
        let Some((k, v)) = pair.split_once('=') else {
            return Err(err(
                VAR,
                text,
                "expected name=value pairs separated by commas",
            ));
        };
        let (k, v) = (k.trim(), v.trim());
        check_extra_name(VAR, text, k)?;
        if v.is_empty() || v.chars().count() > 1024 {
            return Err(err(
                VAR,
                text,
                format!("value of {k:?} must be 1-1024 characters"),
            ));
        }
        if dims.iter().any(|(name, _)| name == k) {
            return Err(err(VAR, text, format!("{k:?} is given twice")));
        }
        dims.push((k.to_string(), v.to_string()));
    }
    Ok(dims)
}

/// The dimension sets, tag and static dimensions; no set wider than CloudWatch's 30.
pub(super) fn dimensions(raw: &RawSettings) -> Result<DimensionConfig, SettingsError> {
    let defaults = DimensionConfig::default();
    let dimensions = DimensionConfig {
        task_sets: match raw.dimensions.as_deref() {
            Some(text) => parse_sets("ECS_EMF_DIMENSIONS", text, false)?,
            None => defaults.task_sets,
        },
        container_sets: match raw.container_dimensions.as_deref() {
            Some(text) => parse_sets("ECS_EMF_CONTAINER_DIMENSIONS", text, true)?,
            None => defaults.container_sets,
        },
        tag_keys: tag_keys(raw.tag_dimensions.as_deref())?,
        static_dims: static_dimensions(raw.static_dimensions.as_deref())?,
    };
    if dimensions.widest_set() > 30 {
        let value = raw
            .tag_dimensions
            .clone()
            .or(raw.static_dimensions.clone())
            .unwrap_or_default();
        return Err(err(
            "ECS_EMF_TAG_DIMENSIONS",
            &value,
            format!(
                "a dimension set would have {} dimensions; CloudWatch allows 30",
                dimensions.widest_set()
            ),
        ));
    }
    Ok(dimensions)
}

/// A whole number within `range`, `default` when not set; `expected` says the range.
pub(super) fn bounded_count(
    variable: &'static str,
    value: Option<&str>,
    default: usize,
    range: std::ops::RangeInclusive<usize>,
    expected: &str,
) -> Result<usize, SettingsError> {
    match value {
        None => Ok(default),
        Some(text) => match text.trim().parse::<usize>() {
            Ok(n) if range.contains(&n) => Ok(n),
            _ => Err(err(variable, text, expected)),
        },
    }
}

/// `ECS_EMF_LOG_FORMAT`.
pub(super) fn log_format(value: Option<&str>) -> Result<LogFormat, SettingsError> {
    match value.map(str::trim) {
        None | Some("text") => Ok(LogFormat::Text),
        Some("json") => Ok(LogFormat::Json),
        Some(other) => Err(err("ECS_EMF_LOG_FORMAT", other, "expected text or json")),
    }
}

/// `ECS_EMF_LOG_LEVEL`.
pub(super) fn log_level(value: Option<&str>) -> Result<tracing::Level, SettingsError> {
    match value.map(|l| l.trim().to_ascii_lowercase()) {
        None => Ok(tracing::Level::INFO),
        Some(l) => l.parse::<tracing::Level>().map_err(|_| {
            err(
                "ECS_EMF_LOG_LEVEL",
                value.unwrap_or_default(),
                "expected error, warn, info, debug or trace",
            )
        }),
    }
}

/// `AWS_EMF_AGENT_ENDPOINT`.
pub(super) fn agent_endpoint(value: Option<&str>) -> Result<AgentEndpoint, SettingsError> {
    let text = value.unwrap_or(DEFAULT_AGENT_ENDPOINT);
    AgentEndpoint::parse(text).ok_or_else(|| {
        err(
            "AWS_EMF_AGENT_ENDPOINT",
            text,
            "expected tcp://HOST:PORT or udp://HOST:PORT",
        )
    })
}

/// A CloudWatch Logs group or stream name, by CloudWatch Logs' own rules: 1-512 characters
/// `allowed` says are fine (no quotes or controls either way: they go into JSON).
fn log_name(
    variable: &'static str,
    value: Option<&str>,
    allowed: fn(char) -> bool,
    expected: &str,
) -> Result<Option<String>, SettingsError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) if v.chars().count() <= 512 && v.chars().all(allowed) => Ok(Some(v.to_string())),
        Some(v) => Err(err(variable, v, expected)),
    }
}

/// `AWS_EMF_LOG_GROUP_NAME`: group names are `[A-Za-z0-9._/#-]`.
pub(super) fn log_group_name(value: Option<&str>) -> Result<Option<String>, SettingsError> {
    log_name(
        "AWS_EMF_LOG_GROUP_NAME",
        value,
        |c| c.is_ascii_alphanumeric() || "._/#-".contains(c),
        "expected a CloudWatch Logs name (1-512 characters: letters, digits, . _ / # -)",
    )
}

/// `AWS_EMF_LOG_STREAM_NAME`: stream names may not hold `:` or `*`.
pub(super) fn log_stream_name(value: Option<&str>) -> Result<Option<String>, SettingsError> {
    log_name(
        "AWS_EMF_LOG_STREAM_NAME",
        value,
        |c| !matches!(c, ':' | '*' | '"' | '\\') && !c.is_control(),
        "expected a CloudWatch Logs name (1-512 characters, no : * or quotes)",
    )
}
