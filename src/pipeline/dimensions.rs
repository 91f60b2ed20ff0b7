//! Dimension sets, their values, and the plain properties every document carries.
//!
//! Values come from `/task` (cluster, service, family, …), from tags, and from static
//! settings. A value CloudWatch would reject (empty, blank, over 1024 characters) never
//! reaches an output: it is replaced or truncated, with one warning per dimension.

use std::collections::{BTreeMap, HashSet};

use crate::pipeline::cycle::Entity;
use crate::pipeline::platform;
use crate::pipeline::{Level, Measurements};
use crate::source::metadata::TaskMetadata;

/// The dimensions a set may name (README, Settings); tag and static dimensions come on top.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    ClusterName,
    ServiceName,
    TaskDefinitionFamily,
    TaskDefinitionRevision,
    TaskId,
    ContainerName,
    LaunchType,
    AvailabilityZone,
    /// From the ECS agent introspection API (`ECS_EMF_INTROSPECTION_URI`), EC2 only.
    ContainerInstanceId,
}

impl Builtin {
    pub const ALL: [Builtin; 9] = [
        Builtin::ClusterName,
        Builtin::ServiceName,
        Builtin::TaskDefinitionFamily,
        Builtin::TaskDefinitionRevision,
        Builtin::TaskId,
        Builtin::ContainerName,
        Builtin::LaunchType,
        Builtin::AvailabilityZone,
        Builtin::ContainerInstanceId,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Builtin::ClusterName => "ClusterName",
            Builtin::ServiceName => "ServiceName",
            Builtin::TaskDefinitionFamily => "TaskDefinitionFamily",
            Builtin::TaskDefinitionRevision => "TaskDefinitionRevision",
            Builtin::TaskId => "TaskId",
            Builtin::ContainerName => "ContainerName",
            Builtin::LaunchType => "LaunchType",
            Builtin::AvailabilityZone => "AvailabilityZone",
            Builtin::ContainerInstanceId => "ContainerInstanceId",
        }
    }

    pub fn parse(name: &str) -> Option<Builtin> {
        Builtin::ALL.into_iter().find(|b| b.name() == name)
    }
}

/// The plain members of a document besides its dimensions and metrics (docs/metrics.md,
/// Properties), in the order documents carry them. Logs Insights can filter on them at no
/// metric cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Property {
    Type,
    ClusterName,
    ServiceName,
    TaskArn,
    TaskId,
    TaskDefinitionFamily,
    TaskDefinitionRevision,
    LaunchType,
    AvailabilityZone,
    /// Task documents only, like the next one: `ClockDrift` (Fargate), beside the
    /// `ClockErrorBound` metric (docs/metrics.md, Properties).
    ClockSynchronizationStatus,
    ClockReferenceTimestamp,
    /// Task documents only, like the next one: from the ECS agent introspection API
    /// (`/v1/metadata`), when `ECS_EMF_INTROSPECTION_URI` is set and the agent answers.
    ContainerInstanceArn,
    AgentVersion,
    /// Container documents only, like the three below.
    ContainerName,
    Image,
    DockerId,
    KnownStatus,
    /// A `ContainerExits` document only, like the next one: what the endpoint says about
    /// the exit (docs/metrics.md, "Container exits").
    ExitCode,
    FinishedAt,
    /// Where the platform says (daemon mode: Docker's `State.OOMKilled`).
    OomKilled,
}

impl Property {
    const ALL: [Property; 20] = [
        Property::Type,
        Property::ClusterName,
        Property::ServiceName,
        Property::TaskArn,
        Property::TaskId,
        Property::TaskDefinitionFamily,
        Property::TaskDefinitionRevision,
        Property::LaunchType,
        Property::AvailabilityZone,
        Property::ClockSynchronizationStatus,
        Property::ClockReferenceTimestamp,
        Property::ContainerInstanceArn,
        Property::AgentVersion,
        Property::ContainerName,
        Property::Image,
        Property::DockerId,
        Property::KnownStatus,
        Property::ExitCode,
        Property::FinishedAt,
        Property::OomKilled,
    ];

    const fn name(self) -> &'static str {
        match self {
            Property::Type => "Type",
            Property::ClusterName => "ClusterName",
            Property::ServiceName => "ServiceName",
            Property::TaskArn => "TaskARN",
            Property::TaskId => "TaskId",
            Property::TaskDefinitionFamily => "TaskDefinitionFamily",
            Property::TaskDefinitionRevision => "TaskDefinitionRevision",
            Property::LaunchType => "LaunchType",
            Property::AvailabilityZone => "AvailabilityZone",
            Property::ClockSynchronizationStatus => "ClockSynchronizationStatus",
            Property::ClockReferenceTimestamp => "ClockReferenceTimestamp",
            Property::ContainerInstanceArn => "ContainerInstanceArn",
            Property::AgentVersion => "AgentVersion",
            Property::ContainerName => "ContainerName",
            Property::Image => "Image",
            Property::DockerId => "DockerId",
            Property::KnownStatus => "KnownStatus",
            Property::ExitCode => "ExitCode",
            Property::FinishedAt => "FinishedAt",
            Property::OomKilled => "OOMKilled",
        }
    }

    /// Its value in a document of `level` about `source`; `None` leaves it out.
    fn value<'a>(self, level: Level, source: &Source<'a>) -> Option<&'a str> {
        let id = source.id;
        let container = source.container.as_ref();
        match self {
            Property::Type => Some(level.as_str()),
            Property::ClusterName => id.cluster.as_deref(),
            Property::ServiceName => id.service.as_deref(),
            Property::TaskArn => id.task_arn.as_deref(),
            Property::TaskId => id.task_id.as_deref(),
            Property::TaskDefinitionFamily => id.family.as_deref(),
            Property::TaskDefinitionRevision => id.revision.as_deref(),
            Property::LaunchType => id.launch_type.as_deref(),
            Property::AvailabilityZone => id.availability_zone.as_deref(),
            Property::ClockSynchronizationStatus => {
                id.clock_status.filter(|_| level == Level::Task)
            }
            Property::ClockReferenceTimestamp => id
                .clock_reference
                .as_deref()
                .filter(|_| level == Level::Task),
            Property::ContainerInstanceArn => source
                .instance
                .and_then(|i| i.arn.as_deref())
                .filter(|_| level == Level::Task),
            Property::AgentVersion => source
                .instance
                .and_then(|i| i.agent_version.as_deref())
                .filter(|_| level == Level::Task),
            Property::ContainerName => container.map(|c| c.name),
            Property::Image => container.and_then(|c| c.image),
            Property::DockerId => container.and_then(|c| c.docker_id),
            Property::KnownStatus => container.and_then(|c| c.known_status),
            Property::ExitCode => container.and_then(|c| c.exit_code),
            Property::FinishedAt => container.and_then(|c| c.finished_at),
            Property::OomKilled => container.and_then(|c| c.oom_killed),
        }
    }
}

/// The root members a document has besides dimensions and metrics: the properties and
/// `_aws`. Tag and static dimension names must not collide with them.
pub const PROPERTY_NAMES: [&str; Property::ALL.len() + 1] = {
    let mut names = ["_aws"; Property::ALL.len() + 1];
    let mut i = 0;
    while i < Property::ALL.len() {
        names[i] = Property::ALL[i].name();
        i += 1;
    }
    names
};

/// Longest dimension value CloudWatch accepts, in characters.
pub(crate) const MAX_VALUE_CHARS: usize = 1024;
/// What a dimension without a value publishes (a missing tag, an absent field).
pub(crate) const UNKNOWN: &str = "unknown";

/// The validated dimension settings.
#[derive(Debug, Clone, PartialEq)]
pub struct DimensionConfig {
    pub task_sets: Vec<Vec<Builtin>>,
    pub container_sets: Vec<Vec<Builtin>>,
    /// `ECS_EMF_TAG_DIMENSIONS`, in order.
    pub tag_keys: Vec<String>,
    /// `ECS_EMF_STATIC_DIMENSIONS`, in order; a static name wins over a tag of that name.
    pub static_dims: Vec<(String, String)>,
}

impl Default for DimensionConfig {
    fn default() -> Self {
        DimensionConfig {
            task_sets: vec![vec![Builtin::ClusterName, Builtin::ServiceName]],
            container_sets: vec![vec![
                Builtin::ClusterName,
                Builtin::ServiceName,
                Builtin::ContainerName,
            ]],
            tag_keys: Vec::new(),
            static_dims: Vec::new(),
        }
    }
}

impl DimensionConfig {
    /// Names added to every set after the built-in ones: tags, then statics (deduplicated).
    fn extra_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for n in self
            .tag_keys
            .iter()
            .map(String::as_str)
            .chain(self.static_dims.iter().map(|(k, _)| k.as_str()))
        {
            if !names.contains(&n) {
                names.push(n);
            }
        }
        names
    }

    /// The number of keys of the largest set once tags and statics are added.
    pub fn widest_set(&self) -> usize {
        let extra = self.extra_names().len();
        self.task_sets
            .iter()
            .chain(&self.container_sets)
            .map(|s| s.len() + extra)
            .max()
            .unwrap_or(extra)
    }

    pub(crate) fn needs_tags(&self) -> bool {
        !self.tag_keys.is_empty()
    }

    /// The dimension names of every set a document of `level` carries, in the order
    /// CloudWatch sees them: built-ins, then tags, then statics, each name once, each set
    /// once. A task without a service publishes `TaskDefinitionFamily` where a set names
    /// `ServiceName`. The labeler and `metrics --json` both use this, so what the catalog
    /// reports is what the documents carry.
    pub(crate) fn name_sets(&self, level: Level, has_service: bool) -> Vec<Vec<DimensionName>> {
        let sets = if level == Level::Container {
            &self.container_sets
        } else {
            &self.task_sets
        };
        let mut out: Vec<Vec<DimensionName>> = Vec::with_capacity(sets.len());
        for set in sets {
            let mut names: Vec<DimensionName> = Vec::with_capacity(set.len());
            for &b in set {
                let b = if b == Builtin::ServiceName && !has_service {
                    Builtin::TaskDefinitionFamily
                } else {
                    b
                };
                let name = DimensionName::Builtin(b);
                if !names.contains(&name) {
                    names.push(name);
                }
            }
            for extra in self.extra_names() {
                let name = DimensionName::Extra(extra.to_string());
                if !names.contains(&name) {
                    names.push(name);
                }
            }
            if !out.contains(&names) {
                out.push(names);
            }
        }
        out
    }
}

/// One dimension of a set: a built-in one, or a tag / static name added to every set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DimensionName {
    Builtin(Builtin),
    Extra(String),
}

impl DimensionName {
    pub(crate) fn as_str(&self) -> &str {
        match self {
            DimensionName::Builtin(b) => b.name(),
            DimensionName::Extra(name) => name,
        }
    }
}

/// Tags, looked up in this order: task tags and container-instance tags (both from
/// `/taskWithTags`), then the task's tags read through the ECS API when enabled.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tags {
    pub task: BTreeMap<String, String>,
    pub container_instance: BTreeMap<String, String>,
    pub api: BTreeMap<String, String>,
}

impl Tags {
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.task
            .get(key)
            .or_else(|| self.container_instance.get(key))
            .or_else(|| self.api.get(key))
            .map(String::as_str)
    }
}

/// `arn:aws:ecs:REGION:ACCOUNT:cluster/NAME` → `NAME`; a short name stays as it is.
pub(crate) fn cluster_name(cluster: &str) -> &str {
    if cluster.starts_with("arn:") {
        cluster.rsplit('/').next().unwrap_or(cluster)
    } else {
        cluster
    }
}

/// The last segment of the task ARN (`…:task/CLUSTER/ID` or the old `…:task/ID`).
pub(crate) fn task_id(task_arn: &str) -> &str {
    task_arn.rsplit('/').next().unwrap_or(task_arn)
}

/// The task's identity, resolved once per cycle.
struct TaskIdentity {
    cluster: Option<String>,
    service: Option<String>,
    task_arn: Option<String>,
    task_id: Option<String>,
    family: Option<String>,
    revision: Option<String>,
    launch_type: Option<String>,
    availability_zone: Option<String>,
    clock_status: Option<&'static str>,
    clock_reference: Option<String>,
}

impl TaskIdentity {
    fn new(task: &TaskMetadata, tags: &Tags) -> TaskIdentity {
        let nonempty = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
        TaskIdentity {
            cluster: nonempty(&task.cluster).map(|c| cluster_name(&c).to_string()),
            // A standalone task has no service; older agents leave the field out but the
            // `aws:ecs:serviceName` tag has it (tags propagated from the service).
            service: nonempty(&task.service_name).or_else(|| {
                tags.get("aws:ecs:serviceName")
                    .map(str::to_string)
                    .filter(|s| !s.trim().is_empty())
            }),
            task_arn: nonempty(&task.task_arn),
            task_id: nonempty(&task.task_arn).map(|a| task_id(&a).to_string()),
            family: nonempty(&task.family),
            revision: nonempty(&task.revision),
            launch_type: nonempty(&task.launch_type),
            availability_zone: nonempty(&task.availability_zone),
            clock_status: platform::clock_synchronization_status(task),
            clock_reference: platform::clock_reference_timestamp(task),
        }
    }

    fn value<'a>(
        &'a self,
        b: Builtin,
        container: Option<&'a str>,
        instance: Option<&'a ContainerInstance>,
    ) -> Option<&'a str> {
        match b {
            Builtin::ClusterName => self.cluster.as_deref(),
            Builtin::ServiceName => self.service.as_deref(),
            Builtin::TaskDefinitionFamily => self.family.as_deref(),
            Builtin::TaskDefinitionRevision => self.revision.as_deref(),
            Builtin::TaskId => self.task_id.as_deref(),
            Builtin::ContainerName => container,
            Builtin::LaunchType => self.launch_type.as_deref(),
            Builtin::AvailabilityZone => self.availability_zone.as_deref(),
            Builtin::ContainerInstanceId => instance.and_then(|i| i.id.as_deref()),
        }
    }
}

/// A dimension value CloudWatch would reject, and what was published instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DimensionProblem {
    /// `dimension`, or `property` (a plain member of the document).
    pub(crate) subject: &'static str,
    /// The dimension's name only: tag values can be long or sensitive.
    pub(crate) dimension: String,
    pub(crate) problem: &'static str,
}

/// Dimension problems seen so far, each reported once per run.
#[derive(Debug, Default)]
struct Warnings {
    seen: HashSet<(String, &'static str)>,
    /// Seen for the first time since [`Labeler::take_problems`] was last called.
    new: Vec<DimensionProblem>,
}

impl Warnings {
    /// A value CloudWatch accepts: 1–1024 characters, not blank.
    fn clean(&mut self, name: &str, value: Option<&str>) -> String {
        match value {
            Some(v) if !v.trim().is_empty() && v.chars().count() <= MAX_VALUE_CHARS => {
                v.to_string()
            }
            Some(v) if !v.trim().is_empty() => {
                let cut: String = v.chars().take(MAX_VALUE_CHARS).collect();
                // The first 1024 characters may all be blank (seen while writing the fuzz targets): CloudWatch
                // rejects a blank value, so that is 'unknown' like any other blank value.
                if cut.trim().is_empty() {
                    self.once(
                        name,
                        "is blank in its first 1024 characters; published as 'unknown'",
                    );
                    return UNKNOWN.to_string();
                }
                self.once(name, "is longer than 1024 characters; truncated to 1024");
                cut
            }
            Some(_) => {
                self.once(name, "is empty or blank; published as 'unknown'");
                UNKNOWN.to_string()
            }
            None => {
                self.once(name, "has no value for this task; published as 'unknown'");
                UNKNOWN.to_string()
            }
        }
    }

    fn once(&mut self, name: &str, what: &'static str) {
        self.once_about("dimension", name, what);
    }

    fn once_about(&mut self, subject: &'static str, name: &str, what: &'static str) {
        if self.seen.insert((format!("{subject} {name}"), what)) {
            self.new.push(DimensionProblem {
                subject,
                dimension: name.to_string(),
                problem: what,
            });
        }
    }

    /// A property's value, at most [`MAX_VALUE_CHARS`] characters: a property is copied into
    /// every document, so a megabyte `TaskARN` would be a megabyte per document.
    fn property(&mut self, name: &str, value: &str) -> String {
        if value.len() <= MAX_VALUE_CHARS || value.chars().count() <= MAX_VALUE_CHARS {
            return value.to_string();
        }
        self.once_about(
            "property",
            name,
            "is longer than 1024 characters; truncated to 1024",
        );
        value.chars().take(MAX_VALUE_CHARS).collect()
    }
}

/// Turns a cycle's measurements into entities with dimensions and properties.
#[derive(Debug, Default)]
pub struct Labeler {
    config: DimensionConfig,
    /// `DimensionConfig::name_sets`, computed once: `[task-or-exporter, container]`, each
    /// `[without a service, with one]`.
    name_sets: [[Vec<Vec<DimensionName>>; 2]; 2],
    warnings: Warnings,
    /// The container instance the task runs on, once the introspection API told it.
    instance: Option<ContainerInstance>,
}

/// What the ECS agent introspection API says about the container instance the task runs on
/// (`/v1/metadata`): its ARN, the ID at the ARN's end, and the agent's version.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerInstance {
    pub arn: Option<String>,
    pub id: Option<String>,
    pub agent_version: Option<String>,
}

/// What one entity's dimensions and properties are built from.
struct Source<'a> {
    id: &'a TaskIdentity,
    tags: &'a Tags,
    instance: Option<&'a ContainerInstance>,
    container: Option<ContainerIdentity<'a>>,
}

/// A container document's own identity.
struct ContainerIdentity<'a> {
    name: &'a str,
    image: Option<&'a str>,
    docker_id: Option<&'a str>,
    known_status: Option<&'a str>,
    exit_code: Option<&'a str>,
    finished_at: Option<&'a str>,
    oom_killed: Option<&'static str>,
}

impl Labeler {
    pub fn new(config: DimensionConfig) -> Labeler {
        let sets = |level| [false, true].map(|service| config.name_sets(level, service));
        let name_sets = [sets(Level::Task), sets(Level::Container)];
        Labeler {
            config,
            name_sets,
            warnings: Warnings::default(),
            instance: None,
        }
    }

    /// The container instance from now on (a failed read keeps the last one: it cannot
    /// change while the task runs, only the agent's version can).
    pub(crate) fn set_instance(&mut self, instance: ContainerInstance) {
        self.instance = Some(instance);
    }

    /// The dimension problems found for the first time since the last call.
    pub(crate) fn take_problems(&mut self) -> Vec<DimensionProblem> {
        std::mem::take(&mut self.warnings.new)
    }

    /// Entities for the task, each container, and (when given) the exporter's own metrics.
    pub fn label(
        &mut self,
        task: &TaskMetadata,
        tags: &Tags,
        measured: Measurements,
        exporter: Vec<crate::pipeline::Sample>,
    ) -> Vec<Entity> {
        let id = TaskIdentity::new(task, tags);
        let instance = self.instance.clone();
        let task_source = Source {
            id: &id,
            tags,
            instance: instance.as_ref(),
            container: None,
        };
        let mut entities = Vec::with_capacity(measured.containers.len() + 2);
        if !measured.task.is_empty() {
            entities.push(self.entity(Level::Task, &task_source, measured.task));
        }
        for c in measured.containers {
            let exit = c.exit.as_ref();
            let exit_code = exit.and_then(|e| e.code).map(|code| code.to_string());
            let source = Source {
                id: &id,
                tags,
                instance: instance.as_ref(),
                container: Some(ContainerIdentity {
                    name: &c.name,
                    image: c.image.as_deref(),
                    docker_id: c.docker_id.as_deref(),
                    known_status: c.known_status.as_deref(),
                    exit_code: exit_code.as_deref(),
                    finished_at: exit.and_then(|e| e.finished_at.as_deref()),
                    oom_killed: exit
                        .and_then(|e| e.oom_killed)
                        .map(|killed| if killed { "true" } else { "false" }),
                }),
            };
            entities.push(self.entity(Level::Container, &source, c.samples));
        }
        if !exporter.is_empty() {
            entities.push(self.entity(Level::Exporter, &task_source, exporter));
        }
        entities
    }

    fn entity(
        &mut self,
        level: Level,
        source: &Source,
        samples: Vec<crate::pipeline::Sample>,
    ) -> Entity {
        let Labeler {
            config,
            name_sets,
            warnings,
            ..
        } = self;
        let id = source.id;
        let sets =
            &name_sets[usize::from(level == Level::Container)][usize::from(id.service.is_some())];
        let mut fields: Vec<(String, String)> = Vec::new();
        let mut dimension_sets: Vec<Vec<String>> = Vec::with_capacity(sets.len());
        for set in sets {
            let mut names: Vec<String> = Vec::with_capacity(set.len());
            for dimension in set {
                let name = dimension.as_str();
                if !fields.iter().any(|(k, _)| k == name) {
                    let value = match dimension {
                        DimensionName::Builtin(b) => id.value(
                            *b,
                            source.container.as_ref().map(|c| c.name),
                            source.instance,
                        ),
                        // A static dimension wins over a tag of the same name.
                        DimensionName::Extra(extra) => {
                            match config.static_dims.iter().find(|(k, _)| k == extra) {
                                Some((_, v)) => Some(v.as_str()),
                                None => source.tags.get(extra),
                            }
                        }
                    };
                    fields.push((name.to_string(), warnings.clean(name, value)));
                }
                names.push(name.to_string());
            }
            dimension_sets.push(names);
        }
        for property in Property::ALL {
            let name = property.name();
            if let Some(v) = property.value(level, source)
                && !fields.iter().any(|(k, _)| k == name)
            {
                fields.push((name.to_string(), warnings.property(name, v)));
            }
        }
        Entity {
            level,
            dimension_sets,
            fields,
            samples,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::{Sample, catalog};

    fn task(cluster: &str, service: Option<&str>) -> TaskMetadata {
        TaskMetadata {
            cluster: Some(cluster.into()),
            task_arn: Some("arn:aws:ecs:us-east-1:123456789012:task/prod/0123abcd".into()),
            family: Some("web-td".into()),
            revision: Some("12".into()),
            service_name: service.map(str::to_string),
            launch_type: Some("FARGATE".into()),
            availability_zone: None,
            ..TaskMetadata::default()
        }
    }

    fn one_task_value() -> Measurements {
        Measurements {
            task: vec![Sample {
                metric: &catalog::CpuUtilized,
                value: 1.0,
            }],
            ..Measurements::default()
        }
    }

    #[test]
    fn cluster_and_task_id_come_from_arns() {
        assert_eq!(
            cluster_name("arn:aws:ecs:us-east-1:829490980523:cluster/prom-ecs-exporter-sandbox"),
            "prom-ecs-exporter-sandbox"
        );
        assert_eq!(cluster_name("test200"), "test200");
        assert_eq!(
            task_id(
                "arn:aws:ecs:us-west-2:803860917211:task/test200/d22aaa11bf0e4ab19c2c940a1cbabbee"
            ),
            "d22aaa11bf0e4ab19c2c940a1cbabbee"
        );
        assert_eq!(
            task_id("arn:aws:ecs:us-west-2:803860917211:task/d22aaa11"),
            "d22aaa11"
        );
    }

    #[test]
    fn service_name_falls_back_to_the_tag_then_to_the_family() {
        let mut labeler = Labeler::new(DimensionConfig::default());
        let e = &labeler.label(
            &task("arn:aws:ecs:r:1:cluster/prod", Some("web")),
            &Tags::default(),
            one_task_value(),
            vec![],
        )[0];
        assert_eq!(
            e.dimension_sets,
            vec![vec!["ClusterName".to_string(), "ServiceName".to_string()]]
        );
        assert_eq!(
            (e.field("ClusterName"), e.field("ServiceName")),
            (Some("prod"), Some("web"))
        );

        let mut tags = Tags::default();
        tags.task
            .insert("aws:ecs:serviceName".into(), "from-tag".into());
        let e = &labeler.label(&task("prod", None), &tags, one_task_value(), vec![])[0];
        assert_eq!(e.field("ServiceName"), Some("from-tag"));

        let e = &labeler.label(
            &task("prod", None),
            &Tags::default(),
            one_task_value(),
            vec![],
        )[0];
        assert_eq!(
            e.dimension_sets,
            vec![vec![
                "ClusterName".to_string(),
                "TaskDefinitionFamily".to_string()
            ]]
        );
        assert_eq!(e.field("TaskDefinitionFamily"), Some("web-td"));
        assert_eq!(
            e.field("ServiceName"),
            None,
            "no ServiceName property when it is unknown"
        );
    }

    #[test]
    fn tags_then_instance_tags_then_unknown_and_statics_win() {
        let config = DimensionConfig {
            tag_keys: vec!["env".into(), "team".into(), "owner".into()],
            static_dims: vec![("team".into(), "payments".into())],
            ..DimensionConfig::default()
        };
        let mut tags = Tags::default();
        tags.container_instance
            .insert("env".into(), "instance-env".into());
        tags.task.insert("team".into(), "tag-team".into());
        let mut labeler = Labeler::new(config);
        let e = &labeler.label(&task("prod", Some("web")), &tags, one_task_value(), vec![])[0];
        let expected: Vec<String> = ["ClusterName", "ServiceName", "env", "team", "owner"]
            .map(String::from)
            .to_vec();
        assert_eq!(e.dimension_sets, vec![expected]);
        assert_eq!(e.field("env"), Some("instance-env"));
        assert_eq!(e.field("team"), Some("payments"));
        assert_eq!(e.field("owner"), Some(UNKNOWN));
        tags.task.insert("env".into(), "task-env".into());
        let e = &labeler.label(&task("prod", Some("web")), &tags, one_task_value(), vec![])[0];
        assert_eq!(e.field("env"), Some("task-env"));
    }

    #[test]
    fn values_cloudwatch_rejects_are_truncated_or_replaced() {
        let config = DimensionConfig {
            tag_keys: vec!["long".into(), "blank".into()],
            ..DimensionConfig::default()
        };
        let mut tags = Tags::default();
        tags.task.insert("long".into(), "é".repeat(1500));
        tags.task.insert("blank".into(), "   ".into());
        let mut labeler = Labeler::new(config);
        let e = &labeler.label(&task("prod", Some("web")), &tags, one_task_value(), vec![])[0];
        assert_eq!(e.field("long").map(|v| v.chars().count()), Some(1024));
        assert_eq!(e.field("blank"), Some(UNKNOWN));
        // An absent built-in field (AvailabilityZone here) used as a dimension is 'unknown'.
        let config = DimensionConfig {
            task_sets: vec![vec![Builtin::AvailabilityZone]],
            ..DimensionConfig::default()
        };
        let e = &Labeler::new(config).label(
            &task("prod", Some("web")),
            &Tags::default(),
            one_task_value(),
            vec![],
        )[0];
        assert_eq!(e.field("AvailabilityZone"), Some(UNKNOWN));
    }

    #[test]
    fn clock_properties_are_on_the_task_document_only() {
        let task = crate::source::metadata::parse::task(
            br#"{"Cluster":"prod","ServiceName":"web","LaunchType":"FARGATE","ClockDrift":{"ClockErrorBound":0.4347665,"ReferenceTimestamp":"2023-06-20T01:18:13Z","ClockSynchronizationStatus":"NOT_SYNCHRONIZED"}}"#,
        )
        .expect("parses");
        let mut measured = one_task_value();
        measured
            .containers
            .push(crate::pipeline::ContainerMeasurement {
                name: "app".into(),
                docker_id: None,
                image: None,
                known_status: None,
                exit: None,
                samples: vec![Sample {
                    metric: &catalog::ContainerMemoryUtilized,
                    value: 3.0,
                }],
            });
        let exporter = vec![Sample {
            metric: &catalog::ExporterErrors,
            value: 0.0,
        }];
        let entities = Labeler::new(DimensionConfig::default()).label(
            &task,
            &Tags::default(),
            measured,
            exporter,
        );
        assert_eq!(entities.len(), 3);
        for e in &entities {
            let (status, at) = if e.level == Level::Task {
                (Some("NOT_SYNCHRONIZED"), Some("2023-06-20T01:18:13Z"))
            } else {
                (None, None)
            };
            assert_eq!(
                e.field("ClockSynchronizationStatus"),
                status,
                "{:?}",
                e.level
            );
            assert_eq!(e.field("ClockReferenceTimestamp"), at, "{:?}", e.level);
        }
    }

    #[test]
    fn container_documents_carry_container_properties_and_task_properties() {
        let measured = Measurements {
            task: vec![],
            containers: vec![crate::pipeline::ContainerMeasurement {
                name: "app".into(),
                docker_id: Some("abc".into()),
                image: Some("nginx:1".into()),
                known_status: Some("RUNNING".into()),
                exit: None,
                samples: vec![Sample {
                    metric: &catalog::ContainerMemoryUtilized,
                    value: 3.0,
                }],
            }],
            ..Measurements::default()
        };
        let mut labeler = Labeler::new(DimensionConfig::default());
        let entities = labeler.label(
            &task("prod", Some("web")),
            &Tags::default(),
            measured,
            vec![],
        );
        assert_eq!(entities.len(), 1, "no task document without task values");
        let e = &entities[0];
        assert_eq!(e.level, Level::Container);
        for (k, v) in [
            ("Type", "Container"),
            ("ContainerName", "app"),
            ("Image", "nginx:1"),
            ("DockerId", "abc"),
            ("KnownStatus", "RUNNING"),
            ("TaskId", "0123abcd"),
            ("TaskDefinitionRevision", "12"),
            ("LaunchType", "FARGATE"),
        ] {
            assert_eq!(e.field(k), Some(v), "{k}");
        }
        assert_eq!(
            e.field("AvailabilityZone"),
            None,
            "absent properties are left out"
        );
    }
}
