//! Notify scripts with a bound: at most a fixed number of processes at
//! once, and the scripts of one key (an instance, a group, a real server)
//! started in the order they were submitted, one after another.
//!
//! keepalived forks every notify script at once, so a flapping router can
//! start hundreds of processes; here they wait their turn instead.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{oneshot, Semaphore};

use super::{Outcome, Script};

/// The default number of notify processes running at once.
pub const MAX_NOTIFY_PROCESSES: usize = 16;

/// A queue for notify scripts: a global bound on running processes and
/// submission order per key.
///
/// # Example
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use std::time::Duration;
/// use healthcheck::script::{CommandLine, NotifyQueue, Outcome, Script};
///
/// let q = NotifyQueue::new(4);
/// let s = Script::new(CommandLine::parse("/bin/true").unwrap());
/// let run = q.submit("VI_1", s, Vec::new(), Duration::from_secs(5));
/// assert_eq!(run.await, Outcome::Success);
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct NotifyQueue {
    permits: Arc<Semaphore>,
    /// Per key, the completion of the last script submitted.
    last: Arc<Mutex<HashMap<String, oneshot::Receiver<()>>>>,
}

impl Default for NotifyQueue {
    fn default() -> Self {
        Self::new(MAX_NOTIFY_PROCESSES)
    }
}

impl NotifyQueue {
    /// A queue running at most `max` scripts at once (at least one).
    pub fn new(max: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(max.max(1))),
            last: Arc::default(),
        }
    }

    /// Queues `script` with `args` under `key`: the returned future waits
    /// for the key's previous script to end and for a free slot, then runs
    /// it with `timeout`. Order is fixed here, at submission; spawn the
    /// future (dropping it skips the script and lets the next one go).
    pub fn submit(
        &self,
        key: &str,
        script: Script,
        args: Vec<String>,
        timeout: Duration,
    ) -> impl Future<Output = Outcome> + Send + 'static {
        let (done, after) = oneshot::channel::<()>();
        let before = self
            .last
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key.to_owned(), after);
        let permits = Arc::clone(&self.permits);
        async move {
            // Err only means the previous run is over (or was dropped).
            if let Some(before) = before {
                let _ = before.await;
            }
            let _permit = permits.acquire_owned().await;
            let out = script.run(&args, timeout).await;
            drop(done);
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script::CommandLine;

    fn line(s: &str) -> Script {
        Script::new(CommandLine::parse(s).unwrap_or_else(|| panic!("{s:?} is a command")))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_key_runs_in_submission_order() {
        let dir = std::env::temp_dir().join(format!("hc-queue-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let out = dir.join("order");
        let q = NotifyQueue::new(8);
        let mut set = tokio::task::JoinSet::new();
        // The first sleeps, so without ordering the others would pass it.
        for i in 0..5 {
            let nap = if i == 0 { "sleep 0.3;" } else { "" };
            let s = line(&format!("{nap} echo {i} >> {}", out.display()));
            set.spawn(q.submit("VI_1", s, Vec::new(), Duration::from_secs(30)));
        }
        while let Some(r) = set.join_next().await {
            assert_eq!(r.ok(), Some(Outcome::Success));
        }
        let got = std::fs::read_to_string(&out).unwrap_or_default();
        assert_eq!(got, "0\n1\n2\n3\n4\n");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn never_more_than_the_bound_at_once() {
        let dir = std::env::temp_dir().join(format!("hc-bound-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let d = dir.display();
        let q = NotifyQueue::new(2);
        let mut set = tokio::task::JoinSet::new();
        // Each run records how many runs were in progress when it began.
        for i in 0..6 {
            let s = line(&format!(
                "touch {d}/run.{i}; ls {d} | grep -c '^run' >> {d}/seen; sleep 0.1; rm {d}/run.{i}"
            ));
            set.spawn(q.submit(&format!("key{i}"), s, Vec::new(), Duration::from_secs(30)));
        }
        while set.join_next().await.is_some() {}
        let seen = std::fs::read_to_string(dir.join("seen")).unwrap_or_default();
        let counts: Vec<u32> = seen.lines().filter_map(|l| l.parse().ok()).collect();
        assert_eq!(counts.len(), 6, "{seen:?}");
        assert!(counts.iter().all(|&n| (1..=2).contains(&n)), "{counts:?}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
