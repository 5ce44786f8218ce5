//! A veth pair inside one namespace, for tests that need a link they can
//! take down, delete and make again.

use super::{ip, Netns};

/// Creates veth `name` (peer `{name}p`, both in `ns`) with `addr/24`
/// (given before the link comes up) and brings both ends up.
pub fn veth(ns: &Netns, name: &str, addr: &str) {
    add_pair(ns, name);
    ip(ns, &["addr", "add", &format!("{addr}/24"), "dev", name]);
    up(ns, name);
}

/// As [`veth`], without an IPv4 address.
pub fn bare_veth(ns: &Netns, name: &str) {
    add_pair(ns, name);
    up(ns, name);
}

fn add_pair(ns: &Netns, name: &str) {
    let peer = format!("{name}p");
    ip(
        ns,
        &["link", "add", name, "type", "veth", "peer", "name", &peer],
    );
}

/// The peer first, so `name` has carrier when it comes up.
fn up(ns: &Netns, name: &str) {
    ip(ns, &["link", "set", &format!("{name}p"), "up"]);
    ip(ns, &["link", "set", name, "up"]);
}
