//! The queue between a session and one of its live channels (a socket's
//! commands, an event stream's frames), bounded in frames and in bytes: a
//! client that does not read holds at most `send_queue_frames` frames and
//! `send_queue_bytes` bytes of the server's memory, whatever their size.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::mpsc;

/// What a queued item weighs.
pub trait Weighed {
    /// Its size in bytes, as counted against the queue's byte bound.
    fn bytes(&self) -> usize;
}

/// Why an item was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The queue is full (frames or bytes): the receiver is not keeping up.
    Full,
    /// The receiver is gone.
    Closed,
}

/// The sending half.
#[derive(Debug)]
pub struct Sender<T> {
    sender: mpsc::Sender<T>,
    queued: Arc<AtomicUsize>,
    max_bytes: usize,
}

// Not derived: `T` need not be `Clone` for its sender to be.
impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        Self {
            sender: self.sender.clone(),
            queued: Arc::clone(&self.queued),
            max_bytes: self.max_bytes,
        }
    }
}

/// The receiving half.
#[derive(Debug)]
pub struct Receiver<T> {
    receiver: mpsc::Receiver<T>,
    queued: Arc<AtomicUsize>,
}

/// A queue of at most `frames` items and `max_bytes` bytes (one item larger
/// than `max_bytes` still passes into an empty queue).
pub fn channel<T: Weighed>(frames: usize, max_bytes: usize) -> (Sender<T>, Receiver<T>) {
    let (sender, receiver) = mpsc::channel(frames.clamp(1, 1 << 24));
    let queued = Arc::new(AtomicUsize::new(0));
    (
        Sender {
            sender,
            queued: Arc::clone(&queued),
            max_bytes,
        },
        Receiver { receiver, queued },
    )
}

impl<T: Weighed> Sender<T> {
    /// Queues `item` now, or says why not.
    pub fn try_send(&self, item: T) -> Result<(), Refused> {
        let bytes = item.bytes();
        let queued = self.queued.load(Ordering::Acquire);
        if queued > 0 && queued.saturating_add(bytes) > self.max_bytes {
            return Err(if self.sender.is_closed() {
                Refused::Closed
            } else {
                Refused::Full
            });
        }
        self.queued.fetch_add(bytes, Ordering::AcqRel);
        self.sender.try_send(item).map_err(|error| {
            self.queued.fetch_sub(bytes, Ordering::AcqRel);
            match error {
                mpsc::error::TrySendError::Full(_) => Refused::Full,
                mpsc::error::TrySendError::Closed(_) => Refused::Closed,
            }
        })
    }

    /// Whether the receiver is gone.
    pub fn is_closed(&self) -> bool {
        self.sender.is_closed()
    }

    /// Resolves once the receiver is gone.
    pub async fn closed(&self) {
        self.sender.closed().await;
    }
}

impl<T: Weighed> Receiver<T> {
    /// The next item, once there is one; `None` once every sender is gone.
    pub async fn recv(&mut self) -> Option<T> {
        let item = self.receiver.recv().await?;
        self.queued.fetch_sub(item.bytes(), Ordering::AcqRel);
        Some(item)
    }

    /// The next item if one is queued now.
    pub fn try_recv(&mut self) -> Option<T> {
        let item = self.receiver.try_recv().ok()?;
        self.queued.fetch_sub(item.bytes(), Ordering::AcqRel);
        Some(item)
    }
}

impl Weighed for (Option<u64>, String) {
    fn bytes(&self) -> usize {
        self.1.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(bytes: usize) -> (Option<u64>, String) {
        (None, "x".repeat(bytes))
    }

    #[tokio::test]
    async fn bounded_in_bytes_as_well_as_frames() {
        let (sender, mut receiver) = channel(100, 1000);
        assert_eq!(sender.try_send(frame(600)), Ok(()));
        assert_eq!(sender.try_send(frame(600)), Err(Refused::Full), "bytes");
        assert_eq!(sender.try_send(frame(400)), Ok(()));
        assert_eq!(receiver.recv().await.map(|f| f.1.len()), Some(600));
        assert_eq!(sender.try_send(frame(600)), Ok(()), "room again");
        let (small, _keep) = channel::<(Option<u64>, String)>(2, 1000);
        assert_eq!(small.try_send(frame(1)), Ok(()));
        assert_eq!(small.try_send(frame(1)), Ok(()));
        assert_eq!(small.try_send(frame(1)), Err(Refused::Full), "frames");
    }

    #[tokio::test]
    async fn one_large_item_passes_an_empty_queue_and_a_closed_one_says_so() {
        let (sender, receiver) = channel(10, 100);
        assert_eq!(sender.try_send(frame(500)), Ok(()));
        drop(receiver);
        assert_eq!(sender.try_send(frame(1)), Err(Refused::Closed));
    }
}
