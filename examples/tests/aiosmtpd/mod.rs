//! An aiosmtpd (Debian's `python3-aiosmtpd`) on the host's 127.0.0.1 at
//! a free port that keeps every message it receives, with its envelope
//! and HELO name, for tests that compare keepalived's mails.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PYTHON: &str = "/usr/bin/python3";

/// Writes each message to DIR/NNN.eml (renamed into place when
/// complete) as "helo H\nfrom F\nto T...\n\n" and the DATA bytes; once
/// listening, writes the port to READY.
const SERVER: &str = r#"
import asyncio, os, sys
from aiosmtpd.smtp import SMTP

out, ready = sys.argv[1], sys.argv[2]

class Keep:
    n = 0
    async def handle_DATA(self, server, session, envelope):
        Keep.n += 1
        head = "helo %s\nfrom %s\nto %s\n\n" % (
            session.host_name, envelope.mail_from, " ".join(envelope.rcpt_tos))
        tmp = os.path.join(out, ".%03d" % Keep.n)
        with open(tmp, "wb") as f:
            f.write(head.encode() + envelope.original_content)
        os.rename(tmp, os.path.join(out, "%03d.eml" % Keep.n))
        return "250 OK"

async def main():
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(Keep()), "127.0.0.1", 0)
    with open(ready + ".tmp", "w") as f:
        f.write(str(server.sockets[0].getsockname()[1]))
    os.rename(ready + ".tmp", ready)
    await server.serve_forever()

asyncio.run(main())
"#;

/// The running server; stopped and its files removed when dropped.
pub(crate) struct Smtpd {
    child: Child,
    dir: PathBuf,
    /// The port it listens on (127.0.0.1).
    pub(crate) port: u16,
}

impl Smtpd {
    /// Starts the server with its files in `dir` (created, then removed
    /// on drop); panics if it does not listen within a generous deadline.
    pub(crate) fn start(dir: &Path) -> Smtpd {
        std::fs::create_dir_all(dir.join("mails")).unwrap();
        let (script, ready) = (dir.join("smtpd.py"), dir.join("ready"));
        std::fs::write(&script, SERVER).unwrap();
        let log = std::fs::File::create(dir.join("smtpd.log")).unwrap();
        let child = Command::new(PYTHON)
            .arg(&script)
            .arg(dir.join("mails"))
            .arg(&ready)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("cannot start /usr/bin/python3 (install python3-aiosmtpd)");
        let mut smtpd = Smtpd {
            child,
            dir: dir.to_owned(),
            port: 0,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        smtpd.port = loop {
            if let Some(port) = std::fs::read_to_string(&ready)
                .ok()
                .and_then(|p| p.parse().ok())
            {
                break port;
            }
            let exited = smtpd.child.try_wait().unwrap();
            if exited.is_some() || Instant::now() > deadline {
                let log = std::fs::read_to_string(dir.join("smtpd.log")).unwrap_or_default();
                panic!("aiosmtpd did not start ({exited:?}):\n{log}");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        smtpd
    }

    /// The messages received so far, in order of arrival.
    pub(crate) fn mails(&self) -> Vec<String> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.dir.join("mails"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .collect();
        names.sort();
        names
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect()
    }
}

impl Drop for Smtpd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
