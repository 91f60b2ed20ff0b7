//! Fault injection and restart events, and their flag syntax.
//!
//! `--fault PATH:KIND[@FROM[-TO]]`: PATH is `task`, `stats`, `tags`, `introspection` or `all`;
//! KIND is `500`, `429`, `404`, `truncated`, `notjson`, `empty`, `latency=MS`, `nullstats` or
//! `emptystats`; requests are counted per route from 1 and the range is inclusive (`@N` is just
//! request N, no range is every request). `introspection` names both `/v1/metadata` and
//! `/v1/tasks`, each counting its own requests. `--restart K@N`: normal container K restarts at
//! stats request N. `--exit K@N:CODE`: normal container K has stopped with exit code CODE from
//! `/task` request N on; `--oom-kill K@N` is `--exit K@N:137`.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// Longest injectable latency: beyond this a test would rather hang than learn anything.
const MAX_LATENCY_MS: u64 = 600_000;

/// Which route a fault applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultPath {
    /// `<base>/task`
    Task,
    /// `<base>/task/stats`
    Stats,
    /// `<base>/taskWithTags`
    TaskWithTags,
    /// `/v1/metadata` and `/v1/tasks`: the ECS agent's introspection API (EC2 only).
    Introspection,
    /// Every route, including `<base>` itself.
    All,
}

/// What a faulty answer looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// HTTP 500 (`/task/stats` does this while a task starts).
    ServerError,
    /// HTTP 429 with `Retry-After: 1` (the agent's rate limit).
    TooManyRequests,
    /// HTTP 404.
    NotFound,
    /// Status 200, JSON content type, the real body cut in half.
    Truncated,
    /// Status 200 with an HTML body.
    NotJson,
    /// Status 200 with an empty body.
    Empty,
    /// The correct answer, after this delay.
    Latency(Duration),
    /// Stats only: every container's entry is `null`.
    NullStats,
    /// Stats only: every container's entry is `{}`.
    EmptyStats,
}

/// Requests `from..=to` of a route, counted from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestRange {
    pub from: u64,
    pub to: u64,
}

/// One injected fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fault {
    pub path: FaultPath,
    pub kind: FaultKind,
    pub range: RequestRange,
}

/// Normal container `container` restarts when `/task/stats` request `at_request` arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestartEvent {
    pub container: usize,
    pub at_request: u64,
}

/// Normal container `container` has stopped with `code` from `/task` request `at_request` on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExitEvent {
    pub container: usize,
    pub at_request: u64,
    /// The process's exit status as Docker reports it (137 = 128 + SIGKILL, the OOM killer's).
    pub code: u8,
}

impl ExitEvent {
    /// The exit code of a container the kernel's OOM killer stopped. Task Metadata v4 shows only
    /// this: the reason ("OutOfMemoryError: Container killed due to memory usage") is in
    /// ecs:DescribeTasks, not in the agent's container response.
    pub const OOM_KILLED: u8 = 137;

    /// `K@N`, as `--oom-kill` takes it: the exit with code 137.
    pub(crate) fn parse_oom_kill(s: &str) -> Result<Self, String> {
        let (container, at_request) = container_at_request(s, s, OOM_KILL_SYNTAX)?;
        Ok(Self {
            container,
            at_request,
            code: Self::OOM_KILLED,
        })
    }
}

/// What to do to one answer: wait `latency`, then answer with `action` (or correctly).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Plan {
    pub latency: Duration,
    pub action: Option<FaultKind>,
}

impl RequestRange {
    /// Every request.
    pub const ALL: RequestRange = RequestRange {
        from: 1,
        to: u64::MAX,
    };

    /// Just request `n`.
    pub fn only(n: u64) -> Self {
        Self { from: n, to: n }
    }

    pub fn contains(&self, n: u64) -> bool {
        (self.from..=self.to).contains(&n)
    }
}

impl FaultKind {
    fn stats_only(self) -> bool {
        matches!(self, Self::NullStats | Self::EmptyStats)
    }
}

impl Fault {
    /// Whether this fault hits request number `n` of `route` (`None`: the `<base>` route, which
    /// only `all` faults reach).
    fn hits(&self, route: Option<FaultPath>, n: u64) -> bool {
        let path_matches = self.path == FaultPath::All || Some(self.path) == route;
        let kind_fits = !self.kind.stats_only() || route == Some(FaultPath::Stats);
        path_matches && kind_fits && self.range.contains(n)
    }
}

/// Combines the faults that hit request `n` of `route`: every latency adds up, and the first
/// other fault (in flag order) decides the answer.
pub(crate) fn plan(faults: &[Fault], route: Option<FaultPath>, n: u64) -> Plan {
    let mut plan = Plan::default();
    for fault in faults.iter().filter(|f| f.hits(route, n)) {
        match fault.kind {
            FaultKind::Latency(d) => plan.latency = plan.latency.saturating_add(d),
            kind => {
                plan.action.get_or_insert(kind);
            }
        }
    }
    plan
}

impl FromStr for FaultPath {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "task" => Ok(Self::Task),
            "stats" => Ok(Self::Stats),
            "tags" => Ok(Self::TaskWithTags),
            "introspection" => Ok(Self::Introspection),
            "all" => Ok(Self::All),
            _ => Err(format!(
                "unknown path '{s}' (task|stats|tags|introspection|all)"
            )),
        }
    }
}

impl FromStr for FaultKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(ms) = s.strip_prefix("latency=") {
            let ms: u64 = ms
                .parse()
                .map_err(|_| format!("latency '{ms}' is not a whole number of milliseconds"))?;
            if ms > MAX_LATENCY_MS {
                return Err(format!(
                    "latency {ms} ms is over the {MAX_LATENCY_MS} ms maximum"
                ));
            }
            return Ok(Self::Latency(Duration::from_millis(ms)));
        }
        match s {
            "500" => Ok(Self::ServerError),
            "429" => Ok(Self::TooManyRequests),
            "404" => Ok(Self::NotFound),
            "truncated" => Ok(Self::Truncated),
            "notjson" => Ok(Self::NotJson),
            "empty" => Ok(Self::Empty),
            "nullstats" => Ok(Self::NullStats),
            "emptystats" => Ok(Self::EmptyStats),
            _ => Err(format!(
                "unknown kind '{s}' (500|429|404|truncated|notjson|empty|latency=MS|nullstats|emptystats)"
            )),
        }
    }
}

impl FromStr for RequestRange {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let number = |text: &str| -> Result<u64, String> {
            match text.parse::<u64>() {
                Ok(n) if n >= 1 => Ok(n),
                _ => Err(format!(
                    "request number '{text}' must be a whole number from 1"
                )),
            }
        };
        let range = match s.split_once('-') {
            Some((from, to)) => Self {
                from: number(from)?,
                to: number(to)?,
            },
            None => Self::only(number(s)?),
        };
        if range.from > range.to {
            return Err(format!("range '{s}' ends before it starts"));
        }
        Ok(range)
    }
}

impl FromStr for Fault {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let context = |e: String| format!("'{s}': {e}; expected PATH:KIND[@FROM[-TO]]");
        let (path, rest) = s
            .split_once(':')
            .ok_or_else(|| context("missing ':'".to_owned()))?;
        let path: FaultPath = path.parse().map_err(context)?;
        let (kind, range) = match rest.split_once('@') {
            Some((kind, range)) => (kind, range.parse().map_err(context)?),
            None => (rest, RequestRange::ALL),
        };
        let kind: FaultKind = kind.parse().map_err(context)?;
        if kind.stats_only() && !matches!(path, FaultPath::Stats | FaultPath::All) {
            return Err(context(format!("kind '{kind}' applies to stats only")));
        }
        Ok(Self { path, kind, range })
    }
}

impl FromStr for RestartEvent {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (container, at_request) =
            container_at_request(s, s, "K@N (container index @ stats request number)")?;
        Ok(Self {
            container,
            at_request,
        })
    }
}

/// `part` of the flag value `whole` as `K@N`: a container index and a request number from 1.
/// Errors quote `whole` and end with `expected` (the numbers of `--restart` and `--exit` count
/// different routes, so each says which).
fn container_at_request(whole: &str, part: &str, expected: &str) -> Result<(usize, u64), String> {
    let context = |e: &str| format!("'{whole}': {e}; expected {expected}");
    let (container, at) = part.split_once('@').ok_or_else(|| context("missing '@'"))?;
    let container = container
        .parse()
        .map_err(|_| context("the container index is not a whole number"))?;
    match at.parse::<u64>() {
        Ok(at_request) if at_request >= 1 => Ok((container, at_request)),
        _ => Err(context("the request number must be a whole number from 1")),
    }
}

const EXIT_SYNTAX: &str = "K@N:CODE (container index @ /task request number : exit code 0 to 255)";
const OOM_KILL_SYNTAX: &str = "K@N (container index @ /task request number)";

impl FromStr for ExitEvent {
    type Err = String;
    /// `K@N:CODE`, as `--exit` takes it.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (at, code) = s
            .split_once(':')
            .ok_or_else(|| format!("'{s}': missing ':CODE'; expected {EXIT_SYNTAX}"))?;
        let (container, at_request) = container_at_request(s, at, EXIT_SYNTAX)?;
        let code = code.parse::<u8>().map_err(|_| {
            format!("'{s}': exit code '{code}' is not a whole number from 0 to 255; expected {EXIT_SYNTAX}")
        })?;
        Ok(Self {
            container,
            at_request,
            code,
        })
    }
}

impl fmt::Display for ExitEvent {
    /// The `--exit` spelling (an OOM kill prints as `K@N:137`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}:{}", self.container, self.at_request, self.code)
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ServerError => f.write_str("500"),
            Self::TooManyRequests => f.write_str("429"),
            Self::NotFound => f.write_str("404"),
            Self::Truncated => f.write_str("truncated"),
            Self::NotJson => f.write_str("notjson"),
            Self::Empty => f.write_str("empty"),
            Self::Latency(d) => write!(f, "latency={}", d.as_millis()),
            Self::NullStats => f.write_str("nullstats"),
            Self::EmptyStats => f.write_str("emptystats"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fault(s: &str) -> Fault {
        s.parse()
            .unwrap_or_else(|e| panic!("{s} should parse: {e}"))
    }

    #[test]
    fn parses_the_documented_examples() {
        assert_eq!(
            fault("stats:500@2-3"),
            Fault {
                path: FaultPath::Stats,
                kind: FaultKind::ServerError,
                range: RequestRange { from: 2, to: 3 }
            }
        );
        assert_eq!(
            fault("task:truncated@1"),
            Fault {
                path: FaultPath::Task,
                kind: FaultKind::Truncated,
                range: RequestRange::only(1)
            }
        );
        assert_eq!(
            fault("all:latency=1500"),
            Fault {
                path: FaultPath::All,
                kind: FaultKind::Latency(Duration::from_millis(1500)),
                range: RequestRange::ALL
            }
        );
        assert_eq!(fault("tags:429").kind, FaultKind::TooManyRequests);
        assert_eq!(fault("stats:nullstats@4").kind, FaultKind::NullStats);
        assert_eq!(fault("all:emptystats").kind, FaultKind::EmptyStats);
        for kind in ["404", "notjson", "empty"] {
            assert_eq!(fault(&format!("task:{kind}")).kind.to_string(), kind);
        }
    }

    #[test]
    fn rejects_bad_specs_with_a_reason() {
        for (spec, reason) in [
            ("stats", "missing ':'"),
            ("disk:500", "unknown path 'disk'"),
            ("stats:503", "unknown kind '503'"),
            ("stats:500@0", "from 1"),
            ("stats:500@3-2", "ends before it starts"),
            ("stats:500@x", "'x'"),
            ("stats:latency=fast", "milliseconds"),
            ("stats:latency=600001", "maximum"),
            ("task:nullstats", "stats only"),
            ("tags:emptystats@1", "stats only"),
        ] {
            let err = spec.parse::<Fault>().expect_err(spec);
            assert!(err.contains(reason), "{spec}: {err}");
            assert!(err.contains(spec), "{spec}: {err}");
        }
    }

    #[test]
    fn restart_events_parse() {
        assert_eq!(
            "1@3".parse::<RestartEvent>(),
            Ok(RestartEvent {
                container: 1,
                at_request: 3
            })
        );
        for bad in ["1", "x@3", "1@0", "1@", "-1@2"] {
            assert!(bad.parse::<RestartEvent>().is_err(), "{bad}");
        }
    }

    #[test]
    fn exit_events_parse_with_their_code() {
        assert_eq!(
            "2@5:1".parse::<ExitEvent>(),
            Ok(ExitEvent {
                container: 2,
                at_request: 5,
                code: 1
            })
        );
        assert_eq!("0@1:0".parse::<ExitEvent>().map(|e| e.code), Ok(0));
        assert_eq!("0@1:255".parse::<ExitEvent>().map(|e| e.code), Ok(255));
        assert_eq!(
            ExitEvent::parse_oom_kill("1@4"),
            Ok(ExitEvent {
                container: 1,
                at_request: 4,
                code: 137
            })
        );
        assert_eq!(
            ExitEvent::parse_oom_kill("1@4").map(|e| e.to_string()),
            Ok("1@4:137".to_owned())
        );
        for (bad, reason) in [
            ("1@3", "missing ':CODE'"),
            ("1@3:", "exit code ''"),
            ("1@3:256", "exit code '256'"),
            ("1@3:-1", "exit code '-1'"),
            ("1@3:1.5", "exit code '1.5'"),
            ("1@0:1", "from 1"),
            ("x@3:1", "container index"),
            ("1:3", "missing '@'"),
        ] {
            let err = bad.parse::<ExitEvent>().expect_err(bad);
            assert!(err.contains(reason), "{bad}: {err}");
            assert!(err.contains(&format!("'{bad}'")), "{bad}: {err}");
            assert!(err.contains("/task request number"), "{bad}: {err}");
        }
        for bad in ["1", "1@0", "x@2", "1@2:137"] {
            let err = ExitEvent::parse_oom_kill(bad).expect_err(bad);
            assert!(
                err.contains("expected K@N (container index @ /task"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn introspection_is_a_fault_path_that_all_reaches() {
        let f = fault("introspection:500@1");
        assert_eq!(
            (f.path, f.kind, f.range),
            (
                FaultPath::Introspection,
                FaultKind::ServerError,
                RequestRange::only(1)
            )
        );
        assert!(f.hits(Some(FaultPath::Introspection), 1));
        assert!(!f.hits(Some(FaultPath::Task), 1));
        assert!(!f.hits(None, 1));
        assert_eq!(
            fault("introspection:latency=250").kind,
            FaultKind::Latency(Duration::from_millis(250))
        );
        assert!(fault("all:404").hits(Some(FaultPath::Introspection), 7));
        assert!(!fault("all:nullstats").hits(Some(FaultPath::Introspection), 1));
        let err = "introspection:emptystats"
            .parse::<Fault>()
            .expect_err("stats only");
        assert!(err.contains("stats only"), "{err}");
        let err = "agent:500".parse::<Fault>().expect_err("unknown path");
        assert!(err.contains("task|stats|tags|introspection|all"), "{err}");
    }

    #[test]
    fn range_is_inclusive() {
        let f = fault("stats:500@2-3");
        let hits: Vec<u64> = (1..=5)
            .filter(|n| f.hits(Some(FaultPath::Stats), *n))
            .collect();
        assert_eq!(hits, [2, 3]);
        assert!(!f.hits(Some(FaultPath::Task), 2));
    }

    #[test]
    fn all_reaches_every_route_but_stats_kinds_only_stats() {
        let f = fault("all:500");
        assert!(f.hits(None, 1));
        assert!(f.hits(Some(FaultPath::TaskWithTags), 1));
        let n = fault("all:nullstats");
        assert!(n.hits(Some(FaultPath::Stats), 1));
        assert!(!n.hits(Some(FaultPath::Task), 1));
        assert!(!n.hits(None, 1));
    }

    #[test]
    fn plan_adds_latencies_and_keeps_the_first_other_fault() {
        let faults = [
            fault("all:latency=100"),
            fault("stats:429@2"),
            fault("stats:500"),
            fault("stats:latency=50"),
        ];
        let p = plan(&faults, Some(FaultPath::Stats), 2);
        assert_eq!(p.latency, Duration::from_millis(150));
        assert_eq!(p.action, Some(FaultKind::TooManyRequests));
        let p = plan(&faults, Some(FaultPath::Stats), 3);
        assert_eq!(p.action, Some(FaultKind::ServerError));
        let p = plan(&faults, Some(FaultPath::Task), 3);
        assert_eq!(
            p,
            Plan {
                latency: Duration::from_millis(100),
                action: None
            }
        );
    }
}
