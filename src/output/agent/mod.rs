//! EMF to a CloudWatch agent or Fluent Bit, over TCP or UDP (`ECS_EMF_OUTPUT=agent`).
//!
//! Documents wait in a backlog bounded in bytes (`ECS_EMF_BUFFER_BYTES`); a delivery task
//! drains it in order. TCP: one line per document, the connection checked for a closed peer
//! before each line, reconnects with exponential backoff (0.1 s to 30 s); a line is removed
//! from the backlog only once written. UDP: one datagram per document, each under 64 KB.
//! Past the bound the oldest documents are dropped and counted. Collection never waits.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::Notify;

use super::pending::{Backoff, Shared, Weighed};
use super::{Counters, DeliveryReport, Output};
use crate::emf::{self, EncoderConfig};
use crate::pipeline::cycle::Cycle;
use crate::pipeline::events::{Change, Ongoing};
use crate::settings::{AgentEndpoint, Settings, Transport};

/// The largest CloudWatch Logs event (256 KiB less its 26 bytes of overhead): the agent
/// forwards each line as one event.
pub(crate) const TCP_MAX_LINE_BYTES: usize = 262_118;
/// Under the 65,507-byte IPv4 UDP payload limit, with room to spare.
pub(crate) const UDP_MAX_LINE_BYTES: usize = 65_000;

const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(30);
const IO_TIMEOUT: Duration = Duration::from_secs(5);

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
            let (flushed, left_lines, left_values) = shared.close(task, deadline, abort).await;
            let c = &shared.counters;
            if left_lines > 0 {
                tracing::warn!(
                    "agent output: {left_lines} documents ({left_values} values) not delivered before the {} s deadline",
                    deadline.as_secs()
                );
            }
            DeliveryReport {
                documents: Counters::get(&c.documents),
                values: Counters::get(&c.values),
                dropped_values: Counters::get(&c.dropped_values),
                left_values,
                flushed: flushed && left_lines == 0,
            }
        })
    }
}

/// A connection to the agent: TCP stream or connected UDP socket.
enum Link {
    Tcp(TcpStream),
    Udp(UdpSocket),
}

impl Link {
    async fn open(endpoint: &AgentEndpoint) -> std::io::Result<Link> {
        let addr = tokio::net::lookup_host(&endpoint.address)
            .await?
            .next()
            .ok_or_else(|| {
                std::io::Error::other(format!("{} resolves to no address", endpoint.address))
            })?;
        match endpoint.transport {
            Transport::Tcp => {
                let stream = tokio::time::timeout(IO_TIMEOUT, TcpStream::connect(addr))
                    .await
                    .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??;
                stream.set_nodelay(true)?;
                Ok(Link::Tcp(stream))
            }
            Transport::Udp => {
                let local = if addr.is_ipv4() {
                    "0.0.0.0:0"
                } else {
                    "[::]:0"
                };
                let socket = UdpSocket::bind(local).await?;
                socket.connect(addr).await?;
                Ok(Link::Udp(socket))
            }
        }
    }

    /// Whether the peer closed the connection (a TCP agent that went away). Checked before
    /// each write: a write into a closed connection can succeed locally and still be lost.
    fn peer_closed(&self) -> bool {
        match self {
            Link::Tcp(stream) => {
                let mut probe = [0u8; 64];
                match stream.try_read(&mut probe) {
                    Ok(0) => true,
                    Ok(_) => false,
                    Err(e) => e.kind() != std::io::ErrorKind::WouldBlock,
                }
            }
            Link::Udp(_) => false,
        }
    }

    async fn send(&mut self, line: &[u8]) -> std::io::Result<()> {
        let io = async {
            match self {
                Link::Tcp(stream) => stream.write_all(line).await,
                Link::Udp(socket) => {
                    let datagram = line.strip_suffix(b"\n").unwrap_or(line);
                    socket.send(datagram).await.map(|_| ())
                }
            }
        };
        tokio::time::timeout(IO_TIMEOUT, io)
            .await
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))?
    }
}

async fn deliver_loop(shared: Arc<Shared<Line>>, endpoint: AgentEndpoint) {
    let mut link: Option<Link> = None;
    let mut backoff = Backoff::new(BACKOFF_MIN, BACKOFF_MAX);
    // The kind of the send error now failing every attempt.
    let mut failing: Ongoing<std::io::ErrorKind> = Ongoing::default();
    loop {
        // One line at a time: a line leaves the backlog only once written.
        let Some(mut batch) = shared.next(|b| b.pop().into_iter().collect()).await else {
            return;
        };
        let Some(line) = batch.pop() else { continue };
        if link.as_ref().is_some_and(Link::peer_closed) {
            link = None;
        }
        let result = match link.as_mut() {
            Some(l) => l.send(&line.bytes).await,
            None => match Link::open(&endpoint).await {
                Ok(mut l) => {
                    let sent = l.send(&line.bytes).await;
                    link = Some(l);
                    sent
                }
                Err(e) => Err(e),
            },
        };
        match result {
            Ok(()) => {
                shared.settled();
                Counters::add(&shared.counters.documents, 1);
                Counters::add(&shared.counters.values, line.values);
                if let Change::Ended(_) = failing.update(None) {
                    tracing::info!("agent output: {} reachable again", endpoint.address);
                }
                backoff.reset();
            }
            Err(e) => {
                shared.retry_later(vec![line]);
                link = None;
                if failing.update(Some(e.kind())) == Change::Began {
                    tracing::warn!(
                        "agent output: cannot send to {}: {e}; keeping documents (up to ECS_EMF_BUFFER_BYTES) and retrying",
                        endpoint.address
                    );
                }
                Counters::add(&shared.counters.errors, 1);
                backoff.pause(shared.is_closing()).await;
            }
        }
    }
}
