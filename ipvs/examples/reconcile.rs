//! Keeps the kernel's IPVS table in line with a desired one, as a program
//! that owns a load balancer's configuration does: build the desired table,
//! read the kernel's, diff, apply, and check that nothing is left to do.
//!
//! The program owns the services on 192.0.2.0/24 (TEST-NET-1) and leaves
//! every other service alone. `--remove` makes its desired table empty,
//! which deletes its services again.
//!
//! ```text
//! sudo cargo run -p linux-ipvs --example reconcile [-- --remove]
//! ```
//! Needs root and a kernel with IPVS (the `ip_vs` module); it changes the
//! table of the current network namespace, so try it in a scratch one
//! (`ip netns add t; ip netns exec t cargo run ...`).

use std::net::IpAddr;
use std::process::ExitCode;

use ipvs::ipvsadm::format_save;
use ipvs::{diff, Destination, Error, Forward, Ipvs, Reason, Service, ServiceKey, VirtualServer};

/// The services this program owns: virtual addresses in 192.0.2.0/24.
fn owned(key: &ServiceKey) -> bool {
    matches!(key, ServiceKey::Addr { addr, .. }
        if matches!(addr.ip(), IpAddr::V4(ip) if ip.octets()[..3] == [192, 0, 2]))
}

/// Web on TCP port 80 over two NAT backends, DNS on UDP port 53 over one
/// direct-routing backend.
fn desired() -> Vec<VirtualServer> {
    let web = ServiceKey::tcp("192.0.2.10:80".parse().expect("literal address"));
    let dns = ServiceKey::udp("192.0.2.10:53".parse().expect("literal address"));
    let backend = |addr: &str, forward, weight| {
        let mut d = Destination::new(addr.parse().expect("literal address"), forward);
        d.weight = weight;
        d
    };
    vec![
        VirtualServer {
            service: Service::new(web, "wlc"),
            dests: vec![
                backend("198.51.100.1:8080", Forward::Masq, 2),
                backend("198.51.100.2:8080", Forward::Masq, 1),
            ],
        },
        VirtualServer {
            service: Service::new(dns, "rr"),
            dests: vec![backend("198.51.100.3:53", Forward::DirectRoute, 1)],
        },
    ]
}

/// One reconciliation: diff against the owned part of the kernel's table,
/// apply, report each operation as an ipvsadm rule. Returns how many the
/// kernel refused.
fn reconcile(ipvs: &mut Ipvs, want: &[VirtualServer]) -> Result<usize, Error> {
    let mut current = ipvs.virtual_servers()?;
    current.retain(|v| owned(&v.service.key));
    let ops = diff(want, &current);
    println!("{} operation(s):", ops.len());
    let mut refused = 0;
    for (op, result) in ops.iter().zip(ipvs.apply(&ops)?) {
        match result {
            Ok(()) => println!("  ok      {op}"),
            Err(e) => {
                refused += 1;
                println!("  refused {op}: {e}");
            }
        }
    }
    Ok(refused)
}

fn run(remove: bool) -> Result<ExitCode, Error> {
    let want = if remove { Vec::new() } else { desired() };
    let mut ipvs = Ipvs::connect()?;
    if reconcile(&mut ipvs, &want)? > 0 {
        return Ok(ExitCode::FAILURE);
    }
    // A second pass finds nothing to do: the kernel now holds the table.
    let mut now = ipvs.virtual_servers()?;
    now.retain(|v| owned(&v.service.key));
    let left = diff(&want, &now).len();
    println!("in sync: {} operation(s) left", left);
    print!("owned services (ipvsadm -S -n):\n{}", format_save(&now));
    Ok(if left == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn main() -> ExitCode {
    let remove = std::env::args().skip(1).any(|a| a == "--remove");
    match run(remove) {
        Ok(code) => code,
        Err(Error::Kernel(e)) if e.reason() == Reason::ModuleNotLoaded => {
            eprintln!("reconcile: this kernel has no IPVS (the ip_vs module is not loaded or not built): {e}");
            ExitCode::from(2)
        }
        Err(Error::Kernel(e)) if e.reason() == Reason::PermissionDenied => {
            eprintln!("reconcile: changing the IPVS table needs root (CAP_NET_ADMIN): {e}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("reconcile: {e}");
            ExitCode::FAILURE
        }
    }
}
