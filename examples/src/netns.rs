//! A small network-namespace lab for tests and demos: a bridge in a switch
//! namespace and one namespace per node, each with an `eth0` veth on the
//! bridge and an IPv4 address. Commands run inside a node, processes are
//! spawned there and killed by pid, a closure can run in a thread that has
//! entered a node (to open sockets there). Names include the pid and a
//! per-process counter so parallel runs never collide; everything is torn
//! down on drop (processes killed by pid first), even when a test fails.
//!
//! Needs root and iproute2's `ip`; [`require_root`] says so clearly.

use std::fs::File;
use std::io;
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use nix::sched::{setns, CloneFlags};

static LABS: AtomicU32 = AtomicU32::new(0);

/// Panics with a clear message unless we are root and `ip` works.
pub fn require_root() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "this test needs root: it creates network namespaces"
    );
    require_program("ip", &["-V"]);
}

/// Panics with a clear message unless `program args` runs successfully.
pub fn require_program(program: &str, args: &[&str]) {
    let ok = Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "this test needs `{program}` (run .ci/install-deps)");
}

/// One node: a namespace with `eth0` on the lab's bridge.
#[derive(Debug, Clone)]
pub struct Node {
    /// The short name given to [`Lab::add_node`].
    pub name: String,
    /// The namespace's (run-unique) name.
    pub ns: String,
    /// The address of `eth0`.
    pub addr: Ipv4Addr,
}

/// A bridge and its nodes; dropping it tears everything down.
#[derive(Debug)]
pub struct Lab {
    prefix: String,
    switch: String,
    nodes: Vec<Node>,
    children: Vec<Child>,
}

fn ip(args: &[&str]) -> io::Result<()> {
    let out = Command::new("ip").args(args).output()?;
    if out.status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

impl Lab {
    /// Creates the switch namespace with bridge `br0`.
    pub fn new() -> io::Result<Lab> {
        let n = LABS.fetch_add(1, Ordering::Relaxed);
        let prefix = format!("kl{}x{n}", std::process::id());
        let switch = format!("{prefix}-sw");
        let lab = Lab {
            prefix,
            switch: switch.clone(),
            nodes: Vec::new(),
            children: Vec::new(),
        };
        // Created before any fallible step so Drop deletes it.
        ip(&["netns", "add", &switch])?;
        ip(&["-n", &switch, "link", "add", "br0", "type", "bridge"])?;
        ip(&["-n", &switch, "link", "set", "br0", "up"])?;
        Ok(lab)
    }

    /// Adds a node namespace with `eth0` = `addr/prefix_len` on the bridge
    /// and `lo` up.
    pub fn add_node(&mut self, name: &str, addr: Ipv4Addr, prefix_len: u8) -> io::Result<&Node> {
        let ns = format!("{}-{name}", self.prefix);
        let port = format!("p{}", self.nodes.len());
        ip(&["netns", "add", &ns])?;
        self.nodes.push(Node {
            name: name.to_owned(),
            ns: ns.clone(),
            addr,
        });
        let sw = self.switch.as_str();
        ip(&[
            "-n", sw, "link", "add", &port, "type", "veth", "peer", "name", "eth0", "netns", &ns,
        ])?;
        ip(&["-n", sw, "link", "set", &port, "master", "br0", "up"])?;
        ip(&[
            "-n",
            &ns,
            "addr",
            "add",
            &format!("{addr}/{prefix_len}"),
            "dev",
            "eth0",
        ])?;
        ip(&["-n", &ns, "link", "set", "eth0", "up"])?;
        ip(&["-n", &ns, "link", "set", "lo", "up"])?;
        Ok(self.node(name))
    }

    /// The node called `name`. Panics if there is none (a test bug).
    pub fn node(&self, name: &str) -> &Node {
        match self.nodes.iter().find(|n| n.name == name) {
            Some(n) => n,
            None => panic!("no node {name} in this lab"),
        }
    }

    /// A `Command` that runs `program` inside node `name`
    /// (`ip netns exec NS program`, which execs, so the pid is the program's).
    pub fn command(&self, name: &str, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.node(name).ns, program]);
        c
    }

    /// Runs `program args` in node `name` to completion.
    pub fn run(&self, name: &str, program: &str, args: &[&str]) -> io::Result<Output> {
        self.command(name, program).args(args).output()
    }

    /// Spawns `program args` in node `name`, stdout and stderr appended to
    /// `log`; returns its pid. The lab kills it on drop if still running.
    pub fn spawn(
        &mut self,
        name: &str,
        program: &str,
        args: &[&str],
        log: &Path,
    ) -> io::Result<u32> {
        let out = File::options().create(true).append(true).open(log)?;
        let err = out.try_clone()?;
        let child = self
            .command(name, program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()?;
        let pid = child.id();
        self.children.push(child);
        Ok(pid)
    }

    /// Sends `signal` (a name such as "TERM" or "KILL") to `pid`.
    pub fn signal(&self, pid: u32, signal: &str) -> io::Result<()> {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(pid.to_string())
            .status()?;
        if status.success() {
            Ok(())
        } else {
            Err(io::Error::other(format!("kill -{signal} {pid} failed")))
        }
    }

    /// Stops a spawned process: SIGTERM, up to `grace` to exit, then SIGKILL.
    pub fn stop(&mut self, pid: u32, grace: Duration) {
        if let Some(i) = self.children.iter().position(|c| c.id() == pid) {
            let mut child = self.children.swap_remove(i);
            stop_child(&mut child, grace);
        }
    }

    /// Runs `f` on a thread that has entered node `name`'s network
    /// namespace; sockets it opens stay in that namespace.
    pub fn enter<R, F>(&self, name: &str, f: F) -> io::Result<R>
    where
        F: FnOnce() -> R + Send,
        R: Send,
    {
        let path = format!("/run/netns/{}", self.node(name).ns);
        let file = File::open(&path)?;
        std::thread::scope(|s| {
            s.spawn(move || {
                setns(&file, CloneFlags::CLONE_NEWNET).map_err(io::Error::from)?;
                Ok(f())
            })
            .join()
            .map_err(|_| io::Error::other("thread in namespace panicked"))?
        })
    }
}

fn stop_child(child: &mut Child, grace: Duration) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .stderr(Stdio::null())
        .status();
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

impl Drop for Lab {
    fn drop(&mut self) {
        for mut c in self.children.drain(..) {
            stop_child(&mut c, Duration::from_secs(2));
        }
        let all = self
            .nodes
            .iter()
            .map(|n| n.ns.clone())
            .chain([self.switch.clone()]);
        for ns in all {
            // Anything else still inside (e.g. a daemon's own children).
            if let Ok(out) = Command::new("ip").args(["netns", "pids", &ns]).output() {
                for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                    let _ = Command::new("kill").args(["-KILL", pid]).status();
                }
            }
            let _ = Command::new("ip")
                .args(["netns", "del", &ns])
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// Waits until a line containing `needle` appears in the file at `path`;
/// returns that line, or `None` once `timeout` has passed.
pub fn wait_for_line(path: &Path, needle: &str, timeout: Duration) -> Option<String> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(text) = std::fs::read_to_string(path) {
            if let Some(l) = text.lines().find(|l| l.contains(needle)) {
                return Some(l.to_owned());
            }
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
