//! One driver running 1,000 routers (4 interfaces x 250 VRIDs, PASS,
//! advert_int 1), all becoming master; prints the CPU time, RSS and open
//! fds of a measurement window. Run as root inside a scratch namespace
//! holding veth interfaces `v0a`..`v3a` with an IPv4 address each:
//!
//! ```sh
//! cargo build --release -p vrrp --features linux,tokio --example scale_probe
//! ip netns add probe && ip -n probe link set lo up
//! for i in 0 1 2 3; do
//!   ip -n probe link add v${i}a type veth peer name v${i}b
//!   ip -n probe link set v${i}a up; ip -n probe link set v${i}b up
//!   ip -n probe addr add 10.10$i.0.1/16 dev v${i}a
//! done
//! ip netns exec probe ./target/release/examples/scale_probe 20 spread
//! ip netns del probe
//! ```
//!
//! `aligned` (the default): every router has priority 100, so all advert
//! timers expire together; `spread`: priorities 1..=250, so the routers
//! become master at 250 different instants and their timers stay apart.

use std::net::Ipv4Addr;
use std::time::Duration;

use vrrp::event::State;
use vrrp::linux::driver::{Driver, RouterSpec, Setup, VirtualAddress};

/// User + system CPU seconds of this process.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit(')').next()?.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i)?.parse::<f64>().ok();
    Some((ticks(11)? + ticks(12)?) / 100.0)
}

fn rss() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS"))
        .map(str::to_owned)
}

fn router(i: u8, vrid: u8, spread: bool) -> RouterSpec {
    let priority = if spread { vrid.min(254) } else { 100 };
    let mut config = vrrp::Config::new(
        &format!("VI_{i}_{vrid}"),
        vrid,
        priority,
        Ipv4Addr::UNSPECIFIED,
    );
    config.authentication = vrrp::auth::AuthConfig::pass(b"secret");
    RouterSpec {
        config,
        interface: format!("v{i}a"),
        addresses: vec![VirtualAddress::host(Ipv4Addr::new(10, 100 + i, 1, vrid))],
        excluded: Vec::new(),
        routes: Vec::new(),
        rules: Vec::new(),
        use_vmac: false,
        vmac: Default::default(),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let secs: u64 = args.next().as_deref().unwrap_or("20").parse()?;
    let spread = args.next().as_deref() == Some("spread");
    let routers = (0..4).flat_map(|i| (1..=250).map(move |v| router(i, v, spread)));
    let setup = Setup {
        routers: routers.collect(),
        ..Setup::default()
    };
    let (driver, handle, mut events) = Driver::new(setup)?;
    tokio::spawn(async move { while events.recv().await.is_some() {} });
    let running = tokio::spawn(driver.run());

    // Master_Down_Interval (3.6 s at most) plus a margin.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let before = cpu_seconds().ok_or("no /proc/self/stat")?;
    tokio::time::sleep(Duration::from_secs(secs)).await;
    let cpu = cpu_seconds().ok_or("no /proc/self/stat")? - before;
    let fds = std::fs::read_dir("/proc/self/fd")?.count();
    let snapshot = handle.snapshot().await.ok_or("driver stopped")?;
    let masters = snapshot
        .routers
        .iter()
        .filter(|r| r.state == State::Master)
        .count();
    println!(
        "masters {masters}, CPU {cpu:.3} s in {secs} s, {}, {fds} fds, {} raw + {} GARP sockets",
        rss().unwrap_or_default(),
        snapshot.raw_sockets,
        snapshot.garp_sockets
    );
    handle.shutdown().await;
    running.await?;
    Ok(())
}
