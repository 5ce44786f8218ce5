//! The one script runner (feature `runtime`): `vrrp_script`, MISC_CHECK
//! and notify scripts all run through it.
//!
//! - [`CommandLine`]: the configured line, split into words as keepalived
//!   does; `/bin/sh -c` only when the line uses shell syntax.
//! - [`Script`]: a command line and the identity it runs as ([`RunAs`]:
//!   uid, gid and supplementary groups, keepalived's `script_user` or a
//!   script's own `user`). [`Script::run`] runs it once with extra
//!   arguments (notify scripts get TYPE NAME STATE PRIORITY) in its own
//!   process group, killed as a group on timeout (SIGTERM, then SIGKILL
//!   after [`TERM_GRACE`]), and reports a typed [`Outcome`].
//!   Scripts get a minimal environment: `PATH` only ([`search_path`]).
//! - [`security`]: keepalived's `check_script_secure` (existence,
//!   executable bits, root-only writable paths under
//!   `enable_script_security`), with its log lines.
//! - [`NotifyQueue`]: notify scripts with a bound on processes at once
//!   ([`MAX_NOTIFY_PROCESSES`]) and submission order per instance.
//! - [`NotifyFifo`]: keepalived's `notify_fifo`s and their reader scripts.
//! - [`Tracker`]: keepalived's `vrrp_script` loop (interval, timeout,
//!   rise, fall, `init_fail`), reporting up/down transitions.
//!
//! # Example
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use std::time::Duration;
//! use healthcheck::script::{CommandLine, Outcome, Script};
//!
//! let notify = Script::new(CommandLine::parse("/bin/sh -c 'exit 3'").unwrap());
//! let args = ["INSTANCE".to_owned(), "VI_1".to_owned(), "MASTER".to_owned(), "100".to_owned()];
//! assert_eq!(notify.run(&args, Duration::from_secs(5)).await, Outcome::Failed(3));
//! # });
//! ```

mod command;
mod counts;
mod fifo;
mod queue;
mod run;
pub mod security;
mod track;
mod user;

pub use command::{search_path, shown, CommandLine};
pub use counts::{run_counts, RunCounts};
pub use fifo::NotifyFifo;
pub use queue::{NotifyQueue, MAX_NOTIFY_PROCESSES};
pub use run::{keep_nofile_for_scripts, run, Outcome, Script, TERM_GRACE};
pub use track::{Report, TrackConfig, Tracker};
pub use user::{RunAs, UserError};
