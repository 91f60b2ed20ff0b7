//! CloudWatch PutMetricData (`ECS_EMF_OUTPUT=cloudwatch`): the same values as the EMF
//! outputs, as metric datums.
//!
//! One datum per value and dimension set, stamped with the time of the cycle that produced
//! it. Datums wait in a queue bounded in bytes (`ECS_EMF_BUFFER_BYTES`); one task sends them
//! in order, in requests of at most 1000 datums and about 900 KB (the SDK gzips larger
//! bodies). Throttling, 5xx and network failures are retried with backoff, the batch kept in
//! front; a batch CloudWatch calls invalid is logged with the reason, counted and never
//! retried. Datums older than CloudWatch accepts (2 weeks) are dropped and counted.
//! Collection never waits for delivery.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_cloudwatch::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};
use tokio::sync::Notify;

use super::pending::{Backoff, Bounded, Shared, Weighed};
use super::{Counters, DeliveryReport, Output};
use crate::pipeline::cycle::Cycle;
use crate::pipeline::events::{Change, Ongoing, Outside};

/// PutMetricData limits (CloudWatch API reference).
const MAX_DATUMS_PER_REQUEST: usize = 1000;
/// Below the 1 MB request limit, with room for the request's own framing.
const MAX_REQUEST_BYTES: usize = 900_000;
/// CloudWatch takes timestamps up to two weeks old; keep an hour of margin.
const MAX_AGE_MS: i64 = 14 * 86_400_000 - 3_600_000;

const BACKOFF_MIN: Duration = Duration::from_millis(200);
const BACKOFF_MAX: Duration = Duration::from_secs(30);

/// A datum waiting for delivery, with what the queue needs to know about it.
struct Pending {
    datum: MetricDatum,
    timestamp_ms: i64,
    /// Estimated encoded size, for the queue bound and request sizing.
    bytes: usize,
}

impl Weighed for Pending {
    fn bytes(&self) -> usize {
        self.bytes
    }
    fn values(&self) -> u64 {
        1
    }
}

/// Separates datums CloudWatch would still accept from those older than two weeks (less an
/// hour of margin), which a request would only get rejected for.
fn split_stale(batch: Vec<Pending>, now_ms: i64) -> (Vec<Pending>, Vec<Pending>) {
    batch
        .into_iter()
        .partition(|p| now_ms - p.timestamp_ms <= MAX_AGE_MS)
}

/// The next request's datums, oldest first: at most 1000, about 900 KB.
fn take_batch(q: &mut Bounded<Pending>) -> Vec<Pending> {
    let mut batch = Vec::new();
    let mut size = 0;
    while let Some(next) = q.front() {
        let full = batch.len() == MAX_DATUMS_PER_REQUEST
            || (!batch.is_empty() && size + next.bytes > MAX_REQUEST_BYTES);
        if full {
            break;
        }
        size += next.bytes;
        batch.extend(q.pop());
    }
    batch
}

pub(crate) struct CloudWatchOutput {
    namespace: String,
    high_resolution: bool,
    shared: Arc<Shared<Pending>>,
    /// From the task ARN, for when `AWS_REGION` is not set.
    region_hint: Arc<Mutex<Option<String>>>,
    task: tokio::task::JoinHandle<()>,
    /// The buffer is dropping its oldest datums.
    dropping: Ongoing<()>,
}

/// The datums of one cycle: every value once per dimension set.
pub(crate) fn datums(cycle: &Cycle, high_resolution: bool) -> Vec<(MetricDatum, usize)> {
    let timestamp = DateTime::from_millis(cycle.timestamp_ms);
    let mut out = Vec::with_capacity(cycle.value_count());
    for entity in &cycle.entities {
        for set in &entity.dimension_sets {
            let dims: Vec<Dimension> = set
                .iter()
                .filter_map(|name| {
                    let value = entity.field(name)?;
                    Some(Dimension::builder().name(name).value(value).build())
                })
                .collect();
            let dims_bytes: usize = set
                .iter()
                .map(|n| n.len() + entity.field(n).map_or(0, str::len) + 8)
                .sum();
            for s in &entity.samples {
                let datum = MetricDatum::builder()
                    .metric_name(s.metric.name)
                    .set_dimensions(Some(dims.clone()))
                    .value(s.value)
                    .unit(StandardUnit::from(s.metric.unit.as_str()))
                    .timestamp(timestamp)
                    .storage_resolution(if high_resolution { 1 } else { 60 })
                    .build();
                out.push((datum, s.metric.name.len() + dims_bytes + 48));
            }
        }
    }
    out
}

/// How many PutMetricData requests one cycle makes when it is delivered on its own (the
/// usual case: the delivery task sends as soon as a cycle arrives): the cycle's datums split
/// by the delivery loop's own batching (`take_batch`). `plan` prices requests with it.
pub(crate) fn requests_for_cycle(cycle: &Cycle, high_resolution: bool) -> usize {
    let mut queue = Bounded::new(usize::MAX);
    for (datum, bytes) in datums(cycle, high_resolution) {
        queue.push(Pending {
            datum,
            timestamp_ms: cycle.timestamp_ms,
            bytes,
        });
    }
    std::iter::from_fn(|| Some(take_batch(&mut queue).len()).filter(|n| *n > 0)).count()
}

impl CloudWatchOutput {
    /// Starts the delivery task; must be called inside the tokio runtime.
    pub(crate) fn new(
        namespace: String,
        high_resolution: bool,
        buffer_bytes: usize,
        counters: Arc<Counters>,
    ) -> CloudWatchOutput {
        let shared = Arc::new(Shared::new(buffer_bytes, counters));
        let region_hint = Arc::new(Mutex::new(None));
        let task = tokio::spawn(deliver_loop(
            Arc::clone(&shared),
            namespace.clone(),
            Arc::clone(&region_hint),
        ));
        CloudWatchOutput {
            namespace,
            high_resolution,
            shared,
            region_hint,
            task,
            dropping: Ongoing::default(),
        }
    }
}

impl Output for CloudWatchOutput {
    fn deliver(&mut self, cycle: Arc<Cycle>) {
        if let Some(region) = cycle
            .entities
            .iter()
            .find_map(|e| e.field("TaskARN"))
            .and_then(crate::aws::region_from_arn)
        {
            let mut hint = self.region_hint.lock().unwrap_or_else(|p| p.into_inner());
            if hint.is_none() {
                *hint = Some(region.to_string());
            }
        }
        let timestamp_ms = cycle.timestamp_ms;
        let new = datums(&cycle, self.high_resolution);
        let dropped = self
            .shared
            .push_all(new.into_iter().map(|(datum, bytes)| Pending {
                datum,
                timestamp_ms,
                bytes,
            }));
        Counters::add(&self.shared.counters.dropped_values, dropped);
        if self.dropping.update((dropped > 0).then_some(())) == Change::Began {
            tracing::warn!(
                "cloudwatch output: buffer full (ECS_EMF_BUFFER_BYTES); dropping the oldest datums of namespace {}",
                self.namespace
            );
        }
    }

    fn close(
        self: Box<Self>,
        deadline: Duration,
        abort: Arc<Notify>,
    ) -> Pin<Box<dyn Future<Output = DeliveryReport> + Send>> {
        let CloudWatchOutput { shared, task, .. } = *self;
        Box::pin(async move {
            let (finished, _, left) = shared.close(task, deadline, abort).await;
            let c = &shared.counters;
            let delivered = Counters::get(&c.values);
            if left > 0 {
                tracing::warn!(
                    "cloudwatch output: {delivered} datums delivered, {left} not delivered before the stop's deadline (ECS_EMF_STOP_TIMEOUT)"
                );
            } else {
                tracing::info!("cloudwatch output: {delivered} datums delivered, none pending");
            }
            DeliveryReport {
                documents: Counters::get(&c.documents),
                values: delivered,
                dropped_values: Counters::get(&c.dropped_values),
                left_values: left,
                flushed: finished && left == 0,
            }
        })
    }
}

/// What a failed request means for its batch.
enum Failure {
    /// Throttling, 5xx, timeouts, network: the batch waits and is sent again.
    Retry(String),
    /// CloudWatch rejected the batch's content: sending it again would fail again.
    Invalid(String),
}

fn classify<E: ProvideErrorMetadata + std::error::Error + 'static, R: std::fmt::Debug>(
    err: &SdkError<E, R>,
) -> Failure {
    match err {
        SdkError::ServiceError(service) => {
            let e = service.err();
            let code = e.code().unwrap_or("unknown");
            // The service's words reach the log: quoted and capped as text from outside.
            let said = format!("{code}: {}", Outside(e.message().unwrap_or("")));
            match code {
                "InvalidParameterValue"
                | "MissingParameter"
                | "InvalidParameterCombination"
                | "InvalidParameterValueException"
                | "MissingRequiredParameterException"
                | "InvalidParameterCombinationException" => Failure::Invalid(said),
                _ => Failure::Retry(said),
            }
        }
        SdkError::TimeoutError(_) => Failure::Retry("timed out".to_string()),
        SdkError::DispatchFailure(_) => Failure::Retry(format!(
            "cannot reach CloudWatch: {}",
            Outside(&aws_sdk_cloudwatch::error::DisplayErrorContext(err).to_string())
        )),
        other => Failure::Retry(
            Outside(&aws_sdk_cloudwatch::error::DisplayErrorContext(other).to_string()).to_string(),
        ),
    }
}

async fn build_client(region_hint: Option<String>) -> aws_sdk_cloudwatch::Client {
    aws_sdk_cloudwatch::Client::new(&crate::aws::sdk_config(region_hint.as_deref()).await)
}

async fn deliver_loop(
    shared: Arc<Shared<Pending>>,
    namespace: String,
    region_hint: Arc<Mutex<Option<String>>>,
) {
    let mut client: Option<aws_sdk_cloudwatch::Client> = None;
    let mut backoff = Backoff::new(BACKOFF_MIN, BACKOFF_MAX);
    // The reason PutMetricData now fails every attempt.
    let mut failing: Ongoing<String> = Ongoing::default();
    let counters = Arc::clone(&shared.counters);
    loop {
        // The next batch CloudWatch would still accept; older datums are counted and dropped.
        let next = shared.next(|q| loop {
            let taken = take_batch(q);
            if taken.is_empty() {
                return taken;
            }
            let (fresh, stale) = split_stale(taken, chrono::Utc::now().timestamp_millis());
            if !stale.is_empty() {
                Counters::add(&counters.dropped_values, stale.len() as u64);
                tracing::warn!(
                    "cloudwatch output: dropped {} datums older than CloudWatch accepts (2 weeks)",
                    stale.len()
                );
            }
            if !fresh.is_empty() {
                return fresh;
            }
        });
        let Some(batch) = next.await else { return };
        let cw = match &client {
            Some(c) => c.clone(),
            None => {
                let hint = region_hint
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .clone();
                let c = build_client(hint).await;
                client = Some(c.clone());
                c
            }
        };
        let data: Vec<MetricDatum> = batch.iter().map(|p| p.datum.clone()).collect();
        let result = cw
            .put_metric_data()
            .namespace(&namespace)
            .set_metric_data(Some(data))
            .send()
            .await;
        match result {
            Ok(_) => {
                shared.settled(&batch);
                Counters::add(&shared.counters.documents, 1);
                Counters::add(&shared.counters.values, batch.len() as u64);
                if let Change::Ended(_) = failing.update(None) {
                    tracing::info!("cloudwatch output: PutMetricData works again");
                }
                backoff.reset();
            }
            Err(err) => match classify(&err) {
                Failure::Invalid(reason) => {
                    let first = batch
                        .first()
                        .and_then(|p| p.datum.metric_name())
                        .unwrap_or("?");
                    tracing::error!(
                        "cloudwatch output: CloudWatch rejected a batch of {} datums (first: {first}): {reason}; not retried",
                        batch.len()
                    );
                    shared.settled(&batch);
                    Counters::add(&shared.counters.dropped_values, batch.len() as u64);
                    Counters::add(&shared.counters.errors, 1);
                }
                Failure::Retry(reason) => {
                    let pending = batch.len();
                    shared.retry_later(batch);
                    Counters::add(&shared.counters.errors, 1);
                    if failing.update(Some(reason.clone())) == Change::Began {
                        tracing::warn!(
                            "cloudwatch output: PutMetricData failed ({reason}); {pending}+ datums kept and retried with backoff"
                        );
                    }
                    shared.pause(&mut backoff).await;
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::cycle::Entity;
    use crate::pipeline::{Level, Sample, catalog};

    fn pending(bytes: usize, ts: i64) -> Pending {
        Pending {
            datum: MetricDatum::builder().metric_name("M").value(1.0).build(),
            timestamp_ms: ts,
            bytes,
        }
    }

    #[test]
    fn batches_hold_at_most_1000_datums_and_keep_order_when_put_back() {
        let mut q = Bounded::new(usize::MAX);
        for i in 0..2500 {
            q.push(pending(100, i));
        }
        let first = take_batch(&mut q);
        assert_eq!(first.len(), 1000);
        assert_eq!((first[0].timestamp_ms, first[999].timestamp_ms), (0, 999));
        q.put_back(first);
        assert_eq!(q.len(), 2500);
        assert_eq!(take_batch(&mut q)[0].timestamp_ms, 0);
        let sizes: Vec<usize> =
            std::iter::from_fn(|| Some(take_batch(&mut q).len()).filter(|n| *n > 0)).collect();
        assert_eq!(sizes, vec![1000, 500]);
    }

    #[test]
    fn datums_older_than_cloudwatch_accepts_are_split_off() {
        let now = 1_800_000_000_000;
        let day = 86_400_000;
        let batch = vec![
            pending(10, now - 15 * day),
            pending(10, now - 13 * day),
            pending(10, now),
        ];
        let (fresh, stale) = split_stale(batch, now);
        assert_eq!(
            fresh.iter().map(|p| p.timestamp_ms).collect::<Vec<_>>(),
            vec![now - 13 * day, now]
        );
        assert_eq!(stale.len(), 1);
        // The boundary: 14 days less one hour is still sent, a millisecond more is not.
        let edge = vec![
            pending(1, now - MAX_AGE_MS),
            pending(1, now - MAX_AGE_MS - 1),
        ];
        let (fresh, stale) = split_stale(edge, now);
        assert_eq!((fresh.len(), stale.len()), (1, 1));
    }

    #[test]
    fn batches_stay_under_the_request_size_and_the_queue_under_its_bound() {
        let mut q = Bounded::new(usize::MAX);
        for i in 0..10 {
            q.push(pending(300_000, i));
        }
        assert_eq!(take_batch(&mut q).len(), 3, "3 × 300 KB fit in 900 KB");
        let mut bounded = Bounded::new(1000);
        let dropped: u64 = (0..15).map(|i| bounded.push(pending(100, i))).sum();
        assert_eq!(dropped, 5);
        assert_eq!(
            bounded.front().map(|p| p.timestamp_ms),
            Some(5),
            "the oldest go first"
        );
    }

    #[test]
    fn a_cycle_needs_one_request_per_1000_datums() {
        let sample = Sample {
            metric: &catalog::CpuUtilized,
            value: 1.0,
        };
        let sets = vec![vec!["ClusterName".to_string()], vec!["TaskId".to_string()]];
        let requests = |values_per_entity: &[usize]| {
            let entities = values_per_entity.iter().map(|n| Entity {
                level: Level::Task,
                dimension_sets: sets.clone(),
                fields: Vec::new(),
                samples: vec![sample; *n],
            });
            let cycle = Cycle {
                timestamp_ms: 0,
                entities: entities.collect(),
            };
            requests_for_cycle(&cycle, false)
        };
        // 2 sets × 500 values = 1000 datums: one request; one datum more: two.
        assert_eq!(requests(&[500]), 1);
        assert_eq!(requests(&[500, 1]), 2);
        assert_eq!(requests(&[]), 0);
    }

    #[test]
    fn every_value_becomes_one_datum_per_dimension_set() {
        let cycle = Cycle {
            timestamp_ms: 1_700_000_000_123,
            entities: vec![Entity {
                level: Level::Task,
                dimension_sets: vec![
                    vec!["ClusterName".into()],
                    vec!["ClusterName".into(), "ServiceName".into()],
                ],
                fields: vec![
                    ("ClusterName".into(), "prod".into()),
                    ("ServiceName".into(), "web".into()),
                ],
                samples: vec![
                    Sample {
                        metric: &catalog::CpuUtilized,
                        value: 51.2,
                    },
                    Sample {
                        metric: &catalog::NetworkRxBytes,
                        value: 1000.0,
                    },
                ],
            }],
        };
        let d = datums(&cycle, true);
        assert_eq!(d.len(), 4);
        let rx = &d[3].0;
        assert_eq!(rx.metric_name(), Some("NetworkRxBytes"));
        assert_eq!(rx.unit(), Some(&StandardUnit::BytesSecond));
        assert_eq!(rx.value(), Some(1000.0));
        assert_eq!(rx.storage_resolution(), Some(1));
        assert_eq!(
            rx.timestamp().map(|t| t.to_millis().ok()),
            Some(Some(1_700_000_000_123))
        );
        let dims: Vec<(&str, &str)> = rx
            .dimensions()
            .iter()
            .map(|d| (d.name().unwrap_or(""), d.value().unwrap_or("")))
            .collect();
        assert_eq!(dims, vec![("ClusterName", "prod"), ("ServiceName", "web")]);
    }
}
