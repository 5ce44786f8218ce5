//! The model back to canonical keepalived.conf: one keyword per line, four
//! spaces per level, canonical keyword names (`lvs_sched`, not `lb_algo`),
//! words quoted only when they must be. `parse(emit(m)) == m`.

use std::fmt::Write;

use crate::model::*;

/// Renders `c` as keepalived.conf text.
pub fn emit(c: &Config) -> String {
    let mut w = W {
        out: String::new(),
        depth: 0,
    };
    w.config(c);
    w.out
}

struct W {
    out: String,
    depth: usize,
}

/// The words of one line as they must be written to read back the same.
/// The first word is the keyword and picks the lexer's rules for the rest
/// (see [`crate::lexer`]): keepalived's full quoting on script lines, its
/// simple splitting elsewhere.
fn quote_line<S: AsRef<str>>(words: &[S]) -> Vec<String> {
    let script = words
        .first()
        .is_some_and(|k| crate::lexer::is_script_keyword(k.as_ref()));
    let mut out: Vec<String> = Vec::with_capacity(words.len());
    for (i, w) in words.iter().enumerate() {
        let w = w.as_ref();
        out.push(if i > 0 && script {
            quote(w)
        } else {
            quote_plain(w)
        });
    }
    out
}

/// Whether `word` can be written bare. Quoting also keeps the
/// preprocessor away: a quoted word cannot start a conditional (`@`), a
/// definition (`$`), a sequence (`~`) or an include.
fn is_bare(word: &str, extra: &[u8]) -> bool {
    !word.is_empty()
        && !word.starts_with(['@', '~'])
        && !word.starts_with("include")
        && word.bytes().all(|b| {
            b.is_ascii_graphic()
                && !matches!(b, b'"' | b'#' | b'!' | b'{' | b'}' | b'$')
                && !extra.contains(&b)
        })
}

/// A word on a plain line: bare, or between `"`s as it is (plain lines have
/// no escapes). keepalived cannot read a `"` or a line break in such a
/// word, nor a quoted word ending in `\`; the parser never produces one.
fn quote_plain(word: &str) -> String {
    if is_bare(word, b"") {
        return word.to_string();
    }
    format!("\"{word}\"")
}

/// A word on a script line, escaped where needed. A `$` is written as
/// `$""` so that no parameter (not even `${_PWD}`) is substituted.
fn quote(word: &str) -> String {
    if is_bare(word, b"'\\") {
        return word.to_string();
    }
    let mut s = String::from("\"");
    for ch in word.chars() {
        match ch {
            '"' | '\\' => {
                s.push('\\');
                s.push(ch);
            }
            '$' => s.push_str("$\"\""),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(s, "\\{:03o}", c as u32);
            }
            c => s.push(c),
        }
    }
    s.push('"');
    s
}

impl W {
    fn line<S: AsRef<str>>(&mut self, words: &[S]) {
        for _ in 0..self.depth {
            self.out.push_str("    ");
        }
        for (i, w) in quote_line(words).iter().enumerate() {
            if i > 0 {
                self.out.push(' ');
            }
            self.out.push_str(w);
        }
        self.out.push('\n');
    }

    fn kv(&mut self, k: &str, v: &Option<impl ToString>) {
        if let Some(v) = v {
            self.line(&[k.to_string(), v.to_string()]);
        }
    }

    /// A time as seconds (`1.5`): what [`crate::model::Seconds`] parses.
    fn secs(&mut self, k: &str, v: &Seconds) {
        if let Some(d) = v {
            self.line(&[k.to_string(), d.as_secs_f64().to_string()]);
        }
    }

    fn kw(&mut self, k: &str, v: &Option<Words>) {
        if let Some(v) = v {
            let mut l = vec![k.to_string()];
            l.extend(v.iter().cloned());
            self.line(&l);
        }
    }

    fn yes_no(&mut self, k: &str, on: Option<bool>) {
        match on {
            Some(true) => self.line(&[k]),
            Some(false) => self.line(&[k, "false"]),
            None => {}
        }
    }

    fn flag(&mut self, k: &str, on: bool) {
        if on {
            self.line(&[k]);
        }
    }

    fn open(&mut self, head: &[String]) {
        let mut h = quote_line(head);
        h.push("{".into());
        for _ in 0..self.depth {
            self.out.push_str("    ");
        }
        self.out.push_str(&h.join(" "));
        self.out.push('\n');
        self.depth += 1;
    }

    fn close(&mut self) {
        self.depth -= 1;
        for _ in 0..self.depth {
            self.out.push_str("    ");
        }
        self.out.push_str("}\n");
    }

    fn block<T>(&mut self, k: &str, items: &[T], f: impl Fn(&mut Self, &T)) {
        if items.is_empty() {
            return;
        }
        self.open(&[k.to_string()]);
        for i in items {
            f(self, i);
        }
        self.close();
    }

    fn settings(&mut self, s: &[Setting]) {
        for x in s {
            let mut head = vec![x.keyword.clone()];
            head.extend(x.args.iter().cloned());
            match &x.block {
                None => self.line(&head),
                Some(b) => {
                    self.open(&head);
                    self.settings(b);
                    self.close();
                }
            }
        }
    }

    fn ssl(&mut self, s: &Ssl) {
        self.open(&["SSL".to_string()]);
        for (k, v) in [
            ("password", &s.password),
            ("ca", &s.ca),
            ("certificate", &s.certificate),
            ("key", &s.key),
        ] {
            if let Some(v) = v {
                self.line(&[k, v.value.as_str()]);
            }
        }
        self.close();
    }

    fn config(&mut self, c: &Config) {
        if c.global_defs != GlobalDefs::default() {
            self.global_defs(&c.global_defs);
        }
        self.settings(&c.other);
        if let Some(ssl) = &c.ssl {
            self.ssl(ssl);
        }
        self.block("static_ipaddress", &c.static_ipaddress, |w, a| w.ip(a));
        self.block("static_routes", &c.static_routes, |w, r| w.route(r));
        self.block("static_rules", &c.static_rules, |w, r| w.line(r));
        for s in &c.vrrp_scripts {
            self.script(s);
        }
        for g in &c.vrrp_sync_groups {
            self.sync_group(g);
        }
        for i in &c.vrrp_instances {
            self.instance(i);
        }
        for g in &c.virtual_server_groups {
            self.open(&["virtual_server_group".into(), g.name.clone()]);
            for m in &g.members {
                self.line(m);
            }
            self.close();
        }
        for v in &c.virtual_servers {
            self.virtual_server(v);
        }
    }

    fn global_defs(&mut self, g: &GlobalDefs) {
        self.open(&["global_defs".into()]);
        self.kv("router_id", &g.router_id);
        self.block("notification_email", &g.notification_email, |w, e| {
            w.line(&[e])
        });
        self.kv("notification_email_from", &g.notification_email_from);
        self.kw("smtp_server", &g.smtp_server);
        self.kv("smtp_connect_timeout", &g.smtp_connect_timeout);
        self.flag("enable_script_security", g.enable_script_security);
        self.kw("script_user", &g.script_user);
        self.flag("vrrp_strict", g.vrrp_strict);
        self.kv("vrrp_version", &g.vrrp_version);
        self.kv("vrrp_mcast_group4", &g.vrrp_mcast_group4);
        self.kv("vrrp_garp_master_delay", &g.vrrp_garp_master_delay);
        self.kv("vrrp_garp_master_repeat", &g.vrrp_garp_master_repeat);
        self.kv("vrrp_garp_master_refresh", &g.vrrp_garp_master_refresh);
        self.kv(
            "vrrp_garp_master_refresh_repeat",
            &g.vrrp_garp_master_refresh_repeat,
        );
        self.flag("vrrp_skip_check_adv_addr", g.vrrp_skip_check_adv_addr);
        self.settings(&g.other);
        self.close();
    }

    fn ip(&mut self, a: &IpAddress) {
        let mut l = vec![a.address.to_string()];
        for (k, v) in [
            ("brd", a.brd.map(|b| b.to_string())),
            ("dev", a.dev.clone()),
            ("scope", a.scope.map(|s| s.to_string())),
            ("label", a.label.clone()),
        ] {
            if let Some(v) = v {
                l.push(k.into());
                l.push(v);
            }
        }
        l.extend(a.other.iter().cloned());
        self.line(&l);
    }

    fn route(&mut self, r: &Route) {
        let mut l: Vec<String> = r.kind.iter().map(|k| k.keyword().to_string()).collect();
        if let Some(s) = r.src {
            l.extend(["src".to_string(), s.to_string()]);
        }
        l.push(r.dst.to_string());
        let opts = [
            ("via", r.via.map(|v| v.to_string())),
            ("dev", r.dev.clone()),
            ("metric", r.metric.map(|v| v.to_string())),
            ("table", r.table.map(|v| v.to_string())),
            ("scope", r.scope.map(|s| s.to_string())),
        ];
        for (k, v) in opts {
            if let Some(v) = v {
                l.extend([k.to_string(), v]);
            }
        }
        l.extend(r.other.iter().cloned());
        self.line(&l);
    }

    fn track(&mut self, t: &Track) {
        let mut l = vec![t.name.clone()];
        if let Some(wt) = t.weight {
            l.push("weight".into());
            l.push(wt.to_string());
        }
        l.extend(t.other.iter().cloned());
        self.line(&l);
    }

    fn notify(&mut self, n: &Notify) {
        self.kw("notify_master", &n.master);
        self.kw("notify_backup", &n.backup);
        self.kw("notify_fault", &n.fault);
        self.kw("notify_stop", &n.stop);
        self.kw("notify", &n.any);
        self.kw("notify_deleted", &n.deleted);
        self.kw("notify_master_rx_lower_pri", &n.master_rx_lower_pri);
    }

    fn script(&mut self, s: &VrrpScript) {
        self.open(&["vrrp_script".into(), s.name.clone()]);
        self.kw("script", &s.script);
        self.secs("interval", &s.interval);
        self.secs("timeout", &s.timeout);
        if let Some(w) = s.weight {
            let mut l = vec!["weight".to_owned(), w.to_string()];
            if s.weight_reverse {
                l.push("reverse".into());
            }
            self.line(&l);
        }
        self.kv("rise", &s.rise);
        self.kv("fall", &s.fall);
        self.kw("user", &s.user);
        self.settings(&s.other);
        self.close();
    }

    fn sync_group(&mut self, g: &SyncGroup) {
        self.open(&["vrrp_sync_group".into(), g.name.clone()]);
        self.block("group", &g.group, |w, m| w.line(&[m]));
        self.notify(&g.notify);
        self.yes_no("smtp_alert", g.smtp_alert);
        self.block("track_script", &g.track_script, W::track);
        self.block("track_interface", &g.track_interface, W::track);
        self.settings(&g.other);
        self.close();
    }

    fn instance(&mut self, i: &VrrpInstance) {
        self.open(&["vrrp_instance".into(), i.name.clone()]);
        let state = i.state.map(|s| match s {
            State::Master => "MASTER",
            State::Backup => "BACKUP",
        });
        self.kv("state", &state);
        self.kv("interface", &i.interface);
        self.kv("virtual_router_id", &i.virtual_router_id);
        self.kv("priority", &i.priority);
        self.secs("advert_int", &i.advert_int);
        self.kv("version", &i.version);
        if let Some(a) = &i.authentication {
            self.open(&["authentication".into()]);
            let t = a.auth_type.map(|t| match t {
                AuthType::Pass => "PASS",
                AuthType::Ah => "AH",
            });
            self.kv("auth_type", &t);
            self.kv("auth_pass", &a.auth_pass);
            self.close();
        }
        self.block("virtual_ipaddress", &i.virtual_ipaddress, W::ip);
        self.block(
            "virtual_ipaddress_excluded",
            &i.virtual_ipaddress_excluded,
            W::ip,
        );
        self.block("virtual_routes", &i.virtual_routes, |w, r| w.route(r));
        self.block("virtual_rules", &i.virtual_rules, |w, r| w.line(r));
        self.block("track_interface", &i.track_interface, W::track);
        self.block("track_script", &i.track_script, W::track);
        self.flag("nopreempt", i.nopreempt);
        self.secs("preempt_delay", &i.preempt_delay);
        self.kv("mcast_src_ip", &i.mcast_src_ip);
        self.kv("unicast_src_ip", &i.unicast_src_ip);
        self.block("unicast_peer", &i.unicast_peer, |w, p| {
            let mut l = vec![p.address.to_string()];
            for (k, v) in [("min_ttl", p.min_ttl), ("max_ttl", p.max_ttl)] {
                if let Some(v) = v {
                    l.extend([k.to_string(), v.to_string()]);
                }
            }
            w.line(&l);
        });
        if let Some(v) = &i.use_vmac {
            let mut l = vec!["use_vmac".to_string()];
            l.extend(v.value.clone());
            self.line(&l);
        }
        self.kv("garp_master_delay", &i.garp_master_delay);
        self.kv("garp_master_repeat", &i.garp_master_repeat);
        self.kv("garp_master_refresh", &i.garp_master_refresh);
        self.kv("garp_master_refresh_repeat", &i.garp_master_refresh_repeat);
        self.notify(&i.notify);
        self.yes_no("smtp_alert", i.smtp_alert);
        self.flag("dont_track_primary", i.dont_track_primary);
        self.kv("lvs_sync_daemon_interface", &i.lvs_sync_daemon_interface);
        if let Some(d) = &i.debug {
            let mut l = vec!["debug".to_string()];
            l.extend(d.value.map(|v| v.to_string()));
            self.line(&l);
        }
        self.settings(&i.other);
        self.close();
    }

    fn virtual_server(&mut self, v: &VirtualServer) {
        let mut head = vec!["virtual_server".to_string()];
        match &v.target {
            VsTarget::Address { ip, port } => {
                head.push(ip.to_string());
                head.extend(port.map(|p| p.to_string()));
            }
            VsTarget::Fwmark(m) => head.extend(["fwmark".to_string(), m.to_string()]),
            VsTarget::Group(g) => head.extend(["group".to_string(), g.clone()]),
        }
        self.open(&head);
        self.secs("delay_loop", &v.delay_loop);
        self.kv("lvs_sched", &v.lvs_sched.map(|s| s.name()));
        let method = v.lvs_method.map(|m| match m {
            LvsMethod::Nat => "NAT",
            LvsMethod::Dr => "DR",
            LvsMethod::Tun => "TUN",
        });
        self.kv("lvs_method", &method);
        self.kv("persistence_timeout", &v.persistence_timeout);
        self.kv("persistence_granularity", &v.persistence_granularity);
        let proto = v.protocol.map(|p| match p {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
        });
        self.kv("protocol", &proto);
        self.flag("ha_suspend", v.ha_suspend);
        self.kv("virtualhost", &v.virtualhost);
        self.flag("alpha", v.alpha);
        self.flag("omega", v.omega);
        self.kv("quorum", &v.quorum);
        self.kv("hysteresis", &v.hysteresis);
        self.kw("quorum_up", &v.quorum_up);
        self.kw("quorum_down", &v.quorum_down);
        if let Some(s) = &v.sorry_server {
            let mut l = vec!["sorry_server".to_string(), s.ip.to_string()];
            l.extend(s.port.map(|p| p.to_string()));
            self.line(&l);
        }
        self.settings(&v.other);
        for r in &v.real_servers {
            self.real_server(r);
        }
        self.close();
    }

    fn real_server(&mut self, r: &RealServer) {
        let mut head = vec!["real_server".to_string(), r.ip.to_string()];
        head.extend(r.port.map(|p| p.to_string()));
        self.open(&head);
        self.kv("weight", &r.weight);
        self.flag("inhibit_on_failure", r.inhibit_on_failure);
        self.kw("notify_up", &r.notify_up);
        self.kw("notify_down", &r.notify_down);
        self.settings(&r.other);
        for k in &r.checkers {
            self.checker(k);
        }
        self.close();
    }

    fn checker(&mut self, k: &Checker) {
        self.open(&[k.kind.keyword().to_string()]);
        self.kv("connect_ip", &k.connect_ip);
        self.kv("connect_port", &k.connect_port);
        self.kv("bindto", &k.bindto);
        self.secs("connect_timeout", &k.connect_timeout);
        self.kv("retry", &k.retry);
        self.secs("delay_before_retry", &k.delay_before_retry);
        for u in &k.urls {
            self.open(&["url".into()]);
            self.kv("path", &u.path);
            self.kv("digest", &u.digest);
            self.kw("status_code", &u.status_code);
            self.settings(&u.other);
            self.close();
        }
        self.kw("misc_path", &k.misc_path);
        self.kv("misc_timeout", &k.misc_timeout);
        self.flag("misc_dynamic", k.misc_dynamic);
        self.settings(&k.other);
        self.close();
    }
}

#[cfg(test)]
mod tests {
    use super::{emit, quote, quote_line, quote_plain};

    #[test]
    fn quotes_only_when_needed() {
        assert_eq!(quote("eth0"), "eth0");
        assert_eq!(quote("a b"), "\"a b\"");
        assert_eq!(quote("k@l!ve"), "\"k@l!ve\"");
        assert_eq!(quote(""), "\"\"");
        assert_eq!(quote("a\"\\\n"), "\"a\\\"\\\\\\012\"");
        assert_eq!(quote("${_PWD}"), "\"$\"\"{_PWD}\"");
        assert_eq!(quote("@main"), "\"@main\"");
        assert_eq!(quote("'a'"), "\"'a'\"");
    }

    #[test]
    fn plain_lines_quote_without_escapes() {
        assert_eq!(quote_plain("'abc'"), "'abc'");
        assert_eq!(quote_plain(r"a\b"), r"a\b");
        assert_eq!(quote_plain("a b"), "\"a b\"");
        assert_eq!(quote_plain("k@l!ve"), "\"k@l!ve\"");
        assert_eq!(quote_line(&["auth_pass", "a b"]), ["auth_pass", "\"a b\""]);
        assert_eq!(
            quote_line(&["notify", "a'b", "c"]),
            ["notify", "\"a'b\"", "c"]
        );
    }

    #[test]
    fn awkward_words_survive_a_round_trip() {
        use crate::model::{Config, Setting, VrrpScript};
        use crate::{parse_str, Options};
        // Words keepalived can read on a plain line: no `"`, no line
        // break, no parameter reference (substituted even in quotes).
        let plain = [
            "@main",
            "@^x",
            "~SEQ(A,3)",
            "include",
            "a b",
            "",
            "#!",
            "{",
            "}",
            "'a b'",
            "'\\",
            "\t\u{7f}",
            "é",
            "$X=1",
        ];
        // On a script line anything goes.
        let script = [
            "${_PWD}",
            "$_PWD",
            "@main",
            "a b",
            "",
            "#!",
            "{",
            "\"'\\",
            "\n\t\u{7f}",
            "é",
            "$X=1",
        ];
        let mut c = Config::default();
        c.global_defs.notification_email = plain.iter().map(|w| w.to_string()).collect();
        c.global_defs.other.push(Setting {
            keyword: "vmac_prefix".into(),
            args: plain.iter().map(|w| w.to_string()).collect(),
            ..Setting::default()
        });
        c.vrrp_scripts.push(VrrpScript {
            name: "chk".into(),
            script: Some(script.iter().map(|w| w.to_string()).collect()),
            ..VrrpScript::default()
        });
        let opts = Options {
            config_id: Some("main".into()),
            ..Options::default()
        };
        let text = emit(&c);
        let back = parse_str("e.conf", &text, &opts);
        assert_eq!(back.config, c, "{text}");
    }
}
