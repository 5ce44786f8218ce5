//! How often each script ran and timed out, for the metrics endpoint.

use std::collections::BTreeMap;
use std::sync::Mutex;

/// Runs of one command line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunCounts {
    /// Runs finished (or that could not start).
    pub runs: u64,
    /// Of those, the ones killed at their timeout.
    pub timeouts: u64,
}

/// Runs by command line (without the arguments a run appends).
static RUNS: Mutex<BTreeMap<String, RunCounts>> = Mutex::new(BTreeMap::new());

/// Counts one run of `line`.
pub(super) fn count(line: &str, timed_out: bool) {
    let mut runs = RUNS.lock().unwrap_or_else(|e| e.into_inner());
    // The line is copied only the first time it runs.
    let c = match runs.get_mut(line) {
        Some(c) => c,
        None => runs.entry(line.to_owned()).or_default(),
    };
    c.runs += 1;
    c.timeouts += u64::from(timed_out);
}

/// Every script run so far in this process, by command line.
pub fn run_counts() -> Vec<(String, RunCounts)> {
    let runs = RUNS.lock().unwrap_or_else(|e| e.into_inner());
    runs.iter().map(|(l, c)| (l.clone(), *c)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_and_timeouts_add_up_per_line() {
        count("/bin/counted-a x", false);
        count("/bin/counted-a x", true);
        count("/bin/counted-b", false);
        let mine: Vec<_> = (run_counts().into_iter())
            .filter(|(l, _)| l.starts_with("/bin/counted-"))
            .collect();
        let want = |runs, timeouts| RunCounts { runs, timeouts };
        assert_eq!(
            mine,
            [
                ("/bin/counted-a x".to_owned(), want(2, 1)),
                ("/bin/counted-b".to_owned(), want(1, 0)),
            ]
        );
    }
}
