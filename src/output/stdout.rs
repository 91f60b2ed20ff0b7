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
        self.counters.record_rejected(&encoded.rejected);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cycle::Entity;
    use crate::metrics::{Level, Sample, catalog};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Instant;

    /// A stdout whose reader never reads: every write blocks until the test releases it.
    struct Stuck(Arc<AtomicBool>);

    impl Write for Stuck {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            while !self.0.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(5));
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn cycle() -> Arc<Cycle> {
        Arc::new(Cycle {
            timestamp_ms: chrono::Utc::now().timestamp_millis(),
            entities: vec![Entity {
                level: Level::Task,
                dimension_sets: vec![vec![]],
                fields: vec![("Type".into(), "Task".into())],
                samples: vec![
                    Sample {
                        metric: &catalog::CpuUtilized,
                        value: 1.0,
                    },
                    Sample {
                        metric: &catalog::MemoryUtilized,
                        value: 2.0,
                    },
                ],
            }],
        })
    }

    fn encoder() -> EncoderConfig {
        EncoderConfig {
            namespace: "N".into(),
            high_resolution: false,
            max_line_bytes: 16_383,
            log_group: None,
            log_stream: None,
        }
    }

    #[tokio::test]
    async fn a_stuck_stdout_never_blocks_delivery_and_drops_whole_cycles() {
        let release = Arc::new(AtomicBool::new(false));
        let counters = Arc::new(Counters::default());
        let mut out = StdoutOutput::with_writer(
            encoder(),
            Arc::clone(&counters),
            Box::new(Stuck(Arc::clone(&release))),
        )
        .expect("writer thread");
        let started = Instant::now();
        // One cycle is taken by the blocked writer, QUEUE_CYCLES wait, the rest are dropped.
        let total = QUEUE_CYCLES + 11;
        for _ in 0..total {
            out.deliver(cycle());
        }
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "deliver must not wait for stdout"
        );
        let dropped = Counters::get(&counters.dropped_values);
        assert!(
            (2 * 10..=2 * 11).contains(&dropped),
            "whole cycles of 2 values dropped, got {dropped}"
        );
        release.store(true, Ordering::Relaxed);
        let report = Box::new(out).close(Duration::from_secs(5)).await;
        assert!(report.flushed);
        assert_eq!(
            report.values + report.dropped_values,
            2 * total as u64,
            "every value delivered or counted"
        );
    }

    #[tokio::test]
    async fn close_gives_up_at_the_deadline_when_stdout_stays_stuck() {
        let counters = Arc::new(Counters::default());
        let mut out = StdoutOutput::with_writer(
            encoder(),
            counters,
            Box::new(Stuck(Arc::new(AtomicBool::new(false)))),
        )
        .expect("writer thread");
        out.deliver(cycle());
        let started = Instant::now();
        let report = Box::new(out).close(Duration::from_millis(200)).await;
        assert!(!report.flushed);
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[tokio::test]
    async fn lines_reach_the_writer_whole_and_in_order() {
        let sink = Arc::new(std::sync::Mutex::new(Vec::new()));
        struct Shared(Arc<std::sync::Mutex<Vec<u8>>>);
        impl Write for Shared {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0
                    .lock()
                    .map_err(|_| std::io::Error::other("poisoned"))?
                    .extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let counters = Arc::new(Counters::default());
        let mut out = StdoutOutput::with_writer(
            encoder(),
            Arc::clone(&counters),
            Box::new(Shared(Arc::clone(&sink))),
        )
        .expect("writer thread");
        for _ in 0..3 {
            out.deliver(cycle());
        }
        let report = Box::new(out).close(Duration::from_secs(5)).await;
        assert_eq!(
            (report.documents, report.values, report.dropped_values),
            (3, 6, 0)
        );
        let text = String::from_utf8(sink.lock().expect("lock").clone()).expect("utf-8");
        assert_eq!(text.lines().count(), 3);
        assert!(
            text.lines()
                .all(|l| l.starts_with("{\"_aws\"") && l.ends_with('}'))
        );
    }
}
