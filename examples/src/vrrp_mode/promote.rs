//! `promote_secondaries`: as keepalived 2.2.7 does for an instance that
//! asks for it, the interface's IPv4 `promote_secondaries` is set to 1 at
//! start (if it is 0), so that removing a virtual address that is the
//! primary one of its subnet promotes the next address instead of
//! deleting them all; at stop it is set back to 0 on the interfaces
//! changed here.

use std::path::PathBuf;

use tracing::warn;

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
            let Some(path) = path(ifname) else { continue };
            match std::fs::read_to_string(&path) {
                Ok(v) if v.trim() == "0" => match std::fs::write(&path, "1") {
                    Ok(()) => self.changed.push(ifname.to_owned()),
                    Err(e) => warn!("Unable to set promote_secondaries on {ifname}: {e}"),
                },
                Ok(_) => {}
                Err(e) => warn!("Unable to read promote_secondaries of {ifname}: {e}"),
            }
        }
    }

    /// Sets it back to 0 where [`Promoted::apply`] set it.
    pub fn restore(&mut self) {
        for ifname in self.changed.drain(..) {
            let Some(path) = path(&ifname) else { continue };
            if let Err(e) = std::fs::write(&path, "0") {
                warn!("Unable to reset promote_secondaries on {ifname}: {e}");
            }
        }
    }
}

/// The sysctl file of an interface; `None` for a name that is not one.
fn path(ifname: &str) -> Option<PathBuf> {
    let bad = ifname.is_empty() || ifname.contains('/') || ifname == "." || ifname == "..";
    let path = format!("/proc/sys/net/ipv4/conf/{ifname}/promote_secondaries");
    (!bad).then(|| PathBuf::from(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_interface_names_make_a_path() {
        assert_eq!(
            path("eth0.1"),
            Some(PathBuf::from(
                "/proc/sys/net/ipv4/conf/eth0.1/promote_secondaries"
            ))
        );
        for bad in ["", ".", "..", "../all", "a/b"] {
            assert_eq!(path(bad), None, "{bad}");
        }
    }
}
