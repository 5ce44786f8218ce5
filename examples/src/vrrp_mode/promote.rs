//! `promote_secondaries`: as keepalived 2.2.7 does for an instance that
//! asks for it, the interface's IPv4 `promote_secondaries` is set to 1 at
//! start (if it is 0), so that removing a virtual address that is the
//! primary one of its subnet promotes the next address instead of
//! deleting them all; at stop it is set back to 0 on the interfaces
//! changed here.

use tracing::warn;
use vrrp::linux::sysctl::{ipv4_conf, switch, SwitchError};

/// The interfaces whose `promote_secondaries` was set here.
#[derive(Debug, Default)]
pub struct Promoted {
    changed: Vec<String>,
}

impl Promoted {
    /// Sets `promote_secondaries` on each of `interfaces` that lacks it.
    pub fn apply<'a>(&mut self, interfaces: impl IntoIterator<Item = &'a str>) {
        for ifname in interfaces {
            if self.changed.iter().any(|i| i == ifname) {
                continue;
            }
            let Some(path) = ipv4_conf(ifname, KEY) else {
                continue;
            };
            match switch(&path, "0", "1") {
                Ok(true) => self.changed.push(ifname.to_owned()),
                Ok(false) => {}
                Err(SwitchError::Write(e)) => {
                    warn!("Unable to set promote_secondaries on {ifname}: {e}")
                }
                Err(SwitchError::Read(e)) => {
                    warn!("Unable to read promote_secondaries of {ifname}: {e}")
                }
            }
        }
    }

    /// Sets it back to 0 where [`Promoted::apply`] set it.
    pub fn restore(&mut self) {
        for ifname in self.changed.drain(..) {
            let Some(path) = ipv4_conf(&ifname, KEY) else {
                continue;
            };
            if let Err(e) = std::fs::write(&path, "0") {
                warn!("Unable to reset promote_secondaries on {ifname}: {e}");
            }
        }
    }
}

const KEY: &str = "promote_secondaries";
