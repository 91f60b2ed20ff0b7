//! Which endpoint a request path names.
//!
//! The routes match on the path's suffix, whatever comes before it, because clients build
//! their URLs by appending to `${ECS_CONTAINER_METADATA_URI_V4}` and some join paths
//! differently; only the container's own metadata needs the exact base path. The agent's
//! introspection API (`/v1/metadata`, `/v1/tasks`) is matched exactly: its clients use fixed
//! URLs (`http://localhost:51678/v1/…` on a container instance), never the v4 base.

use super::faults::FaultPath;

/// The endpoints of the simulator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    Task,
    TaskWithTags,
    Stats,
    /// `${ECS_CONTAINER_METADATA_URI_V4}` itself: container 0's metadata.
    Container,
    /// `/v1/metadata`: the agent's introspection API, about the agent and its instance.
    AgentMetadata,
    /// `/v1/tasks`: the agent's introspection API, the tasks on the instance.
    AgentTasks,
    Unknown,
}

impl Route {
    /// Every route, in the order of [`Route::index`].
    pub(crate) const ALL: [Route; 7] = [
        Route::Task,
        Route::TaskWithTags,
        Route::Stats,
        Route::Container,
        Route::AgentMetadata,
        Route::AgentTasks,
        Route::Unknown,
    ];

    /// Picks the route of `path` (without query); `base_path` is the path of the base URL.
    /// `introspection` says whether the agent's introspection API exists (EC2, not turned off):
    /// without it its paths are unknown, as on Fargate, where no agent API is reachable.
    pub(crate) fn of(path: &str, base_path: &str, introspection: bool) -> Route {
        if introspection && path == "/v1/metadata" {
            Route::AgentMetadata
        } else if introspection && path == "/v1/tasks" {
            Route::AgentTasks
        } else if path.ends_with("/task/stats") {
            Route::Stats
        } else if path.ends_with("/taskWithTags") {
            Route::TaskWithTags
        } else if path.ends_with("/task") {
            Route::Task
        } else if path == base_path {
            Route::Container
        } else {
            Route::Unknown
        }
    }

    /// The fault path that names this route; `None` for routes only `all` faults reach.
    pub(crate) fn fault_path(self) -> Option<FaultPath> {
        match self {
            Route::Task => Some(FaultPath::Task),
            Route::TaskWithTags => Some(FaultPath::TaskWithTags),
            Route::Stats => Some(FaultPath::Stats),
            Route::AgentMetadata | Route::AgentTasks => Some(FaultPath::Introspection),
            Route::Container | Route::Unknown => None,
        }
    }

    /// A dense index, for per-route counters.
    pub(crate) fn index(self) -> usize {
        match self {
            Route::Task => 0,
            Route::TaskWithTags => 1,
            Route::Stats => 2,
            Route::Container => 3,
            Route::AgentMetadata => 4,
            Route::AgentTasks => 5,
            Route::Unknown => 6,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "/v4/sim-0001";

    #[test]
    fn matches_on_the_suffix_whatever_the_prefix() {
        for (path, route) in [
            ("/v4/sim-0001/task", Route::Task),
            ("/anything/else/task", Route::Task),
            ("/task", Route::Task),
            ("/v4/sim-0001/task/stats", Route::Stats),
            ("/x/task/stats", Route::Stats),
            ("/v4/sim-0001/taskWithTags", Route::TaskWithTags),
            ("/v4/sim-0001", Route::Container),
            ("/v4/sim-0001/", Route::Unknown),
            ("/v4/other", Route::Unknown),
            ("/v4/sim-0001/stats", Route::Unknown),
            ("/v4/sim-0001/task/", Route::Unknown),
            ("/v4/sim-0001/tasks", Route::Unknown),
        ] {
            assert_eq!(Route::of(path, BASE, true), route, "{path}");
        }
    }

    #[test]
    fn introspection_paths_match_exactly_and_only_when_served() {
        for (path, route) in [
            ("/v1/metadata", Route::AgentMetadata),
            ("/v1/tasks", Route::AgentTasks),
            ("/v4/sim-0001/v1/metadata", Route::Unknown),
            ("/x/v1/tasks", Route::Unknown),
            ("/v1/tasks/", Route::Unknown),
            ("/v1/metadata/", Route::Unknown),
            ("/v1/task", Route::Task),
            ("/v2/metadata", Route::Unknown),
        ] {
            assert_eq!(Route::of(path, BASE, true), route, "{path}");
        }
        assert_eq!(Route::of("/v1/metadata", BASE, false), Route::Unknown);
        assert_eq!(Route::of("/v1/tasks", BASE, false), Route::Unknown);
        assert_eq!(
            Route::AgentTasks.fault_path(),
            Some(FaultPath::Introspection)
        );
        assert_eq!(
            Route::AgentMetadata.fault_path(),
            Some(FaultPath::Introspection)
        );
    }

    #[test]
    fn indexes_are_dense_and_match_all() {
        for (i, r) in Route::ALL.iter().enumerate() {
            assert_eq!(r.index(), i);
        }
        assert_eq!(Route::Stats.fault_path(), Some(FaultPath::Stats));
        assert_eq!(Route::Container.fault_path(), None);
    }
}
