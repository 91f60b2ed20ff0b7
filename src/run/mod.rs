//! The run loop, a thin async shell around [`Pipeline::step`]: wait for the tick or a signal,
//! read the source, call the step, act on what it says, hand the cycle to the output, touch
//! the health file. All of a cycle's logic is in the step.

pub(crate) mod health;
pub(crate) mod host;
pub(crate) mod logging;
pub mod ticker;

use std::sync::Arc;
use std::time::Duration;

use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::pipeline::events::{Change, Ongoing};

use crate::output::{Counters, DeliveryReport, Output};
use crate::pipeline::cycle::Cycle;
use crate::pipeline::{Input, Pipeline, Totals};
use crate::run::health::HealthFile;
use crate::run::host::HostWork;
use crate::run::ticker::Ticker;
use crate::settings::Settings;
use crate::source::Source;

/// Sees every cycle the run loop delivers (the demo's table).
pub(crate) type CycleObserver = Box<dyn FnMut(&Cycle) + Send>;

/// The longest a single metadata request may take, whatever the interval: an endpoint that
/// is always slower than the interval gives data at a lower cadence (the ticks a cycle
/// overruns are skipped, and said once), never none.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// SIGTERM and SIGINT.
struct Signals {
    term: Signal,
    int: Signal,
}

impl Signals {
    /// Listens for both (the runtime's signal driver exists already: `cli::runtime` checks
    /// the descriptors it needs).
    fn listen() -> Result<Signals, String> {
        let why = |e: std::io::Error| format!("cannot listen for SIGTERM and SIGINT: {e}");
        Ok(Signals {
            term: signal(SignalKind::terminate()).map_err(why)?,
            int: signal(SignalKind::interrupt()).map_err(why)?,
        })
    }

    /// The next signal's name; never, without signals.
    async fn next(signals: &mut Option<Signals>) -> &'static str {
        match signals {
            Some(s) => tokio::select! {
                _ = s.term.recv() => "SIGTERM",
                _ = s.int.recv() => "SIGINT",
            },
            None => std::future::pending().await,
        }
    }
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

impl RunSummary {
    /// Cycles that collected something.
    pub fn collected(&self) -> u64 {
        self.collected
    }
}

/// Reads what one step needs from `source`: the exporter's own container before the first
/// poll, the poll, then the tags when `pipeline` wants them. `started`: when the cycle began (tokio's clock, so a paused test clock drives it).
pub(crate) async fn read(
    source: &mut Source,
    pipeline: &Pipeline,
    started: tokio::time::Instant,
) -> Input {
    let own_container = if pipeline.wants_own_container() {
        Some(source.own_container().await)
    } else {
        None
    };
    let poll = source.snapshot().await;
    let now = started.into_std();
    let tags = match &poll {
        Ok(snapshot) if pipeline.wants_tags(&snapshot.task, now) => {
            Some(source.tags(&snapshot.task).await)
        }
        _ => None,
    };
    // `None` as well when the introspection API is not configured.
    let container_instance = match poll.as_ref().map(|s| s.task.task_arn.as_deref()) {
        Ok(Some(arn)) if pipeline.wants_container_instance(now) => {
            source.container_instance(arn).await
        }
        _ => None,
    };
    Input {
        poll,
        tags,
        own_container,
        container_instance,
        now,
        elapsed: started.elapsed(),
        totals: Totals::default(),
    }
}

/// What a cycle measures: one task (the sidecar: its own task, through the Task Metadata
/// Endpoint), or every task on the host (daemon mode).
#[allow(
    clippy::large_enum_variant,
    reason = "one Runner per process, built once: its size costs nothing"
)]
enum Work {
    Task { source: Source, pipeline: Pipeline },
    Host(Box<HostWork>),
}

pub struct Runner {
    work: Work,
    output: Box<dyn Output>,
    counters: Arc<Counters>,
    interval: Duration,
    /// The whole stop, flush included, from the signal (`ECS_EMF_STOP_TIMEOUT`).
    stop_timeout: Duration,
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
        Runner::with_work(
            settings,
            Work::Task {
                source,
                pipeline: Pipeline::new(settings),
            },
            output,
            counters,
        )
    }

    /// Daemon mode: every task on the host.
    pub(crate) fn for_host(
        settings: &Settings,
        host: HostWork,
        output: Box<dyn Output>,
        counters: Arc<Counters>,
    ) -> Runner {
        Runner::with_work(settings, Work::Host(Box::new(host)), output, counters)
    }

    fn with_work(
        settings: &Settings,
        work: Work,
        output: Box<dyn Output>,
        counters: Arc<Counters>,
    ) -> Runner {
        Runner {
            work,
            output,
            counters,
            interval: settings.interval,
            stop_timeout: settings.stop_timeout,
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
        let totals = Totals {
            errors: Counters::get(&self.counters.errors),
            dropped_values: Counters::get(&self.counters.dropped_values),
        };
        let (steps, collected) = match &mut self.work {
            Work::Task { source, pipeline } => {
                let mut input = read(source, pipeline, started).await;
                input.totals = totals;
                let step = pipeline.step(input);
                let collected = step.cycle.is_ok();
                (vec![step], collected)
            }
            Work::Host(host) => {
                let cycle = host.cycle(started, totals).await;
                Counters::add(&self.counters.errors, cycle.errors);
                (cycle.steps, cycle.collected)
            }
        };
        for step in steps {
            Counters::add(&self.counters.errors, step.errors);
            Counters::add(&self.counters.dropped_values, step.dropped_values);
            step.log_events();
            let Ok(cycle) = step.cycle else {
                continue;
            };
            if let Some(observer) = self.observer.as_mut() {
                observer(&cycle);
            }
            self.output.deliver(Arc::new(cycle));
        }
        if collected && let Some(health) = self.health.as_mut() {
            health.record();
        }
        collected
    }

    /// At a stop: reads `/task` once more and delivers the exits it shows (see
    /// [`Pipeline::wants_last_read`]), within half the stop's deadline at most, so the
    /// flush keeps the other half.
    async fn last_read(&mut self) {
        let Work::Task { source, pipeline } = &mut self.work else {
            return;
        };
        let budget = (self.stop_timeout / 2).min(REQUEST_TIMEOUT);
        match tokio::time::timeout(budget, source.task_stamped()).await {
            Ok(Ok((task, received_at))) => {
                if let Some(cycle) = pipeline.last_step(&task, received_at) {
                    if let Some(observer) = self.observer.as_mut() {
                        observer(&cycle);
                    }
                    self.output.deliver(Arc::new(cycle));
                }
            }
            Ok(Err(e)) => tracing::warn!(
                "the last read of /task at the stop failed ({}); exits since the last poll are not published",
                e.kind()
            ),
            Err(_) => tracing::warn!(
                "/task did not answer within {} ms of the stop; exits since the last poll are not published",
                budget.as_millis()
            ),
        }
    }

    /// Runs until `stop` or a signal, then flushes the output and reports. A signal cancels
    /// the cycle in flight (its requests are dropped) and starts one deadline for the whole
    /// stop; a second signal ends the flush at once. `Err`: signals cannot be listened for.
    pub async fn run(mut self, stop: Stop) -> Result<RunSummary, String> {
        tracing::info!(
            "ecs-emf-exporter {}: {}",
            env!("CARGO_PKG_VERSION"),
            self.describe
        );
        let mut signals = if self.signals {
            Some(Signals::listen()?)
        } else {
            None
        };
        let interval = self.interval;
        let mut ticker = self.ticker.take().unwrap_or_else(|| Ticker::new(interval));
        let (mut cycles, mut collected) = (0u64, 0u64);
        let mut overrun = Ongoing::default();
        let mut signalled = false;
        loop {
            tokio::select! {
                biased;
                name = Signals::next(&mut signals) => {
                    tracing::info!("{name} received: flushing and exiting");
                    signalled = true;
                    break;
                }
                _ = ticker.tick() => {}
            }
            cycles += 1;
            let started = Instant::now();
            tokio::select! {
                biased;
                name = Signals::next(&mut signals) => {
                    tracing::info!("{name} received during a cycle: it is cancelled; flushing and exiting");
                    signalled = true;
                    break;
                }
                got = self.cycle() => collected += u64::from(got),
            }
            let took = started.elapsed();
            match overrun.update((took > interval).then_some(())) {
                Change::Began => tracing::warn!(
                    "a cycle took {} ms, longer than the interval ({} ms): the ticks it overran are skipped",
                    took.as_millis(),
                    interval.as_millis()
                ),
                Change::Ended(()) => tracing::info!("cycles fit the interval again"),
                Change::Unchanged => {}
            }
            if let Stop::AfterCycles(n) = stop
                && cycles >= n
            {
                break;
            }
        }
        let stop_began = Instant::now();
        let wants_last_read = match &self.work {
            Work::Task { pipeline, .. } => pipeline.wants_last_read(),
            // The sidecar's stop is often caused by an exit (an essential container's ends
            // the task); the daemon's is not (its instance drains, or it is redeployed), so
            // there is no exit its stop is sure to follow.
            Work::Host(_) => false,
        };
        if signalled && wants_last_read {
            tokio::select! {
                biased;
                name = Signals::next(&mut signals) => {
                    tracing::info!("{name} received again: the last read of /task is cancelled");
                }
                () = self.last_read() => {}
            }
        }
        let abort = Arc::new(Notify::new());
        let left = self.stop_timeout.saturating_sub(stop_began.elapsed());
        let close = self.output.close(left, Arc::clone(&abort));
        tokio::pin!(close);
        let delivery = tokio::select! {
            report = &mut close => report,
            name = Signals::next(&mut signals) => {
                tracing::info!("{name} received again: stopping now");
                abort.notify_one();
                close.await
            }
        };
        let c = &self.counters;
        tracing::info!(
            cycles,
            collected,
            documents = delivery.documents,
            values = delivery.values,
            errors = Counters::get(&c.errors),
            dropped_values = delivery.dropped_values,
            not_delivered = delivery.left_values,
            unknown_values = Counters::get(&c.unknown_values),
            log_lines_dropped = logging::dropped_lines(),
            stop_ms = stop_began.elapsed().as_millis() as u64,
            flushed = delivery.flushed,
            "stopped"
        );
        Ok(RunSummary {
            cycles,
            collected,
            delivery,
        })
    }
}
