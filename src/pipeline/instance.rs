//! The container instance between reads of the ECS agent introspection API
//! (`ECS_EMF_INTROSPECTION_URI`): read before the first poll's labels and every
//! `ECS_EMF_TAGS_REFRESH` after, a failed read included (a URL that cannot answer must not
//! slow every cycle). A failed read keeps what the last good one said: the instance cannot
//! change while the task runs.

use std::time::{Duration, Instant};

use super::dimensions::{ContainerInstance, Labeler};
use super::events::{Change, Event, Ongoing};
use super::tags::ReadSchedule;

#[derive(Debug, Default)]
pub(crate) struct InstanceState {
    schedule: ReadSchedule,
    problem: Ongoing<String>,
}

impl InstanceState {
    /// Whether a read is due at `now`.
    pub(crate) fn due(&self, now: Instant) -> bool {
        self.schedule.due(now)
    }

    /// Records a read made at `now`: the labels use what it says; a problem is said when it
    /// begins or changes, and when it is over. Returns the errors to count (a failed read).
    pub(crate) fn record(
        &mut self,
        read: Result<ContainerInstance, String>,
        now: Instant,
        refresh: Duration,
        labeler: &mut Labeler,
        events: &mut Vec<Event>,
    ) -> u64 {
        self.schedule.read_at(now, refresh);
        let (problem, errors) = match read {
            Ok(instance) => {
                labeler.set_instance(instance);
                (None, 0)
            }
            Err(problem) => (Some(problem), 1),
        };
        let said = problem.clone();
        match self.problem.update(problem) {
            Change::Began => {
                events.extend(said.map(|problem| Event::IntrospectionFailed { problem }))
            }
            Change::Ended(_) => events.push(Event::IntrospectionRecovered),
            Change::Unchanged => {}
        }
        errors
    }
}
