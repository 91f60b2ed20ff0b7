//! The run loop, a thin async shell around [`Pipeline::step`]: wait for the tick or a signal,
//! read the source, call the step, act on what it says, hand the cycle to the output, touch
//! the health file. All of a cycle's logic is in the step.

pub(crate) mod health;
pub mod ticker;

use std::sync::Arc;
use std::time::Duration;

use tokio::signal::unix::{Signal, SignalKind, signal};

use crate::output::{Counters, DeliveryReport, Output};
use crate::pipeline::cycle::Cycle;
use crate::pipeline::{Input, Pipeline, Totals};
use crate::run::health::HealthFile;
use crate::run::ticker::Ticker;
use crate::settings::Settings;
use crate::source::Source;

/// Sees every cycle the run loop delivers (the demo's table).
pub(crate) type CycleObserver = Box<dyn FnMut(&Cycle) + Send>;

/// How long shutdown waits for outputs to flush: below ECS's default 30 s stop timeout.
pub(crate) const FLUSH_DEADLINE: Duration = Duration::from_secs(20);

/// The longest a single metadata request may take.
pub fn request_timeout(interval: Duration) -> Duration {
    interval.min(Duration::from_secs(5))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// Until SIGTERM or SIGINT.
    OnSignal,
    /// After this many cycles (or a signal, whichever comes first).
    AfterCycles(u64),
}

#[derive(Debug, Clone, PartialEq)]
pub struct RunSummary {
    pub(crate) cycles: u64,
    pub(crate) collected: u64,
    pub(crate) delivery: DeliveryReport,
}

/// Reads what one step needs from `source`: the poll, then the tags when `pipeline` wants
/// them. `started`: when the cycle began (tokio's clock, so a paused test clock drives it).
pub(crate) async fn read(
    source: &mut Source,
    pipeline: &Pipeline,
    started: tokio::time::Instant,
) -> Input {
    let poll = source.snapshot().await;
    let now = started.into_std();
    let tags = match &poll {
        Ok(snapshot) if pipeline.wants_tags(&snapshot.task, now) => {
            Some(source.tags(&snapshot.task).await)
        }
        _ => None,
    };
    Input {
        poll,
        tags,
        now,
        elapsed: started.elapsed(),
        totals: Totals::default(),
    }
}

pub struct Runner {
    source: Source,
    pipeline: Pipeline,
    output: Box<dyn Output>,
    counters: Arc<Counters>,
    interval: Duration,
    /// The settings in one line, logged at start.
    describe: String,
    ticker: Option<Ticker>,
    /// Whether SIGTERM and SIGINT stop the loop (not in tests that run it in-process).
    signals: bool,
    health: Option<HealthFile>,
    observer: Option<CycleObserver>,
}

impl Runner {
    pub fn new(
        settings: &Settings,
        source: Source,
        output: Box<dyn Output>,
        counters: Arc<Counters>,
    ) -> Runner {
        Runner {
            source,
            pipeline: Pipeline::new(settings),
            output,
            counters,
            interval: settings.interval,
            describe: settings.describe(),
            ticker: None,
            signals: true,
            health: None,
            observer: None,
        }
    }

    /// Record each good collection for `healthcheck`.
    pub(crate) fn with_health_file(mut self, health: HealthFile) -> Runner {
        self.health = Some(health);
        self
    }

    /// Called with every delivered cycle (the demo's table).
    pub(crate) fn with_observer(mut self, observer: CycleObserver) -> Runner {
        self.observer = Some(observer);
        self
    }

    /// Ticks with `ticker` instead of the interval's own (tests: tokio's clock, paused).
    pub fn with_ticker(mut self, ticker: Ticker) -> Runner {
        self.ticker = Some(ticker);
        self
    }

    /// Leaves SIGTERM and SIGINT alone: a test running the loop in its own process must not
    /// take the test runner's signals.
    pub fn without_signals(mut self) -> Runner {
        self.signals = false;
        self
    }

    /// One poll and delivery; whether something was collected.
    async fn cycle(&mut self) -> bool {
        let started = tokio::time::Instant::now();
        Counters::add(&self.counters.cycles, 1);
        let mut input = read(&mut self.source, &self.pipeline, started).await;
        input.totals = Totals {
            errors: Counters::get(&self.counters.errors),
            dropped_values: Counters::get(&self.counters.dropped_values),
        };
        let step = self.pipeline.step(input);
        Counters::add(&self.counters.errors, step.errors);
        step.log_events();
        let Ok(cycle) = step.cycle else {
            return false;
        };
        if let Some(observer) = self.observer.as_mut() {
            observer(&cycle);
        }
        self.output.deliver(Arc::new(cycle));
        if let Some(health) = self.health.as_mut() {
            health.record();
        }
        true
    }

    /// Runs until `stop`, then finishes the cycle in flight, flushes the output and reports.
    pub async fn run(mut self, stop: Stop) -> RunSummary {
        tracing::info!(
            "ecs-emf-exporter {}: {}",
            env!("CARGO_PKG_VERSION"),
            self.describe
        );
        let listen = |kind| self.signals.then(|| signal(kind).ok()).flatten();
        let mut term = listen(SignalKind::terminate());
        let mut int = listen(SignalKind::interrupt());
        let interval = self.interval;
        let mut ticker = self.ticker.take().unwrap_or_else(|| Ticker::new(interval));
        let (mut cycles, mut collected) = (0u64, 0u64);
        loop {
            // A signal only interrupts the wait between cycles: a cycle in flight finishes.
            tokio::select! {
                biased;
                _ = next_signal(&mut term) => { tracing::info!("SIGTERM received: flushing and exiting"); break; }
                _ = next_signal(&mut int) => { tracing::info!("SIGINT received: flushing and exiting"); break; }
                _ = ticker.tick() => {}
            }
            cycles += 1;
            if self.cycle().await {
                collected += 1;
            }
            if let Stop::AfterCycles(n) = stop
                && cycles >= n
            {
                break;
            }
        }
        let delivery = self.output.close(FLUSH_DEADLINE).await;
        let c = &self.counters;
        tracing::info!(
            cycles,
            collected,
            documents = delivery.documents,
            values = delivery.values,
            errors = Counters::get(&c.errors),
            dropped_values = delivery.dropped_values,
            flushed = delivery.flushed,
            "stopped"
        );
        RunSummary {
            cycles,
            collected,
            delivery,
        }
    }
}

async fn next_signal(signal: &mut Option<Signal>) {
    match signal {
        Some(s) => {
            s.recv().await;
        }
        None => std::future::pending::<()>().await,
    }
}
