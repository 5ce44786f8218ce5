//! A small network-namespace lab for tests and demos.
//!
//! [`Netns`] is one namespace with a run-unique name (pid and a per-process
//! counter, so parallel runs never collide): `ip -n` commands in it,
//! programs run inside it, closures on threads that entered it (to open
//! sockets there). [`Lab`] builds a LAN from them: a bridge in a switch
//! namespace and one namespace per node, each with an `eth0` veth on the
//! bridge and an IPv4 address; processes spawned in a node are killed by
//! pid on drop. Everything is torn down on drop, even when a test fails.
//!
//! Needs root and iproute2's `ip`; [`require_root`] says so clearly. Used
//! by the vrrp crate's `root_netns_*` tests and keepalived-lite's demo.

use std::fs::File;
use std::io;
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::sched::{setns, CloneFlags};

static COUNTER: AtomicU32 = AtomicU32::new(0);

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

/// Runs `cmd` to completion; its stdout, or an error carrying its stderr.
fn run(cmd: &mut Command) -> io::Result<String> {
    let out = cmd.output()?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(io::Error::other(format!(
            "{cmd:?}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

/// A network namespace with `lo` up. Dropping it kills (by pid) whatever
/// still runs inside, then deletes it.
#[derive(Debug)]
pub struct Netns {
    name: String,
}

impl Netns {
    /// Creates a namespace named `kl{pid}x{n}{tag}`.
    pub fn new(tag: &str) -> io::Result<Netns> {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!("kl{}x{n}{tag}", std::process::id());
        run(Command::new("ip").args(["netns", "add", &name]))?;
        // Owned from here on, so Drop deletes it if a later step fails.
        let ns = Netns { name };
        ns.ip(&["link", "set", "lo", "up"])?;
        Ok(ns)
    }

    /// The namespace's (run-unique) name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs `ip -n NS ARGS`; returns its stdout.
    pub fn ip(&self, args: &[&str]) -> io::Result<String> {
        run(Command::new("ip").args(["-n", &self.name]).args(args))
    }

    /// Runs `ip -j -n NS ARGS` and parses its JSON output.
    pub fn ip_json(&self, args: &[&str]) -> io::Result<serde_json::Value> {
        let out = run(Command::new("ip").args(["-j", "-n", &self.name]).args(args))?;
        serde_json::from_str(&out).map_err(|e| io::Error::other(format!("ip -j {args:?}: {e}")))
    }

    /// A `Command` that runs `program` inside the namespace
    /// (`ip netns exec NS program`, which execs, so the pid is the program's).
    pub fn command(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name, program]);
        c
    }

    /// Runs `f` on a thread that has entered the namespace; sockets it
    /// opens stay in the namespace afterwards.
    pub fn enter<R, F>(&self, f: F) -> io::Result<R>
    where
        F: FnOnce() -> R + Send,
        R: Send,
    {
        let file = self.open()?;
        std::thread::scope(|s| {
            s.spawn(move || {
                setns(&file, CloneFlags::CLONE_NEWNET).map_err(io::Error::from)?;
                Ok(f())
            })
            .join()
            .map_err(|_| io::Error::other("thread in namespace panicked"))?
        })
    }

    /// Spawns a thread that enters the namespace and runs `f`.
    pub fn spawn_thread<R, F>(&self, f: F) -> io::Result<JoinHandle<io::Result<R>>>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let file = self.open()?;
        Ok(std::thread::spawn(move || {
            setns(&file, CloneFlags::CLONE_NEWNET).map_err(io::Error::from)?;
            Ok(f())
        }))
    }

    fn open(&self) -> io::Result<File> {
        File::open(format!("/run/netns/{}", self.name))
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        // Anything still inside (e.g. a daemon's own children), by pid.
        if let Ok(out) = Command::new("ip")
            .args(["netns", "pids", &self.name])
            .output()
        {
            for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                let _ = Command::new("kill").args(["-KILL", pid]).status();
            }
        }
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .stderr(Stdio::null())
            .status();
    }
}

/// One node of a [`Lab`]: a namespace with `eth0` on the lab's bridge.
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
    // Dropped in this order, after `Drop::drop` stopped the children.
    nodes: Vec<(Node, Netns)>,
    switch: Netns,
    children: Vec<Child>,
}

impl Lab {
    /// Creates the switch namespace with bridge `br0`.
    pub fn new() -> io::Result<Lab> {
        let switch = Netns::new("-sw")?;
        switch.ip(&["link", "add", "br0", "type", "bridge"])?;
        switch.ip(&["link", "set", "br0", "up"])?;
        Ok(Lab {
            nodes: Vec::new(),
            switch,
            children: Vec::new(),
        })
    }

    /// Adds a node namespace with `eth0` = `addr/prefix_len` on the bridge
    /// and `lo` up.
    pub fn add_node(&mut self, name: &str, addr: Ipv4Addr, prefix_len: u8) -> io::Result<&Node> {
        let ns = Netns::new(&format!("-{name}"))?;
        let node = Node {
            name: name.to_owned(),
            ns: ns.name().to_owned(),
            addr,
        };
        let port = format!("p{}", self.nodes.len());
        self.nodes.push((node, ns));
        let (_, ns) = &self.nodes[self.nodes.len() - 1];
        let sw = &self.switch;
        sw.ip(&[
            "link", "add", &port, "type", "veth", "peer", "name", "eth0", "netns", &ns.name,
        ])?;
        sw.ip(&["link", "set", &port, "master", "br0", "up"])?;
        ns.ip(&[
            "addr",
            "add",
            &format!("{addr}/{prefix_len}"),
            "dev",
            "eth0",
        ])?;
        ns.ip(&["link", "set", "eth0", "up"])?;
        Ok(self.node(name))
    }

    /// Turns the bridge's calls into iptables, ip6tables and arptables
    /// (`net.bridge.bridge-nf-call-*` in the switch namespace) on or off.
    /// They are on by default and cost a good part of a bridged packet's
    /// path, which matters for floods; nothing in a lab filters there.
    pub fn set_bridge_netfilter(&self, on: bool) -> io::Result<()> {
        let value = if on { "1" } else { "0" };
        for table in ["iptables", "ip6tables", "arptables"] {
            let key = format!("net.bridge.bridge-nf-call-{table}={value}");
            run(self.switch.command("sysctl").args(["-q", "-w", &key]))?;
        }
        Ok(())
    }

    fn find(&self, name: &str) -> &(Node, Netns) {
        match self.nodes.iter().find(|(n, _)| n.name == name) {
            Some(n) => n,
            None => panic!("no node {name} in this lab"),
        }
    }

    /// The node called `name`. Panics if there is none (a test bug).
    pub fn node(&self, name: &str) -> &Node {
        &self.find(name).0
    }

    /// The namespace of node `name`. Panics if there is none (a test bug).
    pub fn netns(&self, name: &str) -> &Netns {
        &self.find(name).1
    }

    /// A `Command` that runs `program` inside node `name`.
    pub fn command(&self, name: &str, program: &str) -> Command {
        self.netns(name).command(program)
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

    /// Spawns keepalived (or keepalived-lite, `program`) in node `name` on
    /// the VRRP half of `conf` in the foreground, logging to `log`, with
    /// pid files of its own in `dir` (NAME.pid, NAME.vrrp.pid): both
    /// daemons claim `/run/keepalived.pid` otherwise, which admits one.
    pub fn spawn_vrrp_daemon(
        &mut self,
        name: &str,
        program: &str,
        conf: &Path,
        dir: &Path,
        log: &Path,
    ) -> io::Result<u32> {
        let pid_file = |f: &str| dir.join(format!("{name}.{f}")).display().to_string();
        let (main_pid, vrrp_pid) = (pid_file("pid"), pid_file("vrrp.pid"));
        let conf = conf.display().to_string();
        let args = [
            "-P", "-n", "-l", "-f", &conf, "-p", &main_pid, "-r", &vrrp_pid,
        ];
        self.spawn(name, program, &args, log)
    }

    /// [`Lab::spawn_vrrp_daemon`] for keepalived-lite (`program`): also a
    /// control socket of its own, `dir/NAME.sock` (every keepalived-lite
    /// claims `/run/keepalived-lite.sock` otherwise).
    pub fn spawn_lite_daemon(
        &mut self,
        name: &str,
        program: &str,
        conf: &Path,
        dir: &Path,
        log: &Path,
    ) -> io::Result<u32> {
        let file = |f: &str| dir.join(format!("{name}.{f}")).display().to_string();
        let (main_pid, vrrp_pid, sock) = (file("pid"), file("vrrp.pid"), file("sock"));
        let conf = conf.display().to_string();
        let args = [
            "-P",
            "-n",
            "-l",
            "-f",
            &conf,
            "-p",
            &main_pid,
            "-r",
            &vrrp_pid,
            "--control-socket",
            &sock,
        ];
        self.spawn(name, program, &args, log)
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
        self.netns(name).enter(f)
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
        // Our own children first, gracefully and reaped; then the fields'
        // drops kill anything left in the namespaces and delete them.
        for mut c in self.children.drain(..) {
            stop_child(&mut c, Duration::from_secs(2));
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
