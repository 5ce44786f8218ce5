//! Interface sysctls keepalived switches for the time it runs
//! (`promote_secondaries`, `igmp_link_local_mcast_reports`): written only
//! if they hold the value to leave, so that stop puts back exactly what
//! was changed.

use std::io;
use std::path::{Path, PathBuf};

/// Why [`switch`] could not look at or change a sysctl.
#[derive(Debug)]
pub enum SwitchError {
    /// The current value could not be read.
    Read(io::Error),
    /// The new value could not be written.
    Write(io::Error),
}

/// Writes `to` into the sysctl at `path` if it holds `from`: true if it
/// was changed (the caller then owes the switch back at stop).
pub fn switch(path: &Path, from: &str, to: &str) -> Result<bool, SwitchError> {
    let now = std::fs::read_to_string(path).map_err(SwitchError::Read)?;
    if now.trim() != from {
        return Ok(false);
    }
    std::fs::write(path, to).map_err(SwitchError::Write)?;
    Ok(true)
}

/// `/proc/sys/net/ipv4/conf/IFNAME/KEY`; `None` for an `ifname` that is
/// not an interface name (empty, `.`, `..`, or with a `/`).
pub fn ipv4_conf(ifname: &str, key: &str) -> Option<PathBuf> {
    let bad = ifname.is_empty() || ifname.contains('/') || ifname == "." || ifname == "..";
    (!bad).then(|| PathBuf::from(format!("/proc/sys/net/ipv4/conf/{ifname}/{key}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_interface_names_make_a_path() {
        assert_eq!(
            ipv4_conf("eth0.1", "promote_secondaries"),
            Some(PathBuf::from(
                "/proc/sys/net/ipv4/conf/eth0.1/promote_secondaries"
            ))
        );
        for bad in ["", ".", "..", "../all", "a/b"] {
            assert_eq!(ipv4_conf(bad, "promote_secondaries"), None, "{bad}");
        }
    }

    #[test]
    fn a_switch_writes_only_over_the_value_it_leaves() {
        let dir = std::env::temp_dir().join(format!("vrrp-sysctl-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_default();
        let f = dir.join("knob");
        std::fs::write(&f, "0\n").unwrap_or_default();
        assert!(matches!(switch(&f, "0", "1"), Ok(true)));
        assert_eq!(std::fs::read_to_string(&f).unwrap_or_default(), "1");
        assert!(matches!(switch(&f, "0", "1"), Ok(false)));
        assert!(matches!(
            switch(&dir.join("none"), "0", "1"),
            Err(SwitchError::Read(_))
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
