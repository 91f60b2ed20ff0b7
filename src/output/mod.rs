//! Outputs: each takes a finished cycle and delivers it. The run loop does not know which
//! one it has. `deliver` must never block collection; `close` flushes what is pending.

pub(crate) mod agent;
pub(crate) mod cloudwatch;
pub(crate) mod console;
pub(crate) mod pending;
pub(crate) mod stdout;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::Notify;

use crate::pipeline::cycle::Cycle;

/// What an output did over its life, reported at shutdown.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeliveryReport {
    pub documents: u64,
    pub values: u64,
    pub dropped_values: u64,
    /// Values still waiting when the deadline passed or the stop was cut short (also in
    /// `dropped_values`).
    pub left_values: u64,
    /// Whether everything handed over was delivered or dropped before the deadline.
    pub flushed: bool,
}

pub trait Output: Send {
    /// Hands a cycle over. Returns at once; delivery happens elsewhere.
    fn deliver(&mut self, cycle: Arc<Cycle>);
    /// Delivers what is pending, for at most `deadline` (what is left of the stop's
    /// deadline) or until `abort` is notified (a second signal), then reports what was and
    /// was not delivered.
    fn close(
        self: Box<Self>,
        deadline: Duration,
        abort: Arc<Notify>,
    ) -> Pin<Box<dyn Future<Output = DeliveryReport> + Send>>;
}

/// The exporter's own counters, shared by the run loop and the outputs.
#[derive(Debug, Default)]
pub struct Counters {
    pub(crate) cycles: AtomicU64,
    pub documents: AtomicU64,
    pub values: AtomicU64,
    pub(crate) errors: AtomicU64,
    pub dropped_values: AtomicU64,
    /// Values whose arrival nothing can confirm, so never counted as delivered (also in
    /// `dropped_values`): acknowledged by an agent that then reset the connection, or the
    /// last UDP datagram of a run (a refusal would only show on a later send).
    pub(crate) unknown_values: AtomicU64,
}

impl Counters {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    /// Counts and logs the values the encoder could not fit in any document.
    pub fn record_rejected(&self, rejected: &[crate::emf::Rejected]) {
        for r in rejected {
            Counters::add(&self.dropped_values, r.values as u64);
            Counters::add(&self.errors, 1);
            tracing::error!(
                "{} values of the {} document not published: {}",
                r.values,
                r.entity,
                r.reason
            );
        }
    }
}
