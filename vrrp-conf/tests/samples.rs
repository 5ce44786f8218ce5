//! keepalived's 25 shipped sample configurations: each parses with no
//! errors beyond those keepalived itself reports, and survives
//! parse -> emit -> parse and a JSON round trip unchanged.
#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

use std::path::Path;

use vrrp_conf::{emit::emit, parse_file, parse_str, Code, Config, Options, Severity};

fn samples() -> Vec<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/samples");
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        // The directory also holds a README saying where the files come from.
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("keepalived.conf")
        })
        .collect();
    v.sort();
    assert_eq!(v.len(), 25);
    v
}

fn opts() -> Options {
    Options {
        config_id: Some("high".into()),
        ..Options::default()
    }
}

#[test]
fn every_sample_round_trips_through_emit() {
    for s in samples() {
        let p = parse_file(&s, &opts());
        let text = emit(&p.config);
        let again = parse_str("emitted.conf", &text, &opts());
        assert_eq!(again.config, p.config, "{}:\n{text}", s.display());
        assert_eq!(
            emit(&again.config),
            text,
            "{}: emit is not canonical",
            s.display()
        );
    }
}

#[test]
fn every_sample_round_trips_through_json() {
    for s in samples() {
        let p = parse_file(&s, &opts());
        let json = serde_json::to_string(&p.config).unwrap();
        let back: Config = serde_json::from_str(&json).unwrap();
        assert_eq!(back, p.config, "{}", s.display());
    }
}

#[test]
fn samples_have_only_the_errors_keepalived_reports() {
    let mut errors = Vec::new();
    for s in samples() {
        let p = parse_file(&s, &opts());
        let name = s.file_name().unwrap().to_string_lossy().to_string();
        for d in p
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
        {
            errors.push((name.clone(), d.span.line, d.code));
        }
    }
    // keepalived 2.2.7's -t reports each (KeepalivedError: it runs past
    // them): routes it cannot track, `lvs_sync_daemon_interface`. The
    // rules sample's bad addresses are the conversion's (it skips them).
    let want = [
        ("keepalived.conf.SSL_GET", 20, Code::Conflict),
        ("keepalived.conf.track_interface", 31, Code::KeepalivedError),
        ("keepalived.conf.vrrp.lvs_syncd", 3, Code::Missing),
        ("keepalived.conf.vrrp.lvs_syncd", 4, Code::UnknownKeyword),
        ("keepalived.conf.vrrp.lvs_syncd", 5, Code::UnknownKeyword),
        ("keepalived.conf.vrrp.lvs_syncd", 11, Code::KeepalivedError),
        ("keepalived.conf.vrrp.routes", 29, Code::KeepalivedError),
        // Line 30: "or" and an untracked route; 32: "gw" and one.
        ("keepalived.conf.vrrp.routes", 30, Code::KeepalivedError),
        ("keepalived.conf.vrrp.routes", 30, Code::KeepalivedError),
        ("keepalived.conf.vrrp.routes", 31, Code::KeepalivedError),
        ("keepalived.conf.vrrp.routes", 32, Code::KeepalivedError),
        ("keepalived.conf.vrrp.routes", 32, Code::KeepalivedError),
        (
            "keepalived.conf.vrrp.static_ipaddress",
            25,
            Code::KeepalivedError,
        ),
    ];
    let want: Vec<_> = want
        .iter()
        .map(|(n, l, c)| (n.to_string(), *l, *c))
        .collect();
    assert_eq!(errors, want);
}

#[test]
fn sample_models_hold_the_values_written() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/samples");
    let p = parse_file(&dir.join("keepalived.conf.SSL_GET"), &opts());
    let vs = &p.config.virtual_servers[0];
    assert_eq!(vs.real_servers.len(), 1);
    assert_eq!(vs.real_servers[0].checkers[0].urls.len(), 2);
    let url = &vs.real_servers[0].checkers[0].urls[0];
    assert_eq!(url.path.as_deref(), Some("/"));
    assert_eq!(
        url.digest.as_deref(),
        Some("ff20ad2481f97b1754ef3e12ecd3a9cc")
    );
    let p = parse_file(&dir.join("keepalived.conf.conditional_conf"), &opts());
    let vi = &p.config.vrrp_instances[0];
    assert_eq!(vi.priority, Some(170));
    assert_eq!(
        p.config.vrrp_scripts[0].script.as_ref().unwrap()[0],
        "/etc/keepalived/scripts/check_high_VI_0.sh"
    );
}

#[test]
fn value_blocks_take_every_word() {
    let text = "global_defs {\n  notification_email { a@example.com b@example.com }\n}\n\
                vrrp_sync_group G { group { VI_1 VI_2 } }\n\
                vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress { 10.0.0.1 }\n}\n\
                vrrp_instance VI_2 {\n interface eth0\n virtual_router_id 2\n virtual_ipaddress { 10.0.0.2 }\n}\n";
    let p = parse_str("v.conf", text, &opts());
    assert_eq!(
        p.config.global_defs.notification_email,
        ["a@example.com", "b@example.com"]
    );
    assert_eq!(p.config.vrrp_sync_groups[0].group, ["VI_1", "VI_2"]);
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    let again = parse_str("e.conf", &emit(&p.config), &opts());
    assert_eq!(again.config, p.config);
}

#[test]
fn unknown_ip_address_options_are_reported_with_a_suggestion() {
    let text = "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n  10.0.0.1 10.0.0.2\n  10.0.0.3 dev eth0 lable x\n  10.0.0.4 no_track preferred_lft 0\n }\n}\n";
    let p = parse_str("v.conf", text, &opts());
    let d: Vec<_> = p
        .diagnostics
        .iter()
        .map(|d| (d.span.line, d.code, d.suggestion.clone()))
        .collect();
    assert_eq!(
        d,
        [
            (5, Code::UnknownKeyword, None),
            (6, Code::UnknownKeyword, Some("label".to_string())),
            (6, Code::UnknownKeyword, None),
        ]
    );
    let vips = &p.config.vrrp_instances[0].virtual_ipaddress;
    assert_eq!(vips[2].other, ["no_track", "preferred_lft", "0"]);
}
