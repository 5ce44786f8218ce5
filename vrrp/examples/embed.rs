//! Virtual routers on a real interface inside your own tokio app.
//!
//! `cargo run -p vrrp --features linux,tokio --example embed -- IFACE [VIP]`
//! (as root): VRID 51 on IFACE for VIP (default 192.0.2.100), keepalived's
//! defaults otherwise. Ctrl-C stops gracefully: a master sends a priority-0
//! advert and removes the VIP.

use std::net::Ipv4Addr;

use vrrp::linux::driver::{Driver, DriverEvent, RouterSpec, Setup, VirtualAddress};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let interface = args.next().ok_or("usage: embed IFACE [VIP]")?;
    let vip: Ipv4Addr = args.next().as_deref().unwrap_or("192.0.2.100").parse()?;

    // The advert source is the interface's first address (UNSPECIFIED).
    let router = RouterSpec {
        config: vrrp::Config::new("VI_1", 51, 100, Ipv4Addr::UNSPECIFIED),
        interface,
        addresses: vec![VirtualAddress::host(vip)],
        excluded: Vec::new(),
        routes: Vec::new(),
        rules: Vec::new(),
        use_vmac: false,
        vmac: Default::default(),
    };
    let setup = Setup {
        routers: vec![router],
        ..Setup::default()
    };
    let (driver, handle, mut events) = Driver::new(setup)?;
    let running = tokio::spawn(driver.run());

    let mut ctrl_c = std::pin::pin!(tokio::signal::ctrl_c());
    let mut stopping = false;
    loop {
        tokio::select! {
            _ = &mut ctrl_c, if !stopping => {
                stopping = true;
                handle.shutdown().await;
            }
            event = events.recv() => match event {
                Some(DriverEvent::Router { name, event, .. }) => println!("({name}) {event:?}"),
                Some(DriverEvent::Failed { op, error }) => eprintln!("{op}: {error}"),
                Some(_) => {}
                None => break, // stopped; every event of the stop was printed
            },
        }
    }
    let counters = running.await?;
    println!("stopped after {} adverts", counters.datagrams_sent);
    Ok(())
}
