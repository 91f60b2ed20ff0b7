//! `daemon`: one exporter per EC2 container instance (an ECS service with the DAEMON
//! scheduling strategy, host network, the Docker socket mounted read-only), covering every
//! task on its instance through the agent introspection API and the Docker Engine API.
//! docs/daemon.md says what it needs and what it cannot know.

use std::process::ExitCode;
use std::sync::Arc;

use crate::cli::sidecar::{Wiring, make_output};
use crate::cli::{DaemonArgs, Failure};
use crate::run::host::HostWork;
use crate::run::{REQUEST_TIMEOUT, Runner, Stop, health};
use crate::settings::{Mode, RawSettings, Settings, parse_bool};
use crate::source::cgroup;
use crate::source::docker::DockerHost;
use crate::source::host::HostSource;

/// The agent's introspection API on the instance, where a task with host networking
/// reaches it ("Amazon ECS container introspection", ECS developer guide).
pub(crate) const DEFAULT_INTROSPECTION_URI: &str = "http://127.0.0.1:51678";
/// Where Docker's own clients look without `DOCKER_HOST`.
pub(crate) const DEFAULT_DOCKER_HOST: &str = "unix:///var/run/docker.sock";

/// The daemon's raw settings: the user's, with the introspection API on by default.
pub(crate) fn settings(args: &DaemonArgs) -> RawSettings {
    let mut raw = args.settings.clone();
    if raw
        .introspection_uri
        .as_deref()
        .is_none_or(|u| u.trim().is_empty())
    {
        raw.introspection_uri = Some(DEFAULT_INTROSPECTION_URI.to_string());
    }
    raw
}

/// A setting as given, trimmed, or `default` when it is unset or blank (an empty variable in a
/// task definition means "not set").
fn given_or<'a>(value: Option<&'a str>, default: &'a str) -> &'a str {
    value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .unwrap_or(default)
}

/// Daemon mode for these settings and `ECS_EMF_SERVICE_FROM_API`, or why daemon mode refuses
/// them: said before it starts (and by `metrics --daemon`) rather than published as `unknown`
/// on every document.
pub(crate) fn mode(settings: &Settings, service_from_api: Option<&str>) -> Result<Mode, Failure> {
    if let Some(why) = refused(settings) {
        return Err(Failure::usage(why));
    }
    let service_from_api = parse_bool("ECS_EMF_SERVICE_FROM_API", service_from_api, false)
        .map_err(|e| Failure::usage(e.to_string()))?;
    Ok(Mode::Daemon { service_from_api })
}

/// What daemon mode cannot do yet with these settings.
fn refused(settings: &Settings) -> Option<String> {
    if settings.dimensions.needs_tags() && !settings.tags_from_api {
        return Some(
            "ECS_EMF_TAG_DIMENSIONS: daemon mode reads task tags only through ecs:DescribeTasks (there is no /taskWithTags for other tasks): set ECS_EMF_TAGS_FROM_API=true, or leave it unset (docs/daemon.md)"
                .to_string(),
        );
    }
    if settings.self_metrics {
        return Some(
            "ECS_EMF_SELF_METRICS: the exporter's own metrics are per task in the sidecar and not published by the daemon yet (docs/daemon.md)"
                .to_string(),
        );
    }
    None
}

pub(crate) async fn run(
    args: DaemonArgs,
    settings: Settings,
    wiring: Wiring,
) -> Result<ExitCode, Failure> {
    let docker_text = given_or(args.docker_host.as_deref(), DEFAULT_DOCKER_HOST);
    let docker = DockerHost::parse(docker_text).map_err(Failure::usage)?;
    let Some(introspection) = settings.introspection_uri.as_ref() else {
        return Err(Failure::usage(
            "daemon mode needs the ECS agent introspection API (ECS_EMF_INTROSPECTION_URI)",
        ));
    };
    let cgroup_root = given_or(args.cgroup_root.as_deref(), cgroup::DEFAULT_ROOT);
    let mut source = HostSource::new(
        introspection,
        &docker,
        std::path::Path::new(cgroup_root),
        REQUEST_TIMEOUT,
    );
    let tags_refresh = settings
        .dimensions
        .needs_tags()
        .then_some(settings.tags_refresh);
    source = source.with_ecs_lookup(settings.mode.knows_services(), tags_refresh);
    match source.cgroups() {
        Ok(tree) => tracing::info!(
            "cgroup tree at {} ({:?}): task-level CPU throttling is read from it",
            tree.root().display(),
            tree.version()
        ),
        Err(e) => tracing::warn!(
            "{e}: no task-level CPU throttling (mount the host's /sys/fs/cgroup read-only and set {}; docs/daemon.md)",
            cgroup::ROOT_ENV
        ),
    }
    // Said once at the start so a wrong socket shows at once; each cycle reads Docker again
    // whatever this answer, so a daemon that starts later is picked up.
    match source.docker_info().await {
        Ok(info) => tracing::info!(
            "Docker Engine API at {}: cgroup driver {}, cgroup version {}",
            source.docker_host(),
            info.cgroup_driver.as_deref().unwrap_or("not said"),
            info.cgroup_version.as_deref().unwrap_or("not said"),
        ),
        Err(e) => tracing::warn!("{e}: containers are read each cycle until Docker answers"),
    }
    let host = HostWork::new(source, &settings);
    let counters = Arc::clone(&wiring.counters);
    let output = make_output(&settings, wiring)?;
    let health = health::HealthFile::new(settings.health_file.clone(), settings.interval);
    let runner = Runner::for_host(&settings, host, output, counters).with_health_file(health);
    let stop = match args.cycles {
        Some(n) => Stop::AfterCycles(n),
        None => Stop::OnSignal,
    };
    runner.run(stop).await.map_err(Failure::failed)?;
    Ok(ExitCode::SUCCESS)
}
