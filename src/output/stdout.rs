//! EMF lines on stdout, for the `awslogs` or FireLens log driver.
//!
//! Encoding happens in the caller (it is fast and pure); writing happens on a dedicated
//! thread fed by a bounded queue, because a blocking-mode log driver can make stdout slow
//! and polling must not stall behind it. When the queue is full the newest cycle is dropped
//! whole, counted and logged — lines are never cut or interleaved.

use std::future::Future;
use std::io::Write;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};
use std::time::Duration;

use super::{Counters, DeliveryReport, Output};
use crate::cycle::Cycle;
use crate::emf::{self, EncoderConfig};

/// Cycles that may wait for a slow stdout (at a 60 s interval: an hour).
pub const QUEUE_CYCLES: usize = 60;

struct Batch {
    bytes: Vec<u8>,
    documents: u64,
    values: u64,
}

pub struct StdoutOutput {
    encoder: EncoderConfig,
    counters: Arc<Counters>,
    sender: Option<SyncSender<Batch>>,
    done: tokio::sync::oneshot::Receiver<()>,
    dropping: bool,
}

impl StdoutOutput {
    /// Writes to the process's stdout.
    pub fn new(encoder: EncoderConfig, counters: Arc<Counters>) -> std::io::Result<StdoutOutput> {
        StdoutOutput::with_writer(encoder, counters, Box::new(std::io::stdout()))
    }

    /// Writes to any sink (tests, the demo).
    pub fn with_writer(
        encoder: EncoderConfig,
        counters: Arc<Counters>,
        mut writer: Box<dyn Write + Send>,
    ) -> std::io::Result<StdoutOutput> {
        let (sender, receiver) = sync_channel::<Batch>(QUEUE_CYCLES);
        let (done_tx, done) = tokio::sync::oneshot::channel();
        let thread_counters = Arc::clone(&counters);
        std::thread::Builder::new()
            .name("emf-stdout".into())
            .spawn(move || {
                let mut failing = false;
                for batch in receiver {
                    match writer.write_all(&batch.bytes).and_then(|()| writer.flush()) {
                        Ok(()) => {
                            failing = false;
                            Counters::add(&thread_counters.documents, batch.documents);
                            Counters::add(&thread_counters.values, batch.values);
                        }
                        Err(e) => {
                            Counters::add(&thread_counters.dropped_values, batch.values);
                            Counters::add(&thread_counters.errors, 1);
                            if !failing {
                                tracing::error!(
                                    "cannot write EMF to stdout: {e}; this cycle's values are lost"
                                );
                            }
                            failing = true;
                        }
                    }
                }
                let _ = done_tx.send(());
            })?;
        Ok(StdoutOutput {
            encoder,
            counters,
            sender: Some(sender),
            done,
            dropping: false,
        })
    }
}

impl Output for StdoutOutput {
    fn name(&self) -> &'static str {
        "stdout"
    }

    fn deliver(&mut self, cycle: Arc<Cycle>) {
        let encoded = emf::encode(&cycle, &self.encoder);
        for r in &encoded.rejected {
            Counters::add(&self.counters.dropped_values, r.values as u64);
            Counters::add(&self.counters.errors, 1);
            tracing::error!(
                "{} values of the {} document not published: {}",
                r.values,
                r.entity,
                r.reason
            );
        }
        if encoded.bytes.is_empty() {
            return;
        }
        let batch = Batch {
            bytes: encoded.bytes,
            documents: encoded.documents as u64,
            values: encoded.values as u64,
        };
        let Some(sender) = &self.sender else { return };
        match sender.try_send(batch) {
            Ok(()) => {
                if self.dropping {
                    tracing::info!("stdout accepts lines again");
                }
                self.dropping = false;
            }
            Err(TrySendError::Full(batch) | TrySendError::Disconnected(batch)) => {
                Counters::add(&self.counters.dropped_values, batch.values);
                if !self.dropping {
                    tracing::warn!(
                        "stdout is not keeping up ({QUEUE_CYCLES} cycles waiting); dropping whole cycles until it does"
                    );
                }
                self.dropping = true;
            }
        }
    }

    fn close(
        mut self: Box<Self>,
        deadline: Duration,
    ) -> Pin<Box<dyn Future<Output = DeliveryReport> + Send>> {
        // Dropping the sender lets the writer finish the queue and stop.
        self.sender = None;
        let counters = Arc::clone(&self.counters);
        Box::pin(async move {
            let flushed = tokio::time::timeout(deadline, self.done).await.is_ok();
            DeliveryReport {
                documents: Counters::get(&counters.documents),
                values: Counters::get(&counters.values),
                dropped_values: Counters::get(&counters.dropped_values),
                flushed,
            }
        })
    }
}
