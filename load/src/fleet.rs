//! Many connections at once: opened a bounded number at a time, each handed
//! to its own task as soon as it is open, and joined at the end.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinSet;

use crate::problems::{Kind, Problems};
use crate::socket::{self, Socket};

/// The tasks of one phase, after every connection was tried.
pub struct Fleet<R> {
    tasks: JoinSet<Option<R>>,
    /// Connections open (each has a running task).
    pub opened: usize,
    /// How long opening all of them took.
    pub open_time: Duration,
    /// The connections that could not be opened.
    pub problems: Problems,
}

/// Opens `count` connections to `url_of(i)`, `concurrency` at a time, and runs
/// `run(i, socket)` on each in its own task; returns once every connection
/// is open or has failed.
///
/// A bounded number of handshakes at a time: thousands at once would overflow
/// the server's listen backlog, and that would measure the backlog.
pub async fn open_all<R, F, Fut>(
    count: usize,
    concurrency: usize,
    timeout: Duration,
    url_of: impl Fn(usize) -> String,
    run: F,
) -> Fleet<R>
where
    F: Fn(usize, Socket) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = R> + Send + 'static,
    R: Send + 'static,
{
    let started = Instant::now();
    let permits = Arc::new(Semaphore::new(concurrency));
    let run = Arc::new(run);
    let (opened_tx, mut opened_rx) = mpsc::unbounded_channel::<Result<(), String>>();
    let mut tasks = JoinSet::new();
    for i in 0..count {
        let url = url_of(i);
        let (permits, run, opened_tx) = (permits.clone(), run.clone(), opened_tx.clone());
        tasks.spawn(async move {
            let socket = {
                // The semaphore is never closed, so acquiring only fails if
                // that changes; then the connection counts as not opened.
                let Ok(_permit) = permits.acquire().await else {
                    let _ = opened_tx.send(Err("the connect queue was closed".to_owned()));
                    return None;
                };
                socket::open(&url, timeout).await
            };
            match socket {
                Ok(socket) => {
                    let _ = opened_tx.send(Ok(()));
                    Some(run(i, socket).await)
                }
                Err(why) => {
                    let _ = opened_tx.send(Err(format!("connection {i}: {why}")));
                    None
                }
            }
        });
    }
    // Each task reports exactly once; the loop also ends if one panicked
    // before reporting (then every sender is gone).
    drop(opened_tx);
    let (mut opened, mut problems, mut reported) = (0, Problems::default(), 0);
    while reported < count {
        match opened_rx.recv().await {
            Some(Ok(())) => opened += 1,
            Some(Err(why)) => problems.add(Kind::Refused, 1, why),
            None => break,
        }
        reported += 1;
    }
    Fleet {
        tasks,
        opened,
        open_time: started.elapsed(),
        problems,
    }
}

impl<R: Send + 'static> Fleet<R> {
    /// Waits for every task, at most `limit`; returns their results. A task
    /// that panicked or overran counts as a dropped connection.
    pub async fn join(mut self, limit: Duration) -> (Vec<R>, Problems) {
        let mut results = Vec::with_capacity(self.opened);
        let mut problems = self.problems;
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            match tokio::time::timeout_at(deadline, self.tasks.join_next()).await {
                Ok(Some(Ok(Some(result)))) => results.push(result),
                // A connection that never opened, already counted as refused.
                Ok(Some(Ok(None))) => {}
                Ok(Some(Err(error))) => {
                    problems.add(
                        Kind::Dropped,
                        1,
                        format!("a connection task failed: {error}"),
                    );
                }
                Ok(None) => break,
                Err(_) => {
                    let left = self.tasks.len();
                    problems.add(
                        Kind::Dropped,
                        left as u64,
                        format!("{left} connections still busy {limit:?} after the phase ended"),
                    );
                    self.tasks.abort_all();
                    break;
                }
            }
        }
        (results, problems)
    }
}
