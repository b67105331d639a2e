// sync.rs — the two primitives the workloads need that tokio does not ship: a wait group (a counter and a
// tokio::sync::Notify) and a rendezvous channel (tokio's mpsc has no capacity 0).

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use tokio::sync::{mpsc, Notify};

/// WaitGroup: `add` before spawning, `done` at each task's end, `wait` (one waiter) until the count is 0.
/// Notify::notify_one stores a permit when nobody waits yet, so a `done` that comes between the waiter's
/// check and its sleep is not lost.
#[derive(Default)]
pub struct WaitGroup {
    count: AtomicI64,
    zero: Notify,
}

impl WaitGroup {
    pub fn add(&self, n: i64) {
        self.count.fetch_add(n, Ordering::Relaxed);
    }

    pub fn done(&self) {
        // AcqRel: the task's writes happen before the waiter sees the count reach zero.
        if self.count.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.zero.notify_one();
        }
    }

    pub async fn wait(&self) {
        while self.count.load(Ordering::Acquire) != 0 {
            self.zero.notified().await;
        }
    }
}

/// A rendezvous (unbuffered) channel built from tokio parts: an mpsc channel of capacity 1 carries the
/// value, and the sender then parks on a Notify until the receiver has taken it, so `send` returns only
/// after the hand-off, as a Go `make(chan T)` send does. One Notify permit per received value: exact for
/// one sender at a time (each ping-pong direction has exactly one).
pub fn rendezvous<T>() -> (RendezvousSender<T>, RendezvousReceiver<T>) {
    let (tx, rx) = mpsc::channel(1);
    let taken = Arc::new(Notify::new());
    (RendezvousSender { tx, taken: taken.clone() }, RendezvousReceiver { rx, taken })
}

/// The sending end.
pub struct RendezvousSender<T> {
    tx: mpsc::Sender<T>,
    taken: Arc<Notify>,
}

/// The receiving end, held by exactly one task.
pub struct RendezvousReceiver<T> {
    rx: mpsc::Receiver<T>,
    taken: Arc<Notify>,
}

impl<T> RendezvousSender<T> {
    /// Sends `v` and returns once the receiver has taken it; Err when the receiver is gone.
    pub async fn send(&self, v: T) -> Result<(), ()> {
        self.tx.send(v).await.map_err(|_| ())?;
        self.taken.notified().await;
        Ok(())
    }
}

impl<T> RendezvousReceiver<T> {
    /// The next value, after which its sender is released; None when every sender is gone.
    pub async fn recv(&mut self) -> Option<T> {
        let v = self.rx.recv().await?;
        self.taken.notify_one();
        Some(v)
    }
}
