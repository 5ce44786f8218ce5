//! keepalived's SMTP alerts: the mail settings of `global_defs` and which
//! objects send alerts, with keepalived 2.2.7's defaults (global_data.c,
//! global_parser.c, vrrp.c, check_data.c).
//!
//! keepalived sends nothing unless `notification_email` lists someone and
//! `smtp_server` is set. Then a `vrrp_instance` or `vrrp_sync_group`
//! alerts if it says `smtp_alert`, else as `smtp_alert_vrrp` says, else
//! as the global `smtp_alert` says, else not; a `virtual_server` alike
//! with `smtp_alert_checker` (default off), and a `real_server` alike but
//! on by default.

use std::collections::BTreeSet;
use std::time::Duration;

use super::key_span;
use crate::diagnostics::{Code, Diagnostic};
use crate::model::{Config, Setting};
use crate::Parsed;

/// The SMTP port when `smtp_server` names none.
pub const DEFAULT_PORT: u16 = 25;

/// `smtp_connect_timeout` when unset (keepalived's
/// `DEFAULT_SMTP_CONNECTION_TIMEOUT`).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// Where and how alerts are sent. The unset names (None) are the host's
/// to fill in at run time, as keepalived does: its canonical host name for
/// `router_id` and `smtp_helo_name`, `USER@HOST` for the sender.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Mail {
    /// `smtp_server`'s host (an address or a name).
    pub host: String,
    /// `smtp_server`'s port.
    pub port: u16,
    /// `smtp_connect_timeout`: for the connection and each reply.
    pub connect_timeout: Duration,
    /// `smtp_helo_name`.
    pub helo_name: Option<String>,
    /// `notification_email_from`.
    pub from: Option<String>,
    /// `notification_email`, in order.
    pub to: Vec<String>,
    /// `router_id`: the subject's prefix.
    pub router_id: Option<String>,
}

/// What sends alerts: the mail settings and the objects that alert.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Alerts {
    /// None: keepalived sends nothing (no recipient or no server).
    pub mail: Option<Mail>,
    /// The `vrrp_instance`s that alert on state changes.
    pub instances: BTreeSet<String>,
    /// The `vrrp_sync_group`s that alert on state changes.
    pub groups: BTreeSet<String>,
    /// `no_email_faults`: no alert for FAULT.
    pub no_email_faults: bool,
    /// `no_checker_emails`: a checker alerts only when its real server's
    /// health changes, not for each checker.
    pub no_checker_emails: bool,
    /// Per `virtual_server` (configuration order): alerts on quorum changes.
    pub virtual_servers: Vec<bool>,
    /// Per `virtual_server` (configuration order), per `real_server`:
    /// alerts on health changes.
    pub real_servers: Vec<Vec<bool>>,
}

impl Alerts {
    /// The alerts of `c`.
    pub fn of(c: &Config) -> Self {
        let g = &c.global_defs;
        let global = flag(&g.other, "smtp_alert");
        let vrrp = flag(&g.other, "smtp_alert_vrrp")
            .or(global)
            .unwrap_or(false);
        let checker = flag(&g.other, "smtp_alert_checker").or(global);
        let vs_default = checker.unwrap_or(false);
        // check_data.c: "inconsistent with the defaults for other
        // smtp_alerts", a real server alerts unless told not to.
        let rs_default = checker.unwrap_or(true);
        Alerts {
            mail: mail(c),
            instances: (c.vrrp_instances.iter())
                .filter(|i| i.smtp_alert.unwrap_or(vrrp))
                .map(|i| i.name.clone())
                .collect(),
            groups: (c.vrrp_sync_groups.iter())
                .filter(|s| s.smtp_alert.unwrap_or(vrrp))
                .map(|s| s.name.clone())
                .collect(),
            no_email_faults: flag(&g.other, "no_email_faults").unwrap_or(false),
            no_checker_emails: flag(&g.other, "no_checker_emails").unwrap_or(false),
            virtual_servers: (c.virtual_servers.iter())
                .map(|v| flag(&v.other, "smtp_alert").unwrap_or(vs_default))
                .collect(),
            real_servers: (c.virtual_servers.iter())
                .map(|v| {
                    (v.real_servers.iter())
                        .map(|r| flag(&r.other, "smtp_alert").unwrap_or(rs_default))
                        .collect()
                })
                .collect(),
        }
    }

    /// Whether the `vrrp_instance` `name` sends alerts.
    pub fn instance(&self, name: &str) -> bool {
        self.mail.is_some() && self.instances.contains(name)
    }

    /// Whether the `vrrp_sync_group` `name` sends alerts.
    pub fn group(&self, name: &str) -> bool {
        self.mail.is_some() && self.groups.contains(name)
    }
}

/// The mail settings, if keepalived would send at all.
fn mail(c: &Config) -> Option<Mail> {
    let g = &c.global_defs;
    let server = g.smtp_server.as_ref()?;
    if g.notification_email.is_empty() {
        return None;
    }
    let host = server.first()?.clone();
    let port = port(server)?;
    let connect_timeout = g.smtp_connect_timeout.map_or(DEFAULT_CONNECT_TIMEOUT, |s| {
        Duration::from_secs(u64::from(s))
    });
    let helo_name = (g.other.iter().rev())
        .find(|s| s.keyword == "smtp_helo_name")
        .and_then(|s| s.args.first().cloned());
    Some(Mail {
        host,
        port,
        connect_timeout,
        helo_name,
        from: g.notification_email_from.clone(),
        to: g.notification_email.clone(),
        router_id: g.router_id.clone(),
    })
}

/// `smtp_server`'s port: 1 to 65535, 25 when unset.
fn port(server: &[String]) -> Option<u16> {
    match server.get(1) {
        Some(p) => p.parse().ok().filter(|p| *p != 0),
        None => Some(DEFAULT_PORT),
    }
}

/// keepalived's error for an `smtp_server` it cannot use (a bad port;
/// host names are resolved when the daemon starts).
pub(crate) fn audit(p: &Parsed, out: &mut Vec<Diagnostic>) {
    let Some(server) = &p.config.global_defs.smtp_server else {
        return;
    };
    if server.is_empty() || port(server).is_none() {
        let span = key_span(Some(&p.spans.global), "smtp_server");
        let msg = format!("invalid smtp server {}", server.join(" "));
        out.push(Diagnostic::error(Code::InvalidValue, span, msg));
    }
}

/// The last `keyword` in `settings`, as keepalived reads a boolean: no
/// argument or a true word is on, a false word off.
fn flag(settings: &[Setting], keyword: &str) -> Option<bool> {
    let s = settings.iter().rev().find(|s| s.keyword == keyword)?;
    Some(match s.args.first().map(|a| a.to_ascii_lowercase()) {
        Some(a) => !matches!(a.as_str(), "false" | "no" | "off" | "0"),
        None => true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alerts(text: &str) -> Alerts {
        let p = crate::parse_str("k.conf", text, &Default::default());
        Alerts::of(&p.config)
    }

    const MAIL: &str = "global_defs {\n  notification_email {\n    a@x.org\n    b@x.org\n  }\n  \
                        smtp_server 192.0.2.9\n";

    #[test]
    fn keepalived_defaults() {
        let a = alerts(&format!(
            "{MAIL}}}\nvrrp_instance VI_1 {{\n  interface eth0\n  virtual_router_id 1\n  \
             smtp_alert\n}}\nvrrp_instance VI_2 {{\n  interface eth0\n  virtual_router_id 2\n}}\n"
        ));
        let mail = a.mail.clone().expect("mail");
        assert_eq!(
            mail,
            Mail {
                host: "192.0.2.9".into(),
                port: 25,
                connect_timeout: Duration::from_secs(30),
                helo_name: None,
                from: None,
                to: vec!["a@x.org".into(), "b@x.org".into()],
                router_id: None,
            }
        );
        assert!(a.instance("VI_1"));
        assert!(!a.instance("VI_2"));
        assert!(!a.no_email_faults);
    }

    #[test]
    fn every_setting_read() {
        let a = alerts(&format!(
            "{MAIL}  smtp_server mail.x.org 2525\n  smtp_connect_timeout 5\n  \
             smtp_helo_name me.x.org\n  notification_email_from k@x.org\n  router_id R1\n  \
             smtp_alert_vrrp\n  no_email_faults\n}}\n\
             vrrp_sync_group G {{\n  group {{\n    VI_2\n  }}\n}}\n\
             vrrp_instance VI_2 {{\n  interface eth0\n  virtual_router_id 2\n}}\n"
        ));
        let mail = a.mail.clone().expect("mail");
        assert_eq!(
            (mail.host.as_str(), mail.port, mail.connect_timeout),
            ("mail.x.org", 2525, Duration::from_secs(5))
        );
        assert_eq!(mail.helo_name.as_deref(), Some("me.x.org"));
        assert_eq!(mail.from.as_deref(), Some("k@x.org"));
        assert_eq!(mail.router_id.as_deref(), Some("R1"));
        assert!(a.instance("VI_2") && a.group("G") && a.no_email_faults);
    }

    #[test]
    fn an_instance_s_smtp_alert_no_overrides_the_global_one() {
        let a = alerts(&format!(
            "{MAIL}  smtp_alert\n}}\nvrrp_sync_group G {{\n  group {{\n    VI_1\n  }}\n  \
             smtp_alert off\n}}\nvrrp_instance VI_1 {{\n  interface eth0\n  \
             virtual_router_id 1\n  smtp_alert no\n}}\nvrrp_instance VI_2 {{\n  \
             interface eth0\n  virtual_router_id 2\n  smtp_alert yes\n}}\n"
        ));
        assert!(!a.instance("VI_1"));
        assert!(!a.group("G"));
        assert!(a.instance("VI_2"));
    }

    #[test]
    fn an_invalid_smtp_alert_parameter_is_an_error() {
        let text = "vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 1\n  \
                    smtp_alert maybe\n}\n";
        let p = crate::parse_str("k.conf", text, &Default::default());
        let shown: Vec<String> = (p.diagnostics.iter())
            .map(|d| d.display(&p.sources).to_string())
            .filter(|d| d.contains(": error: "))
            .collect();
        assert_eq!(
            shown,
            ["k.conf:4:3: error: 'smtp_alert': invalid parameter 'maybe'"]
        );
    }

    #[test]
    fn nothing_without_a_recipient_or_a_server() {
        let text = "global_defs {\n  smtp_server 192.0.2.9\n  smtp_alert\n}\n\
                    vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 1\n}\n";
        let a = alerts(text);
        assert_eq!(a.mail, None);
        assert!(!a.instance("VI_1"));
        let a = alerts("global_defs {\n  notification_email {\n    a@x.org\n  }\n}\n");
        assert_eq!(a.mail, None);
    }

    #[test]
    fn a_bad_port_is_keepalived_s_error() {
        let text = "global_defs {\n  smtp_server 192.0.2.1 0\n}\n";
        let p = crate::parse_str("k.conf", text, &Default::default());
        let mut out = Vec::new();
        audit(&p, &mut out);
        let shown: Vec<String> = out
            .iter()
            .map(|d| d.display(&p.sources).to_string())
            .collect();
        assert_eq!(
            shown,
            ["k.conf:2:3: error: invalid smtp server 192.0.2.1 0"]
        );
    }

    #[test]
    fn checker_defaults_real_servers_on_virtual_servers_off() {
        let vs = "virtual_server 10.0.0.1 80 {\n  real_server 10.0.0.2 80 {\n  }\n  \
                  real_server 10.0.0.3 80 {\n    smtp_alert no\n  }\n}\n";
        let a = alerts(&format!("{MAIL}}}\n{vs}"));
        assert_eq!(a.virtual_servers, [false]);
        assert_eq!(a.real_servers, [[true, false]]);
        let a = alerts(&format!(
            "{MAIL}  smtp_alert_checker off\n  smtp_alert\n}}\n{vs}"
        ));
        assert_eq!(a.real_servers, [[false, false]]);
        let a = alerts(&format!("{MAIL}  smtp_alert\n}}\n{vs}"));
        assert_eq!(a.virtual_servers, [true]);
    }
}
