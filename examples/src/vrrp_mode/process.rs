//! keepalived's process-wide VRRP knobs of `global_defs`
//! ([`ProcessOptions`]): `vrrp_startup_delay` and `log_unknown_vrids` go to
//! the driver; `disable_local_igmp` is a sysctl set here.

use tracing::info;
use vrrp::linux::driver::Driver;
use vrrp::linux::sysctl::{switch, SwitchError};
use vrrp_conf::convert::vrrp::{ProcessOptions, IGMP_LINK_LOCAL_REPORTS};

/// Gives the driver the start-up delay and the unknown VRID reports, with
/// keepalived's line for the delay.
pub fn configure(driver: &mut Driver, o: &ProcessOptions) {
    if !o.startup_delay.is_zero() {
        // keepalived prints the seconds with %g.
        info!(
            "Delaying startup for {} seconds",
            o.startup_delay.as_secs_f64()
        );
        driver.startup_delay(o.startup_delay);
    }
    driver.report_unknown_vrids(o.log_unknown_vrids);
}

/// `disable_local_igmp`: the sysctl, if it was 1, is now 0 and goes back
/// to 1 with [`LocalIgmp::restore`] (as keepalived does at start, not on
/// reload, and at stop).
#[derive(Debug)]
pub struct LocalIgmp {
    restore: bool,
}

impl LocalIgmp {
    /// Turns the kernel's IGMP reports for link-local groups (224.0.0.18
    /// among them) off if `o` asks for it.
    pub fn disable(o: &ProcessOptions) -> LocalIgmp {
        let restore = o.disable_local_igmp && set_reports(false);
        LocalIgmp { restore }
    }

    /// Turns them back on if [`disable`](Self::disable) turned them off.
    pub fn restore(&mut self) {
        if std::mem::take(&mut self.restore) {
            set_reports(true);
        }
    }
}

/// Writes the sysctl if it holds the other value; true if it was changed.
/// Errors are logged as keepalived logs them.
fn set_reports(on: bool) -> bool {
    let (from, to) = if on { ("0", "1") } else { ("1", "0") };
    let path = std::path::Path::new(IGMP_LINK_LOCAL_REPORTS);
    match switch(path, from, to) {
        Ok(changed) => changed,
        Err(e) => {
            let (op, e) = match e {
                SwitchError::Read(e) => ("read", e),
                SwitchError::Write(e) => ("write", e),
            };
            let errno = e.raw_os_error().unwrap_or(0);
            info!("Unable to {op} {IGMP_LINK_LOCAL_REPORTS} - errno {errno}");
            false
        }
    }
}

/// Shortens `setup`'s `interface_up_down_delays` to fit its instances,
/// with keepalived's line for each instance that changed one.
pub fn log_link_delay_clamps(setup: &mut vrrp::linux::driver::Setup) {
    use vrrp::linux::driver::Clamped;
    for c in vrrp::linux::driver::clamp_link_delays(setup) {
        match c {
            Clamped::Zeroed { router } => info!(
                "{router}: cannot use debounce timers with down_timer_adverts = 1 - resetting"
            ),
            Clamped::Shortened {
                router,
                interface,
                adverts,
            } => info!(
                "{router}: interface {interface} debounce timer(s) not less that {adverts} * advert_int - resetting"
            ),
            _ => {}
        }
    }
}
