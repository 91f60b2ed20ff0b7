//! The task's tags between reads: read at start and every `ECS_EMF_TAGS_REFRESH`; what a
//! failed read cannot tell keeps its last good value.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::dimensions::Tags;
use super::events::{Change, Event, Ongoing, Outside, TagSource};
use crate::source::TagsRead;
use crate::source::metadata::{FetchError, TaskTagsResponse};

/// A tag map as the endpoint gives it (any JSON value) as dimension values: strings as they
/// are, numbers and booleans in their JSON spelling, anything else left out.
pub(crate) fn tag_strings(
    raw: Option<BTreeMap<String, serde_json::Value>>,
) -> BTreeMap<String, String> {
    raw.unwrap_or_default()
        .into_iter()
        .filter_map(|(k, v)| match v {
            serde_json::Value::String(s) => Some((k, s)),
            serde_json::Value::Number(n) => Some((k, n.to_string())),
            serde_json::Value::Bool(b) => Some((k, b.to_string())),
            _ => None,
        })
        .collect()
}

fn merge(
    current: &mut BTreeMap<String, String>,
    read: Option<BTreeMap<String, serde_json::Value>>,
    keep_missing: bool,
) {
    match read {
        Some(map) => *current = tag_strings(Some(map)),
        None if keep_missing => {}
        None => current.clear(),
    }
}

/// `Errors[]` entries, short: `ErrorField: ErrorCode` (no messages: they can be long).
fn describe_tag_errors(errors: &[serde_json::Value]) -> String {
    errors
        .iter()
        .map(|e| {
            let field = e
                .get("ErrorField")
                .and_then(|v| v.as_str())
                .unwrap_or("tags");
            let code = e
                .get("ErrorCode")
                .and_then(|v| v.as_str())
                .unwrap_or("error");
            format!("{}: {}", Outside(field), Outside(code))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A tag problem as an event, when it begins or changes, or is over.
fn report(problem: &mut Ongoing<String>, now: Option<String>, from: TagSource) -> Option<Event> {
    let said = now.clone();
    match problem.update(now) {
        Change::Began => said.map(|problem| Event::TagsFailed { from, problem }),
        Change::Ended(_) => Some(Event::TagsRecovered { from }),
        Change::Unchanged => None,
    }
}

/// When a periodic read is due: at once, then `refresh` after each read, failed or not (a
/// source that cannot answer must not slow every cycle). The tags' schedule, and the
/// container instance's (`pipeline::instance`).
#[derive(Debug, Default)]
pub(crate) struct ReadSchedule {
    next: Option<Instant>,
}

impl ReadSchedule {
    pub(crate) fn due(&self, now: Instant) -> bool {
        self.next.is_none_or(|t| now >= t)
    }

    /// A read was made at `now`.
    pub(crate) fn read_at(&mut self, now: Instant, refresh: Duration) {
        self.next = Some(now + refresh);
    }
}

#[derive(Debug, Default)]
pub(crate) struct TagState {
    pub(crate) tags: Tags,
    schedule: ReadSchedule,
    problem: Ongoing<String>,
    api_problem: Ongoing<String>,
}

impl TagState {
    /// Whether a read is due at `now`.
    pub(crate) fn due(&self, now: Instant) -> bool {
        self.schedule.due(now)
    }

    /// Records a read made at `now`; the next is due `refresh` later. `api_fallback`: tags
    /// also come from the ECS API. Returns how many reads failed, and what to say.
    pub(crate) fn record(
        &mut self,
        read: TagsRead,
        now: Instant,
        refresh: Duration,
        api_fallback: bool,
        events: &mut Vec<Event>,
    ) -> u64 {
        self.schedule.read_at(now, refresh);
        let mut failed = u64::from(read.endpoint.is_err());
        events.extend(self.apply(read.endpoint, api_fallback));
        if let Some(api) = read.api {
            let problem = match api {
                Ok(tags) => {
                    self.tags.api = tags;
                    None
                }
                Err(e) => {
                    failed += 1;
                    Some(Outside(&e).to_string())
                }
            };
            events.extend(report(&mut self.api_problem, problem, TagSource::EcsApi));
        }
        failed
    }

    /// Records a `/taskWithTags` answer.
    fn apply(
        &mut self,
        result: Result<TaskTagsResponse, FetchError>,
        api_fallback: bool,
    ) -> Option<Event> {
        let problem = match result {
            Ok(response) => {
                let errors =
                    (!response.errors.is_empty()).then(|| describe_tag_errors(&response.errors));
                // With `Errors`, a map the agent could not read is missing: its last good
                // values stay. Without, a missing map means "no tags" and replaces them.
                let keep_missing = errors.is_some();
                merge(&mut self.tags.task, response.task_tags, keep_missing);
                merge(
                    &mut self.tags.container_instance,
                    response.container_instance_tags,
                    keep_missing,
                );
                errors.map(|e| {
                    format!("/taskWithTags reports {e} (on EC2 the instance role needs ecs:ListTagsForResource)")
                })
            }
            Err(e) => {
                let hint = match (&e, api_fallback) {
                    (_, true) => "; reading the task's tags through the ECS API instead",
                    (FetchError::Status { status: 404, .. }, false) => {
                        "; Fargate documents no /taskWithTags path: use ECS_EMF_STATIC_DIMENSIONS, or ECS_EMF_TAGS_FROM_API=true"
                    }
                    _ => "",
                };
                Some(format!("{e}{hint}"))
            }
        };
        report(&mut self.problem, problem, TagSource::Endpoint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(json: &str) -> Result<TaskTagsResponse, FetchError> {
        Ok(crate::source::metadata::parse::task_with_tags(json.as_bytes()).expect("valid"))
    }

    #[test]
    fn tags_that_fail_to_read_keep_their_last_good_values() {
        let mut state = TagState::default();
        state.apply(
            response(
                r#"{"TaskTags": {"env": "prod"}, "ContainerInstanceTags": {"team": "platform"}}"#,
            ),
            false,
        );
        assert_eq!(
            (state.tags.get("env"), state.tags.get("team")),
            (Some("prod"), Some("platform"))
        );
        // The instance tags fail: task tags update, instance tags stay.
        let said = state.apply(
            response(
                r#"{"TaskTags": {"env": "staging"}, "Errors": [{"ErrorField": "ContainerInstanceTags", "ErrorCode": "AccessDeniedException"}]}"#,
            ),
            false,
        );
        assert_eq!(
            (state.tags.get("env"), state.tags.get("team")),
            (Some("staging"), Some("platform"))
        );
        assert!(
            matches!(&said, Some(Event::TagsFailed { from: TagSource::Endpoint, problem })
                if problem.contains("ContainerInstanceTags: AccessDeniedException")),
            "{said:?}"
        );
        // The endpoint fails entirely: everything stays.
        state.apply(
            Err(FetchError::Status {
                path: crate::source::metadata::Path::TaskWithTags,
                status: 500,
            }),
            false,
        );
        assert_eq!(state.tags.get("env"), Some("staging"));
        // A clean answer without instance tags means there are none.
        let said = state.apply(response(r#"{"TaskTags": {"env": "prod"}}"#), false);
        assert_eq!(
            (state.tags.get("env"), state.tags.get("team")),
            (Some("prod"), None)
        );
        assert_eq!(
            said,
            Some(Event::TagsRecovered {
                from: TagSource::Endpoint
            })
        );
        assert!(state.problem.current().is_none());
    }

    #[test]
    fn a_read_schedules_the_next_one_refresh_later() {
        let mut state = TagState::default();
        let t0 = Instant::now();
        assert!(state.due(t0), "the first read is due at once");
        let read = TagsRead {
            endpoint: response(r#"{"TaskTags": {}}"#),
            api: None,
        };
        let failed = state.record(read, t0, Duration::from_secs(300), false, &mut Vec::new());
        assert_eq!(failed, 0);
        assert!(!state.due(t0 + Duration::from_secs(299)));
        assert!(state.due(t0 + Duration::from_secs(300)));
    }
}
