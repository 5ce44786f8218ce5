//! A virtual server whose service another one already installs is refused
//! with a diagnostic at its line, however many come before it (the check
//! uses a set of the services taken so far).
#![cfg(feature = "convert-lvs")]

use vrrp_conf::convert::{convert, Halves};
use vrrp_conf::{parse_str, Options};

fn vs(head: &str) -> String {
    format!("virtual_server {head} {{\n protocol TCP\n real_server 10.1.0.1 80 {{\n }}\n}}\n")
}

/// The refusals' (line, message) of `conf` under `-C`.
fn refusals(conf: &str) -> Vec<(u32, String)> {
    let parsed = parse_str("t.conf", conf, &Options::default());
    let halves = Halves {
        vrrp: false,
        lvs: true,
    };
    let converted = convert(&parsed, halves);
    converted
        .refusals()
        .map(|d| (d.span.line, d.message.clone()))
        .collect()
}

#[test]
fn the_second_of_two_equal_services_is_refused_at_its_line() {
    let mut conf: String = (0..300)
        .map(|i| vs(&format!("10.0.{}.{} 80", i / 256, i % 256)))
        .collect();
    conf += &vs("10.0.0.7 80");
    assert_eq!(
        refusals(&conf),
        [(
            1501,
            "virtual_server [10.0.0.7]:tcp:80 is defined twice".to_string()
        )]
    );
}

#[test]
fn a_group_that_installs_a_taken_service_is_refused() {
    let conf = vs("10.0.0.7 80") + "virtual_server_group G {\n 10.0.0.6-8 80\n}\n" + &vs("group G");
    let got = refusals(&conf);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, 9);
    assert!(got[0].1.ends_with("is defined twice"), "{got:?}");
}

#[test]
fn distinct_services_are_not_refused() {
    let conf: String = (0..300)
        .map(|i| vs(&format!("10.0.{}.{} 80", i / 256, i % 256)))
        .collect();
    assert_eq!(refusals(&conf), []);
}
