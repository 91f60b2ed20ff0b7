//! What a step has to say, decided inside the step and said by the shell: each problem once
//! when it begins or changes, and once when it is over. [`Ongoing`] is the one mechanism
//! behind every "say it once": the step's, and the outputs' (a full buffer, a failing peer).

use super::compute::Gap;
use super::dimensions::DimensionProblem;
use crate::source::metadata::FetchError;

/// Text from outside (an endpoint's answer, a container's name, an API's message) as it goes
/// into a log line: plain printable ASCII as it is; anything else quoted with its control
/// characters escaped, so a newline cannot forge a log line; and at most
/// [`Outside::MAX_CHARS`] characters, so a megabyte of it cannot make a megabyte line.
#[derive(Debug, Clone, Copy)]
pub struct Outside<'a>(pub &'a str);

impl Outside<'_> {
    pub const MAX_CHARS: usize = 200;
}

impl std::fmt::Display for Outside<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = self.0;
        let plain = text.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b'"');
        if plain && text.len() <= Outside::MAX_CHARS {
            return f.write_str(text);
        }
        let cut: String = text.chars().take(Outside::MAX_CHARS).collect();
        write!(f, "{cut:?}")?;
        if cut.len() < text.len() {
            write!(f, "…(+{} bytes)", text.len() - cut.len())?;
        }
        Ok(())
    }
}

/// Names from outside as a list, `["app", "web"]`: each as [`Outside`] quotes it, at most 20.
pub struct OutsideList<'a>(pub &'a [String]);

impl std::fmt::Display for OutsideList<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const MAX: usize = 20;
        f.write_str("[")?;
        for (i, name) in self.0.iter().take(MAX).enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            let cut: String = name.chars().take(Outside::MAX_CHARS).collect();
            write!(f, "{cut:?}")?;
        }
        if self.0.len() > MAX {
            write!(f, ", … {} more", self.0.len() - MAX)?;
        }
        f.write_str("]")
    }
}

/// Where tags were read from, for the tag events' wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TagSource {
    /// `/taskWithTags`.
    Endpoint,
    /// `ecs:ListTagsForResource` (`ECS_EMF_TAGS_FROM_API`).
    EcsApi,
}

impl TagSource {
    fn what(self) -> &'static str {
        match self {
            TagSource::Endpoint => "tags",
            TagSource::EcsApi => "tags through the ECS API",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Event {
    /// The endpoint could not be read: the first poll of a run of the same problem.
    EndpointFailed(FetchError),
    /// The endpoint answers again.
    EndpointRecovered { failed_polls: u64 },
    /// Stats entries with an unexpected shape (a new set of containers).
    MalformedStats { containers: Vec<String> },
    /// Running containers newly missing values this cycle, and why.
    Gap { gap: Gap, containers: Vec<String> },
    /// Tags could not be read, or the read reported a problem (a new problem).
    TagsFailed { from: TagSource, problem: String },
    /// Tags read again after a problem.
    TagsRecovered { from: TagSource },
    /// A dimension value CloudWatch would reject (once per run per dimension and problem).
    Dimension(DimensionProblem),
    /// A value outside the range CloudWatch accepts, left out (once per run per metric).
    OutOfRange { metric: &'static str, value: f64 },
    /// The exporter's own container could not be read before the first poll (once per run).
    OwnContainerUnread(FetchError),
    /// The ECS agent introspection API could not tell the container instance (a new
    /// problem).
    IntrospectionFailed { problem: String },
    /// It answers again.
    IntrospectionRecovered,
}

impl Event {
    /// Says the event on the exporter's log: problems as warnings, the rest as information.
    pub(crate) fn log(&self) {
        match self {
            Event::EndpointFailed(e) => tracing::warn!("{e}"),
            Event::EndpointRecovered { failed_polls } => {
                tracing::info!("metadata endpoint answers again after {failed_polls} failed polls")
            }
            Event::MalformedStats { containers } => tracing::warn!(
                "stats of containers {} have an unexpected shape; they are left out until they parse again",
                OutsideList(containers)
            ),
            Event::Gap { gap, containers } => {
                tracing::info!("containers {}: {gap}", OutsideList(containers));
            }
            Event::TagsFailed { from, problem } => tracing::warn!(
                "{}: {problem}; tag dimensions keep their last known values ('unknown' if none)",
                from.what()
            ),
            Event::TagsRecovered { from } => {
                tracing::info!("{}: read again successfully", from.what());
            }
            Event::Dimension(DimensionProblem {
                subject,
                dimension,
                problem,
            }) => {
                tracing::warn!(dimension = %dimension, "{subject} {dimension} {problem}");
            }
            Event::OutOfRange { metric, value } => tracing::warn!(
                "{metric} = {value:e} is outside what CloudWatch accepts (0, or 8.5e-109 to 1.2e108 either way); left out and counted as dropped"
            ),
            Event::OwnContainerUnread(e) => tracing::warn!(
                "{e}; a restart of the exporter's own container just before this start is not counted in ContainerRestarts"
            ),
            Event::IntrospectionFailed { problem } => tracing::warn!(
                "{problem}; ContainerInstanceArn and AgentVersion keep their last known values (a ContainerInstanceId dimension 'unknown' if none)"
            ),
            Event::IntrospectionRecovered => {
                tracing::info!("ECS agent introspection API: read again successfully");
            }
        }
    }
}

/// A problem that lasts over cycles, identified by `K` (two occurrences with the same key
/// are the same problem, even where their wording differs).
#[derive(Debug)]
pub(crate) struct Ongoing<K> {
    current: Option<K>,
}

impl<K> Default for Ongoing<K> {
    fn default() -> Self {
        Ongoing { current: None }
    }
}

/// What changed when a problem was (or was not) seen again.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Change<K> {
    /// A problem began, or another one took its place.
    Began,
    /// The problem that was there is over.
    Ended(K),
    /// As before: the same problem, or still none.
    Unchanged,
}

impl<K: PartialEq> Ongoing<K> {
    /// Records this cycle's problem (`None`: there is none).
    pub(crate) fn update(&mut self, now: Option<K>) -> Change<K> {
        if now == self.current {
            return Change::Unchanged;
        }
        match std::mem::replace(&mut self.current, now) {
            Some(was) if self.current.is_none() => Change::Ended(was),
            _ => Change::Began,
        }
    }

    pub(crate) fn current(&self) -> Option<&K> {
        self.current.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_from_outside_cannot_forge_a_line_or_make_a_long_one() {
        assert_eq!(
            Outside("AccessDeniedException").to_string(),
            "AccessDeniedException"
        );
        let forged = "x\n2026-01-01T00:00:00Z  INFO forged";
        assert_eq!(
            Outside(forged).to_string(),
            r#""x\n2026-01-01T00:00:00Z  INFO forged""#
        );
        let huge = "a".repeat(1 << 20);
        let said = Outside(&huge).to_string();
        assert!(said.len() < 250, "{}", said.len());
        assert!(
            said.ends_with(&format!("…(+{} bytes)", (1 << 20) - 200)),
            "{said}"
        );
        let names = ["app".to_string(), "we\u{1b}[31mb".to_string()];
        assert_eq!(
            OutsideList(&names).to_string(),
            r#"["app", "we\u{1b}[31mb"]"#
        );
        let many: Vec<String> = (0..25).map(|i| format!("c{i}")).collect();
        assert!(
            OutsideList(&many)
                .to_string()
                .ends_with(", \"c19\", … 5 more]")
        );
    }

    #[test]
    fn a_problem_is_said_when_it_begins_or_changes_and_when_it_ends() {
        let mut p = Ongoing::default();
        assert_eq!(p.update(None), Change::Unchanged);
        assert_eq!(p.update(Some("500")), Change::Began);
        assert_eq!(p.update(Some("500")), Change::Unchanged);
        assert_eq!(p.update(Some("429")), Change::Began);
        assert_eq!(p.current(), Some(&"429"));
        assert_eq!(p.update(None), Change::Ended("429"));
        assert_eq!(p.update(None), Change::Unchanged);
    }
}
