//! An nginx serving test pages on loopback.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;

use crate::process::{require, wait_tcp, ProcGuard, TempDir};

/// An nginx running the `server { }` blocks given to [`Nginx::start`]
/// (plain or TLS); stopped on drop.
#[derive(Debug)]
pub struct Nginx {
    /// The nginx process.
    pub guard: ProcGuard,
    /// Its directory: configuration, pid file, logs, temporary files.
    pub dir: TempDir,
    conf: PathBuf,
    wait_on: SocketAddr,
}

impl Nginx {
    /// Starts nginx in `dir` with the `server { }` blocks `servers` and
    /// waits until `wait_on` accepts connections.
    pub fn start(dir: TempDir, servers: &str, wait_on: SocketAddr) -> Self {
        let nginx = require("nginx");
        let d = dir.0.display();
        let conf = dir.path("nginx.conf");
        let text = format!(
            "daemon off;\nmaster_process off;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
             events {{ worker_connections 256; }}\n\
             http {{\n  access_log off;\n  client_body_temp_path {d}/cb; proxy_temp_path {d}/pt;\n  \
             fastcgi_temp_path {d}/ft; uwsgi_temp_path {d}/ut; scgi_temp_path {d}/st;\n  \
             default_type application/octet-stream;\n{servers}\n}}\n"
        );
        std::fs::write(&conf, text).expect("write nginx.conf");
        let mut n = Self {
            guard: ProcGuard::spawn(
                "nginx",
                Command::new(&nginx)
                    .arg("-c")
                    .arg(&conf)
                    .arg("-p")
                    .arg(&dir.0),
            ),
            dir,
            conf,
            wait_on,
        };
        wait_tcp(wait_on, &mut n.guard);
        n
    }

    /// Starts it again after a stop, with the same configuration.
    pub fn restart(&mut self) {
        self.guard.stop();
        let nginx = require("nginx");
        self.guard = ProcGuard::spawn(
            "nginx",
            Command::new(&nginx)
                .arg("-c")
                .arg(&self.conf)
                .arg("-p")
                .arg(&self.dir.0),
        );
        wait_tcp(self.wait_on, &mut self.guard);
    }
}
