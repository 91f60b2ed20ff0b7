//! Settings: every flag has an environment variable (the contract: the README's Settings); the flag
//! wins. Values are read as text and validated here, so every invalid value gets one line
//! that names the variable, the value and what is accepted, and exit code 2.

pub mod glob;

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::emf::EncoderConfig;
use crate::pipeline::dimensions::{Builtin, DimensionConfig, PROPERTY_NAMES};
use crate::pipeline::{CATALOG, catalog};
use glob::{NameFilter, is_glob};

/// The raw settings as given by flags or environment.
#[derive(Args, Debug, Clone, Default)]
pub struct RawSettings {
    /// Base URL of the Task Metadata Endpoint v4 (set by ECS).
    #[arg(
        long = "metadata-uri",
        env = "ECS_CONTAINER_METADATA_URI_V4",
        value_name = "URL"
    )]
    pub metadata_uri: Option<String>,
    /// Accept a metadata URL on a host that is neither loopback nor link-local.
    #[arg(
        long = "allow-any-metadata-host",
        env = "ECS_EMF_ALLOW_ANY_METADATA_HOST",
        value_name = "BOOL"
    )]
    pub allow_any_metadata_host: Option<String>,
    /// stdout | agent | cloudwatch
    #[arg(long, env = "ECS_EMF_OUTPUT")]
    pub output: Option<String>,
    /// CloudWatch namespace (fallback: AWS_EMF_NAMESPACE).
    #[arg(long, env = "ECS_EMF_NAMESPACE")]
    pub namespace: Option<String>,
    /// Poll interval, 1s..1h (e.g. 60s, 5m).
    #[arg(long, env = "ECS_EMF_INTERVAL")]
    pub interval: Option<String>,
    /// Publish with StorageResolution 1.
    #[arg(
        long = "high-resolution",
        env = "ECS_EMF_HIGH_RESOLUTION",
        value_name = "BOOL"
    )]
    pub high_resolution: Option<String>,
    /// Task dimension sets: `;` between sets, `,` inside a set.
    #[arg(long, env = "ECS_EMF_DIMENSIONS", value_name = "SETS")]
    pub dimensions: Option<String>,
    /// Container dimension sets.
    #[arg(
        long = "container-dimensions",
        env = "ECS_EMF_CONTAINER_DIMENSIONS",
        value_name = "SETS"
    )]
    pub container_dimensions: Option<String>,
    /// Tag keys added to every dimension set.
    #[arg(
        long = "tag-dimensions",
        env = "ECS_EMF_TAG_DIMENSIONS",
        value_name = "KEYS"
    )]
    pub tag_dimensions: Option<String>,
    /// Metric names or globs to keep.
    #[arg(long, env = "ECS_EMF_METRICS", value_name = "NAMES")]
    pub metrics: Option<String>,
    /// Metric names or globs to drop.
    #[arg(
        long = "exclude-metrics",
        env = "ECS_EMF_EXCLUDE_METRICS",
        value_name = "NAMES"
    )]
    pub exclude_metrics: Option<String>,
    /// false publishes task-level metrics only.
    #[arg(
        long = "container-metrics",
        env = "ECS_EMF_CONTAINER_METRICS",
        value_name = "BOOL"
    )]
    pub container_metrics: Option<String>,
    /// Container names or globs left out of container metrics and task sums.
    #[arg(
        long = "exclude-containers",
        env = "ECS_EMF_EXCLUDE_CONTAINERS",
        value_name = "NAMES"
    )]
    pub exclude_containers: Option<String>,
    /// Fixed name=value dimensions added to every set.
    #[arg(
        long = "static-dimensions",
        env = "ECS_EMF_STATIC_DIMENSIONS",
        value_name = "PAIRS"
    )]
    pub static_dimensions: Option<String>,
    /// How often tags are re-read.
    #[arg(
        long = "tags-refresh",
        env = "ECS_EMF_TAGS_REFRESH",
        value_name = "DURATION"
    )]
    pub tags_refresh: Option<String>,
    /// Read tags through the ECS API when /taskWithTags is unavailable.
    #[arg(
        long = "tags-from-api",
        env = "ECS_EMF_TAGS_FROM_API",
        value_name = "BOOL"
    )]
    pub tags_from_api: Option<String>,
    /// Longest EMF line on stdout, 1024..1048576 bytes.
    #[arg(
        long = "max-line-bytes",
        env = "ECS_EMF_MAX_LINE_BYTES",
        value_name = "BYTES"
    )]
    pub max_line_bytes: Option<String>,
    /// Publish the exporter's own metrics.
    #[arg(
        long = "self-metrics",
        env = "ECS_EMF_SELF_METRICS",
        value_name = "BOOL"
    )]
    pub self_metrics: Option<String>,
    /// text | json
    #[arg(long = "log-format", env = "ECS_EMF_LOG_FORMAT")]
    pub log_format: Option<String>,
    /// error | warn | info | debug | trace
    #[arg(long = "log-level", env = "ECS_EMF_LOG_LEVEL")]
    pub log_level: Option<String>,
    /// Agent output target: tcp://HOST:PORT or udp://HOST:PORT.
    #[arg(
        long = "agent-endpoint",
        env = "AWS_EMF_AGENT_ENDPOINT",
        value_name = "URL"
    )]
    pub agent_endpoint: Option<String>,
    /// Agent output: `_aws.LogGroupName`.
    #[arg(
        long = "log-group-name",
        env = "AWS_EMF_LOG_GROUP_NAME",
        value_name = "NAME"
    )]
    pub log_group_name: Option<String>,
    /// Agent output: `_aws.LogStreamName`.
    #[arg(
        long = "log-stream-name",
        env = "AWS_EMF_LOG_STREAM_NAME",
        value_name = "NAME"
    )]
    pub log_stream_name: Option<String>,
    /// Bytes of undelivered EMF kept while the destination is unreachable.
    #[arg(
        long = "buffer-bytes",
        env = "ECS_EMF_BUFFER_BYTES",
        value_name = "BYTES"
    )]
    pub buffer_bytes: Option<String>,
    /// Where the sidecar records its last good collection, for `healthcheck`.
    #[arg(long = "health-file", env = "ECS_EMF_HEALTH_FILE", value_name = "PATH")]
    pub health_file: Option<String>,
}

/// An invalid setting: printed as one line, exit code 2.
#[derive(Debug, Clone, PartialEq)]
pub struct SettingsError {
    pub variable: &'static str,
    pub value: String,
    pub expected: String,
}

impl std::fmt::Display for SettingsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let value: String = self.value.chars().take(120).collect();
        write!(
            f,
            "invalid setting {}={:?}: {}",
            self.variable, value, self.expected
        )
    }
}

impl std::error::Error for SettingsError {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputKind {
    Stdout,
    Agent,
    Cloudwatch,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Tcp,
    Udp,
}

/// `AWS_EMF_AGENT_ENDPOINT`, validated: the transport and a `host:port` to resolve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentEndpoint {
    pub transport: Transport,
    pub address: String,
}

impl AgentEndpoint {
    pub fn parse(text: &str) -> Option<AgentEndpoint> {
        let (scheme, rest) = text.trim().split_once("://")?;
        let transport = match scheme {
            "tcp" => Transport::Tcp,
            "udp" => Transport::Udp,
            _ => return None,
        };
        let rest = rest.trim_end_matches('/');
        let (host, port) = rest.rsplit_once(':')?;
        let port_ok = port.parse::<u16>().is_ok_and(|p| p > 0);
        let host_ok = !host.is_empty() && !host.contains(['/', ' ', '@']);
        (port_ok && host_ok).then(|| AgentEndpoint {
            transport,
            address: rest.to_string(),
        })
    }
}

pub const DEFAULT_AGENT_ENDPOINT: &str = "tcp://127.0.0.1:25888";
pub const DEFAULT_BUFFER_BYTES: usize = 4 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Validated settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub metadata_uri: Option<String>,
    pub output: OutputKind,
    pub namespace: String,
    pub interval: Duration,
    pub high_resolution: bool,
    pub dimensions: DimensionConfig,
    pub include_metrics: NameFilter,
    pub exclude_metrics: NameFilter,
    pub container_metrics: bool,
    pub exclude_containers: NameFilter,
    pub tags_refresh: Duration,
    pub tags_from_api: bool,
    pub max_line_bytes: usize,
    pub self_metrics: bool,
    pub log_format: LogFormat,
    pub log_level: tracing::Level,
    pub health_file: PathBuf,
    pub agent_endpoint: AgentEndpoint,
    pub log_group_name: Option<String>,
    pub log_stream_name: Option<String>,
    pub buffer_bytes: usize,
}

pub const DEFAULT_NAMESPACE: &str = "ECS/TaskMetrics";
pub const DEFAULT_MAX_LINE_BYTES: usize = 16_383;
pub const DEFAULT_HEALTH_FILE: &str = "/tmp/ecs-emf-exporter.health";

fn err(variable: &'static str, value: &str, expected: impl Into<String>) -> SettingsError {
    SettingsError {
        variable,
        value: value.to_string(),
        expected: expected.into(),
    }
}

/// `healthcheck` runs as a separate process (from the container's health check, whose working
/// directory is not ours to choose), so both must name the same file: an absolute path.
fn health_file(value: Option<&str>) -> Result<PathBuf, SettingsError> {
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

/// The endpoint is plain HTTP on a link-local address (169.254.170.2), or loopback for the
/// simulator. Anything else would send the poller's requests, and trust the answers, to a host
/// the task does not control; that takes ECS_EMF_ALLOW_ANY_METADATA_HOST=true. Host names other
/// than `localhost` are refused too: DNS could point them anywhere.
fn validate_metadata_uri(uri: &str, allow_any_host: bool) -> Result<String, SettingsError> {
    const VAR: &str = "ECS_CONTAINER_METADATA_URI_V4";
    let parsed = url::Url::parse(uri)
        .ok()
        .filter(|u| u.scheme() == "http" && u.host_str().is_some_and(|h| !h.is_empty()))
        .ok_or_else(|| {
            err(
                VAR,
                uri,
                "expected an http:// URL (ECS sets it; the endpoint is plain HTTP on a link-local address)",
            )
        })?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(err(
            VAR,
            "(a URL with credentials)",
            "a URL without user:password@",
        ));
    }
    let host = parsed.host_str().unwrap_or_default();
    // IPv6 hosts come bracketed ("[::1]").
    let local = match host.trim_start_matches('[').trim_end_matches(']').parse() {
        Ok(std::net::IpAddr::V4(ip)) => ip.is_loopback() || ip.is_link_local(),
        Ok(std::net::IpAddr::V6(ip)) => ip.is_loopback() || (ip.segments()[0] & 0xffc0) == 0xfe80,
        Err(_) => host.eq_ignore_ascii_case("localhost"),
    };
    if !local && !allow_any_host {
        return Err(err(
            VAR,
            uri,
            "a loopback or link-local host (ECS uses 169.254.170.2); set ECS_EMF_ALLOW_ANY_METADATA_HOST=true to poll another host",
        ));
    }
    Ok(uri.to_string())
}

/// `90s`, `5m`, `1h`, `1500ms`, or a bare number of seconds.
pub fn parse_duration(text: &str) -> Option<Duration> {
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

fn parse_bool(
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

fn parse_bounded_duration(
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

fn split_list(text: &str) -> Vec<String> {
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

fn parse_metric_list(
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

impl Settings {
    pub fn from_raw(raw: &RawSettings) -> Result<Settings, SettingsError> {
        let allow_any_metadata_host = parse_bool(
            "ECS_EMF_ALLOW_ANY_METADATA_HOST",
            raw.allow_any_metadata_host.as_deref(),
            false,
        )?;
        let metadata_uri = match raw.metadata_uri.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(uri) => Some(validate_metadata_uri(uri, allow_any_metadata_host)?),
        };
        let output = match raw.output.as_deref().map(str::trim) {
            None | Some("stdout") => OutputKind::Stdout,
            Some("agent") => OutputKind::Agent,
            Some("cloudwatch") => OutputKind::Cloudwatch,
            Some(other) => {
                return Err(err(
                    "ECS_EMF_OUTPUT",
                    other,
                    "expected stdout, agent or cloudwatch",
                ));
            }
        };
        let namespace_env = std::env::var("AWS_EMF_NAMESPACE").ok();
        let (ns_var, namespace) = match (&raw.namespace, namespace_env) {
            (Some(ns), _) => ("ECS_EMF_NAMESPACE", ns.clone()),
            (None, Some(ns)) => ("AWS_EMF_NAMESPACE", ns),
            (None, None) => ("ECS_EMF_NAMESPACE", DEFAULT_NAMESPACE.to_string()),
        };
        let ns_printable = namespace
            .chars()
            .all(|c| c.is_ascii() && !c.is_ascii_control());
        if namespace.trim().is_empty()
            || namespace.len() > 255
            || !ns_printable
            || namespace.starts_with("AWS/")
        {
            return Err(err(
                ns_var,
                &namespace,
                "expected 1-255 printable ASCII characters, not starting with AWS/",
            ));
        }
        let interval = parse_bounded_duration(
            "ECS_EMF_INTERVAL",
            raw.interval.as_deref(),
            Duration::from_secs(60),
            Duration::from_secs(1),
            Duration::from_secs(3600),
            "1s to 1h",
        )?;
        let tags_refresh = parse_bounded_duration(
            "ECS_EMF_TAGS_REFRESH",
            raw.tags_refresh.as_deref(),
            Duration::from_secs(300),
            Duration::from_secs(10),
            Duration::from_secs(86_400),
            "10s to 24h",
        )?;
        let task_sets = match raw.dimensions.as_deref() {
            Some(text) => parse_sets("ECS_EMF_DIMENSIONS", text, false)?,
            None => DimensionConfig::default().task_sets,
        };
        let container_sets = match raw.container_dimensions.as_deref() {
            Some(text) => parse_sets("ECS_EMF_CONTAINER_DIMENSIONS", text, true)?,
            None => DimensionConfig::default().container_sets,
        };
        let mut tag_keys = Vec::new();
        if let Some(text) = raw.tag_dimensions.as_deref() {
            for key in split_list(text) {
                check_extra_name("ECS_EMF_TAG_DIMENSIONS", text, &key)?;
                if !tag_keys.contains(&key) {
                    tag_keys.push(key);
                }
            }
        }
        let mut static_dims: Vec<(String, String)> = Vec::new();
        if let Some(text) = raw.static_dimensions.as_deref() {
            for pair in split_list(text) {
                let Some((k, v)) = pair.split_once('=') else {
                    return Err(err(
                        "ECS_EMF_STATIC_DIMENSIONS",
                        text,
                        "expected name=value pairs separated by commas",
                    ));
                };
                let (k, v) = (k.trim(), v.trim());
                check_extra_name("ECS_EMF_STATIC_DIMENSIONS", text, k)?;
                if v.is_empty() || v.chars().count() > 1024 {
                    return Err(err(
                        "ECS_EMF_STATIC_DIMENSIONS",
                        text,
                        format!("value of {k:?} must be 1-1024 characters"),
                    ));
                }
                if static_dims.iter().any(|(name, _)| name == k) {
                    return Err(err(
                        "ECS_EMF_STATIC_DIMENSIONS",
                        text,
                        format!("{k:?} is given twice"),
                    ));
                }
                static_dims.push((k.to_string(), v.to_string()));
            }
        }
        let dimensions = DimensionConfig {
            task_sets,
            container_sets,
            tag_keys,
            static_dims,
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
        let max_line_bytes = match raw.max_line_bytes.as_deref() {
            None => DEFAULT_MAX_LINE_BYTES,
            Some(text) => match text.trim().parse::<usize>() {
                Ok(n) if (1024..=1_048_576).contains(&n) => n,
                _ => {
                    return Err(err(
                        "ECS_EMF_MAX_LINE_BYTES",
                        text,
                        "expected a whole number from 1024 to 1048576",
                    ));
                }
            },
        };
        let log_format = match raw.log_format.as_deref().map(str::trim) {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => return Err(err("ECS_EMF_LOG_FORMAT", other, "expected text or json")),
        };
        let log_level = match raw
            .log_level
            .as_deref()
            .map(|l| l.trim().to_ascii_lowercase())
        {
            None => tracing::Level::INFO,
            Some(l) => l.parse::<tracing::Level>().map_err(|_| {
                err(
                    "ECS_EMF_LOG_LEVEL",
                    raw.log_level.as_deref().unwrap_or_default(),
                    "expected error, warn, info, debug or trace",
                )
            })?,
        };
        let agent_text = raw
            .agent_endpoint
            .as_deref()
            .unwrap_or(DEFAULT_AGENT_ENDPOINT);
        let agent_endpoint = AgentEndpoint::parse(agent_text).ok_or_else(|| {
            err(
                "AWS_EMF_AGENT_ENDPOINT",
                agent_text,
                "expected tcp://HOST:PORT or udp://HOST:PORT",
            )
        })?;
        // CloudWatch Logs' own rules: group names are [A-Za-z0-9._/#-]; stream names may not
        // hold ':' or '*'. Both 1-512 characters; no quotes or controls (they go into JSON).
        let log_name = |variable: &'static str,
                        value: &Option<String>,
                        allowed: fn(char) -> bool,
                        expected: &str|
         -> Result<Option<String>, SettingsError> {
            match value.as_deref().map(str::trim) {
                None | Some("") => Ok(None),
                Some(v) if v.chars().count() <= 512 && v.chars().all(allowed) => {
                    Ok(Some(v.to_string()))
                }
                Some(v) => Err(err(variable, v, expected)),
            }
        };
        let log_group_name = log_name(
            "AWS_EMF_LOG_GROUP_NAME",
            &raw.log_group_name,
            |c| c.is_ascii_alphanumeric() || "._/#-".contains(c),
            "expected a CloudWatch Logs name (1-512 characters: letters, digits, . _ / # -)",
        )?;
        let log_stream_name = log_name(
            "AWS_EMF_LOG_STREAM_NAME",
            &raw.log_stream_name,
            |c| !matches!(c, ':' | '*' | '"' | '\\') && !c.is_control(),
            "expected a CloudWatch Logs name (1-512 characters, no : * or quotes)",
        )?;
        let buffer_bytes = match raw.buffer_bytes.as_deref() {
            None => DEFAULT_BUFFER_BYTES,
            Some(text) => match text.trim().parse::<usize>() {
                Ok(n) if (65_536..=1_073_741_824).contains(&n) => n,
                _ => {
                    return Err(err(
                        "ECS_EMF_BUFFER_BYTES",
                        text,
                        "expected a whole number of bytes from 65536 to 1073741824",
                    ));
                }
            },
        };
        Ok(Settings {
            agent_endpoint,
            log_group_name,
            log_stream_name,
            buffer_bytes,
            metadata_uri,
            output,
            namespace,
            interval,
            high_resolution: parse_bool(
                "ECS_EMF_HIGH_RESOLUTION",
                raw.high_resolution.as_deref(),
                false,
            )?,
            dimensions,
            include_metrics: parse_metric_list("ECS_EMF_METRICS", raw.metrics.as_deref())?,
            exclude_metrics: parse_metric_list(
                "ECS_EMF_EXCLUDE_METRICS",
                raw.exclude_metrics.as_deref(),
            )?,
            container_metrics: parse_bool(
                "ECS_EMF_CONTAINER_METRICS",
                raw.container_metrics.as_deref(),
                true,
            )?,
            exclude_containers: NameFilter::new(
                raw.exclude_containers
                    .as_deref()
                    .map(split_list)
                    .unwrap_or_default(),
            ),
            tags_refresh,
            tags_from_api: parse_bool(
                "ECS_EMF_TAGS_FROM_API",
                raw.tags_from_api.as_deref(),
                false,
            )?,
            max_line_bytes,
            self_metrics: parse_bool("ECS_EMF_SELF_METRICS", raw.self_metrics.as_deref(), false)?,
            log_format,
            log_level,
            health_file: health_file(raw.health_file.as_deref())?,
        })
    }

    pub fn encoder(&self) -> EncoderConfig {
        EncoderConfig {
            namespace: self.namespace.clone(),
            high_resolution: self.high_resolution,
            max_line_bytes: self.max_line_bytes,
            log_group: None,
            log_stream: None,
        }
    }

    /// Whether `metric` passes `ECS_EMF_METRICS` / `ECS_EMF_EXCLUDE_METRICS`.
    pub fn metric_selected(&self, metric: &crate::pipeline::MetricDef) -> bool {
        (self.include_metrics.is_empty() || self.include_metrics.matches(metric.name))
            && !self.exclude_metrics.matches(metric.name)
    }

    /// Whether documents will carry this metric: the name filters, plus container metrics
    /// and the exporter's own metrics each behind their switch.
    pub fn publishes(&self, metric: &crate::pipeline::MetricDef) -> bool {
        let switched_on = match metric.level {
            crate::pipeline::Level::Task => true,
            crate::pipeline::Level::Container => self.container_metrics,
            crate::pipeline::Level::Exporter => self.self_metrics,
        };
        switched_on && self.metric_selected(metric)
    }

    /// A one-line description of what the exporter will do, logged once at start.
    pub fn describe(&self) -> String {
        let sets = |sets: &[Vec<Builtin>]| {
            sets.iter()
                .map(|s| s.iter().map(|b| b.name()).collect::<Vec<_>>().join(","))
                .collect::<Vec<_>>()
                .join(";")
        };
        format!(
            "namespace={} interval={}s output={} task_dimensions=[{}] container_dimensions=[{}] tag_dimensions=[{}] static_dimensions=[{}] high_resolution={} max_line_bytes={}",
            self.namespace,
            self.interval.as_secs_f64(),
            format!("{:?}", self.output).to_lowercase(),
            sets(&self.dimensions.task_sets),
            sets(&self.dimensions.container_sets),
            self.dimensions.tag_keys.join(","),
            self.dimensions
                .static_dims
                .iter()
                .map(|(k, _)| k.as_str())
                .collect::<Vec<_>>()
                .join(","),
            self.high_resolution,
            self.max_line_bytes,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata(uri: &str, allow_any_host: Option<&str>) -> Result<Option<String>, SettingsError> {
        let raw = RawSettings {
            metadata_uri: Some(uri.to_string()),
            allow_any_metadata_host: allow_any_host.map(str::to_string),
            ..RawSettings::default()
        };
        Settings::from_raw(&raw).map(|s| s.metadata_uri)
    }

    #[test]
    fn the_metadata_url_must_be_plain_http_to_a_loopback_or_link_local_host() {
        for ok in [
            "http://169.254.170.2/v4/0123abcd-4567",
            "http://127.0.0.1:51234/v4/sim-0001",
            "http://localhost:8080/v4/x",
            "http://[::1]:8080/v4/x",
            "http://[fe80::1]/v4/x",
        ] {
            assert_eq!(metadata(ok, None), Ok(Some(ok.to_string())), "{ok}");
        }
        for refused in [
            "http://10.0.0.5/v4/x",
            "http://169.255.0.1/v4/x",
            "http://metadata.example.com/v4/x",
            "http://[2001:db8::1]/v4/x",
        ] {
            let e = metadata(refused, None).expect_err(refused);
            assert_eq!(e.variable, "ECS_CONTAINER_METADATA_URI_V4");
            assert!(e.expected.contains("loopback or link-local"), "{e:?}");
            // An explicit opt-in accepts it.
            assert_eq!(
                metadata(refused, Some("true")),
                Ok(Some(refused.to_string()))
            );
        }
        for not_http in [
            "https://169.254.170.2/v4/x",
            "ftp://127.0.0.1/v4",
            "http://",
            "169.254.170.2/v4",
        ] {
            let e = metadata(not_http, Some("true")).expect_err(not_http);
            assert!(e.expected.contains("http:// URL"), "{not_http}: {e:?}");
        }
    }

    #[test]
    fn a_metadata_url_with_credentials_is_refused_without_echoing_them() {
        let e = metadata("http://user:s3cret@169.254.170.2/v4/x", None).expect_err("refused");
        assert!(!format!("{e:?}").contains("s3cret"), "{e:?}");
        assert!(e.expected.contains("without user:password@"));
    }
}
