//! EMF to a CloudWatch agent or Fluent Bit, over TCP or UDP (`ECS_EMF_OUTPUT=agent`).
//!
//! Documents wait in a backlog bounded in bytes (`ECS_EMF_BUFFER_BYTES`, the oldest dropped
//! and counted past it); a delivery task sends them in order, one line (TCP) or datagram
//! (UDP) per document, and reconnects with exponential backoff (0.1 s to 30 s). A document
//! counts as delivered only when the link can vouch for it ([`link`]): lines the agent
//! certainly never had go back to the backlog, lines it may or may not have read are
//! counted as unknown (and dropped), never as delivered. Collection never waits.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use super::pending::{Backoff, Shared, Weighed};
use super::{Counters, DeliveryReport, Output};
use crate::emf::{self, EncoderConfig};
use crate::pipeline::cycle::Cycle;
use crate::pipeline::events::{Change, Ongoing};
use crate::settings::{AgentEndpoint, Settings, Transport};
use link::{Broken, CONFIRM_AFTER, Link, STALL_NOTICE, SendError, Settled};

mod link;

/// The largest CloudWatch Logs event (256 KiB less its 26 bytes of overhead): the agent
/// forwards each line as one event.
pub(crate) const TCP_MAX_LINE_BYTES: usize = 262_118;
/// Under the 65,507-byte IPv4 UDP payload limit, with room to spare.
pub(crate) const UDP_MAX_LINE_BYTES: usize = 65_000;

const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(30);

struct Line {
    bytes: Vec<u8>,
    values: u64,
}

impl Weighed for Line {
    fn bytes(&self) -> usize {
        self.bytes.len()
    }
    fn values(&self) -> u64 {
        self.values
    }
}

pub(crate) struct AgentOutput {
    encoder: EncoderConfig,
    shared: Arc<Shared<Line>>,
    task: tokio::task::JoinHandle<()>,
    /// The backlog is dropping its oldest documents.
    dropping: Ongoing<()>,
}

/// The agent's lines: `_aws` names the log group and stream the agent routes them to, and
/// a line may be as long as the transport carries (not stdout's 16 KiB). `plan` measures
/// bytes with the same configuration.
pub(crate) fn encoder_config(settings: &Settings) -> EncoderConfig {
    let mut encoder = settings.encoder();
    encoder.log_group = settings.log_group_name.clone();
    encoder.log_stream = settings.log_stream_name.clone();
    encoder.max_line_bytes = match settings.agent_endpoint.transport {
        Transport::Tcp => TCP_MAX_LINE_BYTES,
        Transport::Udp => UDP_MAX_LINE_BYTES,
    };
    encoder
}

impl AgentOutput {
    /// Starts the delivery task; must be called inside the tokio runtime. `encoder` comes
    /// from `encoder_config`.
    pub(crate) fn new(
        encoder: EncoderConfig,
        endpoint: AgentEndpoint,
        buffer_bytes: usize,
        counters: Arc<Counters>,
    ) -> AgentOutput {
        let shared = Arc::new(Shared::new(buffer_bytes, counters));
        let task = tokio::spawn(deliver_loop(Arc::clone(&shared), endpoint));
        AgentOutput {
            encoder,
            shared,
            task,
            dropping: Ongoing::default(),
        }
    }
}

impl Output for AgentOutput {
    fn deliver(&mut self, cycle: Arc<Cycle>) {
        let encoded = emf::encode(&cycle, &self.encoder);
        let counters = &self.shared.counters;
        counters.record_rejected(&encoded.rejected);
        let dropped = self
            .shared
            .push_all(encoded.lines().map(|(bytes, values)| Line {
                bytes: bytes.to_vec(),
                values: values as u64,
            }));
        Counters::add(&counters.dropped_values, dropped);
        if self.dropping.update((dropped > 0).then_some(())) == Change::Began {
            tracing::warn!(
                "agent backlog is full (ECS_EMF_BUFFER_BYTES); dropping the oldest documents"
            );
        }
    }

    fn close(
        self: Box<Self>,
        deadline: Duration,
        abort: Arc<Notify>,
    ) -> Pin<Box<dyn Future<Output = DeliveryReport> + Send>> {
        let AgentOutput { shared, task, .. } = *self;
        Box::pin(async move {
            let (finished, left_lines, left_values) = shared.close(task, deadline, abort).await;
            let c = &shared.counters;
            if left_lines > 0 {
                let why = if finished {
                    "the agent could not be reached".to_string()
                } else {
                    "the stop ended first (its deadline, ECS_EMF_STOP_TIMEOUT, or a second signal)"
                        .to_string()
                };
                tracing::warn!(
                    "agent output: {left_lines} documents ({left_values} values) not delivered: {why}"
                );
            }
            DeliveryReport {
                documents: Counters::get(&c.documents),
                values: Counters::get(&c.values),
                dropped_values: Counters::get(&c.dropped_values),
                left_values,
                flushed: finished && left_lines == 0,
            }
        })
    }
}

/// The delivery task's problems, each said once while it lasts.
struct Problems {
    address: String,
    /// The kind of error now failing every attempt to reach the agent.
    failing: Ongoing<std::io::ErrorKind>,
    /// Connections keep ending with lines whose fate is unknown.
    losing: Ongoing<()>,
    /// The agent reads nothing.
    stalled: Ongoing<()>,
}

async fn deliver_loop(shared: Arc<Shared<Line>>, endpoint: AgentEndpoint) {
    let mut link: Option<Link> = None;
    let mut backoff = Backoff::new(BACKOFF_MIN, BACKOFF_MAX);
    let mut problems = Problems {
        address: endpoint.address.clone(),
        failing: Ongoing::default(),
        losing: Ongoing::default(),
        stalled: Ongoing::default(),
    };
    loop {
        if let Some(l) = link.as_mut()
            && let Some(broken) = account(&shared, &mut problems, &mut backoff, l.settle(false))
        {
            // The rest of its lines get their verdicts; it is reopened for the next line.
            if let Some(mut l) = link.take() {
                account(&shared, &mut problems, &mut backoff, l.settle(true));
            }
            if let Broken::Refused(e) = &broken
                && failed(&shared, &mut problems, e)
            {
                return;
            }
            shared.pause(&mut backoff).await;
        }
        // Lines waiting for their verdict are looked at again soon, new lines or not.
        let waiting = link.as_ref().is_some_and(Link::waiting);
        let next = shared.next(|b| b.pop().into_iter().collect());
        let batch = if waiting {
            match tokio::time::timeout(CONFIRM_AFTER, next).await {
                Ok(batch) => batch,
                Err(_) => continue,
            }
        } else {
            next.await
        };
        let Some(mut batch) = batch else {
            // Closing, nothing queued: the last lines' verdicts (within the deadline
            // `close` keeps), then the link is closed.
            let Some(mut l) = link.take() else { return };
            while l.waiting() {
                if let Some(broken) = account(&shared, &mut problems, &mut backoff, l.settle(false))
                {
                    if let Broken::Refused(e) = &broken {
                        // Nothing listens: what was sent goes back and is left undelivered.
                        failed(&shared, &mut problems, e);
                        return;
                    }
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let rest = l.settle(true);
            let again = !rest.resend.is_empty();
            account(&shared, &mut problems, &mut backoff, rest);
            if again {
                // The agent never had them: one more connection may still take them.
                continue;
            }
            return;
        };
        let Some(line) = batch.pop() else { continue };
        let l = match link.as_mut() {
            Some(l) => l,
            None => match Link::open(&endpoint).await {
                Ok(l) => link.insert(l),
                Err(e) => {
                    shared.retry_later(vec![line]);
                    if failed(&shared, &mut problems, &e) {
                        return;
                    }
                    shared.pause(&mut backoff).await;
                    continue;
                }
            },
        };
        match l.send(line).await {
            Ok(()) => {
                if let Change::Ended(()) = problems.stalled.update(None) {
                    tracing::info!("agent output: {} reads again", problems.address);
                }
            }
            Err(SendError::Stalled(line)) => {
                shared.retry_later(vec![line]);
                if problems.stalled.update(Some(())) == Change::Began {
                    tracing::warn!(
                        "agent output: {} has read nothing for {} s; waiting for it, keeping documents (up to ECS_EMF_BUFFER_BYTES)",
                        problems.address,
                        STALL_NOTICE.as_secs()
                    );
                }
            }
            Err(SendError::Failed(e, line)) => {
                shared.retry_later(vec![line]);
                if let Some(mut l) = link.take() {
                    account(&shared, &mut problems, &mut backoff, l.settle(true));
                }
                if failed(&shared, &mut problems, &e) {
                    return;
                }
                shared.pause(&mut backoff).await;
            }
        }
    }
}

/// Counts what settling a link found, and says what it means once; returns why the link
/// broke, if it did.
fn account(
    shared: &Shared<Line>,
    problems: &mut Problems,
    backoff: &mut Backoff,
    settled: Settled,
) -> Option<Broken> {
    let Settled {
        delivered,
        resend,
        unknown,
        broken,
    } = settled;
    let counters = &shared.counters;
    if !delivered.is_empty() {
        Counters::add(&counters.documents, delivered.len() as u64);
        Counters::add(&counters.values, delivered.iter().map(|l| l.values).sum());
        shared.settled(&delivered);
        backoff.reset();
        problems.losing.update(None);
        if let Change::Ended(_) = problems.failing.update(None) {
            tracing::info!("agent output: {} reachable again", problems.address);
        }
    }
    if !unknown.is_empty() {
        let values: u64 = unknown.iter().map(|l| l.values).sum();
        Counters::add(&counters.dropped_values, values);
        Counters::add(&counters.unknown_values, values);
        Counters::add(&counters.errors, 1);
        shared.settled(&unknown);
        if problems.losing.update(Some(())) == Change::Began {
            let why = broken.as_ref().map_or_else(
                || "the stop came before they could be confirmed".to_string(),
                ToString::to_string,
            );
            tracing::warn!(
                "agent output: {} documents ({values} values) reached {} but may not have been read ({why}); counted as unknown_values, not delivered",
                unknown.len(),
                problems.address
            );
        }
    }
    if !resend.is_empty() {
        shared.retry_later(resend);
    }
    broken
}

/// Reaching the agent failed: counted, and said when the problem begins. True when the
/// exporter is stopping: it does not wait for an agent that is not there.
fn failed(shared: &Shared<Line>, problems: &mut Problems, e: &std::io::Error) -> bool {
    Counters::add(&shared.counters.errors, 1);
    if problems.failing.update(Some(e.kind())) == Change::Began {
        tracing::warn!(
            "agent output: cannot send to {}: {e}; keeping documents (up to ECS_EMF_BUFFER_BYTES) and retrying",
            problems.address
        );
    }
    shared.is_closing()
}
