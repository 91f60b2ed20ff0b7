//! Settings: every flag has an environment variable (the contract: the README's Settings); the
//! flag wins. Values are read as text (`raw`) and checked here, one rule per setting
//! (`parse`), so every invalid value gets one line that names the variable, the value and what
//! is accepted, and exit code 2.

pub mod glob;
mod parse;
pub(crate) use parse::parse_bool;
mod raw;

use std::path::PathBuf;
use std::time::Duration;

use crate::emf::EncoderConfig;
use crate::pipeline::dimensions::{Builtin, DimensionConfig};
use crate::pipeline::{DAEMON_ONLY, MetricDef, SIDECAR_ONLY};
use crate::source::metadata::EndpointUrl;
use glob::NameFilter;
pub use raw::RawSettings;

/// An invalid setting: printed as one line, exit code 2.
#[derive(Debug, Clone, PartialEq)]
pub struct SettingsError {
    pub(crate) variable: &'static str,
    pub(crate) value: String,
    pub(crate) expected: String,
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
pub(crate) enum OutputKind {
    Stdout,
    Agent,
    Cloudwatch,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transport {
    Tcp,
    Udp,
}

/// `AWS_EMF_AGENT_ENDPOINT`, validated: the transport and a `host:port` to resolve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AgentEndpoint {
    pub(crate) transport: Transport,
    pub(crate) address: String,
}

impl AgentEndpoint {
    pub(crate) fn parse(text: &str) -> Option<AgentEndpoint> {
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

pub(crate) const DEFAULT_AGENT_ENDPOINT: &str = "tcp://127.0.0.1:25888";
pub(crate) const DEFAULT_BUFFER_BYTES: usize = 4 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LogFormat {
    Text,
    Json,
}

/// Which exporter the settings drive. Each publishes metrics the other never can
/// ([`DAEMON_ONLY`], [`SIDECAR_ONLY`]): the pipeline's selection and `metrics --json` both
/// leave those out, so the catalog says what the documents carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Mode {
    /// One task, from its Task Metadata Endpoint (also the demo and `plan`).
    #[default]
    Sidecar,
    /// Every task of an EC2 instance (`daemon`, docs/daemon.md).
    Daemon {
        /// `ECS_EMF_SERVICE_FROM_API`: each task's ServiceName from ecs:DescribeTasks.
        service_from_api: bool,
    },
}

impl Mode {
    /// Whether this exporter can publish `metric` at all, whatever the settings.
    pub(crate) fn can_publish(self, metric: &MetricDef) -> bool {
        let never: &[&MetricDef] = match self {
            Mode::Sidecar => &DAEMON_ONLY,
            Mode::Daemon { .. } => &SIDECAR_ONLY,
        };
        !never.iter().any(|m| m.index == metric.index)
    }

    /// Whether a task that belongs to a service carries its `ServiceName`: the daemon knows it
    /// only from ecs:DescribeTasks, and otherwise publishes `TaskDefinitionFamily` where a
    /// set names `ServiceName`, as for a standalone task.
    pub(crate) fn knows_services(self) -> bool {
        match self {
            Mode::Sidecar => true,
            Mode::Daemon { service_from_api } => service_from_api,
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Mode::Sidecar => "sidecar",
            Mode::Daemon { .. } => "daemon",
        }
    }
}

/// Validated settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub(crate) metadata_uri: Option<EndpointUrl>,
    /// `ECS_EMF_INTROSPECTION_URI`: the ECS agent introspection API, when set.
    pub(crate) introspection_uri: Option<EndpointUrl>,
    pub(crate) output: OutputKind,
    pub(crate) namespace: String,
    pub interval: Duration,
    pub(crate) high_resolution: bool,
    pub dimensions: DimensionConfig,
    pub(crate) include_metrics: NameFilter,
    pub(crate) exclude_metrics: NameFilter,
    pub(crate) container_metrics: bool,
    pub exclude_containers: NameFilter,
    pub(crate) tags_refresh: Duration,
    pub(crate) stop_timeout: Duration,
    pub tags_from_api: bool,
    pub max_line_bytes: usize,
    pub(crate) self_metrics: bool,
    pub(crate) log_format: LogFormat,
    pub(crate) log_level: tracing::Level,
    pub(crate) health_file: PathBuf,
    pub(crate) agent_endpoint: AgentEndpoint,
    pub(crate) log_group_name: Option<String>,
    pub(crate) log_stream_name: Option<String>,
    pub(crate) buffer_bytes: usize,
    /// The sidecar unless the command line says otherwise (`daemon`, `metrics --daemon`).
    pub(crate) mode: Mode,
}

/// Well below ECS's default 30 s stop timeout, after which the container is killed.
pub(crate) const DEFAULT_STOP_TIMEOUT: Duration = Duration::from_secs(10);
pub(crate) const DEFAULT_NAMESPACE: &str = "ECS/TaskMetrics";
pub(crate) const DEFAULT_MAX_LINE_BYTES: usize = 16_383;
pub(crate) const DEFAULT_HEALTH_FILE: &str = "/tmp/ecs-emf-exporter.health";

impl Settings {
    pub fn from_raw(raw: &RawSettings) -> Result<Settings, SettingsError> {
        let allow_any_metadata_host = parse::parse_bool(
            "ECS_EMF_ALLOW_ANY_METADATA_HOST",
            raw.allow_any_metadata_host.as_deref(),
            false,
        )?;
        let metadata_uri = match raw.metadata_uri.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(uri) => Some(parse::metadata_url(uri, allow_any_metadata_host)?),
        };
        let introspection_uri = match raw.introspection_uri.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(uri) => Some(parse::introspection_url(uri, allow_any_metadata_host)?),
        };
        let output = parse::output(raw.output.as_deref())?;
        let namespace = parse::namespace(raw)?;
        let interval = parse::parse_bounded_duration(
            "ECS_EMF_INTERVAL",
            raw.interval.as_deref(),
            Duration::from_secs(60),
            Duration::from_secs(1),
            Duration::from_secs(3600),
            "1s to 1h",
        )?;
        let tags_refresh = parse::parse_bounded_duration(
            "ECS_EMF_TAGS_REFRESH",
            raw.tags_refresh.as_deref(),
            Duration::from_secs(300),
            Duration::from_secs(10),
            Duration::from_secs(86_400),
            "10s to 24h",
        )?;
        let stop_timeout = parse::parse_bounded_duration(
            "ECS_EMF_STOP_TIMEOUT",
            raw.stop_timeout.as_deref(),
            DEFAULT_STOP_TIMEOUT,
            Duration::from_secs(1),
            Duration::from_secs(120),
            "1s to 2m",
        )?;
        let dimensions = parse::dimensions(raw)?;
        let names_instance = |sets: &[Vec<Builtin>]| {
            sets.iter()
                .flatten()
                .any(|b| *b == Builtin::ContainerInstanceId)
        };
        let naming_instance = if names_instance(&dimensions.task_sets) {
            Some(("ECS_EMF_DIMENSIONS", &raw.dimensions))
        } else if names_instance(&dimensions.container_sets) {
            Some(("ECS_EMF_CONTAINER_DIMENSIONS", &raw.container_dimensions))
        } else {
            None
        };
        if let (None, Some((variable, text))) = (&introspection_uri, naming_instance) {
            return Err(SettingsError {
                variable,
                value: text.clone().unwrap_or_default(),
                expected: "ContainerInstanceId comes from the ECS agent introspection API: set ECS_EMF_INTROSPECTION_URI as well (EC2 only; docs/metrics.md)".to_string(),
            });
        }
        let max_line_bytes = parse::bounded_count(
            "ECS_EMF_MAX_LINE_BYTES",
            raw.max_line_bytes.as_deref(),
            DEFAULT_MAX_LINE_BYTES,
            1024..=1_048_576,
            "expected a whole number from 1024 to 1048576",
        )?;
        let log_format = parse::log_format(raw.log_format.as_deref())?;
        let log_level = parse::log_level(raw.log_level.as_deref())?;
        let agent_endpoint = parse::agent_endpoint(raw.agent_endpoint.as_deref())?;
        let log_group_name = parse::log_group_name(raw.log_group_name.as_deref())?;
        let log_stream_name = parse::log_stream_name(raw.log_stream_name.as_deref())?;
        let buffer_bytes = parse::bounded_count(
            "ECS_EMF_BUFFER_BYTES",
            raw.buffer_bytes.as_deref(),
            DEFAULT_BUFFER_BYTES,
            65_536..=1_073_741_824,
            "expected a whole number of bytes from 65536 to 1073741824",
        )?;
        let flag = |variable, value: &Option<String>, default| {
            parse::parse_bool(variable, value.as_deref(), default)
        };
        Ok(Settings {
            agent_endpoint,
            log_group_name,
            log_stream_name,
            buffer_bytes,
            metadata_uri,
            introspection_uri,
            output,
            namespace,
            interval,
            high_resolution: flag("ECS_EMF_HIGH_RESOLUTION", &raw.high_resolution, false)?,
            dimensions,
            include_metrics: parse::parse_metric_list("ECS_EMF_METRICS", raw.metrics.as_deref())?,
            exclude_metrics: parse::parse_metric_list(
                "ECS_EMF_EXCLUDE_METRICS",
                raw.exclude_metrics.as_deref(),
            )?,
            container_metrics: flag("ECS_EMF_CONTAINER_METRICS", &raw.container_metrics, true)?,
            exclude_containers: NameFilter::new(
                raw.exclude_containers
                    .as_deref()
                    .map(parse::split_list)
                    .unwrap_or_default(),
            ),
            tags_refresh,
            stop_timeout,
            tags_from_api: flag("ECS_EMF_TAGS_FROM_API", &raw.tags_from_api, false)?,
            max_line_bytes,
            self_metrics: flag("ECS_EMF_SELF_METRICS", &raw.self_metrics, false)?,
            log_format,
            log_level,
            health_file: parse::health_file(raw.health_file.as_deref())?,
            mode: Mode::Sidecar,
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
    pub(crate) fn metric_selected(&self, metric: &MetricDef) -> bool {
        (self.include_metrics.is_empty() || self.include_metrics.matches(metric.name))
            && !self.exclude_metrics.matches(metric.name)
    }

    /// Whether documents will carry this metric: what the mode can publish, the name
    /// filters, plus container metrics and the exporter's own metrics each behind their switch.
    pub(crate) fn publishes(&self, metric: &MetricDef) -> bool {
        let switched_on = match metric.level {
            crate::pipeline::Level::Task => true,
            crate::pipeline::Level::Container => self.container_metrics,
            crate::pipeline::Level::Exporter => self.self_metrics,
        };
        switched_on && self.mode.can_publish(metric) && self.metric_selected(metric)
    }

    /// A one-line description of what the exporter will do, logged once at start.
    pub(crate) fn describe(&self) -> String {
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
        ) + &self
            .introspection_uri
            .as_ref()
            .map(|u| format!(" introspection={u}"))
            .unwrap_or_default()
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
        Settings::from_raw(&raw).map(|s| s.metadata_uri.map(|u| u.to_string()))
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

    fn introspection(uri: &str, dimensions: Option<&str>) -> Result<Option<String>, SettingsError> {
        let raw = RawSettings {
            introspection_uri: Some(uri.to_string()),
            dimensions: dimensions.map(str::to_string),
            ..RawSettings::default()
        };
        Settings::from_raw(&raw).map(|s| s.introspection_uri.map(|u| u.to_string()))
    }

    #[test]
    fn the_introspection_url_is_on_the_host_or_its_networks_and_container_instance_id_needs_it() {
        // Host networking, the default Docker bridge's gateway, another private network.
        for ok in [
            "http://127.0.0.1:51678",
            "http://172.17.0.1:51678",
            "http://10.0.0.5:51678",
            "http://localhost:51678",
        ] {
            assert_eq!(introspection(ok, None), Ok(Some(ok.to_string())), "{ok}");
        }
        assert_eq!(introspection("", None), Ok(None), "empty is off");
        let e = introspection("http://52.1.2.3:51678", None).expect_err("public");
        assert_eq!(e.variable, "ECS_EMF_INTROSPECTION_URI");
        assert!(e.expected.contains("private address"), "{e:?}");
        let e = introspection("https://127.0.0.1:51678", None).expect_err("https");
        assert!(e.expected.contains("http:// URL"), "{e:?}");
        let e = introspection("http://u:s3cret@127.0.0.1:51678", None).expect_err("credentials");
        assert!(!format!("{e:?}").contains("s3cret"), "{e:?}");
        // The dimension comes from the API: without the URL it cannot have a value.
        let raw = RawSettings {
            container_dimensions: Some("ClusterName,ContainerInstanceId".to_string()),
            ..RawSettings::default()
        };
        let e = Settings::from_raw(&raw).expect_err("no URL");
        assert_eq!(e.variable, "ECS_EMF_CONTAINER_DIMENSIONS");
        assert!(e.expected.contains("ECS_EMF_INTROSPECTION_URI"), "{e:?}");
        assert!(
            introspection(
                "http://127.0.0.1:51678",
                Some("ClusterName,ContainerInstanceId")
            )
            .is_ok()
        );
    }

    #[test]
    fn a_metadata_url_with_credentials_is_refused_without_echoing_them() {
        let e = metadata("http://user:s3cret@169.254.170.2/v4/x", None).expect_err("refused");
        assert!(!format!("{e:?}").contains("s3cret"), "{e:?}");
        assert!(e.expected.contains("without user:password@"));
    }
}
