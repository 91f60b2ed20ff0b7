//! Tags through the ECS API (`ECS_EMF_TAGS_FROM_API=true`): where `/taskWithTags` does not
//! exist (Fargate documents none) or reports `Errors`, the task's own tags are read with
//! `ecs:ListTagsForResource` using the task role. Called at most once per tag refresh.
//!
//! Daemon mode: each task's ECS service and (with `include=TAGS`) its tags with
//! `ecs:DescribeTasks` ([`ServiceLookup`]).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use aws_sdk_ecs::error::DisplayErrorContext;

#[derive(Default)]
pub(crate) struct EcsTagReader {
    /// Built on first use: the region can come from the task ARN.
    client: Option<aws_sdk_ecs::Client>,
}

impl EcsTagReader {
    /// The tags of the task `task_arn`, or why they could not be read.
    pub(crate) async fn task_tags(
        &mut self,
        task_arn: &str,
    ) -> Result<BTreeMap<String, String>, String> {
        let client = match &self.client {
            Some(c) => c.clone(),
            None => {
                let config = crate::aws::sdk_config(crate::aws::region_from_arn(task_arn)).await;
                let c = aws_sdk_ecs::Client::new(&config);
                self.client = Some(c.clone());
                c
            }
        };
        let answer = client
            .list_tags_for_resource()
            .resource_arn(task_arn)
            .send()
            .await
            .map_err(|e| {
                format!(
                    "ecs:ListTagsForResource failed: {}",
                    DisplayErrorContext(&e)
                )
            })?;
        Ok(answer
            .tags()
            .iter()
            .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
            .collect())
    }
}

/// At most this many tasks in one `DescribeTasks` call (the API's limit).
const DESCRIBE_TASKS_MAX: usize = 100;
/// After a failed `DescribeTasks` call, no call for this long, doubled after each further
/// failure up to [`BACKOFF_MAX`].
const BACKOFF_FIRST: Duration = Duration::from_secs(60);
const BACKOFF_MAX: Duration = Duration::from_secs(15 * 60);
/// A task `DescribeTasks` did not describe (`failures`, reason `MISSING`: stopped over an
/// hour ago, or of another cluster) is asked again only after this long.
const UNKNOWN_RETRY: Duration = Duration::from_secs(10 * 60);

/// Daemon mode: which ECS service each task of the instance belongs to, and its tags, which
/// neither the agent introspection API nor Docker says. `ecs:DescribeTasks` does: a
/// service's task has `group` `service:NAME`, a standalone one (RunTask) `family:NAME`; with
/// `include=TAGS` the answer carries the task's tags.
///
/// IAM: `ecs:DescribeTasks` on `arn:aws:ecs:REGION:ACCOUNT:task/CLUSTER/*` (or on `*` with
/// the condition key `ecs:cluster` set to the cluster's ARN); with tags, `infra/` also grants
/// `ecs:ListTagsForResource` on the same tasks.
///
/// A task's group never changes, so each answer is kept for as long as the task is asked
/// about and only tasks not known yet are described, at most [`DESCRIBE_TASKS_MAX`] a call.
/// Tags can change (TagResource), so with tags a known task is described again once its
/// answer is older than the tag refresh (`ECS_EMF_TAGS_REFRESH`).
/// After a failed call (AccessDeniedException, throttling, …) no call is made for
/// [`BACKOFF_FIRST`], doubling up to [`BACKOFF_MAX`] while calls keep failing.
pub(crate) struct ServiceLookup {
    /// Built on first use: the region can come from a task ARN. Its timeouts are
    /// `crate::aws::sdk_config`'s (operation, attempt, connect).
    client: tokio::sync::OnceCell<aws_sdk_ecs::Client>,
    cache: ServiceCache,
}

/// What [`ServiceLookup::services`] learned.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct ServiceAnswer {
    /// For each task ARN asked whose group is known: its service's name, or `None` for a
    /// task no service started. A task not learned about (the API failed, is backing off,
    /// or does not know the task) is left out.
    pub(crate) services: HashMap<String, Option<String>>,
    /// Why `DescribeTasks` failed, said on the first failure after a success (or the
    /// start) only: the caller logs it once. Later failures while it keeps failing are not
    /// said again.
    pub(crate) problem: Option<String>,
    /// Set on the first successful call after a failure that `problem` said.
    pub(crate) recovered: bool,
    /// `DescribeTasks` calls this answer made, failed ones included.
    pub(crate) calls: u32,
    /// With tags: each task of `services` with the tags of its last description (empty
    /// when it has none).
    pub(crate) tags: HashMap<String, BTreeMap<String, String>>,
}

/// One `DescribeTasks` answer, reduced to what the lookup keeps.
#[derive(Debug, Default)]
struct Described {
    /// `tasks[]`: (`taskArn`, `group`, `tags`). A task of the request not here is in
    /// `failures` (reason `MISSING`, most often): [`ServiceCache::record`] needs no more.
    tasks: Vec<(String, Option<String>, BTreeMap<String, String>)>,
}

#[derive(Debug, Clone, PartialEq)]
enum Entry {
    /// The task's service (`None`: not a service's task) and tags, described at `at`. Kept
    /// while the task is asked (with tags, described again once older than the refresh).
    Known {
        service: Option<String>,
        tags: BTreeMap<String, String>,
        at: Instant,
    },
    /// Not described: asked again from `retry` on.
    Unknown { retry: Instant },
}

/// The cache and the backoff: everything but the client, so tests can drive it with a
/// fake `DescribeTasks`.
#[derive(Debug, Default)]
struct ServiceCache {
    entries: HashMap<String, Entry>,
    backoff: Backoff,
    /// With tags: how old a description may get before the task is described again.
    tags_refresh: Option<Duration>,
}

#[derive(Debug, Default)]
struct Backoff {
    /// No call before this.
    until: Option<Instant>,
    /// How long the next failure stops calls (zero: [`BACKOFF_FIRST`]).
    next: Duration,
    /// The current run of failures was said in an answer.
    said: bool,
}

impl Backoff {
    fn ready(&self, now: Instant) -> bool {
        self.until.is_none_or(|until| now >= until)
    }

    /// Records a failure at `now`: how long calls stop, and whether to say it (the first
    /// failure of a run).
    fn failed(&mut self, now: Instant) -> (Duration, bool) {
        let wait = if self.next.is_zero() {
            BACKOFF_FIRST
        } else {
            self.next
        };
        self.until = Some(now.checked_add(wait).unwrap_or(now));
        self.next = wait.saturating_mul(2).min(BACKOFF_MAX);
        let say = !self.said;
        self.said = true;
        (wait, say)
    }

    /// Records a success: whether a said failure run ended.
    fn succeeded(&mut self) -> bool {
        let recovered = self.said;
        *self = Backoff::default();
        recovered
    }
}

/// `group` → the service's name: `Some(Some(NAME))` for `service:NAME`, `Some(None)` for
/// any other group (`family:NAME`: started by RunTask), `None` when there is no group.
fn service_of(group: Option<&str>) -> Option<Option<String>> {
    let group = group?;
    Some(
        group
            .strip_prefix("service:")
            .filter(|name| !name.is_empty())
            .map(str::to_string),
    )
}

impl ServiceCache {
    /// Drops the entries of tasks not in `asked`; the ARNs of `asked` to describe (not
    /// known, or unknown and due again), each once, in `asked`'s order.
    fn due(&mut self, asked: &[String], now: Instant) -> Vec<String> {
        let wanted: HashSet<&str> = asked.iter().map(String::as_str).collect();
        self.entries.retain(|arn, _| wanted.contains(arn.as_str()));
        let mut seen = HashSet::new();
        asked
            .iter()
            .filter(|arn| seen.insert(arn.as_str()))
            .filter(|arn| match self.entries.get(arn.as_str()) {
                Some(Entry::Known { at, .. }) => self
                    .tags_refresh
                    .is_some_and(|refresh| now.saturating_duration_since(*at) >= refresh),
                Some(Entry::Unknown { retry }) => now >= *retry,
                None => true,
            })
            .cloned()
            .collect()
    }

    /// Keeps what one call answered about `batch`: a task described with a group is known
    /// for good; any other task of `batch` (listed in `failures`, `MISSING` most often, or
    /// simply left out, as moto does) is unknown until [`UNKNOWN_RETRY`] has passed.
    fn record(&mut self, batch: &[String], described: Described, now: Instant) {
        let retry = now.checked_add(UNKNOWN_RETRY).unwrap_or(now);
        let mut learned = HashMap::new();
        for (arn, group, tags) in described.tasks {
            if let Some(service) = service_of(group.as_deref()) {
                learned.insert(arn, (service, tags));
            }
        }
        for arn in batch {
            let entry = match learned.remove(arn) {
                Some((service, tags)) => Entry::Known {
                    service,
                    tags,
                    at: now,
                },
                None => Entry::Unknown { retry },
            };
            self.entries.insert(arn.clone(), entry);
        }
    }

    /// The lookup, with `describe` as `DescribeTasks` (called with at most
    /// [`DESCRIBE_TASKS_MAX`] ARNs, none known).
    async fn lookup<F, Fut>(
        &mut self,
        asked: &[String],
        now: Instant,
        mut describe: F,
    ) -> ServiceAnswer
    where
        F: FnMut(Vec<String>) -> Fut,
        Fut: Future<Output = Result<Described, String>>,
    {
        let mut answer = ServiceAnswer::default();
        let to_ask = self.due(asked, now);
        if !to_ask.is_empty() && self.backoff.ready(now) {
            for batch in to_ask.chunks(DESCRIBE_TASKS_MAX) {
                answer.calls += 1;
                match describe(batch.to_vec()).await {
                    Ok(described) => {
                        answer.recovered |= self.backoff.succeeded();
                        self.record(batch, described, now);
                    }
                    Err(why) => {
                        let (wait, say) = self.backoff.failed(now);
                        if say {
                            answer.problem = Some(format!(
                                "{why}; the tasks' services{} stay unknown; no call for {} s, \
                                 the wait doubling up to {} s while calls fail",
                                if self.tags_refresh.is_some() {
                                    " and tags"
                                } else {
                                    ""
                                },
                                wait.as_secs(),
                                BACKOFF_MAX.as_secs()
                            ));
                        }
                        break;
                    }
                }
            }
        }
        for arn in asked {
            if let Some(Entry::Known { service, tags, .. }) = self.entries.get(arn) {
                answer.services.insert(arn.clone(), service.clone());
                if self.tags_refresh.is_some() {
                    answer.tags.insert(arn.clone(), tags.clone());
                }
            }
        }
        answer
    }
}

impl ServiceLookup {
    /// A lookup of services, and of tags (`include=TAGS`, each task described again after
    /// `tags_refresh`) when that is given.
    pub(crate) fn new(tags_refresh: Option<Duration>) -> ServiceLookup {
        ServiceLookup {
            client: tokio::sync::OnceCell::new(),
            cache: ServiceCache {
                tags_refresh,
                ..ServiceCache::default()
            },
        }
    }

    /// The service of each task of `task_arns` (ARNs of cluster `cluster`, its name or ARN;
    /// empty: the default cluster), as far as known: see [`ServiceAnswer`]. `now` times the
    /// backoff and the retries of unknown tasks.
    pub(crate) async fn services(
        &mut self,
        cluster: &str,
        task_arns: &[String],
        now: Instant,
    ) -> ServiceAnswer {
        let cell = &self.client;
        let tags = self.cache.tags_refresh.is_some();
        self.cache
            .lookup(task_arns, now, |batch| async move {
                let client = cell
                    .get_or_init(|| async {
                        let region = batch.first().and_then(|a| crate::aws::region_from_arn(a));
                        aws_sdk_ecs::Client::new(&crate::aws::sdk_config(region).await)
                    })
                    .await;
                describe_tasks(client, cluster, batch, tags).await
            })
            .await
    }

    /// A lookup that uses `client` (tests: one pointed at moto).
    #[cfg(test)]
    fn with_client(client: aws_sdk_ecs::Client, tags_refresh: Option<Duration>) -> ServiceLookup {
        ServiceLookup {
            client: tokio::sync::OnceCell::new_with(Some(client)),
            ..ServiceLookup::new(tags_refresh)
        }
    }
}

/// One `DescribeTasks` call, with the tasks' tags when `tags`.
async fn describe_tasks(
    client: &aws_sdk_ecs::Client,
    cluster: &str,
    batch: Vec<String>,
    tags: bool,
) -> Result<Described, String> {
    let count = batch.len();
    let mut request = client.describe_tasks().set_tasks(Some(batch));
    if !cluster.is_empty() {
        request = request.cluster(cluster);
    }
    if tags {
        request = request.include(aws_sdk_ecs::types::TaskField::Tags);
    }
    let answer = request.send().await.map_err(|e| {
        format!(
            "ecs:DescribeTasks of {count} tasks in cluster {cluster:?} failed: {}",
            DisplayErrorContext(&e)
        )
    })?;
    Ok(Described {
        tasks: answer
            .tasks()
            .iter()
            .filter_map(|t| {
                let tags = t
                    .tags()
                    .iter()
                    .filter_map(|tag| Some((tag.key()?.to_string(), tag.value()?.to_string())))
                    .collect();
                Some((
                    t.task_arn()?.to_string(),
                    t.group().map(str::to_string),
                    tags,
                ))
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    fn arns(n: usize) -> Vec<String> {
        (0..n)
            .map(|i| format!("arn:aws:ecs:us-east-1:123456789012:task/c/{i:032x}"))
            .collect()
    }

    /// A `DescribeTasks` that logs each batch and answers with `answer`.
    fn fake<'a>(
        log: &'a RefCell<Vec<Vec<String>>>,
        answer: impl Fn(&[String]) -> Result<Described, String> + 'a,
    ) -> impl FnMut(Vec<String>) -> std::future::Ready<Result<Described, String>> + 'a {
        move |batch| {
            let result = answer(&batch);
            log.borrow_mut().push(batch);
            std::future::ready(result)
        }
    }

    /// Every task a service's (`service:web`) but the ones `standalone` names.
    fn grouped(standalone: &[String]) -> impl Fn(&[String]) -> Result<Described, String> + '_ {
        move |batch| {
            Ok(Described {
                tasks: batch
                    .iter()
                    .map(|a| {
                        let group = if standalone.contains(a) {
                            "family:sim-app"
                        } else {
                            "service:web"
                        };
                        (a.clone(), Some(group.to_string()), BTreeMap::new())
                    })
                    .collect(),
            })
        }
    }

    fn denied(_: &[String]) -> Result<Described, String> {
        Err("ecs:DescribeTasks failed: AccessDeniedException".to_string())
    }

    #[test]
    fn the_service_comes_from_the_group() {
        assert_eq!(service_of(Some("service:web")), Some(Some("web".into())));
        assert_eq!(service_of(Some("family:sim-app")), Some(None));
        assert_eq!(service_of(Some("service:")), Some(None));
        assert_eq!(service_of(Some("")), Some(None));
        assert_eq!(service_of(None), None, "no group: not learned");
    }

    #[tokio::test]
    async fn uncached_tasks_are_asked_in_batches_of_at_most_100() {
        let all = arns(250);
        let standalone = vec![all[7].clone()];
        let log = RefCell::new(Vec::new());
        let mut cache = ServiceCache::default();
        let now = Instant::now();

        let answer = cache
            .lookup(&all, now, fake(&log, grouped(&standalone)))
            .await;
        let sizes: Vec<usize> = log.borrow().iter().map(Vec::len).collect();
        assert_eq!(sizes, [100, 100, 50]);
        assert_eq!(answer.calls, 3);
        assert_eq!(answer.services.len(), 250);
        assert_eq!(answer.services[&all[0]], Some("web".to_string()));
        assert_eq!(answer.services[&all[7]], None, "family: not a service's");
        assert_eq!((answer.problem, answer.recovered), (None, false));

        // Everything is known: no call, the same answer.
        log.borrow_mut().clear();
        let again = cache
            .lookup(&all, now, fake(&log, grouped(&standalone)))
            .await;
        assert!(log.borrow().is_empty());
        assert_eq!((again.calls, again.services.len()), (0, 250));

        // One new task (asked twice): one call, for it alone.
        let mut more = all.clone();
        more.extend(arns(251)[250..].iter().cloned());
        more.push(more[250].clone());
        let answer = cache.lookup(&more, now, fake(&log, grouped(&[]))).await;
        assert_eq!(*log.borrow(), [vec![more[250].clone()]]);
        assert_eq!(answer.services.len(), 251);
    }

    #[tokio::test]
    async fn nothing_asked_nothing_called() {
        let log = RefCell::new(Vec::new());
        let mut cache = ServiceCache::default();
        let answer = cache
            .lookup(&[], Instant::now(), fake(&log, grouped(&[])))
            .await;
        assert_eq!(answer, ServiceAnswer::default());
        assert!(log.borrow().is_empty());
    }

    /// With tags: each task's tags come with its service, and a known task is described
    /// again once its description is as old as the refresh (not before); without tags it
    /// never is, and the answer carries no tags.
    #[tokio::test]
    async fn with_tags_known_tasks_are_described_again_after_the_refresh() {
        let all = arns(3);
        let log = RefCell::new(Vec::new());
        let tagged = |batch: &[String]| -> Result<Described, String> {
            Ok(Described {
                tasks: batch
                    .iter()
                    .map(|a| {
                        let tags = BTreeMap::from([(
                            "team".to_string(),
                            format!("t-{}", &a[a.len() - 1..]),
                        )]);
                        (a.clone(), Some("service:web".to_string()), tags)
                    })
                    .collect(),
            })
        };
        let refresh = Duration::from_secs(300);
        let mut cache = ServiceCache {
            tags_refresh: Some(refresh),
            ..ServiceCache::default()
        };
        let now = Instant::now();
        let answer = cache.lookup(&all, now, fake(&log, tagged)).await;
        assert_eq!(answer.calls, 1);
        assert_eq!(answer.tags.len(), 3);
        assert_eq!(answer.tags[&all[2]]["team"], "t-2");
        assert_eq!(answer.services[&all[2]], Some("web".to_string()));

        let before = cache
            .lookup(&all, now + Duration::from_secs(299), fake(&log, tagged))
            .await;
        assert_eq!((before.calls, before.tags.len()), (0, 3));
        let after = cache.lookup(&all, now + refresh, fake(&log, tagged)).await;
        assert_eq!(after.calls, 1);
        assert_eq!(log.borrow().len(), 2);
        assert_eq!(log.borrow()[1], all);

        let mut untagged = ServiceCache::default();
        let first = untagged.lookup(&all, now, fake(&log, tagged)).await;
        assert!(first.tags.is_empty());
        let much_later = untagged
            .lookup(&all, now + Duration::from_secs(86_400), fake(&log, tagged))
            .await;
        assert_eq!((much_later.calls, much_later.services.len()), (0, 3));
    }

    #[tokio::test]
    async fn tasks_no_longer_asked_are_dropped() {
        let all = arns(3);
        let log = RefCell::new(Vec::new());
        let mut cache = ServiceCache::default();
        let now = Instant::now();
        cache.lookup(&all, now, fake(&log, grouped(&[]))).await;
        assert_eq!(cache.entries.len(), 3);

        let answer = cache
            .lookup(&all[1..2], now, fake(&log, grouped(&[])))
            .await;
        assert_eq!(answer.calls, 0);
        assert_eq!(
            cache.entries.keys().collect::<Vec<_>>(),
            [&all[1]],
            "only the task asked last is kept"
        );
        // A dropped task asked again is described again.
        log.borrow_mut().clear();
        cache.lookup(&all, now, fake(&log, grouped(&[]))).await;
        assert_eq!(*log.borrow(), [vec![all[0].clone(), all[2].clone()]]);
    }

    #[tokio::test]
    async fn missing_tasks_are_asked_again_only_after_a_while() {
        let all = arns(3);
        let log = RefCell::new(Vec::new());
        let mut cache = ServiceCache::default();
        let t0 = Instant::now();
        // all[1] is in `failures` (MISSING); all[2] is described without a group.
        let partial = |batch: &[String]| {
            Ok(Described {
                tasks: batch
                    .iter()
                    .filter(|a| **a != all[1])
                    .map(|a| {
                        let group = (*a == all[0]).then(|| "service:web".to_string());
                        (a.clone(), group, BTreeMap::new())
                    })
                    .collect(),
            })
        };
        let answer = cache.lookup(&all, t0, fake(&log, partial)).await;
        assert_eq!(
            answer.services,
            HashMap::from([(all[0].clone(), Some("web".to_string()))]),
            "the unknown tasks are left out"
        );

        log.borrow_mut().clear();
        let later = t0 + UNKNOWN_RETRY - Duration::from_secs(1);
        assert_eq!(
            cache.lookup(&all, later, fake(&log, partial)).await.calls,
            0
        );

        let due = t0 + UNKNOWN_RETRY;
        let answer = cache.lookup(&all, due, fake(&log, grouped(&[]))).await;
        assert_eq!(*log.borrow(), [all[1..].to_vec()]);
        assert_eq!(answer.services.len(), 3, "described now");
    }

    #[tokio::test]
    async fn a_failure_stops_calls_for_a_doubling_backoff_and_is_said_once() {
        let all = arns(2);
        let log = RefCell::new(Vec::new());
        let mut cache = ServiceCache::default();
        let mut now = Instant::now();

        let first = cache.lookup(&all, now, fake(&log, denied)).await;
        assert_eq!((first.calls, first.services.len()), (1, 0));
        let problem = first.problem.expect("the first failure is said");
        assert!(problem.contains("AccessDeniedException"), "{problem}");
        assert!(problem.contains("no call for 60 s"), "{problem}");

        // 60, 120, 240, 480, then 900 (15 min) at most.
        for wait in [60, 120, 240, 480, 900, 900] {
            let wait = Duration::from_secs(wait);
            let early = cache
                .lookup(
                    &all,
                    now + wait - Duration::from_secs(1),
                    fake(&log, denied),
                )
                .await;
            assert_eq!(early.calls, 0, "no call within {wait:?}");
            now += wait;
            let retry = cache.lookup(&all, now, fake(&log, denied)).await;
            assert_eq!(retry.calls, 1, "a call after {wait:?}");
            assert_eq!(retry.problem, None, "said once");
        }

        // It works again: said, and the backoff starts over.
        now += BACKOFF_MAX;
        let back = cache.lookup(&all, now, fake(&log, grouped(&[]))).await;
        assert!(back.recovered);
        assert_eq!(back.services.len(), 2);
        let next = arns(3)[2..].to_vec();
        let failed = cache.lookup(&next, now, fake(&log, denied)).await;
        assert!(failed.problem.is_some(), "a new run of failures is said");
        let early = cache
            .lookup(
                &next,
                now + BACKOFF_FIRST - Duration::from_secs(1),
                fake(&log, denied),
            )
            .await;
        assert_eq!(early.calls, 0);
        let retry = cache
            .lookup(&next, now + BACKOFF_FIRST, fake(&log, denied))
            .await;
        assert_eq!(retry.calls, 1);
    }

    #[tokio::test]
    async fn a_failure_keeps_what_earlier_batches_learned_and_stops_the_rest() {
        let all = arns(250);
        let log = RefCell::new(Vec::new());
        let mut cache = ServiceCache::default();
        let now = Instant::now();
        let second_fails = |batch: &[String]| {
            if batch[0] == all[100] {
                denied(batch)
            } else {
                grouped(&[])(batch)
            }
        };
        let answer = cache.lookup(&all, now, fake(&log, second_fails)).await;
        assert_eq!(answer.calls, 2, "the third batch is not sent");
        assert_eq!(answer.services.len(), 100);
        assert!(answer.problem.is_some());
        // While backing off, the known tasks are still answered.
        let during = cache
            .lookup(&all, now + Duration::from_secs(1), fake(&log, grouped(&[])))
            .await;
        assert_eq!((during.calls, during.services.len()), (0, 100));
    }

    /// moto with the real aws-sdk-ecs. moto's DescribeTasks reports the `group` RunTask was
    /// given; its create_service starts no task, so ecs_setup.py starts the service's tasks
    /// with RunTask and `group` `service:NAME`, as the service scheduler does. moto lists no
    /// `failures` (an unknown task is left out) and enforces no 100-task limit.
    mod moto {
        use super::super::*;
        use std::io::{BufRead, BufReader, Write};
        use std::path::PathBuf;
        use std::process::{Child, Command, Stdio};

        const ROOT: &str = env!("CARGO_MANIFEST_DIR");

        struct Server {
            child: Child,
            url: String,
        }

        impl Drop for Server {
            fn drop(&mut self) {
                let _ = self.child.kill();
                let _ = self.child.wait();
            }
        }

        fn python() -> PathBuf {
            PathBuf::from(ROOT).join(".venv/bin/python")
        }

        /// `.venv/bin/python`, kept off any HTTP proxy: moto is on loopback.
        fn python_command() -> Command {
            let mut cmd = Command::new(python());
            for var in [
                "http_proxy",
                "HTTP_PROXY",
                "https_proxy",
                "HTTPS_PROXY",
                "all_proxy",
                "ALL_PROXY",
            ] {
                cmd.env_remove(var);
            }
            cmd.env("NO_PROXY", "127.0.0.1,localhost")
                .env("no_proxy", "127.0.0.1,localhost");
            cmd
        }

        /// moto on a port it picks itself, or `None` (said: SKIPPED) without `.venv`, as
        /// tests/it/support/moto.rs does (`ECS_EMF_REQUIRE_MOTO` makes that a failure).
        fn start() -> Option<Server> {
            if !python().exists() {
                let why = "no .venv: run scripts/setup-moto.sh (it installs moto into .venv)";
                let required = std::env::var("ECS_EMF_REQUIRE_MOTO").is_ok_and(|v| v != "0");
                assert!(!required, "{why} (ECS_EMF_REQUIRE_MOTO is set)");
                let test = std::thread::current()
                    .name()
                    .unwrap_or("a moto test")
                    .to_string();
                let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {why}");
                return None;
            }
            // Runs until its stdin closes (the test ends) or it is killed.
            let script = "import sys\n\
                from moto.moto_server.threaded_moto_server import ThreadedMotoServer\n\
                s = ThreadedMotoServer(ip_address='127.0.0.1', port=0, verbose=False)\n\
                s.start()\n\
                print('LISTENING', s.get_host_and_port()[1], flush=True)\n\
                sys.stdin.read()\n";
            let mut child = python_command()
                .args(["-c", script])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn .venv/bin/python (moto)");
            let stdout = child.stdout.take().expect("piped stdout");
            let mut line = String::new();
            let read = BufReader::new(stdout).read_line(&mut line);
            let port = line
                .strip_prefix("LISTENING ")
                .and_then(|p| p.trim().parse::<u16>().ok());
            let Some(port) = port else {
                let _ = child.kill();
                let _ = child.wait();
                panic!("moto did not start ({read:?}: {line:?}); run scripts/setup-moto.sh");
            };
            Some(Server {
                child,
                url: format!("http://127.0.0.1:{port}"),
            })
        }

        /// ecs_setup.py: cluster `cluster` with a standalone task tagged `tags` (`K=V`), then
        /// `service_tasks` tasks of service `web`; their ARNs, the standalone task's first.
        fn setup(moto: &Server, cluster: &str, tags: &[&str], service_tasks: usize) -> Vec<String> {
            let out = python_command()
                .arg(format!("{ROOT}/tests/it/support/ecs_setup.py"))
                .args(["--endpoint", &moto.url, "--cluster", cluster])
                .args(tags.iter().flat_map(|t| ["--tag", t]))
                .args(["--service", "web", "--service-tasks"])
                .arg(service_tasks.to_string())
                .output()
                .expect("run ecs_setup.py");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .map(str::to_string)
                .collect()
        }

        async fn client(moto: &Server) -> aws_sdk_ecs::Client {
            let shared = crate::aws::sdk_config(Some("us-east-1")).await;
            let config = aws_sdk_ecs::config::Builder::from(&shared)
                .endpoint_url(&moto.url)
                .region(aws_sdk_ecs::config::Region::new("us-east-1"))
                .credentials_provider(aws_sdk_ecs::config::Credentials::new(
                    "testing", "testing", None, None, "moto",
                ))
                .build();
            aws_sdk_ecs::Client::from_conf(config)
        }

        #[tokio::test]
        async fn describe_tasks_names_the_service_of_each_task() {
            let Some(moto) = start() else {
                return;
            };
            let tasks = setup(&moto, "daemon-cluster", &[], 120);
            assert_eq!(tasks.len(), 121);
            let client = client(&moto).await;
            let timeouts = client.config().timeout_config().expect("timeouts set");
            assert_eq!(
                (
                    timeouts.operation_timeout(),
                    timeouts.operation_attempt_timeout(),
                    timeouts.connect_timeout()
                ),
                (
                    Some(crate::aws::OPERATION_TIMEOUT),
                    Some(crate::aws::ATTEMPT_TIMEOUT),
                    Some(crate::aws::CONNECT_TIMEOUT)
                ),
                "the SDK's timeouts are explicit"
            );
            let mut lookup = ServiceLookup::with_client(client, None);
            let gone = "arn:aws:ecs:us-east-1:123456789012:task/daemon-cluster/0123456789abcdef"
                .to_string();
            let mut asked = tasks.clone();
            asked.push(gone.clone());
            let now = Instant::now();

            let answer = lookup.services("daemon-cluster", &asked, now).await;
            assert_eq!(answer.problem, None);
            assert_eq!(answer.calls, 2, "122 tasks: 100 + 22");
            assert_eq!(answer.services.len(), 121, "the unknown task is left out");
            assert_eq!(answer.services[&tasks[0]], None, "RunTask: family:sim-app");
            assert!(
                tasks[1..]
                    .iter()
                    .all(|t| answer.services[t].as_deref() == Some("web")),
                "{:?}",
                answer.services
            );

            // Cached: no call; the unknown task is asked again only later.
            let again = lookup.services("daemon-cluster", &asked, now).await;
            assert_eq!((again.calls, again.services.len()), (0, 121));
            let later = lookup
                .services("daemon-cluster", &asked, now + UNKNOWN_RETRY)
                .await;
            assert_eq!((later.calls, later.services.len()), (1, 121));
        }

        /// `include=TAGS`: the standalone task's tags (set by RunTask), none for the service's.
        #[tokio::test]
        async fn describe_tasks_with_tags_gives_each_task_its_tags() {
            let Some(moto) = start() else {
                return;
            };
            let tasks = setup(&moto, "tagged", &["team=payments", "env=prod"], 1);
            assert_eq!(tasks.len(), 2);
            let mut lookup =
                ServiceLookup::with_client(client(&moto).await, Some(Duration::from_secs(300)));
            let answer = lookup.services("tagged", &tasks, Instant::now()).await;
            assert_eq!(answer.problem, None);
            assert_eq!(
                answer.tags[&tasks[0]],
                BTreeMap::from([
                    ("env".to_string(), "prod".to_string()),
                    ("team".to_string(), "payments".to_string())
                ])
            );
            assert_eq!(answer.tags[&tasks[1]], BTreeMap::new());
            assert_eq!(answer.services[&tasks[1]].as_deref(), Some("web"));
        }

        #[tokio::test]
        async fn a_failed_call_is_said_once_then_backs_off() {
            let Some(moto) = start() else {
                return;
            };
            let tasks = setup(&moto, "daemon-cluster", &[], 1);
            let mut lookup = ServiceLookup::with_client(client(&moto).await, None);
            let now = Instant::now();
            // A cluster moto does not know: ClusterNotFoundException.
            let failed = lookup.services("elsewhere", &tasks, now).await;
            assert_eq!((failed.calls, failed.services.len()), (1, 0));
            let problem = failed.problem.expect("the failure is said");
            assert!(
                problem.contains("ecs:DescribeTasks of 2 tasks in cluster \"elsewhere\" failed")
                    && problem.contains("ClusterNotFoundException"),
                "{problem}"
            );
            let backing_off = lookup
                .services("daemon-cluster", &tasks, now + Duration::from_secs(59))
                .await;
            assert_eq!(backing_off, ServiceAnswer::default());
            let back = lookup
                .services("daemon-cluster", &tasks, now + BACKOFF_FIRST)
                .await;
            assert!(back.recovered);
            assert_eq!((back.calls, back.services.len()), (1, 2));
        }
    }
}
