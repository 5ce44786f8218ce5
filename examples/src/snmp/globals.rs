//! KEEPALIVED-MIB's global scalars (`keepalived.1`): what `global_defs`
//! says, read once at start-up as keepalived reads it.

use std::net::{IpAddr, ToSocketAddrs};

use vrrp_conf::convert::mail::{DEFAULT_CONNECT_TIMEOUT, DEFAULT_PORT};
use vrrp_conf::model::Setting;
use vrrp_conf::Config;

/// keepalived's tri-state `smtp_alert*`: on(1), off(2), unset(3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TriState {
    /// Set on.
    On,
    /// Set off.
    Off,
    /// Not set.
    #[default]
    Unset,
}

impl TriState {
    /// Its MIB number.
    pub fn number(self) -> i32 {
        match self {
            TriState::On => 1,
            TriState::Off => 2,
            TriState::Unset => 3,
        }
    }
}

/// The global part of KEEPALIVED-MIB.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Globals {
    /// `smtp_server`, resolved.
    pub smtp_server: Option<IpAddr>,
    /// Its port (0 without a server).
    pub smtp_port: u16,
    /// `smtp_connect_timeout` in seconds (0 without a server).
    pub smtp_timeout: u32,
    /// `notification_email_from`.
    pub email_from: Option<String>,
    /// `notification_email`.
    pub emails: Vec<String>,
    /// Not `no_email_faults`.
    pub email_faults: bool,
    /// `smtp_alert`.
    pub smtp_alert: TriState,
    /// `smtp_alert_vrrp`.
    pub smtp_alert_vrrp: TriState,
    /// `smtp_alert_checker`.
    pub smtp_alert_checker: TriState,
    /// `linkbeat_use_polling`.
    pub linkbeat_polling: bool,
    /// `lvs_flush`.
    pub lvs_flush: bool,
    /// `lvs_flush_onstop`: 1 full, 2 off, 3 virtual servers only.
    pub lvs_flush_on_stop: i32,
    /// `net_namespace`.
    pub namespace: String,
    /// `dynamic_interfaces`.
    pub dynamic_interfaces: bool,
}

fn last<'a>(settings: &'a [Setting], keyword: &str) -> Option<&'a Setting> {
    settings.iter().rev().find(|s| s.keyword == keyword)
}

/// keepalived's boolean: no argument or a true word is on.
fn tri(settings: &[Setting], keyword: &str) -> TriState {
    match last(settings, keyword).map(|s| s.args.first().map(|a| a.to_ascii_lowercase())) {
        None => TriState::Unset,
        Some(Some(a)) if matches!(a.as_str(), "false" | "no" | "off" | "0") => TriState::Off,
        Some(_) => TriState::On,
    }
}

impl Globals {
    /// The globals of `c`. An `smtp_server` host name is resolved now,
    /// as keepalived resolves it while reading the configuration.
    pub fn of(c: &Config) -> Globals {
        let g = &c.global_defs;
        let o = &g.other;
        let has = |k: &str| last(o, k).is_some();
        let server = g.smtp_server.as_ref().and_then(|w| {
            let host = w.first()?;
            let port = match w.get(1) {
                Some(p) => p.parse().ok()?,
                None => DEFAULT_PORT,
            };
            let addr = match host.parse::<IpAddr>() {
                Ok(a) => a,
                Err(_) => (host.as_str(), port).to_socket_addrs().ok()?.next()?.ip(),
            };
            Some((addr, port))
        });
        let timeout = g
            .smtp_connect_timeout
            .unwrap_or(DEFAULT_CONNECT_TIMEOUT.as_secs() as u32);
        let flush_on_stop = ["lvs_flush_onstop", "lvs_flush_on_stop"]
            .iter()
            .find_map(|k| last(o, k))
            .map_or(2, |s| match s.args.first().map(String::as_str) {
                Some("VS") | Some("vs") => 3,
                Some("false" | "no" | "off" | "0") => 2,
                _ => 1,
            });
        Globals {
            smtp_server: server.map(|(a, _)| a),
            smtp_port: server.map_or(0, |(_, p)| p),
            smtp_timeout: if server.is_some() { timeout } else { 0 },
            email_from: g.notification_email_from.clone(),
            emails: g.notification_email.clone(),
            email_faults: !has("no_email_faults"),
            smtp_alert: tri(o, "smtp_alert"),
            smtp_alert_vrrp: tri(o, "smtp_alert_vrrp"),
            smtp_alert_checker: tri(o, "smtp_alert_checker"),
            linkbeat_polling: has("linkbeat_use_polling"),
            lvs_flush: has("lvs_flush"),
            lvs_flush_on_stop: flush_on_stop,
            namespace: last(o, "net_namespace")
                .and_then(|s| s.args.first().cloned())
                .unwrap_or_default(),
            dynamic_interfaces: has("dynamic_interfaces"),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    fn of(text: &str) -> Globals {
        let p = vrrp_conf::parse_str("k.conf", text, &vrrp_conf::Options::default());
        Globals::of(&p.config)
    }

    #[test]
    fn defaults_are_keepalived_s() {
        let g = of("vrrp_instance A {\n interface eth0\n virtual_router_id 1\n}\n");
        assert_eq!(
            g,
            Globals {
                email_faults: true,
                lvs_flush_on_stop: 2,
                ..Globals::default()
            }
        );
    }

    #[test]
    fn mail_and_flags() {
        let g = of(
            "global_defs {\n smtp_server 192.0.2.1 2525\n notification_email {\n  a@x\n }\n \
                    smtp_alert no\n smtp_alert_vrrp\n no_email_faults\n lvs_flush_onstop VS\n}\n",
        );
        assert_eq!(g.smtp_server, Some("192.0.2.1".parse().unwrap()));
        assert_eq!((g.smtp_port, g.smtp_timeout), (2525, 30));
        assert_eq!(g.emails, ["a@x"]);
        assert_eq!(
            (g.smtp_alert, g.smtp_alert_vrrp, g.smtp_alert_checker),
            (TriState::Off, TriState::On, TriState::Unset)
        );
        assert!(!g.email_faults);
        assert_eq!(g.lvs_flush_on_stop, 3);
    }
}
