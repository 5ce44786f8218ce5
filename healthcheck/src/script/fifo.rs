//! keepalived's notify FIFOs (`notify_fifo`, `vrrp_notify_fifo`,
//! `lvs_notify_fifo`): a named pipe that gets one line per event, and an
//! optional script started once with the FIFO's name as its last argument
//! to read it.
//!
//! As keepalived does it: the FIFO is created (mode 0644, owned by the
//! FIFO's user) if missing, the script is started first, then the FIFO is
//! opened read-write and non-blocking, so writing never blocks and never
//! fails for want of a reader (a full pipe drops the line). On close a
//! FIFO this process created is removed, and the script's process group
//! is killed.

use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::stat::Mode;
use tokio::task::JoinHandle;

use super::{Outcome, Script};

/// A FIFO script runs until the FIFO closes (keepalived: no timeout).
const FOREVER: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// An open notify FIFO and its reader script.
#[derive(Debug)]
pub struct NotifyFifo {
    path: PathBuf,
    file: File,
    created: bool,
    script: Option<JoinHandle<Outcome>>,
}

impl NotifyFifo {
    /// Creates the FIFO at `path` if missing (owned by `owner`, uid:gid,
    /// when given), starts `script` with the path appended to its
    /// arguments, and opens the FIFO. Needs a tokio runtime when a script
    /// is given. `done` is called with the script's outcome if it ends
    /// (keepalived logs "notify fifo script terminated").
    pub fn open(
        path: &Path,
        owner: Option<(u32, u32)>,
        script: Option<Script>,
        done: impl FnOnce(Outcome) + Send + 'static,
    ) -> io::Result<Self> {
        let mode = Mode::S_IRUSR | Mode::S_IWUSR | Mode::S_IRGRP | Mode::S_IROTH;
        let created = match nix::unistd::mkfifo(path, mode) {
            Ok(()) => true,
            Err(Errno::EEXIST) => false,
            Err(e) => return Err(e.into()),
        };
        if let (true, Some((uid, gid))) = (created, owner) {
            // keepalived only logs a failure here.
            let _ = std::os::unix::fs::chown(path, Some(uid), Some(gid));
        }
        let script = script.map(|s| {
            let args = vec![path.to_string_lossy().into_owned()];
            tokio::spawn(async move {
                let out = s.run(&args, FOREVER).await;
                done(out.clone());
                out
            })
        });
        let flags = OFlag::O_NONBLOCK | OFlag::O_NOFOLLOW;
        let opened = File::options()
            .read(true)
            .write(true)
            .custom_flags(flags.bits())
            .open(path);
        let file = match opened {
            Ok(f) => f,
            Err(e) => {
                if created {
                    let _ = std::fs::remove_file(path);
                }
                if let Some(s) = script {
                    s.abort();
                }
                return Err(e);
            }
        };
        Ok(Self {
            path: path.to_owned(),
            file,
            created,
            script,
        })
    }

    /// The FIFO's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes one line (a newline is added); dropped if the pipe is full.
    pub fn write_line(&self, line: &str) {
        let mut buf = String::with_capacity(line.len() + 1);
        buf.push_str(line);
        buf.push('\n');
        // One write: lines up to PIPE_BUF bytes never interleave.
        let _ = (&self.file).write(buf.as_bytes());
    }
}

impl Drop for NotifyFifo {
    fn drop(&mut self) {
        // Removed first, so a reader that reopens it in a loop cannot.
        if self.created {
            let _ = std::fs::remove_file(&self.path);
        }
        if let Some(s) = self.script.take() {
            // Aborting the run kills the script's process group.
            s.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script::CommandLine;

    #[tokio::test]
    async fn lines_reach_the_script_started_with_the_fifo_name() {
        let dir = std::env::temp_dir().join(format!("hc-fifo-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let (fifo, out) = (dir.join("fifo"), dir.join("out"));
        let line = format!("cat \"$1\" > {}", out.display());
        let cat = Script::new(CommandLine::parse(&line).expect("a command"));
        let f = NotifyFifo::open(&fifo, None, Some(cat), |_| {}).expect("open");
        assert!(f.created);
        f.write_line("INSTANCE \"VI_1\" MASTER 100");
        f.write_line("INSTANCE \"VI_1\" BACKUP 100");
        let want = "INSTANCE \"VI_1\" MASTER 100\nINSTANCE \"VI_1\" BACKUP 100\n";
        let mut got = String::new();
        for _ in 0..600 {
            got = std::fs::read_to_string(&out).unwrap_or_default();
            if got == want {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(got, want);
        drop(f);
        assert!(!fifo.exists(), "a FIFO we created is removed");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn an_existing_fifo_is_kept_and_writing_without_reader_never_blocks() {
        let dir = std::env::temp_dir().join(format!("hc-fifo2-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let fifo = dir.join("fifo");
        nix::unistd::mkfifo(&fifo, Mode::S_IRUSR | Mode::S_IWUSR).expect("mkfifo");
        let f = NotifyFifo::open(&fifo, None, None, |_| {}).expect("open");
        assert!(!f.created);
        // Far more than a pipe holds: the excess is dropped, not blocked on.
        for _ in 0..10_000 {
            f.write_line("INSTANCE \"VI_1\" MASTER 100");
        }
        drop(f);
        assert!(fifo.exists(), "a FIFO we did not create stays");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
