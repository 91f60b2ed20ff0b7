//! What the delivering outputs (agent, cloudwatch) share: a queue of undelivered items
//! bounded in bytes that drops the oldest first, and the backoff between retries.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;

use super::Counters;

/// An item waiting for delivery: its size counts against the bound, its values are what
/// a drop loses.
pub(crate) trait Weighed {
    fn bytes(&self) -> usize;
    fn values(&self) -> u64;
}

/// Undelivered items, oldest first, at most `limit` bytes (one item is always kept, so a
/// single item larger than the bound can still be delivered).
pub(crate) struct Bounded<T> {
    items: VecDeque<T>,
    bytes: usize,
    limit: usize,
}

impl<T: Weighed> Bounded<T> {
    pub(crate) fn new(limit: usize) -> Bounded<T> {
        Bounded {
            items: VecDeque::new(),
            bytes: 0,
            limit,
        }
    }

    /// Appends; returns the values of the oldest items dropped to stay within the bound.
    pub(crate) fn push(&mut self, item: T) -> u64 {
        self.bytes += item.bytes();
        self.items.push_back(item);
        let mut dropped = 0;
        while self.bytes > self.limit && self.items.len() > 1 {
            if let Some(old) = self.items.pop_front() {
                self.bytes -= old.bytes();
                dropped += old.values();
            }
        }
        dropped
    }

    pub(crate) fn front(&self) -> Option<&T> {
        self.items.front()
    }

    pub(crate) fn pop(&mut self) -> Option<T> {
        let item = self.items.pop_front()?;
        self.bytes -= item.bytes();
        Some(item)
    }

    /// Puts items that could not be delivered back in front, in their order.
    pub(crate) fn put_back(&mut self, items: Vec<T>) {
        for item in items.into_iter().rev() {
            self.bytes += item.bytes();
            self.items.push_front(item);
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    /// The values of everything still waiting.
    pub(crate) fn values(&self) -> u64 {
        self.items.iter().map(Weighed::values).sum()
    }
}

/// What a delivering output hands to its delivery task: the queue, what the task holds
/// in flight, the wake-up, the closing flag, and the exporter's counters.
pub(crate) struct Shared<T> {
    queue: Mutex<Bounded<T>>,
    /// Items and values taken out of the queue and not yet settled: still undelivered.
    in_flight: (AtomicUsize, AtomicU64),
    wake: Notify,
    closing: AtomicBool,
    /// Wakes a delivery task paused between retries when the stop begins.
    stop: Notify,
    pub(crate) counters: Arc<Counters>,
}

impl<T: Weighed> Shared<T> {
    pub(crate) fn new(limit: usize, counters: Arc<Counters>) -> Shared<T> {
        Shared {
            queue: Mutex::new(Bounded::new(limit)),
            in_flight: (AtomicUsize::new(0), AtomicU64::new(0)),
            wake: Notify::new(),
            closing: AtomicBool::new(false),
            stop: Notify::new(),
            counters,
        }
    }

    fn with_queue<R>(&self, f: impl FnOnce(&mut Bounded<T>) -> R) -> R {
        // A poisoned lock only means a panic elsewhere; the queue itself is still whole.
        let mut guard = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard)
    }

    fn hold(&self, items: usize, values: u64) {
        self.in_flight.0.fetch_add(items, Ordering::Relaxed);
        self.in_flight.1.fetch_add(values, Ordering::Relaxed);
    }

    /// Items taken by [`Shared::next`] that are done with: delivered, or given up on and
    /// counted by the caller.
    fn release(&self, items: usize, values: u64) {
        self.in_flight.0.fetch_sub(items, Ordering::Relaxed);
        self.in_flight.1.fetch_sub(values, Ordering::Relaxed);
    }

    /// Queues new items for delivery; returns the values dropped to keep the bound.
    pub(crate) fn push_all(&self, items: impl IntoIterator<Item = T>) -> u64 {
        let dropped = self.with_queue(|q| items.into_iter().map(|item| q.push(item)).sum());
        self.wake.notify_one();
        dropped
    }

    /// The next items to deliver, as `take` picks them from the queue; waits for work.
    /// `None` once closing with nothing left.
    pub(crate) async fn next(
        &self,
        mut take: impl FnMut(&mut Bounded<T>) -> Vec<T>,
    ) -> Option<Vec<T>> {
        loop {
            let batch = self.with_queue(&mut take);
            if !batch.is_empty() {
                self.hold(batch.len(), batch.iter().map(Weighed::values).sum());
                return Some(batch);
            }
            if self.is_closing() {
                return None;
            }
            self.wake.notified().await;
        }
    }

    /// A batch [`Shared::next`] gave is done with (delivered, or given up and counted).
    pub(crate) fn settled(&self, batch: &[T]) {
        self.release(batch.len(), batch.iter().map(Weighed::values).sum());
    }

    /// Items taken by [`Shared::next`] go back in front of the queue, for a later attempt.
    pub(crate) fn retry_later(&self, batch: Vec<T>) {
        let values = batch.iter().map(Weighed::values).sum();
        let items = batch.len();
        self.with_queue(|q| {
            q.put_back(batch);
            self.release(items, values);
        });
    }

    pub(crate) fn is_closing(&self) -> bool {
        self.closing.load(Ordering::Relaxed)
    }

    /// Waits out `backoff` before another attempt. The stop cuts a long pause short: from
    /// then on only the shortest pause, the stop's deadline bounding the retries.
    pub(crate) async fn pause(&self, backoff: &mut Backoff) {
        let stop = self.stop.notified();
        tokio::pin!(stop);
        // Registered before the flag is read, so a stop in between still wakes it.
        stop.as_mut().enable();
        let closing = self.is_closing();
        tokio::select! {
            () = backoff.pause(closing) => {}
            () = stop => {}
        }
    }

    /// Tells the delivery task to finish what is queued, gives it until `deadline` (or
    /// `abort`), then stops it. Returns whether it finished, and the items and values left
    /// undelivered (what it held in flight included), which are also counted as dropped.
    pub(crate) async fn close(
        &self,
        mut task: tokio::task::JoinHandle<()>,
        deadline: Duration,
        abort: Arc<tokio::sync::Notify>,
    ) -> (bool, usize, u64) {
        self.closing.store(true, Ordering::Relaxed);
        self.wake.notify_one();
        self.stop.notify_waiters();
        let finished = tokio::select! {
            done = tokio::time::timeout(deadline, &mut task) => done.is_ok(),
            _ = abort.notified() => false,
        };
        if !finished {
            task.abort();
        }
        let (items, values) = self.with_queue(|q| {
            (
                q.len() + self.in_flight.0.load(Ordering::Relaxed),
                q.values() + self.in_flight.1.load(Ordering::Relaxed),
            )
        });
        Counters::add(&self.counters.dropped_values, values);
        (finished, items, values)
    }
}

/// Exponential backoff between retries, reset by a success.
pub(crate) struct Backoff {
    next: Duration,
    min: Duration,
    max: Duration,
}

impl Backoff {
    pub(crate) fn new(min: Duration, max: Duration) -> Backoff {
        Backoff {
            next: min,
            min,
            max,
        }
    }

    pub(crate) fn reset(&mut self) {
        self.next = self.min;
    }

    /// Waits before the next attempt; while closing, only the shortest pause.
    async fn pause(&mut self, closing: bool) {
        tokio::time::sleep(if closing { self.min } else { self.next }).await;
        self.next = (self.next * 2).min(self.max);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Item(usize, u64);

    impl Weighed for Item {
        fn bytes(&self) -> usize {
            self.0
        }
        fn values(&self) -> u64 {
            self.1
        }
    }

    #[test]
    fn the_oldest_go_beyond_the_bound_and_order_is_kept() {
        let mut q = Bounded::new(250);
        assert_eq!(q.push(Item(100, 1)), 0);
        assert_eq!(q.push(Item(100, 2)), 0);
        assert_eq!(q.push(Item(100, 3)), 1, "the oldest (1 value) goes");
        assert_eq!((q.bytes, q.values()), (200, 5));
        let first = q.pop().expect("item");
        assert_eq!(first.1, 2);
        q.put_back(vec![first]);
        assert_eq!(q.front().map(|i| i.1), Some(2));
        // A single item larger than the bound is still kept.
        let mut tiny = Bounded::new(10);
        assert_eq!(tiny.push(Item(50, 7)), 0);
        assert_eq!(tiny.push(Item(50, 8)), 7);
        assert_eq!(tiny.len(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn the_stop_cuts_a_long_pause_short() {
        let shared = Arc::new(Shared::<Item>::new(100, Arc::new(Counters::default())));
        let mut backoff = Backoff::new(Duration::from_secs(30), Duration::from_secs(30));
        let pausing = Arc::clone(&shared);
        let task = tokio::spawn(async move { pausing.pause(&mut backoff).await });
        tokio::task::yield_now().await;
        let began = tokio::time::Instant::now();
        let (finished, items, _) = shared
            .close(task, Duration::from_secs(10), Arc::new(Notify::new()))
            .await;
        assert!(finished, "the paused task ended within the stop's deadline");
        assert_eq!(items, 0);
        assert!(
            began.elapsed() < Duration::from_secs(1),
            "{:?}",
            began.elapsed()
        );
    }

    #[tokio::test]
    async fn backoff_doubles_to_its_maximum_and_resets() {
        let mut b = Backoff::new(Duration::from_millis(1), Duration::from_millis(4));
        for _ in 0..4 {
            b.pause(false).await;
        }
        assert_eq!(b.next, Duration::from_millis(4));
        b.reset();
        assert_eq!(b.next, Duration::from_millis(1));
    }
}
