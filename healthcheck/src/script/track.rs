//! keepalived's `vrrp_script` loop: run a script every interval and feed
//! its results through rise/fall.

use std::time::Duration;

use tokio::time::{Interval, MissedTickBehavior};

use super::{Outcome, Script};
use crate::{Health, RiseFall};

/// A `vrrp_script`'s timing and hysteresis. Defaults are keepalived's.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TrackConfig {
    /// Time between runs, from the start of one to the start of the next
    /// (`interval`, default 1 s; at least 1 ms).
    pub interval: Duration,
    /// Time a run may take (`timeout`; `None`, keepalived's 0, means
    /// `interval`).
    pub timeout: Option<Duration>,
    /// Consecutive successes to go up (`rise`, default 1).
    pub rise: u32,
    /// Consecutive failures to go down (`fall`, default 1).
    pub fall: u32,
    /// Start down and need `rise` successes (`init_fail`); without it the
    /// first result decides and is always reported.
    pub init_fail: bool,
}

impl Default for TrackConfig {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(1),
            timeout: None,
            rise: 1,
            fall: 1,
            init_fail: false,
        }
    }
}

/// One run of a tracked script.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Report {
    /// How the run ended.
    pub outcome: Outcome,
    /// The new health if this run changed it (keepalived's
    /// `VRRP_Script(NAME) succeeded` / `failed` / `timed_out` lines).
    pub change: Option<Health>,
}

/// Runs one script as keepalived runs a `vrrp_script`: the first run at
/// once, then one every interval (a run that overruns delays the next
/// one, never two at a time), each bounded by the timeout; results go
/// through a [`RiseFall`] started as keepalived 2.2.7 starts it.
///
/// The weight a result carries is the tracker's business (vrrp's
/// tracking), not this type's.
///
/// # Example
/// ```no_run
/// # async fn demo() {
/// use healthcheck::script::{CommandLine, Script, TrackConfig, Tracker};
/// let cmd = CommandLine::parse("/usr/local/bin/check_nginx").unwrap();
/// let mut t = Tracker::new(Script::new(cmd), TrackConfig::default());
/// loop {
///     let (health, outcome) = t.next_change().await;
///     println!("now {health:?} ({outcome:?})");
/// }
/// # }
/// ```
#[derive(Debug)]
pub struct Tracker {
    script: Script,
    cfg: TrackConfig,
    health: RiseFall,
    tick: Option<Interval>,
}

impl Tracker {
    /// A tracker; nothing runs before the first `next_*` call.
    pub fn new(script: Script, cfg: TrackConfig) -> Self {
        let health = if cfg.init_fail {
            RiseFall::new(cfg.rise, cfg.fall, Health::Down)
        } else {
            RiseFall::unknown(cfg.rise, cfg.fall)
        };
        Self {
            script,
            cfg,
            health,
            tick: None,
        }
    }

    /// The current health; `None` before the first result (without
    /// `init_fail`).
    pub fn health(&self) -> Option<Health> {
        self.health.known_health()
    }

    /// The configuration.
    pub fn config(&self) -> &TrackConfig {
        &self.cfg
    }

    /// Waits for the next run, runs the script and reports its result.
    /// Cancelling the future kills a running script.
    pub async fn next_result(&mut self) -> Report {
        let interval = self.cfg.interval.max(Duration::from_millis(1));
        let tick = self.tick.get_or_insert_with(|| {
            let mut t = tokio::time::interval(interval);
            t.set_missed_tick_behavior(MissedTickBehavior::Delay);
            t
        });
        tick.tick().await;
        let timeout = self.cfg.timeout.unwrap_or(interval);
        let outcome = self.script.run(&[], timeout).await;
        let change = self.health.record(outcome.ok());
        Report { outcome, change }
    }

    /// Runs the script until its health changes; returns the new health
    /// and the outcome of the run that changed it.
    pub async fn next_change(&mut self) -> (Health, Outcome) {
        loop {
            let r = self.next_result().await;
            if let Some(h) = r.change {
                return (h, r.outcome);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script::CommandLine;

    fn tracker(line: &str, cfg: TrackConfig) -> Tracker {
        let cmd = CommandLine::parse(line).unwrap_or_else(|| panic!("{line:?}"));
        Tracker::new(Script::new(cmd), cfg)
    }

    fn fast() -> TrackConfig {
        TrackConfig {
            interval: Duration::from_millis(1),
            timeout: Some(Duration::from_secs(10)),
            ..TrackConfig::default()
        }
    }

    #[tokio::test]
    async fn first_result_decides_without_init_fail() {
        let mut t = tracker("/bin/false", fast());
        assert_eq!(t.health(), None);
        let r = t.next_result().await;
        assert_eq!(r.outcome, Outcome::Failed(1));
        assert_eq!(r.change, Some(Health::Down));
        // Failing on: no more changes.
        assert_eq!(t.next_result().await.change, None);
        assert_eq!(t.health(), Some(Health::Down));
    }

    #[tokio::test]
    async fn init_fail_needs_rise_successes_and_reports_no_first_failure() {
        let cfg = TrackConfig {
            rise: 3,
            init_fail: true,
            ..fast()
        };
        let mut t = tracker("/bin/true", cfg);
        assert_eq!(t.health(), Some(Health::Down));
        let changes = [
            t.next_result().await.change,
            t.next_result().await.change,
            t.next_result().await.change,
        ];
        assert_eq!(changes, [None, None, Some(Health::Up)]);
        let mut t = tracker(
            "/bin/false",
            TrackConfig {
                init_fail: true,
                ..fast()
            },
        );
        assert_eq!(t.next_result().await.change, None);
    }

    #[tokio::test]
    async fn fall_counts_consecutive_failures() {
        // The script fails from its second run on: a counter file.
        let dir = std::env::temp_dir().join(format!("hc-track-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let n = dir.join("n");
        let _ = std::fs::remove_file(&n);
        let line = format!("test ! -e {0}; r=$?; touch {0}; exit $r", n.display());
        let cfg = TrackConfig { fall: 2, ..fast() };
        let mut t = tracker(&line, cfg);
        assert_eq!(t.next_change().await, (Health::Up, Outcome::Success));
        // One failure is absorbed, the second takes it down.
        assert_eq!(t.next_result().await.change, None);
        assert_eq!(t.next_change().await, (Health::Down, Outcome::Failed(1)));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn a_timed_out_run_is_a_failure() {
        let cfg = TrackConfig {
            timeout: Some(Duration::from_millis(50)),
            ..fast()
        };
        let mut t = tracker("/bin/sleep 30", cfg);
        assert_eq!(t.next_change().await, (Health::Down, Outcome::TimedOut));
    }
}
