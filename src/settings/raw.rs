//! The settings as given: every one a flag with its environment variable (clap reads both;
//! the flag wins), kept as text until `Settings::from_raw` checks it.

use clap::Args;

/// The raw settings as given by flags or environment.
#[derive(Args, Debug, Clone, Default)]
pub struct RawSettings {
    /// Base URL of the Task Metadata Endpoint v4 (set by ECS).
    #[arg(
        long = "metadata-uri",
        env = "ECS_CONTAINER_METADATA_URI_V4",
        value_name = "URL"
    )]
    pub(crate) metadata_uri: Option<String>,
    /// Accept a metadata URL on a host that is neither loopback nor link-local.
    #[arg(
        long = "allow-any-metadata-host",
        env = "ECS_EMF_ALLOW_ANY_METADATA_HOST",
        value_name = "BOOL"
    )]
    pub(crate) allow_any_metadata_host: Option<String>,
    /// The ECS agent introspection API (e.g. http://127.0.0.1:51678); off when unset.
    #[arg(
        long = "introspection-uri",
        env = "ECS_EMF_INTROSPECTION_URI",
        value_name = "URL"
    )]
    pub(crate) introspection_uri: Option<String>,
    /// stdout | agent | cloudwatch
    #[arg(long, env = "ECS_EMF_OUTPUT")]
    pub(crate) output: Option<String>,
    /// CloudWatch namespace (fallback: AWS_EMF_NAMESPACE).
    #[arg(long, env = "ECS_EMF_NAMESPACE")]
    pub(crate) namespace: Option<String>,
    /// The namespace where ECS_EMF_NAMESPACE is not set (the variable the CloudWatch agent
    /// and the EMF client libraries read).
    #[arg(long = "aws-emf-namespace", env = "AWS_EMF_NAMESPACE", hide = true)]
    pub(crate) aws_emf_namespace: Option<String>,
    /// Poll interval, 1s..1h (e.g. 60s, 5m).
    #[arg(long, env = "ECS_EMF_INTERVAL")]
    pub(crate) interval: Option<String>,
    /// Publish with StorageResolution 1.
    #[arg(
        long = "high-resolution",
        env = "ECS_EMF_HIGH_RESOLUTION",
        value_name = "BOOL"
    )]
    pub(crate) high_resolution: Option<String>,
    /// Task dimension sets: `;` between sets, `,` inside a set.
    #[arg(long, env = "ECS_EMF_DIMENSIONS", value_name = "SETS")]
    pub(crate) dimensions: Option<String>,
    /// Container dimension sets.
    #[arg(
        long = "container-dimensions",
        env = "ECS_EMF_CONTAINER_DIMENSIONS",
        value_name = "SETS"
    )]
    pub(crate) container_dimensions: Option<String>,
    /// Tag keys added to every dimension set.
    #[arg(
        long = "tag-dimensions",
        env = "ECS_EMF_TAG_DIMENSIONS",
        value_name = "KEYS"
    )]
    pub(crate) tag_dimensions: Option<String>,
    /// Metric names or globs to keep.
    #[arg(long, env = "ECS_EMF_METRICS", value_name = "NAMES")]
    pub(crate) metrics: Option<String>,
    /// Metric names or globs to drop.
    #[arg(
        long = "exclude-metrics",
        env = "ECS_EMF_EXCLUDE_METRICS",
        value_name = "NAMES"
    )]
    pub(crate) exclude_metrics: Option<String>,
    /// false publishes task-level metrics only.
    #[arg(
        long = "container-metrics",
        env = "ECS_EMF_CONTAINER_METRICS",
        value_name = "BOOL"
    )]
    pub(crate) container_metrics: Option<String>,
    /// Container names or globs left out of container metrics and task sums.
    #[arg(
        long = "exclude-containers",
        env = "ECS_EMF_EXCLUDE_CONTAINERS",
        value_name = "NAMES"
    )]
    pub(crate) exclude_containers: Option<String>,
    /// Fixed name=value dimensions added to every set.
    #[arg(
        long = "static-dimensions",
        env = "ECS_EMF_STATIC_DIMENSIONS",
        value_name = "PAIRS"
    )]
    pub(crate) static_dimensions: Option<String>,
    /// How often tags are re-read.
    #[arg(
        long = "tags-refresh",
        env = "ECS_EMF_TAGS_REFRESH",
        value_name = "DURATION"
    )]
    pub(crate) tags_refresh: Option<String>,
    /// Read tags through the ECS API when /taskWithTags is unavailable.
    #[arg(
        long = "tags-from-api",
        env = "ECS_EMF_TAGS_FROM_API",
        value_name = "BOOL"
    )]
    pub(crate) tags_from_api: Option<String>,
    /// Longest EMF line on stdout, 1024..1048576 bytes.
    #[arg(
        long = "max-line-bytes",
        env = "ECS_EMF_MAX_LINE_BYTES",
        value_name = "BYTES"
    )]
    pub(crate) max_line_bytes: Option<String>,
    /// Publish the exporter's own metrics.
    #[arg(
        long = "self-metrics",
        env = "ECS_EMF_SELF_METRICS",
        value_name = "BOOL"
    )]
    pub(crate) self_metrics: Option<String>,
    /// text | json
    #[arg(long = "log-format", env = "ECS_EMF_LOG_FORMAT")]
    pub(crate) log_format: Option<String>,
    /// error | warn | info | debug | trace
    #[arg(long = "log-level", env = "ECS_EMF_LOG_LEVEL")]
    pub(crate) log_level: Option<String>,
    /// Agent output target: tcp://HOST:PORT or udp://HOST:PORT.
    #[arg(
        long = "agent-endpoint",
        env = "AWS_EMF_AGENT_ENDPOINT",
        value_name = "URL"
    )]
    pub(crate) agent_endpoint: Option<String>,
    /// Agent output: `_aws.LogGroupName`.
    #[arg(
        long = "log-group-name",
        env = "AWS_EMF_LOG_GROUP_NAME",
        value_name = "NAME"
    )]
    pub(crate) log_group_name: Option<String>,
    /// Agent output: `_aws.LogStreamName`.
    #[arg(
        long = "log-stream-name",
        env = "AWS_EMF_LOG_STREAM_NAME",
        value_name = "NAME"
    )]
    pub(crate) log_stream_name: Option<String>,
    /// Bytes of undelivered EMF kept while the destination is unreachable.
    #[arg(
        long = "buffer-bytes",
        env = "ECS_EMF_BUFFER_BYTES",
        value_name = "BYTES"
    )]
    pub(crate) buffer_bytes: Option<String>,
    /// The longest the stop may take, flush included, from SIGTERM or SIGINT (1s..2m).
    #[arg(
        long = "stop-timeout",
        env = "ECS_EMF_STOP_TIMEOUT",
        value_name = "DURATION"
    )]
    pub stop_timeout: Option<String>,
    /// Where the sidecar records its last good collection, for `healthcheck`.
    #[arg(long = "health-file", env = "ECS_EMF_HEALTH_FILE", value_name = "PATH")]
    pub(crate) health_file: Option<String>,
}
