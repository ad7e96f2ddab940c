//! Bounded work: at most `running` jobs of a kind at once, at most
//! `waiting` more waiting their turn, and past that a prompt refusal
//! ([`Busy`], a 503 with `Retry-After`) instead of a queue that grows
//! without bound. Searches and PDF text extractions go through one each.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::{Semaphore, SemaphorePermit};

/// Every slot and waiting place is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy;

/// Slots for running jobs and places for waiting ones.
#[derive(Debug)]
pub struct BoundedQueue {
    slots: Semaphore,
    /// Jobs admitted: running or waiting for a slot.
    admitted: AtomicUsize,
    capacity: usize,
}

/// A place among the admitted jobs, given back when dropped.
#[derive(Debug)]
pub struct Ticket {
    queue: Arc<BoundedQueue>,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.queue.admitted.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Ticket {
    /// Waits for a slot to run in; None once the queue is closed.
    pub async fn slot(&self) -> Option<SemaphorePermit<'_>> {
        self.queue.slots.acquire().await.ok()
    }
}

impl BoundedQueue {
    /// A queue running `running` jobs at once (at least one) with
    /// `waiting` more allowed to wait.
    pub fn new(running: usize, waiting: usize) -> Arc<Self> {
        let running = running.max(1);
        Arc::new(Self {
            slots: Semaphore::new(running),
            admitted: AtomicUsize::new(0),
            capacity: running + waiting,
        })
    }

    /// Takes a place, or says every one is taken.
    pub fn admit(self: &Arc<Self>) -> Result<Ticket, Busy> {
        self.admitted
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |admitted| {
                (admitted < self.capacity).then_some(admitted + 1)
            })
            .map_err(|_| Busy)?;
        Ok(Ticket {
            queue: Arc::clone(self),
        })
    }

    /// Refuses slots from now on: waiting jobs give up.
    pub fn close(&self) {
        self.slots.close();
    }

    /// Jobs running or waiting now.
    pub fn admitted(&self) -> usize {
        self.admitted.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admits_up_to_running_plus_waiting_then_refuses() {
        let queue = BoundedQueue::new(2, 1);
        let tickets: Vec<Ticket> = (0..3).map(|_| queue.admit().expect("room")).collect();
        assert_eq!(queue.admit().err(), Some(Busy));
        assert_eq!(queue.admitted(), 3);
        drop(tickets);
        assert_eq!(queue.admitted(), 0);
        assert!(queue.admit().is_ok());
    }

    #[actix_web::test]
    async fn slots_are_bounded_and_closing_releases_the_waiting() {
        let queue = BoundedQueue::new(1, 1);
        let (first, second) = (queue.admit().expect("room"), queue.admit().expect("room"));
        let running = first.slot().await.expect("a slot");
        let waiting = tokio::time::timeout(std::time::Duration::from_millis(20), second.slot());
        assert!(waiting.await.is_err(), "the one slot is taken");
        drop(running);
        assert!(second.slot().await.is_some());
        queue.close();
        assert!(first.slot().await.is_none());
    }
}
