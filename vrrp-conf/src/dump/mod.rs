//! keepalived 2.2.7's state dumps, rendered from what [`convert`](crate::convert)
//! builds and what the running daemon knows: [`check`], the checker
//! process's DATA dump (`keepalived_check.data`), [`global`], the
//! "Global definitions" part both DATA dumps start with, and [`vrrp`], the VRRP
//! process's DATA, STATS and JSON dumps (`keepalived.data`, `.stats`,
//! `.json`).
//!
//! The renderers are pure: no file, signal, clock or user database. What
//! they need from the host (the ids scripts run as, a command line as
//! keepalived shows it) comes through a [`Host`]; what they need from the
//! running daemon comes in a small view type of each module. Writing the
//! files (where, with which mode, on which signal) is the embedder's.

#[cfg(feature = "convert-lvs")]
#[cfg_attr(docsrs, doc(cfg(feature = "convert-lvs")))]
pub mod check;
#[cfg(feature = "convert-vrrp")]
#[cfg_attr(docsrs, doc(cfg(feature = "convert-vrrp")))]
pub mod garp;
#[cfg(any(feature = "convert-lvs", feature = "convert-vrrp"))]
#[cfg_attr(
    docsrs,
    doc(cfg(any(feature = "convert-lvs", feature = "convert-vrrp")))
)]
pub mod global;
#[cfg(feature = "convert-vrrp")]
#[cfg_attr(docsrs, doc(cfg(feature = "convert-vrrp")))]
pub mod statics;
#[cfg(feature = "convert-vrrp")]
#[cfg_attr(docsrs, doc(cfg(feature = "convert-vrrp")))]
pub mod vrrp;

/// The host facts the dumps show.
pub trait Host {
    /// The effective `(uid, gid)` scripts run as: the daemon's.
    fn ids(&self) -> (u32, u32);
    /// The `(uid, gid)` of a script's `user USER [GROUP]`, or None if the
    /// user is unknown (the dump then shows [`ids`](Host::ids)).
    fn user_ids(&self, user: &[String]) -> Option<(u32, u32)>;
    /// A configured command line as keepalived's dumps show it (its
    /// `cmd_str`: each word single-quoted, the program resolved to its
    /// real path where it can be).
    fn command(&self, words: &[String]) -> String;
    /// The host's name as keepalived finds it (`get_local_name`: the
    /// canonical name of the node name), the default `router_id`; None:
    /// unknown (keepalived writes `[unknown]`).
    fn local_name(&self) -> Option<String> {
        None
    }
    /// The name of the daemon's user, for the default sender of alerts
    /// (`USER@HOST`); None: unknown.
    fn user_name(&self) -> Option<String> {
        None
    }
    /// An interface's index, which orders keepalived's lists of
    /// interfaces; None: unknown (listed last, as configured).
    fn if_index(&self, _name: &str) -> Option<u32> {
        None
    }
    /// The first 19 characters of C's `ctime` of `secs` since the epoch
    /// in the host's time zone (`Thu Jan  1 00:00:00`); None: the dumps
    /// use UTC.
    fn local_time(&self, _secs: i64) -> Option<String> {
        None
    }
}

/// A [`Host`] with fixed ids, no users and no file system: commands are
/// shown as written. For tests and examples.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FixedHost {
    /// What [`Host::ids`] returns.
    pub ids: (u32, u32),
}

impl Host for FixedHost {
    fn ids(&self) -> (u32, u32) {
        self.ids
    }

    fn user_ids(&self, _user: &[String]) -> Option<(u32, u32)> {
        None
    }

    fn command(&self, words: &[String]) -> String {
        let quoted: Vec<String> = (words.iter())
            .flat_map(|w| w.split_whitespace())
            .map(|a| format!("'{a}'"))
            .collect();
        quoted.join(" ")
    }
}

/// `uid:gid` as the dumps write it.
#[cfg(any(feature = "convert-lvs", feature = "convert-vrrp"))]
fn ids_text((uid, gid): (u32, u32)) -> String {
    format!("{uid}:{gid}")
}

/// keepalived's two words for a flag: false's, then true's.
#[cfg(any(feature = "convert-lvs", feature = "convert-vrrp"))]
type Pair = [&'static str; 2];
/// `enabled` / `disabled`.
#[cfg(any(feature = "convert-lvs", feature = "convert-vrrp"))]
const ABLED: Pair = ["disabled", "enabled"];
/// `true` / `false`.
#[cfg(any(feature = "convert-lvs", feature = "convert-vrrp"))]
const TF: Pair = ["false", "true"];
/// `ON` / `OFF`.
#[cfg(feature = "convert-lvs")]
const ON_OFF: Pair = ["OFF", "ON"];
/// `yes` / `no`.
#[cfg(feature = "convert-lvs")]
const YES_NO: Pair = ["no", "yes"];

/// `b` as `words` say it.
#[cfg(any(feature = "convert-lvs", feature = "convert-vrrp"))]
fn say(b: bool, words: Pair) -> &'static str {
    words[usize::from(b)]
}

#[cfg(feature = "convert-vrrp")]
/// C's `%g`: six significant digits, trailing zeros dropped, an
/// exponent below 1e-4 and from 1e6.
fn c_g(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return if x == 0.0 { "0".into() } else { x.to_string() };
    }
    let sci = format!("{x:.5e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..6).contains(&exp) {
        let m = trim_zeros(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{m}e{sign}{:02}", exp.abs());
    }
    let decimals = usize::try_from(5 - exp).unwrap_or(0);
    trim_zeros(&format!("{x:.decimals$}")).to_owned()
}

#[cfg(feature = "convert-vrrp")]
fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

#[cfg(all(test, feature = "convert-vrrp"))]
mod tests {
    use super::c_g;

    #[test]
    fn numbers_are_written_as_c_s_percent_g() {
        let cases = [
            (0.0, "0"),
            (0.5, "0.5"),
            (1.0, "1"),
            (1.25, "1.25"),
            (0.000001, "1e-06"),
            (0.0001, "0.0001"),
            (2.5, "2.5"),
            (123456.0, "123456"),
            (1234567.0, "1.23457e+06"),
            (1.0 / 3.0, "0.333333"),
        ];
        for (x, want) in cases {
            assert_eq!(c_g(x), want, "{x}");
        }
    }
}
