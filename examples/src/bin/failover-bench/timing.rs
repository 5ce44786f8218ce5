//! The delays the protocol itself prescribes, which the measured takeover
//! times are compared against. Computed here from the RFCs' formulas, not
//! taken from the `vrrp` crate, so that a mistake there shows up as an
//! overhead instead of cancelling out.

/// Both routers' VRRP version and advertisement interval.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Timing {
    /// 2 (RFC 3768) or 3 (RFC 9568).
    pub(crate) version: u8,
    /// The configured `advert_int` in centiseconds: whole seconds for v2,
    /// 1..=4095 for v3.
    pub(crate) centis: u16,
}

impl Timing {
    /// Checks `advert_int` (seconds, as written in keepalived.conf) against
    /// what `version` can carry.
    pub(crate) fn new(version: u8, advert_int: &str) -> Result<Timing, String> {
        let secs: f64 = advert_int
            .parse()
            .map_err(|_| format!("advert_int {advert_int:?} is not a number"))?;
        let scaled = secs * 100.0;
        let centis = scaled.round();
        if (scaled - centis).abs() > 1e-6 || !(1.0..=4095.0).contains(&centis) {
            return Err(format!(
                "advert_int {advert_int} is not a multiple of 0.01 s in 0.01..=40.95"
            ));
        }
        // In range 1..=4095 by the check above.
        let centis = centis as u16;
        match version {
            3 => Ok(Timing { version, centis }),
            2 if centis % 100 == 0 => Ok(Timing { version, centis }),
            2 => Err(format!("VRRPv2 needs whole seconds, not {advert_int}")),
            _ => Err(format!("VRRP version {version}: only 2 and 3 exist")),
        }
    }

    /// The interval in seconds.
    pub(crate) fn interval(self) -> f64 {
        f64::from(self.centis) / 100.0
    }

    /// `advert_int` as keepalived.conf spells it ("1", "0.05").
    pub(crate) fn conf_value(self) -> String {
        match self.centis % 100 {
            0 => (self.centis / 100).to_string(),
            c => format!("{}.{c:02}", self.centis / 100),
        }
    }

    /// Skew_Time of a backup of `priority`, in seconds: (256 - priority) /
    /// 256 s for v2 (RFC 3768 6.1), that fraction of the Master_Adver_Interval
    /// for v3 (RFC 9568 6.1).
    pub(crate) fn skew(self, priority: u8) -> f64 {
        let fraction = (256.0 - f64::from(priority)) / 256.0;
        match self.version {
            2 => fraction,
            _ => fraction * self.interval(),
        }
    }

    /// Master_Down_Interval of a backup of `priority`, in seconds: three
    /// intervals plus Skew_Time.
    pub(crate) fn master_down(self, priority: u8) -> f64 {
        3.0 * self.interval() + self.skew(priority)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a panic is a failure
    use super::*;

    #[test]
    fn v2_at_one_second_matches_rfc_3768() {
        let t = Timing::new(2, "1").unwrap();
        assert_eq!(t.skew(100), 0.609375);
        assert_eq!(t.master_down(100), 3.609375);
        assert_eq!(t.conf_value(), "1");
    }

    #[test]
    fn v3_skew_scales_with_the_interval() {
        let t = Timing::new(3, "0.05").unwrap();
        assert_eq!(t.centis, 5);
        // 156 / 256 x 50 ms = 30.46875 ms; 3 x 50 ms more for the MDI.
        assert!((t.skew(100) - 0.030_468_75).abs() < 1e-12);
        assert!((t.master_down(100) - 0.180_468_75).abs() < 1e-12);
        assert_eq!(t.conf_value(), "0.05");
        assert_eq!(Timing::new(3, "1.5").unwrap().conf_value(), "1.50");
    }

    #[test]
    fn intervals_the_version_cannot_carry_are_refused() {
        assert!(Timing::new(2, "0.05").is_err());
        assert!(Timing::new(3, "0.005").is_err());
        assert!(Timing::new(3, "41").is_err());
        assert!(Timing::new(3, "fast").is_err());
        assert!(Timing::new(4, "1").is_err());
        assert_eq!(Timing::new(3, "40.95").unwrap().centis, 4095);
    }
}
