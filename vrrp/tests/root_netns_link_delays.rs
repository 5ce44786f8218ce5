//! The driver's `interface_up_down_delays` ([`LinkDelay`]) and its FAULT
//! for an interface without an IPv4 address left, in a namespace (needs
//! root and `ip`). Compared with keepalived 2.2.7 by keepalived-lite's
//! `root_netns_ifdelays_twin`; here the crate's own events are checked.
#![cfg(feature = "tokio")]
// Tests stop on the first unexpected value; `expect` names what was expected.
#![allow(clippy::unwrap_used)]

mod netns_lab;

use std::net::Ipv4Addr;
use std::time::Duration;

use netns_lab::driver::{one, router, Running, WAIT};
use netns_lab::{ip, require_root, veth, Netns};
use vrrp::event::{Event, State};
use vrrp::linux::driver::{DriverEvent, LinkDelay, Setup, VirtualAddress};
use vrrp::mux::RouterId;
use vrrp::Config;

fn setup(advert: u8, delays: Vec<LinkDelay>) -> Setup {
    let mut config = Config::new("VI_1", 51, 150, Ipv4Addr::UNSPECIFIED);
    config.advert_interval_secs = advert;
    let vip = VirtualAddress::host(Ipv4Addr::new(10, 88, 0, 100));
    Setup {
        link_delays: delays,
        ..one(router(config, "vx0", vec![vip]))
    }
}

impl Running {
    fn wait_state(&self, state: State) {
        self.wait(&format!("entering {state:?}"), |e| {
            matches!(e, DriverEvent::Router { id: RouterId(0), event: Event::StateChanged { to, .. }, .. }
                if *to == state)
        });
    }

    /// The link states reported for `vx0` so far.
    fn link_reports(&self) -> Vec<bool> {
        (self.seen().iter())
            .filter_map(|e| match e {
                DriverEvent::Interface { link } if link.name == "vx0" => {
                    Some(link.is_operational())
                }
                _ => None,
            })
            .collect()
    }
}

fn is_delayed(e: &DriverEvent) -> bool {
    matches!(e, DriverEvent::LinkDelayed { interface, .. } if interface == "vx0")
}

#[test]
fn root_netns_a_down_waits_for_its_delay_and_a_flap_within_it_is_not_acted_on() {
    require_root();
    let ns = Netns::new("ifdl").unwrap();
    veth(&ns, "vx0", "192.0.2.1");
    let delay = LinkDelay {
        interface: "vx0".into(),
        // Longer than (3 - 1) x 5 s: shortened to 10 s less 5 s / 256.
        down: Duration::from_secs(30),
        up: Duration::ZERO,
    };
    let d = Running::start(&ns, setup(5, vec![delay]));
    d.wait_state(State::Backup);

    ip(&ns, &["link", "set", "vx0", "down"]);
    let e = d.wait("a delayed down", is_delayed);
    let DriverEvent::LinkDelayed {
        from, to, delay, ..
    } = e
    else {
        unreachable!("is_delayed matched it");
    };
    assert_eq!(delay, Duration::from_micros(9_980_469));
    // IFF_UP | IFF_RUNNING set before, neither after.
    assert_eq!((from & 0x41, to & 0x41), (0x41, 0));
    ip(&ns, &["link", "set", "vx0", "up"]);
    // Phase-locked to the kernel: the link has its carrier again.
    netns_lab::wait_for("vx0 up again", || {
        let v = ns.ip_json(&["link", "show", "dev", "vx0"]).ok()?;
        let flags = v[0]["flags"].as_array()?.iter().any(|f| f == "LOWER_UP");
        flags.then_some(())
    });

    // Down for good: the second wait ends in the down report and FAULT.
    ip(&ns, &["link", "set", "vx0", "down"]);
    d.wait("a second delayed down", is_delayed);
    d.wait_state(State::Fault);
    // Up (no up delay): acted on at once.
    ip(&ns, &["link", "set", "vx0", "up"]);
    d.wait_state(State::Backup);
    // The start's report, the one down acted on, the up.
    assert_eq!(d.link_reports(), [true, false, true], "{:#?}", d.seen());
}

#[test]
fn root_netns_the_last_ipv4_address_going_is_a_fault_until_one_returns() {
    require_root();
    let ns = Netns::new("ifad").unwrap();
    veth(&ns, "vx0", "192.0.2.1");
    let d = Running::start(&ns, setup(1, Vec::new()));
    d.wait_state(State::Master);
    // Another address, then the source's loss: the master advertises
    // from the other one, in place.
    ip(&ns, &["addr", "add", "198.51.100.1/24", "dev", "vx0"]);
    ip(&ns, &["addr", "del", "192.0.2.1/24", "dev", "vx0"]);
    let filter = "ip proto 112 and src host 198.51.100.1";
    let (dump, adverts) = netns_lab::tcpdump(&ns, "vx0p", 1, filter);
    adverts
        .recv_timeout(WAIT)
        .expect("an advert from the address left");
    drop(dump);
    // The last one going: FAULT until an address comes.
    ip(&ns, &["addr", "del", "198.51.100.1/24", "dev", "vx0"]);
    d.wait_state(State::Fault);
    ip(&ns, &["addr", "add", "192.0.2.7/24", "dev", "vx0"]);
    d.wait_state(State::Backup);
    let faults = (d.seen().iter())
        .filter(|e| {
            matches!(
                e,
                DriverEvent::Router {
                    event: Event::StateChanged {
                        to: State::Fault,
                        ..
                    },
                    ..
                }
            )
        })
        .count();
    assert_eq!(faults, 1, "{:#?}", d.seen());
}
