//! keepalived 2.2.7 and keepalived-lite side by side on `static_rules`
//! and `virtual_rules` written with `all`/`any`/`default`, which have no
//! address family: after a word that set one (`from 10.0.0.0/8 to all`)
//! keepalived logs "rule specification has mixed IPv4 and IPv6", skips the
//! rule and runs; `inet`/`inet6` swallow the word after them ("Unknown
//! rule option all"). Both daemons log those errors and install the same
//! rules (`ip rule`, `ip -6 rule`), as MASTER and after stop. So do they
//! with keepalived's other per-rule errors (a bad table, preference, goto
//! or action: the rule skipped) and with rules without a preference, a
//! bad address or prefix length, or an unknown track group.
//!
//! Each daemon runs in its own layout of the twin harness (node `r1` with
//! `eth0` = 10.77.0.1/24). Needs root, iproute2, nft and keepalived.
#![allow(clippy::unwrap_used)] // a test stops at the first unexpected value

mod twin;

use twin::Twin;

/// `static_rules` with `statics`, and VI_1 (master of 10.77.0.100 on
/// eth0) with `virtual_rules`.
fn conf(statics: &str, virtual_rules: &str) -> String {
    format!(
        "static_rules {{\n{statics}}}\n\
         vrrp_instance VI_1 {{\n    state MASTER\n    interface eth0\n    \
         virtual_router_id 51\n    priority 100\n    advert_int 1\n    \
         virtual_ipaddress {{\n        10.77.0.100/24\n    }}\n    \
         virtual_rules {{\n{virtual_rules}    }}\n}}\n"
    )
}

const STATICS: &str = "\
    to all table 100 preference 100
    from all to any table 100 preference 101
    from 10.6.6.6 to all table 100 preference 102
    to default from 10.6.6.7 table 100 preference 103
    inet from all table 100 preference 104
    from 2001:db8::1 to default6 table 100 preference 105
";

const VIRTUAL: &str = "\
        from 192.168.50.0/24 to all table 100 priority 120
        to all from 192.168.51.0/24 table 100 priority 121
";

#[test]
fn root_netns_rules_to_all_skipped_and_installed_as_keepalived() {
    let mut twin = Twin::new(&[]);
    twin.start_masters(&conf(STATICS, VIRTUAL), &["VI_1"]);
    // One error per skipped rule in each log (two with mixed families,
    // one unknown option).
    twin.wait_log("r1", "rule specification has mixed IPv4 and IPv6", 2);
    twin.wait_log("r1", "Unknown rule option all", 1);
    let installed = [
        "100: from all lookup 100 proto keepalived",
        "101: from all lookup 100 proto keepalived",
        "103: from 10.6.6.7 lookup 100 proto keepalived",
        "105: from 2001:db8::1 lookup 100 proto keepalived",
        "121: from 192.168.51.0/24 lookup 100 proto keepalived",
    ];
    let skipped = ["102:", "104:", "120:", "192.168.50.0"];
    let state = twin.same_state("MASTER", |s| {
        installed.iter().all(|w| s.contains(w)) && !skipped.iter().any(|w| s.contains(w))
    });
    assert_eq!(
        state.matches("lookup 100").count(),
        installed.len(),
        "{state}"
    );
    twin.stop_both(|s| !s.contains("lookup 100"));
}

/// Rules without a preference: keepalived numbers them down from 16384
/// per family (static rules first), logs each number as a configuration
/// error and installs the rule.
const NO_PREF: &str = "\
    from 10.6.6.0/24 table 100
    from 2001:db8::/32 table 100
    from 10.6.7.0/24 table 100 preference 100
";

#[test]
fn root_netns_rules_without_preference_numbered_as_keepalived() {
    let mut twin = Twin::new(&[]);
    twin.start_masters(
        &conf(NO_PREF, "        from 192.168.50.0/24 table 100\n"),
        &["VI_1"],
    );
    for n in [16384, 16383] {
        let needle = format!("Rule has no preference specified - setting to {n}.");
        twin.wait_log("r1", &needle, if n == 16384 { 2 } else { 1 });
    }
    let installed = [
        "16384: from 10.6.6.0/24 lookup 100 proto keepalived",
        "16384: from 2001:db8::/32 lookup 100 proto keepalived",
        "100: from 10.6.7.0/24 lookup 100 proto keepalived",
        "16383: from 192.168.50.0/24 lookup 100 proto keepalived",
    ];
    let state = twin.same_state("MASTER", |s| installed.iter().all(|w| s.contains(w)));
    assert_eq!(
        state.matches("lookup 100").count(),
        installed.len(),
        "{state}"
    );
    twin.stop_both(|s| !s.contains("lookup 100"));
}

/// Rules keepalived 2.2.7 skips with its errors (a table it cannot find
/// or 0, a bad preference or TOS, a goto back, a route type that is no
/// rule action, a realm without a table), and one it installs with its
/// protocol reset to 18 and an error.
const BAD_STATICS: &str = "\
    from 10.6.1.0/24 table nosuch preference 110
    from 10.6.2.0/24 table 100 preference 1x
    from 10.6.3.0/24 preference 112 goto 100
    from 10.6.4.0/24 type local preference 113
    from 10.6.5.0/24 nop realms 3 preference 114
    from 10.6.6.0/24 table 100 preference 115 protocol 5
    from 10.6.7.0/24 preference 116 goto 200
    from 10.6.8.0/24 table 100 preference 117
";

const BAD_VIRTUAL: &str = "\
        from 192.168.52.0/24 table 0 priority 130
        from 192.168.53.0/24 table 100 priority 131 tos 999
        from 192.168.54.0/24 table 100 priority 132
";

#[test]
fn root_netns_bad_rules_skipped_with_keepalived_s_errors() {
    let mut twin = Twin::new(&[]);
    twin.start_masters(&conf(BAD_STATICS, BAD_VIRTUAL), &["VI_1"]);
    for needle in [
        "Routing table nosuch not found for rule",
        "invalid number '1x'",
        "Invalid rule preference preference specified",
        "Invalid rule - preference 112 >= goto target 100",
        "Invalid rule action local",
        "suppressor/realm specified for non table action - skipping",
        "Rule cannot be tracked if protocol is not RTPROT_KEEPALIVED(18), resetting protocol",
        "Table 0 is not valid",
        "TOS value 999 is invalid",
    ] {
        twin.wait_log("r1", needle, 1);
    }
    let installed = [
        "115: from 10.6.6.0/24 lookup 100 proto keepalived",
        "116: from 10.6.7.0/24 goto 200",
        "117: from 10.6.8.0/24 lookup 100 proto keepalived",
        "132: from 192.168.54.0/24 lookup 100 proto keepalived",
    ];
    let skipped = ["110:", "111:", "112:", "113:", "114:", "130:", "131:"];
    let state = twin.same_state("MASTER", |s| {
        installed.iter().all(|w| s.contains(w)) && !skipped.iter().any(|w| s.contains(w))
    });
    assert_eq!(state.matches("lookup 100").count(), 3, "{state}");
    twin.stop_both(|s| !s.contains("lookup 100") && !s.contains("goto 200"));
}

const ADDRESS_STATICS: &str = "\
    from 10.6.300.0/24 table 100 preference 140
    from 10.6.9.0/40 table 100 preference 141
    from 10.6.10.0/24 iif eth0 table 100 preference 142 track_group NONE
";

const ADDRESS_VIRTUAL: &str = "\
        to 192.168.55.x table 100 priority 143
";

/// A from/to that is no address skips the rule; a bad prefix length is an
/// error and the full length is installed; an unknown track group is an
/// error and the rule is installed untracked (keepalived-lite refused the
/// whole configuration for each before): both daemons log the same errors
/// and install the same rules.
#[test]
fn root_netns_bad_addresses_and_unknown_groups_as_keepalived() {
    let mut twin = Twin::new(&[]);
    twin.start_masters(&conf(ADDRESS_STATICS, ADDRESS_VIRTUAL), &["VI_1"]);
    for needle in [
        "VRRP parsed invalid IP 10.6.300.0/24. skipping IP...",
        "Invalid rule from address 10.6.300.0/24",
        "Invalid address prefix len 40 for address 10.6.9.0/40 - using 32",
        "track_group NONE not found",
        "Invalid rule to address 192.168.55.x",
    ] {
        twin.wait_log("r1", needle, 1);
    }
    let installed = [
        "141: from 10.6.9.0 lookup 100 proto keepalived",
        "142: from 10.6.10.0/24 iif eth0 lookup 100 proto keepalived",
    ];
    let skipped = ["140:", "143:"];
    let state = twin.same_state("MASTER", |s| {
        installed.iter().all(|w| s.contains(w)) && !skipped.iter().any(|w| s.contains(w))
    });
    assert_eq!(state.matches("lookup 100").count(), 2, "{state}");
    twin.stop_both(|s| !s.contains("lookup 100"));
}
