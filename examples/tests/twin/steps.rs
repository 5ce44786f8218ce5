//! Steps most twin tests take the same way in both layouts.

use super::Twin;

impl Twin {
    /// Starts `conf` on `r1` in both layouts; returns once each of
    /// `instances` has logged entering MASTER in both.
    pub(crate) fn start_masters(&mut self, conf: &str, instances: &[&str]) {
        for side in self.sides() {
            side.start(conf);
        }
        for name in instances {
            self.wait_log("r1", &format!("({name}) Entering MASTER STATE"), 1);
        }
    }

    /// Starts the stronger peer `conf` on `r2` in both layouts; returns once
    /// each of `instances` on `r1` has logged entering BACKUP twice (once
    /// at start, once now).
    pub(crate) fn start_peers(&mut self, conf: &str, instances: &[&str]) {
        for side in self.sides() {
            side.start_peer(conf);
        }
        for name in instances {
            self.wait_log("r1", &format!("({name}) Entering BACKUP STATE"), 2);
        }
    }

    /// Stops `r1` in both layouts; polls until both kernel states are the
    /// same and `ok` holds for them.
    pub(crate) fn stop_both(&mut self, ok: impl Fn(&str) -> bool) -> String {
        for side in self.sides() {
            side.stop();
        }
        self.same_state("stopped", ok)
    }
}
