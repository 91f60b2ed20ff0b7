//! The run loop's clock: one wake-up per interval.
//!
//! tokio's timer wheel wakes the process at the start of the wheel slot holding a deadline,
//! then again at the deadline itself: a 1 s sleep costs two wake-ups (a 64 ms slot, then the
//! rest), a 60 s sleep three. On a virtual machine each wake-up costs tens of microseconds
//! of CPU, a large part of an idle sidecar's cycle (docs/performance.md). On Linux the
//! ticker is therefore a `timerfd` in tokio's own epoll set: the kernel wakes the process
//! once, at the tick, and signals and other tasks are served as before. tokio's timer
//! stands in where a timerfd cannot be had.

use std::time::Duration;

use tokio::time::{Interval, MissedTickBehavior};

/// Ticks every `interval`; the first tick is immediate. Ticks missed while a cycle runs
/// long are not queued up: the next cycle starts at once, then the period resumes (several
/// missed ticks make one cycle, never a burst).
pub struct Ticker {
    first: bool,
    clock: Clock,
}

enum Clock {
    #[cfg(target_os = "linux")]
    TimerFd(timerfd::TimerFd),
    Wheel(Interval),
}

fn wheel(interval: Duration) -> Clock {
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
    Clock::Wheel(ticker)
}

impl Ticker {
    /// Must be called inside the tokio runtime.
    pub(crate) fn new(interval: Duration) -> Ticker {
        #[cfg(target_os = "linux")]
        let clock = match timerfd::TimerFd::new(interval) {
            Ok(fd) => Clock::TimerFd(fd),
            Err(e) => {
                tracing::debug!("no timerfd ({e}); using tokio's timer");
                wheel(interval)
            }
        };
        #[cfg(not(target_os = "linux"))]
        let clock = wheel(interval);
        Ticker { first: true, clock }
    }

    /// Ticks with tokio's timer: a paused test clock drives it.
    pub fn tokio(interval: Duration) -> Ticker {
        Ticker {
            first: true,
            clock: wheel(interval),
        }
    }

    /// Waits for the next tick.
    pub(crate) async fn tick(&mut self) {
        if std::mem::take(&mut self.first) {
            return;
        }
        match &mut self.clock {
            #[cfg(target_os = "linux")]
            Clock::TimerFd(fd) => {
                if let Err(e) = fd.wait().await {
                    tracing::debug!("timerfd failed ({e}); using tokio's timer");
                    let interval = fd.interval;
                    self.clock = wheel(interval);
                    // This tick waits one interval from now.
                    if let Clock::Wheel(w) = &mut self.clock {
                        w.tick().await;
                    }
                }
            }
            Clock::Wheel(w) => {
                w.tick().await;
            }
        }
    }
}

#[cfg(target_os = "linux")]
mod timerfd {
    use std::io;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::time::Duration;

    use tokio::io::Interest;
    use tokio::io::unix::AsyncFd;

    pub(crate) struct TimerFd {
        fd: AsyncFd<OwnedFd>,
        pub(crate) interval: Duration,
    }

    fn timespec(d: Duration) -> libc::timespec {
        libc::timespec {
            // Intervals are at most an hour (settings), far inside time_t.
            tv_sec: d.as_secs() as libc::time_t,
            tv_nsec: libc::c_long::from(d.subsec_nanos() as i32),
        }
    }

    impl TimerFd {
        /// A periodic CLOCK_MONOTONIC timer whose first expiry is one interval from now.
        pub(crate) fn new(interval: Duration) -> io::Result<TimerFd> {
            // SAFETY: plain syscall; the result is checked before it is used as a descriptor.
            let raw = unsafe {
                libc::timerfd_create(
                    libc::CLOCK_MONOTONIC,
                    libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
                )
            };
            if raw < 0 {
                return Err(io::Error::last_os_error());
            }
            // SAFETY: `raw` is a descriptor just opened for us and owned by nothing else.
            let fd = unsafe { OwnedFd::from_raw_fd(raw) };
            let period = libc::itimerspec {
                it_interval: timespec(interval),
                it_value: timespec(interval),
            };
            // SAFETY: `fd` is a valid timerfd and `period` lives across the call.
            let rc =
                unsafe { libc::timerfd_settime(fd.as_raw_fd(), 0, &period, std::ptr::null_mut()) };
            if rc < 0 {
                return Err(io::Error::last_os_error());
            }
            // SAFETY: the OwnedFd is moved into the AsyncFd, which keeps it open and
            // unchanged until it is dropped.
            let fd = unsafe { AsyncFd::register_with_interest(fd, Interest::READABLE) }
                .map_err(|e| e.into_parts().1)?;
            Ok(TimerFd { fd, interval })
        }

        /// Waits until the timer has expired at least once since the last wait.
        pub(crate) async fn wait(&mut self) -> io::Result<()> {
            loop {
                let mut guard = self.fd.readable().await?;
                let mut expirations = [0u8; 8];
                let read = guard.try_io(|fd| {
                    // SAFETY: reads at most 8 bytes into an 8-byte buffer from a valid timerfd.
                    let n = unsafe {
                        libc::read(
                            fd.as_raw_fd(),
                            expirations.as_mut_ptr().cast(),
                            expirations.len(),
                        )
                    };
                    if n < 0 {
                        Err(io::Error::last_os_error())
                    } else {
                        Ok(())
                    }
                });
                match read {
                    // The count of expirations is not needed: missed ticks make one cycle.
                    // One read empties a timerfd, so its readiness is cleared here rather
                    // than by a second read that would only answer EAGAIN.
                    Ok(Ok(())) => {
                        guard.clear_ready();
                        return Ok(());
                    }
                    Ok(Err(e)) => return Err(e),
                    // Readiness without an expiry (EAGAIN): try_io cleared it; wait again.
                    Err(_would_block) => continue,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    #[tokio::test]
    async fn the_first_tick_is_immediate_and_the_next_one_interval_later() {
        let mut ticker = Ticker::new(Duration::from_millis(60));
        let start = Instant::now();
        ticker.tick().await;
        assert!(
            start.elapsed() < Duration::from_millis(50),
            "{:?}",
            start.elapsed()
        );
        ticker.tick().await;
        let second = start.elapsed();
        assert!(second >= Duration::from_millis(59), "{second:?}");
        ticker.tick().await;
        assert!(
            start.elapsed() >= Duration::from_millis(119),
            "{:?}",
            start.elapsed()
        );
    }

    #[tokio::test]
    async fn ticks_missed_during_a_long_cycle_make_one_cycle_not_a_burst() {
        let mut ticker = Ticker::new(Duration::from_millis(30));
        ticker.tick().await;
        // A cycle that takes as long as about six intervals.
        std::thread::sleep(Duration::from_millis(200));
        let after = Instant::now();
        let mut ticks = 0;
        loop {
            ticker.tick().await;
            if after.elapsed() > Duration::from_millis(25) {
                break;
            }
            ticks += 1;
        }
        // One tick at once for the missed ones, then at most the next one on the period.
        assert!(
            (1..=2).contains(&ticks),
            "{ticks} ticks in 25 ms after the stall"
        );
    }
}
