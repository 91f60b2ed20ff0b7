//! What the delivering outputs (agent, cloudwatch) share: a queue of undelivered items
//! bounded in bytes that drops the oldest first, and the backoff between retries.

use std::collections::VecDeque;
use std::time::Duration;

/// An item waiting for delivery: its size counts against the bound, its values are what
/// a drop loses.
pub trait Weighed {
    fn bytes(&self) -> usize;
    fn values(&self) -> u64;
}

/// Undelivered items, oldest first, at most `limit` bytes (one item is always kept, so a
/// single item larger than the bound can still be delivered).
pub struct Bounded<T> {
    items: VecDeque<T>,
    bytes: usize,
    limit: usize,
}

impl<T: Weighed> Bounded<T> {
    pub fn new(limit: usize) -> Bounded<T> {
        Bounded {
            items: VecDeque::new(),
            bytes: 0,
            limit,
        }
    }

    /// Appends; returns the values of the oldest items dropped to stay within the bound.
    pub fn push(&mut self, item: T) -> u64 {
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

    pub fn front(&self) -> Option<&T> {
        self.items.front()
    }

    pub fn pop(&mut self) -> Option<T> {
        let item = self.items.pop_front()?;
        self.bytes -= item.bytes();
        Some(item)
    }

    /// Puts items that could not be delivered back in front, in their order.
    pub fn put_back(&mut self, items: Vec<T>) {
        for item in items.into_iter().rev() {
            self.bytes += item.bytes();
            self.items.push_front(item);
        }
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The values of everything still waiting.
    pub fn values(&self) -> u64 {
        self.items.iter().map(Weighed::values).sum()
    }

    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

/// Exponential backoff between retries, reset by a success.
pub struct Backoff {
    next: Duration,
    min: Duration,
    max: Duration,
}

impl Backoff {
    pub fn new(min: Duration, max: Duration) -> Backoff {
        Backoff {
            next: min,
            min,
            max,
        }
    }

    pub fn reset(&mut self) {
        self.next = self.min;
    }

    /// Waits before the next attempt. While closing, only the shortest pause: the
    /// shutdown deadline bounds the retries then.
    pub async fn pause(&mut self, closing: bool) {
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
        assert_eq!((q.bytes(), q.values()), (200, 5));
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
