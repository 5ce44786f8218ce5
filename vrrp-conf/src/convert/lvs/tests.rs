#![allow(clippy::unwrap_used)] // tests: a panic is a failed test

use super::*;

fn plan_of(text: &str) -> Result<Plan, PlanError> {
    let parsed = crate::parse_str("test.conf", text, &crate::Options::default());
    assert!(!parsed.has_errors(), "{:?}", parsed.diagnostics);
    build(&parsed.config)
}

fn one(text: &str) -> ServicePlan {
    let mut p = plan_of(text).unwrap();
    assert_eq!(p.services.len(), 1);
    p.services.remove(0)
}

fn refused(text: &str) -> PlanError {
    plan_of(text).unwrap_err()
}

/// keepalived 2.2.7 `-t`: "no protocol set - defaulting to UDP".
#[test]
fn keepalived_defaults() {
    let s = one(
        "virtual_server 10.0.0.1 80 {\n real_server 192.168.1.10 8080 {\n TCP_CHECK {\n }\n }\n}\n",
    );
    assert_eq!(s.name, "[10.0.0.1]:udp:80");
    let key = ServiceKey::udp("10.0.0.1:80".parse().unwrap());
    assert_eq!(s.service, Service::new(key, "wlc"));
    let rs = &s.real_servers[0];
    assert_eq!(rs.name, "[192.168.1.10]:udp:8080");
    let mut dest = Destination::new("192.168.1.10:8080".parse().unwrap(), Forward::Masq);
    dest.weight = 1;
    assert_eq!(rs.dest, dest);
    assert!(!rs.inhibit_on_failure);
    let check = rs.checks.first().unwrap();
    assert_eq!(check.probe, Probe::Tcp);
    assert_eq!(
        check.context,
        CheckContext::new("192.168.1.10:8080".parse().unwrap(), Duration::from_secs(5))
    );
    let t = &check.target;
    assert_eq!(t.interval, Duration::from_secs(60));
    assert_eq!(t.retry, 1);
    assert_eq!(t.delay_before_retry, Duration::from_secs(1));
    assert!(t.retry_while_down && !t.alpha);
}

#[test]
fn service_settings_map_exactly() {
    let s = one("virtual_server 10.0.0.1 53 {\n delay_loop 2.5\n lb_algo rr\n lb_kind DR\n protocol UDP\n persistence_timeout 300\n persistence_granularity 255.255.255.0\n alpha\n real_server 10.1.0.1 5353 {\n weight 7\n inhibit_on_failure\n TCP_CHECK {\n connect_ip 127.0.0.2\n connect_port 9000\n connect_timeout 0.5\n retry 3\n delay_before_retry 2\n bindto 127.0.0.1\n }\n }\n}\n");
    assert_eq!(s.name, "[10.0.0.1]:udp:53");
    let svc = &s.service;
    assert_eq!(svc.key, ServiceKey::udp("10.0.0.1:53".parse().unwrap()));
    assert_eq!(svc.scheduler, "rr");
    assert_eq!(svc.flags, ServiceFlags::PERSISTENT);
    assert_eq!(svc.timeout, 300);
    assert_eq!(svc.netmask, 0xffff_ff00);
    let rs = &s.real_servers[0];
    // keepalived resets a DR real server's port to the service's.
    assert_eq!(rs.name, "[10.1.0.1]:udp:53");
    assert_eq!(rs.dest.addr, "10.1.0.1:53".parse().unwrap());
    assert_eq!(rs.dest.forward, Forward::DirectRoute);
    assert_eq!(rs.dest.weight, 7);
    assert!(rs.inhibit_on_failure);
    let check = rs.checks.first().unwrap();
    let want = CheckContext::new(
        "127.0.0.2:9000".parse().unwrap(),
        Duration::from_millis(500),
    )
    .with_bind("127.0.0.1:0".parse().unwrap());
    assert_eq!(check.context, want);
    assert_eq!(check.target.interval, Duration::from_millis(2500));
    assert_eq!(check.target.retry, 3);
    assert_eq!(check.target.delay_before_retry, Duration::from_secs(2));
    assert!(check.target.alpha);
}

#[test]
fn http_get_urls_status_digest_and_defaults() {
    let s = one("virtual_server 10.0.0.1 80 {\n virtualhost www.example.com\n real_server 10.1.0.1 80 {\n HTTP_GET {\n url {\n path /health\n status_code 200 301-302\n digest 9b3a0c85a887a256d6939da88aabd8cd\n }\n url {\n path /\n }\n }\n }\n}\n");
    let check = s.real_servers[0].checks.first().unwrap();
    let mut first = UrlCheck::new("/health");
    first.status = StatusCodes::parse("200 301 302").unwrap();
    first.digest = Some(vec![
        0x9b, 0x3a, 0x0c, 0x85, 0xa8, 0x87, 0xa2, 0x56, 0xd6, 0x93, 0x9d, 0xa8, 0x8a, 0xab, 0xd8,
        0xcd,
    ]);
    assert_eq!(
        check.probe,
        Probe::Http {
            urls: vec![first, UrlCheck::new("/")],
            virtualhost: Some("www.example.com".into()),
            version: HttpVersion::V1_0,
            ssl: false,
            sni: false,
        }
    );
    // HTTP_GET's own defaults: delay_before_retry 3 s, no retry while down.
    assert_eq!(check.target.retry, 1);
    assert_eq!(check.target.delay_before_retry, Duration::from_secs(3));
    assert!(!check.target.retry_while_down);
}

#[test]
fn fwmark_and_tunnel_and_unchecked_real_server() {
    let s = one("virtual_server fwmark 7 {\n lb_kind TUN\n real_server 2001:db8::9 80 {\n weight 5\n }\n}\n");
    assert_eq!(s.name, "FWM 7");
    assert_eq!(
        s.service.key,
        ServiceKey::Fwmark {
            family: Family::V6,
            mark: 7
        }
    );
    let rs = &s.real_servers[0];
    // keepalived clears a non-NAT fwmark real server's port.
    assert_eq!(rs.name, "[2001:db8::9]:none:0");
    assert_eq!(rs.dest.addr, "[2001:db8::9]:0".parse().unwrap());
    assert_eq!(rs.dest.forward, Forward::Tunnel);
    assert_eq!(rs.dest.weight, 5);
    assert_eq!(rs.checks, []);
}

#[test]
fn real_server_without_port_takes_the_service_port() {
    let s = one("virtual_server 10.0.0.1 443 {\n lb_kind DR\n real_server 10.1.0.1 {\n TCP_CHECK {\n }\n }\n}\n");
    let rs = &s.real_servers[0];
    assert_eq!(rs.dest.addr, "10.1.0.1:443".parse().unwrap());
    assert_eq!(
        rs.checks.first().unwrap().context.target,
        "10.1.0.1:443".parse().unwrap()
    );
}

/// keepalived 2.2.7 `validate_check_config`: ports under NAT stay as
/// written; otherwise 0 under a fwmark and the service's port under an
/// address; the checker still connects to the written port.
#[test]
fn destination_ports_follow_keepalived() {
    let port = |conf: &str| {
        let s = one(conf);
        let rs = &s.real_servers[0];
        let check = rs.checks.first().map(|c| c.context.target.port());
        (
            rs.dest.addr.port(),
            check,
            s.sorry_server.map(|x| x.dest.addr.port()),
        )
    };
    let rs = "real_server 10.1.0.1 8080 {\n TCP_CHECK {\n }\n }\n}\n";
    let fwm = |kind: &str| {
        format!("virtual_server fwmark 5 {{\n lb_kind {kind}\n sorry_server 10.9.9.9 81\n {rs}")
    };
    let addr = |kind: &str| {
        format!("virtual_server 10.0.0.1 80 {{\n lb_kind {kind}\n sorry_server 10.9.9.9 81\n {rs}")
    };
    assert_eq!(port(&fwm("DR")), (0, Some(8080), Some(0)));
    assert_eq!(port(&fwm("TUN")), (0, Some(8080), Some(0)));
    assert_eq!(port(&fwm("NAT")), (8080, Some(8080), Some(81)));
    assert_eq!(port(&addr("DR")), (80, Some(8080), Some(80)));
    assert_eq!(port(&addr("NAT")), (8080, Some(8080), Some(81)));
    // NAT without a port: the service's (none for fwmark).
    let bare =
        "virtual_server 10.0.0.1 80 {\n sorry_server 10.9.9.9\n real_server 10.1.0.1 {\n }\n}\n";
    assert_eq!(port(bare), (80, None, Some(80)));
}

fn unsupported(e: PlanError) -> String {
    match e {
        PlanError::Unsupported { keyword, .. } => keyword,
        other => panic!("not Unsupported: {other:?}"),
    }
}

#[test]
fn refused_keywords_are_named() {
    let vs = |body: &str| {
        format!("virtual_server 10.0.0.1 80 {{\n{body}\n real_server 10.1.0.1 80 {{\n }}\n}}\n")
    };
    for (body, kw) in [
        ("hashed", "hashed without lvs_sched sh"),
        ("protocol TCP\n ops", "ops without protocol UDP"),
        ("sh-port", "sh-port without lvs_sched sh"),
        (
            "lvs_sched sh\n mh-fallback",
            "mh-fallback without lvs_sched mh",
        ),
    ] {
        assert_eq!(unsupported(refused(&vs(body))), kw, "{body}");
    }
    let rs = |body: &str| {
        format!("virtual_server 10.0.0.1 80 {{\n real_server 10.1.0.1 80 {{\n{body}\n }}\n}}\n")
    };
    let bfd = rs("BFD_CHECK {\n name b\n }");
    assert_eq!(
        unsupported(refused(&bfd)),
        "real_server [10.1.0.1]:udp:80 BFD_CHECK"
    );
}

/// keepalived 2.2.7 `check_file.c`: FILE_CHECK's weight, else the
/// `track_file`'s (default 1); no connection; the real server's weight as
/// the base.
#[test]
fn file_check_reads_its_track_file() {
    let text = |check: &str, block: &str| {
        format!(
            "track_file tf {{\n file /run/status\n{block}\n}}\n\
             virtual_server 10.0.0.1 80 {{\n delay_loop 9\n real_server 10.1.0.1 80 {{\n weight 4\n\
             FILE_CHECK {{\n track_file tf\n{check}\n }}\n }}\n}}\n"
        )
    };
    let probe = |check: &str, block: &str| -> Result<CheckPlan, PlanError> {
        let p = plan_of(&text(check, block))?;
        Ok(p.services[0].real_servers[0].checks[0].clone())
    };
    let c = probe("", "").unwrap();
    assert_eq!(
        c.probe,
        Probe::File {
            name: "tf".into(),
            path: "/run/status".into(),
            weight: 1,
            reverse: false,
            base_weight: 4,
        }
    );
    assert_eq!((c.target.interval, c.target.retry), (FILE_POLL, 0));
    let c = probe("", " weight -3 reverse").unwrap();
    assert!(matches!(
        c.probe,
        Probe::File {
            weight: -3,
            reverse: true,
            ..
        }
    ));
    let c = probe(" weight 0", " weight 5 reverse").unwrap();
    assert!(matches!(
        c.probe,
        Probe::File {
            weight: 0,
            reverse: false,
            ..
        }
    ));
    assert_eq!(
        unsupported(probe("", " init_file 0").unwrap_err()),
        "real_server [10.1.0.1]:udp:80 track_file tf init_file"
    );
    assert!(matches!(
        probe("", " weight 300"),
        Err(PlanError::BadChecker { .. })
    ));
    assert!(matches!(
        probe(" connect_port 81", ""),
        Err(PlanError::Unsupported { .. })
    ));
}

/// keepalived 2.2.7 `validate_check_config`, `addr_matches`: ha_suspend
/// follows a service's address; fwmark and group services have none.
#[test]
fn ha_suspend_follows_the_service_address() {
    let s = one("virtual_server 10.0.0.1 80 {\n ha_suspend\n real_server 10.1.0.1 80 {\n }\n}\n");
    assert_eq!(s.ha_suspend_address(), Some("10.0.0.1".parse().unwrap()));
    let s = one("virtual_server 10.0.0.1 80 {\n real_server 10.1.0.1 80 {\n }\n}\n");
    assert_eq!(s.ha_suspend_address(), None);
    let fwm = "virtual_server fwmark 1 {\n ha_suspend\n real_server 10.1.0.1 80 {\n }\n}\n";
    assert_eq!(
        unsupported(refused(fwm)),
        "ha_suspend without a virtual server address"
    );
}

/// keepalived 2.2.7 `lbflags_handler`: `sh-*` and `mh-*` alias flag-1/2.
#[test]
fn scheduler_flags_and_ops() {
    let flags = |body: &str| {
        let text = format!(
            "virtual_server 10.0.0.1 80 {{\n{body}\n real_server 10.1.0.1 80 {{\n }}\n}}\n"
        );
        one(&text).service.flags
    };
    assert_eq!(flags("ops"), ServiceFlags::ONE_PACKET);
    assert_eq!(
        flags("lvs_sched sh\n sh-port\n sh-fallback"),
        ServiceFlags(0x18)
    );
    assert_eq!(flags("lvs_sched mh\n mh-port"), ServiceFlags::SCHED2);
    assert_eq!(flags("flag-1\n flag-3"), ServiceFlags(0x28));
    assert_eq!(flags("ops\n persistence_timeout 30"), ServiceFlags(0x5));
    let fwm =
        one("virtual_server fwmark 3 {\n protocol TCP\n ops\n real_server 10.1.0.1 80 {\n }\n}\n");
    assert_eq!(fwm.service.flags, ServiceFlags::ONE_PACKET);
}

/// keepalived 2.2.7 `ipvs_group_cmd`: one service per address and per
/// fwmark, a DR real server on each service's port (0 under a fwmark).
#[test]
fn virtual_server_group_expands_to_services() {
    let text = "virtual_server_group web {\n 10.0.0.1-2 80\n fwmark 9\n}\n\
                virtual_server group web {\n lb_kind DR\n protocol TCP\n lvs_sched rr\n\
                persistence_timeout 60\n persistence_granularity 255.255.255.0\n\
                real_server 10.1.0.1 8080 {\n TCP_CHECK {\n }\n }\n}\n";
    let s = one(text);
    assert_eq!(s.name, "[web]:0");
    let keys: Vec<_> = s.services().map(|v| v.key).collect();
    assert_eq!(
        keys,
        [
            ServiceKey::tcp("10.0.0.1:80".parse().unwrap()),
            ServiceKey::tcp("10.0.0.2:80".parse().unwrap()),
            ServiceKey::Fwmark {
                family: Family::V4,
                mark: 9
            },
        ]
    );
    for svc in s.services() {
        assert_eq!((svc.scheduler.as_str(), svc.timeout), ("rr", 60));
        // keepalived installs a group's services with the full netmask.
        assert_eq!(svc.netmask, u32::MAX);
    }
    let rs = &s.real_servers[0];
    assert_eq!(rs.name, "[10.1.0.1]:tcp:8080");
    assert_eq!(
        rs.checks[0].context.target,
        "10.1.0.1:8080".parse().unwrap()
    );
    let ports: Vec<u16> = s
        .virtual_servers(&[rs.dest])
        .iter()
        .map(|v| v.dests[0].addr.port())
        .collect();
    assert_eq!(ports, [80, 80, 0]);
}

#[test]
fn ipv6_group_and_group_refusals() {
    let v6 = "virtual_server_group g6 {\n fd00::1-2 53\n fwmark 4 inet6\n}\n\
              virtual_server group g6 {\n real_server fd00:1::1 53 {\n }\n}\n";
    let s = one(v6);
    let keys: Vec<_> = s.services().map(|v| v.key).collect();
    assert_eq!(
        keys,
        [
            ServiceKey::udp("[fd00::1]:53".parse().unwrap()),
            ServiceKey::udp("[fd00::2]:53".parse().unwrap()),
            ServiceKey::Fwmark {
                family: Family::V6,
                mark: 4
            },
        ]
    );
    // The parser reports an unknown group; the plan refuses it too.
    let missing = "virtual_server group nope {\n real_server 10.1.0.1 80 {\n }\n}\n";
    let parsed = crate::parse_str("test.conf", missing, &crate::Options::default());
    assert_eq!(
        build(&parsed.config).unwrap_err(),
        PlanError::UnknownGroup {
            group: "nope".into()
        }
    );
    let mixed = "virtual_server_group m {\n 10.0.0.1 80\n fwmark 2\n fd00::1 80\n}\n\
                 virtual_server group m {\n real_server 10.1.0.1 80 {\n }\n}\n";
    assert!(matches!(refused(mixed), PlanError::BadGroup { .. }));
    let huge = "virtual_server_group h {\n 10.0.0.0/8 80\n}\n\
                virtual_server group h {\n real_server 10.1.0.1 80 {\n }\n}\n";
    assert!(matches!(refused(huge), PlanError::BadGroup { .. }));
    let overlap = "virtual_server_group o {\n 10.0.0.1-3 80\n}\n\
                   virtual_server group o {\n protocol TCP\n real_server 10.1.0.1 80 {\n }\n}\n\
                   virtual_server 10.0.0.2 80 {\n protocol TCP\n real_server 10.1.0.1 80 {\n }\n}\n";
    assert!(matches!(
        refused(overlap),
        PlanError::DuplicateService { .. }
    ));
}

#[test]
fn lvs_globals_reach_the_plan() {
    let text =
        "global_defs {\n lvs_timeouts tcp 900 tcpfin 30 udp 60\n lvs_flush\n lvs_flush_onstop\n}\n\
                virtual_server 10.0.0.1 80 {\n real_server 10.1.0.1 80 {\n }\n}\n";
    let p = plan_of(text).unwrap();
    let t = ipvs::Timeouts {
        tcp: 900,
        tcp_fin: 30,
        udp: 60,
    };
    assert_eq!(
        (p.timeouts, p.flush, p.flush_on_stop),
        (Some(t), true, true)
    );
    let bad = "global_defs {\n lvs_timeouts tcp -1\n}\nvirtual_server 10.0.0.1 80 {\n}\n";
    assert!(matches!(refused(bad), PlanError::BadGlobal { .. }));
}

#[test]
fn refused_shapes_have_typed_errors() {
    let two = "virtual_server 10.0.0.1 80 {\n real_server 10.1.0.1 80 {\n TCP_CHECK {\n }\n HTTP_GET {\n url {\n path /\n }\n }\n }\n}\n";
    // keepalived runs every checker of a real server.
    let kinds: Vec<_> = plan_of(two).unwrap().services[0].real_servers[0]
        .checks
        .iter()
        .map(|c| c.probe.keyword())
        .collect();
    assert_eq!(kinds, ["TCP_CHECK", "HTTP_GET"]);
    let dup = "virtual_server 10.0.0.1 80 {\n}\nvirtual_server 10.0.0.1 80 {\n}\n";
    assert_eq!(
        refused(dup),
        PlanError::DuplicateService {
            vs: "[10.0.0.1]:udp:80".into()
        }
    );
    let mixed = "virtual_server 10.0.0.1 80 {\n real_server 2001:db8::1 80 {\n }\n}\n";
    assert!(matches!(refused(mixed), PlanError::MixedFamily { .. }));
    let no_url =
        "virtual_server 10.0.0.1 80 {\n real_server 10.1.0.1 80 {\n HTTP_GET {\n }\n }\n}\n";
    assert!(matches!(refused(no_url), PlanError::BadChecker { .. }));
    let no_port = "virtual_server fwmark 1 {\n real_server 10.1.0.1 {\n TCP_CHECK {\n }\n }\n}\n";
    assert!(matches!(refused(no_port), PlanError::CheckerNoPort { .. }));
    let no_vs_port = "virtual_server 10.0.0.1 {\n real_server 10.1.0.1 80 {\n }\n}\n";
    assert!(matches!(refused(no_vs_port), PlanError::MissingPort { .. }));
}

#[test]
fn quorum_hysteresis_and_sorry_server() {
    let s = one("virtual_server 10.0.0.1 80 {\n lb_kind DR\n quorum 3\n hysteresis 1\n sorry_server 10.9.9.9\n real_server 10.1.0.1 80 {\n }\n}\n");
    assert_eq!((s.quorum, s.hysteresis), (3, 1));
    let sorry = s.sorry_server.clone().unwrap();
    assert_eq!(sorry.name, "[10.9.9.9]:udp:80");
    assert_eq!(
        sorry.dest,
        Destination::new("10.9.9.9:80".parse().unwrap(), Forward::DirectRoute)
    );
    assert_eq!(
        s.pool_config(),
        healthcheck::PoolConfig::with_quorum(3, 1).with_sorry_server()
    );
    let d = one("virtual_server 10.0.0.1 80 {\n real_server 10.1.0.1 80 {\n weight 4\n inhibit_on_failure\n }\n}\n");
    assert_eq!(
        (d.quorum, d.hysteresis, d.sorry_server.clone()),
        (1, 0, None)
    );
    assert_eq!(d.pool_config(), healthcheck::PoolConfig::default());
    let mut member = healthcheck::MemberConfig::with_weight(4);
    member.inhibit_on_failure = true;
    assert_eq!(d.real_servers[0].member_config(), member);
}

#[test]
fn checker_level_keywords() {
    let s = one("virtual_server 10.0.0.1 80 {\n virtualhost vs.example\n delay_loop 10\n real_server 10.1.0.1 80 {\n HTTP_GET {\n url {\n path /a\n virtualhost url.example\n }\n virtualhost chk.example\n http_protocol 1.1\n warmup 2\n delay_loop 4\n alpha\n }\n }\n}\n");
    let check = s.real_servers[0].checks.first().unwrap();
    let mut url = UrlCheck::new("/a");
    url.virtualhost = Some("url.example".into());
    assert_eq!(
        check.probe,
        Probe::Http {
            urls: vec![url],
            virtualhost: Some("chk.example".into()),
            version: HttpVersion::V1_1,
            ssl: false,
            sni: false,
        }
    );
    assert_eq!(check.target.warmup, Duration::from_secs(2));
    assert_eq!(check.target.interval, Duration::from_secs(4));
    assert!(check.target.alpha);
    let refused_kw = |body: &str| {
        let conf = format!(
            "virtual_server 10.0.0.1 80 {{\n real_server 10.1.0.1 80 {{\n {body}\n }}\n}}\n"
        );
        refused(&conf)
    };
    // FILE_CHECK has no attempts to log.
    let file = "track_file f {\n file /tmp/f\n}\nvirtual_server 10.0.0.1 80 {\n real_server 10.1.0.1 80 {\n FILE_CHECK {\n track_file f\n log_all_failures\n }\n }\n}\n";
    assert_eq!(
        unsupported(refused(file)),
        "real_server [10.1.0.1]:udp:80 FILE_CHECK log_all_failures"
    );
    assert_eq!(
        unsupported(refused_kw("TCP_CHECK {\n virtualhost x\n }")),
        "real_server [10.1.0.1]:udp:80 TCP_CHECK virtualhost"
    );
    assert_eq!(
        unsupported(refused_kw(
            "HTTP_GET {\n url {\n path /\n regex ok\n regex_options auto_callout\n }\n }"
        )),
        "real_server [10.1.0.1]:udp:80 HTTP_GET url regex_options auto_callout"
    );
}

#[test]
fn odd_values_never_panic() {
    let s = one("virtual_server 10.0.0.1 80 {\n delay_loop 1e15\n real_server 10.1.0.1 80 {\n TCP_CHECK {\n connect_timeout 1e15\n warmup 1e300\n }\n }\n}\n");
    let check = s.real_servers[0].checks.first().unwrap();
    assert_eq!(check.target.interval, MAX_SETTING);
    assert_eq!(check.context.timeout, MAX_SETTING);
    assert_eq!(check.target.warmup, MAX_SETTING);
    // Too long for a Duration: refused when parsed.
    let p = crate::parse_str(
        "t.conf",
        "virtual_server 10.0.0.1 80 {\n delay_loop 1e300\n}\n",
        &Default::default(),
    );
    assert_eq!(p.count(crate::Code::OutOfRange), 1);
    let bad = "virtual_server 10.0.0.1 80 {\n persistence_timeout 10\n persistence_granularity 300.1.1.1\n}\n";
    assert_eq!(
        refused(bad),
        PlanError::BadValue {
            vs: "[10.0.0.1]:udp:80".into(),
            keyword: "persistence_granularity".into(),
            value: "300.1.1.1".into(),
        }
    );
}

#[test]
fn misc_check_maps_and_defaults_its_timeout_to_delay_loop() {
    let s = one("virtual_server 10.0.0.1 80 {\n delay_loop 7\n real_server 10.1.0.1 80 {\n MISC_CHECK {\n misc_path \"/usr/local/bin/probe --fast\"\n misc_dynamic\n }\n }\n real_server 10.1.0.2 80 {\n MISC_CHECK {\n misc_path /bin/true\n misc_timeout 3\n retry 2\n }\n }\n}\n");
    let a = s.real_servers[0].checks.first().unwrap();
    assert_eq!(
        a.probe,
        Probe::Misc {
            path: "/usr/local/bin/probe --fast".into(),
            dynamic: true,
            user: None,
        }
    );
    assert_eq!(
        a.context,
        CheckContext::new("10.1.0.1:80".parse().unwrap(), Duration::from_secs(7))
    );
    // check_misc.c: MISC_CHECK's own default retry is 0.
    assert_eq!(a.target.retry, 0);
    assert_eq!(a.target.delay_before_retry, Duration::from_secs(1));
    assert!(!a.target.retry_while_down);
    let b = s.real_servers[1].checks.first().unwrap();
    assert_eq!(b.context.timeout, Duration::from_secs(3));
    assert_eq!(b.target.retry, 2);
    let conf = |body: &str| {
        format!("virtual_server 10.0.0.1 80 {{\n real_server 10.1.0.1 80 {{\n MISC_CHECK {{\n{body}\n }}\n }}\n}}\n")
    };
    assert_eq!(
        unsupported(refused(&conf("misc_path /bin/true\n connect_port 81"))),
        "real_server [10.1.0.1]:udp:80 MISC_CHECK connect_port"
    );
    let sh = plan_of(&conf("misc_path \"/bin/sh -c 'exit 0'\"")).unwrap();
    let check = sh.services[0].real_servers[0].checks[0].clone();
    assert_eq!(
        check.probe,
        Probe::Misc {
            path: "/bin/sh -c 'exit 0'".into(),
            dynamic: false,
            user: None,
        }
    );
    assert!(matches!(
        refused(&conf("misc_timeout 1")),
        PlanError::BadChecker { .. }
    ));
}

#[test]
fn protocol_tcp_names_and_keys_the_service_tcp() {
    let s = one("virtual_server 10.0.0.1 80 {\n protocol TCP\n sorry_server 10.9.9.9 80\n real_server 10.1.0.1 80 {\n }\n}\n");
    assert_eq!(s.name, "[10.0.0.1]:tcp:80");
    assert_eq!(
        s.service.key,
        ServiceKey::tcp("10.0.0.1:80".parse().unwrap())
    );
    assert_eq!(s.real_servers[0].name, "[10.1.0.1]:tcp:80");
    assert_eq!(s.sorry_server.unwrap().name, "[10.9.9.9]:tcp:80");
    // A fwmark service has no protocol of its own; `protocol` names it.
    let f = one("virtual_server fwmark 7 {\n protocol TCP\n real_server 10.1.0.9 80 {\n }\n}\n");
    assert_eq!(f.real_servers[0].name, "[10.1.0.9]:tcp:80");
}

/// keepalived 2.2.7's defaults and keywords for the other checkers
/// (check_smtp.c, check_dns.c, check_udp.c, check_ping.c, check_ssl.c).
#[test]
fn smtp_dns_udp_ping_and_ssl_checks() {
    let rs = |body: &str| {
        let s = one(&format!(
            "virtual_server 10.0.0.1 25 {{\n protocol TCP\n real_server 10.1.0.1 25 {{\n{body}\n }}\n}}\n"
        ));
        s.real_servers[0].checks[0].clone()
    };
    let smtp = rs("SMTP_CHECK {\n }");
    assert_eq!(
        smtp.probe,
        Probe::Smtp {
            helo_name: "smtpchecker.keepalived.org".into()
        }
    );
    assert!(smtp.target.retry_while_down);
    let smtp = rs("SMTP_CHECK {\n helo_name mx.example\n }");
    assert_eq!(
        smtp.probe,
        Probe::Smtp {
            helo_name: "mx.example".into()
        }
    );
    assert_eq!(
        rs("DNS_CHECK {\n }").probe,
        Probe::Dns {
            name: ".".into(),
            qtype: DnsType::Soa
        }
    );
    let dns = rs("DNS_CHECK {\n type a\n name example.com\n retry 0\n }");
    assert_eq!(
        dns.probe,
        Probe::Dns {
            name: "example.com".into(),
            qtype: DnsType::A
        }
    );
    assert!(!dns.target.retry_while_down);
    assert_eq!(dns.target.retry, 0);
    assert_eq!(
        rs(
            "UDP_CHECK {\n payload 0a0B ff\n require_reply 4f\n min_reply_length 2\n \
            max_reply_length 1000\n }"
        )
        .probe,
        Probe::Udp {
            payload: vec![0x0a, 0x0b, 0xff],
            require_reply: Some(vec![0x4f]),
            reply_length: (2, 1000),
        }
    );
    assert_eq!(
        rs("UDP_CHECK {\n require_reply\n }").probe,
        Probe::Udp {
            payload: Vec::new(),
            require_reply: Some(Vec::new()),
            reply_length: (0, 255),
        }
    );
    let ping = rs("PING_CHECK {\n connect_ip 10.2.0.9\n connect_timeout 2\n }");
    assert_eq!(ping.probe, Probe::Ping);
    assert_eq!(
        ping.context,
        CheckContext::new("10.2.0.9:25".parse().unwrap(), Duration::from_secs(2))
    );
    let ssl = rs("SSL_GET {\n url {\n path /\n }\n }");
    assert!(matches!(ssl.probe, Probe::Http { ssl: true, .. }));
    assert_eq!(ssl.probe.keyword(), "SSL_GET");
    assert_eq!(ssl.target.delay_before_retry, Duration::from_secs(3));
    assert!(matches!(
        refused("virtual_server 10.0.0.1 25 {\n real_server 10.1.0.1 25 {\n UDP_CHECK {\n payload 0g\n }\n }\n}\n"),
        PlanError::BadChecker { .. }
    ));
}

/// notify_up/notify_down, quorum_up/quorum_down, omega and
/// sorry_server_inhibit are carried to the plan.
#[test]
fn scripts_omega_and_sorry_server_inhibit() {
    let s = one("virtual_server 10.0.0.1 80 {\n omega\n quorum_up \"/bin/up vs\"\n quorum_down /bin/down\n sorry_server 10.9.9.9 80\n sorry_server_inhibit\n real_server 10.1.0.1 80 {\n notify_up \"/bin/rs up\"\n notify_down /bin/rsdown\n }\n}\n");
    assert!(s.omega);
    assert_eq!(s.quorum_up, Some(vec!["/bin/up vs".to_owned()]));
    assert_eq!(s.quorum_down, Some(vec!["/bin/down".to_owned()]));
    assert!(s.sorry_server.unwrap().inhibit);
    let rs = &s.real_servers[0];
    assert_eq!(rs.notify_up, Some(vec!["/bin/rs up".to_owned()]));
    assert_eq!(rs.notify_down, Some(vec!["/bin/rsdown".to_owned()]));
    let plain = one("virtual_server 10.0.0.1 80 {\n sorry_server 10.9.9.9 80\n real_server 10.1.0.1 80 {\n }\n}\n");
    assert!(!plain.omega && plain.quorum_up.is_none());
    assert!(!plain.sorry_server.unwrap().inhibit);
}

/// keepalived 2.2.7's SMTP_CHECK `host` blocks: each is a checker of the
/// real server; the first replaces the block's own connection unless the
/// block sets one.
#[test]
fn smtp_host_blocks_are_checkers() {
    let rs = |body: &str| {
        one(&format!(
            "virtual_server 10.0.0.1 25 {{\n protocol TCP\n real_server 10.1.0.1 25 {{\n SMTP_CHECK {{\n{body} }}\n }}\n}}\n"
        ))
        .real_servers
        .remove(0)
        .checks
    };
    let targets = |checks: Vec<CheckPlan>| -> Vec<(String, Duration)> {
        checks
            .into_iter()
            .map(|c| (c.context.target.to_string(), c.context.timeout))
            .collect()
    };
    let five = Duration::from_secs(5);
    assert_eq!(
        targets(rs(" host {\n connect_ip 10.2.0.1\n connect_port 26\n connect_timeout 2\n }\n host {\n }\n")),
        [
            ("10.2.0.1:26".to_owned(), Duration::from_secs(2)),
            ("10.1.0.1:25".to_owned(), five),
        ]
    );
    assert_eq!(
        targets(rs(
            " connect_port 2525\n host {\n connect_ip 10.2.0.1\n }\n"
        )),
        [
            ("10.1.0.1:2525".to_owned(), five),
            ("10.2.0.1:25".to_owned(), five),
        ]
    );
    // check_smtp.c: a bind_port, even without bindto, keeps the block's
    // own connection beside the hosts.
    assert_eq!(
        targets(rs(" bind_port 4000\n host {\n connect_ip 10.2.0.1\n }\n")),
        [
            ("10.1.0.1:25".to_owned(), five),
            ("10.2.0.1:25".to_owned(), five),
        ]
    );
    let bad = "virtual_server 10.0.0.1 25 {\n real_server 10.1.0.1 25 {\n SMTP_CHECK {\n host {\n connect_ip nowhere\n }\n }\n }\n}\n";
    assert!(matches!(refused(bad), PlanError::BadChecker { .. }));
}

/// Each kind's own defaults when nothing up the tree sets them
/// (check_dns.c: retry 3, delay_before_retry the delay_loop; check_misc.c:
/// retry 0; the rest queue_checker's retry 1 after 1 s); a real server's
/// setting still wins over them.
#[test]
fn dns_and_misc_have_their_own_retry_defaults() {
    let s = one("virtual_server 10.0.0.1 53 {\n delay_loop 4\n real_server 10.1.0.1 53 {\n DNS_CHECK {\n }\n MISC_CHECK {\n misc_path /bin/true\n }\n UDP_CHECK {\n }\n }\n real_server 10.1.0.2 53 {\n retry 2\n delay_before_retry 5\n DNS_CHECK {\n }\n MISC_CHECK {\n misc_path /bin/true\n }\n }\n}\n");
    let [a, b] = [&s.real_servers[0], &s.real_servers[1]];
    let got = |c: &crate::convert::lvs::CheckPlan| (c.target.retry, c.target.delay_before_retry);
    let secs = Duration::from_secs;
    assert_eq!(got(&a.checks[0]), (3, secs(4)));
    assert_eq!(got(&a.checks[1]), (0, secs(1)));
    assert_eq!(got(&a.checks[2]), (1, secs(1)));
    assert_eq!(got(&b.checks[0]), (2, secs(5)));
    assert_eq!(got(&b.checks[1]), (2, secs(5)));
}

/// keepalived 2.2.7's defaults down the tree: a checker's own setting,
/// else its real server's, else its virtual server's, else the default.
#[test]
fn checker_settings_inherit_from_real_and_virtual_server() {
    let s = one("virtual_server 10.0.0.1 80 {\n protocol TCP\n inhibit_on_failure\n retry 4\n delay_before_retry 7\n connect_timeout 9\n warmup 3\n real_server 10.1.0.1 80 {\n retry 2\n TCP_CHECK {\n }\n MISC_CHECK {\n misc_path /bin/true\n delay_before_retry 1\n }\n }\n real_server 10.1.0.2 80 {\n TCP_CHECK {\n retry 0\n connect_timeout 1\n }\n }\n}\n");
    let [a, b] = [&s.real_servers[0], &s.real_servers[1]];
    assert!(a.inhibit_on_failure && b.inhibit_on_failure);
    let (tcp, misc) = (&a.checks[0], &a.checks[1]);
    assert_eq!(tcp.target.retry, 2);
    assert_eq!(tcp.target.delay_before_retry, Duration::from_secs(7));
    assert_eq!(tcp.target.warmup, Duration::from_secs(3));
    assert_eq!(tcp.context.timeout, Duration::from_secs(9));
    assert_eq!(misc.target.retry, 2);
    assert_eq!(misc.target.delay_before_retry, Duration::from_secs(1));
    let own = &b.checks[0];
    assert_eq!(own.target.retry, 0);
    assert_eq!(own.context.timeout, Duration::from_secs(1));
    assert_eq!(own.target.delay_before_retry, Duration::from_secs(7));
    assert!(matches!(
        refused("virtual_server 10.0.0.1 80 {\n connect_timeout soon\n real_server 10.1.0.1 80 {\n }\n}\n"),
        PlanError::BadValue { .. }
    ));
}

/// keepalived 2.2.7 `check_http.c`: `regex` and its settings in a `url`.
#[test]
fn url_regex_settings() {
    let conf = |url: &str| {
        format!(
            "virtual_server 10.0.0.1 80 {{\n protocol TCP\n real_server 10.1.0.1 80 {{\n \
             HTTP_GET {{\n url {{\n path /\n {url}\n }}\n }}\n }}\n}}\n"
        )
    };
    let s = one(&conf(
        "regex \"^ok \\\\d+\"\n regex_no_match\n regex_options caseless multiline\n \
         regex_min_offset 2\n regex_max_offset 100\n regex_stack 1024 4096",
    ));
    let Probe::Http { urls, .. } = &s.real_servers[0].checks[0].probe else {
        panic!("not HTTP_GET");
    };
    let r = urls[0].regex.as_ref().unwrap();
    assert_eq!(r.pattern, "^ok \\d+");
    assert_eq!(r.options, ["caseless", "multiline"]);
    assert!(r.no_match);
    assert_eq!((r.min_offset, r.max_offset), (2, Some(100)));
    assert!(r.matches(b"xx\nOK 12"));
    let bad = |url: &str| match refused(&conf(url)) {
        PlanError::BadChecker { what, .. } => what,
        e => panic!("{e:?}"),
    };
    assert_eq!(
        bad("regex_no_match"),
        "regex parameters specified without regex"
    );
    assert_eq!(
        bad("regex a\n regex_min_offset 5\n regex_max_offset 4"),
        "regex min offset 5 > regex_max_offset 4"
    );
    assert_eq!(
        bad("regex a\n regex_stack 10 5"),
        "invalid regex_stack '10 5'"
    );
    assert_eq!(
        bad("regex a\n regex_options nosuch"),
        "unknown regex_options 'nosuch'"
    );
    assert!(bad("regex \"(a)\\\\1\"").starts_with("invalid regex '(a)\\1'"));
}

/// keepalived 2.2.7 `check_parser.c`: the `virtual_server` and
/// `real_server` keywords that set the service, its destinations and the
/// real servers' checker defaults.
#[test]
fn service_and_destination_keywords() {
    let s = one(
        "virtual_server 10.0.0.1 5060 {\n protocol UDP\n lvs_sched sh\n hashed\n \
         persistence_timeout 60\n persistence_engine sip\n ip_family inet\n weight 7\n \
         snmp_name voice\n lvs_method NAT\n virtualhost vs.example\n \
         sorry_server 10.9.9.9 5060\n sorry_server_lvs_method DR\n \
         real_server 10.1.0.1 5060 {\n  lvs_method DR\n  uthreshold 100\n  lthreshold 10\n  \
         snmp_name rs-1\n  alpha\n  virtualhost rs.example\n  HTTP_GET {\n   url {\n    path /\n   }\n  }\n \
         TCP_CHECK {\n   alpha no\n  }\n }\n real_server 10.1.0.2 5070 {\n  weight 3\n  \
         HTTP_GET {\n   virtualhost chk.example\n   url {\n    path /\n   }\n  }\n }\n}\n",
    );
    assert_eq!(s.service.pe_name.as_deref(), Some("sip"));
    assert_eq!(s.service.flags, ServiceFlags::PERSISTENT);
    assert_eq!(s.snmp_name.as_deref(), Some("voice"));
    let sorry = s.sorry_server.as_ref().unwrap();
    assert_eq!(sorry.dest.forward, Forward::DirectRoute);
    let (a, b) = (&s.real_servers[0], &s.real_servers[1]);
    // DR takes the service's port; the weight is the virtual server's.
    assert_eq!(a.dest.addr, "10.1.0.1:5060".parse().unwrap());
    assert_eq!(a.dest.forward, Forward::DirectRoute);
    assert_eq!((a.dest.upper_threshold, a.dest.lower_threshold), (100, 10));
    assert_eq!(a.dest.weight, 7);
    assert_eq!(a.snmp_name.as_deref(), Some("rs-1"));
    assert_eq!(b.dest.forward, Forward::Masq);
    assert_eq!(b.dest.addr, "10.1.0.2:5070".parse().unwrap());
    assert_eq!(b.dest.weight, 3);
    assert_eq!(b.snmp_name, None);
    // alpha: the checker's, else the real server's, else the service's.
    let alphas: Vec<bool> = a.checks.iter().map(|c| c.target.alpha).collect();
    assert_eq!(alphas, [true, false]);
    assert!(!b.checks[0].target.alpha);
    // virtualhost: the checker's, else the real server's, else the
    // service's.
    let vhost = |c: &CheckPlan| match &c.probe {
        Probe::Http { virtualhost, .. } => virtualhost.clone(),
        p => panic!("{p:?}"),
    };
    assert_eq!(vhost(&a.checks[0]).as_deref(), Some("rs.example"));
    assert_eq!(vhost(&b.checks[0]).as_deref(), Some("chk.example"));
    // ip_family names a fwmark service's family.
    let f = one(
        "virtual_server fwmark 5 {\n ip_family inet6\n lvs_method DR\n \
         real_server fd00::1 80 {\n  TCP_CHECK {\n  }\n }\n}\n",
    );
    assert_eq!(f.service.key.family(), Family::V6);
    let bad = |vs: &str| {
        refused(&format!(
            "virtual_server 10.0.0.1 80 {{\n protocol TCP\n {vs}\n}}\n"
        ))
    };
    assert!(
        matches!(bad("ip_family inet6"), PlanError::BadValue { keyword, .. } if keyword == "ip_family")
    );
    assert!(matches!(bad("weight 0"), PlanError::BadValue { keyword, .. } if keyword == "weight"));
    assert!(
        matches!(bad("hashed"), PlanError::Unsupported { keyword, .. } if keyword == "hashed without lvs_sched sh")
    );
    assert!(matches!(
        bad("sorry_server_lvs_method DR"),
        PlanError::Unsupported { keyword, .. } if keyword == "sorry_server_lvs_method without sorry_server"
    ));
    assert!(matches!(
        bad("persistence_engine a_name_too_long_for_ipvs"),
        PlanError::BadValue { keyword, .. } if keyword == "persistence_engine"
    ));
}

/// keepalived 2.2.7 `check_api.c`: `bind_port` sets bindto's port.
#[test]
fn bind_port_goes_with_bindto() {
    let rs = |chk: &str| {
        format!(
            "virtual_server 10.0.0.1 80 {{\n protocol TCP\n real_server 10.1.0.1 80 {{\n \
             TCP_CHECK {{\n {chk}\n }}\n }}\n}}\n"
        )
    };
    let s = one(&rs("bindto 10.0.0.9\n bind_port 4000"));
    let bind = s.real_servers[0].checks[0].context.bind;
    assert_eq!(bind, Some("10.0.0.9:4000".parse().unwrap()));
    // Alone it binds nothing, as keepalived's layer4.c without bindto.
    let s = one(&rs("bind_port 4000"));
    assert_eq!(s.real_servers[0].checks[0].context.bind, None);
}

/// SSL_GET `enable_sni` (keepalived 2.2.7 `check_http.c`): off unless set.
#[test]
fn ssl_get_enable_sni() {
    let sni = |chk: &str| {
        let s = one(&format!(
            "virtual_server 10.0.0.1 443 {{\n protocol TCP\n real_server 10.1.0.1 443 {{\n \
             SSL_GET {{\n {chk}\n url {{\n path /\n }}\n }}\n }}\n}}\n"
        ));
        match &s.real_servers[0].checks[0].probe {
            Probe::Http { sni, .. } => *sni,
            p => panic!("{p:?}"),
        }
    };
    assert!(!sni(""));
    assert!(sni("enable_sni"));
    assert!(!sni("enable_sni false"));
}

/// MISC_CHECK `user USER [GROUP]` (keepalived 2.2.7 `check_misc.c`).
#[test]
fn misc_check_user() {
    let conf = |user: &str| {
        format!(
            "virtual_server 10.0.0.1 80 {{\n protocol TCP\n real_server 10.1.0.1 80 {{\n \
             MISC_CHECK {{\n misc_path /bin/true\n {user}\n }}\n }}\n}}\n"
        )
    };
    let s = one(&conf("user nobody nogroup"));
    let Probe::Misc { user, .. } = &s.real_servers[0].checks[0].probe else {
        panic!("not MISC_CHECK");
    };
    assert_eq!(
        user.as_deref(),
        Some(&["nobody".to_owned(), "nogroup".to_owned()][..])
    );
    assert!(matches!(
        refused(&conf("user no-such-user-kl")),
        PlanError::BadChecker { what, .. } if what.starts_with("MISC_CHECK user:")
    ));
}

/// keepalived 2.2.7 `check_api.c`: `bind_if` and `fwmark` of a checker.
#[test]
fn bind_if_and_fwmark() {
    let rs = |chk: &str| {
        format!(
            "virtual_server 10.0.0.1 80 {{\n protocol TCP\n real_server 10.1.0.1 80 {{\n \
             {chk}\n }}\n}}\n"
        )
    };
    let s = one(&rs("TCP_CHECK {\n bind_if eth1\n fwmark 9\n }"));
    let ctx = &s.real_servers[0].checks[0].context;
    assert_eq!(ctx.bind_if.as_deref(), Some("eth1"));
    assert_eq!(ctx.mark, Some(9));
    let s = one(&rs("PING_CHECK {\n fwmark 4294967295\n }"));
    assert_eq!(s.real_servers[0].checks[0].context.mark, Some(u32::MAX));
    let bad = |chk: &str| match refused(&rs(chk)) {
        PlanError::BadChecker { what, .. } => what,
        e => panic!("{e:?}"),
    };
    assert_eq!(bad("TCP_CHECK {\n fwmark -1\n }"), "invalid fwmark '-1'");
    assert_eq!(
        bad("TCP_CHECK {\n bind_if a-name-too-long-17\n }"),
        "invalid bind_if 'a-name-too-long-17'"
    );
    assert_eq!(
        unsupported(refused(&rs(
            "MISC_CHECK {\n misc_path /bin/true\n fwmark 1\n }"
        ))),
        "real_server [10.1.0.1]:tcp:80 MISC_CHECK fwmark"
    );
}

/// keepalived 2.2.7 `log_all_failures_handler`: no argument is true, a
/// bad one an error; the flag reaches every checker's target.
#[test]
fn log_all_failures_reaches_the_target() {
    let flag = |(checker, need): (&str, &str), body: &str| {
        let text = format!(
            "virtual_server 10.0.0.1 80 {{\n real_server 10.1.0.1 80 {{\n {checker} {{\n {need}\n {body}\n }}\n }}\n}}\n"
        );
        one(&text).real_servers[0].checks[0].target.log_all_failures
    };
    for checker in CHECKERS {
        assert!(!flag(checker, ""), "{checker:?}");
        assert!(flag(checker, "log_all_failures"), "{checker:?}");
        assert!(flag(checker, "log_all_failures yes"), "{checker:?}");
        assert!(!flag(checker, "log_all_failures off"), "{checker:?}");
    }
    let text = "virtual_server 10.0.0.1 80 {\n real_server 10.1.0.1 80 {\n TCP_CHECK {\n log_all_failures maybe\n }\n }\n}\n";
    assert_eq!(
        unsupported(refused(text)),
        "real_server [10.1.0.1]:udp:80 TCP_CHECK log_all_failures"
    );
}

/// Every checker that takes `log_all_failures`, with what it needs.
const CHECKERS: [(&str, &str); 8] = [
    ("TCP_CHECK", ""),
    ("UDP_CHECK", ""),
    ("PING_CHECK", ""),
    ("HTTP_GET", "url {\n path /\n }"),
    ("SSL_GET", "url {\n path /\n }"),
    ("SMTP_CHECK", ""),
    ("DNS_CHECK", "name n"),
    ("MISC_CHECK", "misc_path /bin/true"),
];

/// `checker_log_all_failures` sets every checker's flag (keepalived ORs it
/// with the checker's own).
#[test]
fn checker_log_all_failures_sets_every_checker() {
    let text = |global: &str, (checker, need): (&str, &str), body: &str| {
        format!(
            "global_defs {{\n {global}\n}}\nvirtual_server 10.0.0.1 80 {{\n real_server 10.1.0.1 80 {{\n {checker} {{\n {need}\n {body}\n }}\n }}\n}}\n"
        )
    };
    let flag = |global: &str, checker: (&str, &str), body: &str| {
        one(&text(global, checker, body)).real_servers[0].checks[0]
            .target
            .log_all_failures
    };
    for checker in CHECKERS {
        assert!(flag("checker_log_all_failures", checker, ""), "{checker:?}");
        assert!(
            flag(
                "checker_log_all_failures on",
                checker,
                "log_all_failures off"
            ),
            "{checker:?}"
        );
        assert!(
            !flag("checker_log_all_failures off", checker, ""),
            "{checker:?}"
        );
        assert!(
            flag("checker_log_all_failures no", checker, "log_all_failures"),
            "{checker:?}"
        );
    }
    // FILE_CHECK has no attempts to log.
    let file = text(
        "checker_log_all_failures",
        ("FILE_CHECK", "track_file f"),
        "",
    );
    let file = format!("track_file f {{\n file /tmp/f\n}}\n{file}");
    assert!(!one(&file).real_servers[0].checks[0].target.log_all_failures);
}

/// keepalived 2.2.7 `fast_recovery_handler`: no argument is true, a bad
/// one an error. HTTP and SSL targets always confirm a recovery with a
/// second pass (check_http.c `epilog`); the flag makes that pass run at once.
#[test]
fn fast_recovery_reaches_http_targets() {
    let target = |checker: &str, body: &str| {
        let text = format!(
            "virtual_server 10.0.0.1 80 {{\n real_server 10.1.0.1 80 {{\n {checker} {{\n url {{\n path /\n }}\n {body}\n }}\n }}\n}}\n"
        );
        let t = one(&text).real_servers[0].checks[0].target.clone();
        (t.confirm_recovery, t.fast_recovery)
    };
    for checker in ["HTTP_GET", "SSL_GET"] {
        assert_eq!(target(checker, ""), (true, false), "{checker}");
        assert_eq!(target(checker, "fast_recovery"), (true, true), "{checker}");
        assert_eq!(
            target(checker, "fast_recovery on"),
            (true, true),
            "{checker}"
        );
        assert_eq!(
            target(checker, "fast_recovery no"),
            (true, false),
            "{checker}"
        );
    }
    let bad = "virtual_server 10.0.0.1 80 {\n real_server 10.1.0.1 80 {\n HTTP_GET {\n url {\n path /\n }\n fast_recovery maybe\n }\n }\n}\n";
    assert_eq!(
        unsupported(refused(bad)),
        "real_server [10.1.0.1]:udp:80 HTTP_GET fast_recovery"
    );
    let tcp = "virtual_server 10.0.0.1 80 {\n real_server 10.1.0.1 80 {\n TCP_CHECK {\n fast_recovery\n }\n }\n}\n";
    assert_eq!(
        unsupported(refused(tcp)),
        "real_server [10.1.0.1]:udp:80 TCP_CHECK fast_recovery"
    );
}
