//! keepalived's nftables drop rules for masters that must not accept
//! traffic for their virtual addresses (`vrrp_strict`, `no_accept`): the
//! same tables, chains, sets and rules as keepalived 2.2.7 installs.
//!
//! keepalived builds the table lazily, on the first address it has to
//! guard, and keeps it until it stops:
//!
//! ```text
//! table ip keepalived {                       # first IPv4 address
//!     set vips { type ipv4_addr }
//!     chain out { type filter hook output priority PRIO; policy accept;
//!         ip saddr @vips drop }
//!     chain in  { type filter hook input priority PRIO; policy accept;
//!         ip daddr @vips drop }
//! }
//! table ip6 keepalived {                      # first IPv6 address
//!     set vips { type ipv6_addr }
//!     set neighbor-discovery { type icmpv6_type; flags constant;
//!         elements = { nd-neighbor-solicit, nd-neighbor-advert } }
//!     set vips_link_local { type ipv6_addr . iface_index }  # first link-local
//!     chain out { ...output...
//!         icmpv6 type @neighbor-discovery accept
//!         ip6 saddr fe80::/10 goto out_link_local
//!         ip6 saddr @vips drop }
//!     chain in { ...input...  (the same with daddr) }
//!     chain in_link_local  { ip6 daddr . iif @vips_link_local drop }
//!     chain out_link_local { ip6 saddr . oif @vips_link_local drop }
//! }
//! ```
//!
//! A master's addresses enter the sets when it becomes master and leave
//! them when it stops being master; the tables go when the process stops.
//! The first batch also deletes tables of the same name left by an earlier
//! run, as keepalived does. With `nftables_counters` every rule counts.
//!
//! A VMAC (`use_vmac`) gets keepalived's IGMP rule (IPv4) or MLD and
//! router solicitation rules (IPv6) for as long as it exists: reports the
//! kernel sends from the macvlan go out of the interface under it instead
//! (the VMAC's own MAC must not join groups), and it solicits no routers.
//! Its rules are in the table of its router's family, and of the other
//! family too when the router has excluded addresses of that family:
//!
//! ```text
//! table ip keepalived {
//!     map vmac_map { type iface_index : iface_index }   # VMAC : base
//!     chain out { ...output...
//!         ip protocol igmp meta oifkind "macvlan" dup to ip daddr device oif map @vmac_map drop }
//! }
//! table ip6 keepalived {
//!     map vmac_map { type iface_index : iface_index }
//!     set vmac_set { type iface_index }                 # VMAC
//!     chain out { ...output...
//!         icmpv6 type mld2-listener-report meta oifkind "macvlan" dup to ip6 daddr device oif map @vmac_map drop
//!         icmpv6 type nd-router-solicit meta oifkind "macvlan" oif @vmac_set drop }
//! }
//! ```
//!
//! The rules go through the `nft` program (Debian's `nftables`) as one
//! `nft -f -` batch per change: the kernel applies a batch as one
//! transaction, so a failure leaves the previous ruleset whole, and the
//! text is the one keepalived documents for each of its netlink messages
//! (checked to give the same kernel bytecode, `nft --debug=netlink`,
//! except that the IGMP rule loads its registers in another order). The
//! Rust nf_tables crates (libnftnl bindings, rustables) are less used and
//! less kept than `nft`, which is also what reads the ruleset back
//! (`nft -j list ruleset`) and what keepalived's own comments check its
//! messages with. A batch costs a process start (milliseconds); the driver
//! runs at most one per wake-up, however many routers changed state.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::Write as _;
use std::net::{IpAddr, Ipv6Addr};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use super::LinuxError;

/// keepalived's global `nftables`, `nftables_priority` and
/// `nftables_counters` settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NftConfig {
    /// Table name in both families (`nftables NAME`, default `keepalived`).
    pub table: String,
    /// Priority of the `in` and `out` base chains (`nftables_priority`,
    /// default -1: just before the filter tables).
    pub priority: i32,
    /// A counter in every rule (`nftables_counters`).
    pub counters: bool,
    /// The `nft` program to run.
    pub program: PathBuf,
}

impl Default for NftConfig {
    fn default() -> Self {
        NftConfig {
            table: "keepalived".into(),
            priority: -1,
            counters: false,
            program: "nft".into(),
        }
    }
}

/// One guarded address: a packet to it (input) or from it (output) is
/// dropped. A link-local IPv6 address is guarded on its interface only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Guarded {
    /// The virtual address.
    pub addr: IpAddr,
    /// The interface it is on (used for IPv6 link-local addresses).
    pub ifindex: u32,
}

impl Guarded {
    fn is_link_local(&self) -> bool {
        matches!(self.addr, IpAddr::V6(a) if is_link_local(a))
    }
}

fn is_link_local(a: Ipv6Addr) -> bool {
    a.segments()[0] & 0xffc0 == 0xfe80
}

/// A VMAC and the interface under it, by interface index, in the table
/// of one family (a VMAC in both tables is two of these).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Vmac {
    /// The macvlan.
    pub vmac: u32,
    /// Its base interface.
    pub base: u32,
    /// In `table ip6` (MLD and router solicitation rules), not `table ip`
    /// (IGMP rule).
    pub ipv6: bool,
}

/// What keepalived has set up so far: its tables are built in steps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Built {
    /// Old tables deleted (once, with the first batch).
    cleared: bool,
    /// `table ip` and its `out` chain.
    ip: bool,
    /// The `in` chain, `vips` set and drop rules of `table ip`.
    ip_vips: bool,
    /// The `vmac_map` and IGMP rule of `table ip`.
    ip_igmp: bool,
    /// `table ip6` and its `out` chain.
    ip6: bool,
    /// The rest of `table ip6`'s address guard.
    ip6_vips: bool,
    /// The `vmac_map`, `vmac_set`, MLD and router solicitation rules of
    /// `table ip6`.
    ip6_igmp: bool,
    link_local: bool,
}

/// The differences one batch applies.
#[derive(Debug, Default)]
struct Change {
    added: Vec<Guarded>,
    removed: Vec<Guarded>,
    vmacs_added: Vec<Vmac>,
    vmacs_removed: Vec<Vmac>,
}

impl Change {
    fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.removed.is_empty()
            && self.vmacs_added.is_empty()
            && self.vmacs_removed.is_empty()
    }
}

/// The items of `new` missing from `old`, and those of `old` missing from `new`.
fn diff<T: Ord + Copy>(old: &BTreeSet<T>, new: &BTreeSet<T>) -> (Vec<T>, Vec<T>) {
    (
        new.difference(old).copied().collect(),
        old.difference(new).copied().collect(),
    )
}

/// The nftables state of one process: which tables exist and which
/// addresses are in the sets.
#[derive(Debug)]
pub struct Firewall {
    config: NftConfig,
    built: Built,
    guarded: BTreeSet<Guarded>,
    vmacs: BTreeSet<Vmac>,
}

impl Firewall {
    /// A firewall with nothing installed yet.
    pub fn new(config: NftConfig) -> Self {
        Firewall {
            config,
            built: Built::default(),
            guarded: BTreeSet::new(),
            vmacs: BTreeSet::new(),
        }
    }

    /// Its configuration.
    pub fn config(&self) -> &NftConfig {
        &self.config
    }

    /// The addresses in the sets now.
    pub fn guarded(&self) -> impl Iterator<Item = Guarded> + '_ {
        self.guarded.iter().copied()
    }

    /// Makes the sets hold exactly `wanted` (every address some master
    /// guards: one two masters share stays until both let go) and the
    /// VMAC map exactly `vmacs`, building what the tables lack first.
    /// Nothing is run when nothing changes; on failure nothing changed.
    pub fn sync(&mut self, wanted: &[Guarded], vmacs: &[Vmac]) -> Result<(), LinuxError> {
        let wanted: BTreeSet<Guarded> = wanted.iter().copied().collect();
        let vmacs: BTreeSet<Vmac> = vmacs.iter().copied().collect();
        let (added, removed) = diff(&self.guarded, &wanted);
        let (vmacs_added, vmacs_removed) = diff(&self.vmacs, &vmacs);
        let change = Change {
            added,
            removed,
            vmacs_added,
            vmacs_removed,
        };
        if change.is_empty() {
            return Ok(());
        }
        let (script, built) = batch(&self.config, self.built, &change);
        run(&self.config, &script)?;
        self.built = built;
        self.guarded = wanted;
        self.vmacs = vmacs;
        Ok(())
    }

    /// Deletes the tables this firewall built (keepalived's stop).
    pub fn remove(&mut self) -> Result<(), LinuxError> {
        let script = teardown(&self.config.table, self.built);
        if !script.is_empty() {
            run(&self.config, &script)?;
        }
        self.built = Built::default();
        self.guarded.clear();
        self.vmacs.clear();
        Ok(())
    }
}

impl Drop for Firewall {
    /// The tables go with the process even on an error path.
    fn drop(&mut self) {
        let _ = self.remove();
    }
}

/// The `nft -f` text of `change`, building the tables first as keepalived
/// does (VMACs come first: keepalived adds them at start-up); and what is
/// built afterwards.
fn batch(c: &NftConfig, mut built: Built, change: &Change) -> (String, Built) {
    let t = &c.table;
    let mut s = String::new();
    let any = |f: fn(&Guarded) -> bool| change.added.iter().any(f);
    let adds = !change.added.is_empty() || !change.vmacs_added.is_empty();
    if !built.cleared && adds {
        // Leftovers of an earlier run: `add` then `delete` removes a
        // table whether or not it exists, in the same transaction.
        for family in ["ip", "ip6"] {
            let _ = writeln!(s, "add table {family} {t}\ndelete table {family} {t}");
        }
        built.cleared = true;
    }
    let ip_base = |s: &mut String, built: &mut Built| {
        if !built.ip {
            let _ = writeln!(s, "add table ip {t}");
            base_chain(s, c, "ip", "out", "output");
            built.ip = true;
        }
    };
    let ip6_base = |s: &mut String, built: &mut Built| {
        if !built.ip6 {
            let _ = writeln!(s, "add table ip6 {t}");
            base_chain(s, c, "ip6", "out", "output");
            built.ip6 = true;
        }
    };
    let vmac_family = |ipv6: bool| change.vmacs_added.iter().any(|v| v.ipv6 == ipv6);
    if !built.ip_igmp && vmac_family(false) {
        ip_base(&mut s, &mut built);
        igmp(&mut s, c);
        built.ip_igmp = true;
    }
    if !built.ip6_igmp && vmac_family(true) {
        ip6_base(&mut s, &mut built);
        mld(&mut s, c);
        built.ip6_igmp = true;
    }
    vmac_elements(&mut s, t, "add", &change.vmacs_added);
    vmac_elements(&mut s, t, "delete", &change.vmacs_removed);
    if !built.ip_vips && any(|g| g.addr.is_ipv4()) {
        ip_base(&mut s, &mut built);
        ip_vips(&mut s, c);
        built.ip_vips = true;
    }
    if !built.ip6_vips && any(|g| g.addr.is_ipv6()) {
        ip6_base(&mut s, &mut built);
        ip6_vips(&mut s, c);
        built.ip6_vips = true;
    }
    if !built.link_local && any(Guarded::is_link_local) {
        link_local(&mut s, c);
        built.link_local = true;
    }
    elements(&mut s, t, "add", &change.added);
    elements(&mut s, t, "delete", &change.removed);
    (s, built)
}

/// `counter ` when counting.
fn counter(c: &NftConfig) -> &'static str {
    if c.counters {
        "counter "
    } else {
        ""
    }
}

fn base_chain(s: &mut String, c: &NftConfig, family: &str, name: &str, hook: &str) {
    let (t, p) = (&c.table, c.priority);
    let _ = writeln!(
        s,
        "add chain {family} {t} {name} {{ type filter hook {hook} priority {p}; policy accept; }}"
    );
}

/// The `in` chain, `vips` set and drop rules (after the `out` chain).
fn ip_vips(s: &mut String, c: &NftConfig) {
    let (t, n) = (&c.table, counter(c));
    base_chain(s, c, "ip", "in", "input");
    let _ = writeln!(s, "add set ip {t} vips {{ type ipv4_addr; }}");
    let _ = writeln!(s, "add rule ip {t} in ip daddr @vips {n}drop");
    let _ = writeln!(s, "add rule ip {t} out ip saddr @vips {n}drop");
}

/// The `in` chains, sets and rules of `table ip6` (after the `out` chain).
fn ip6_vips(s: &mut String, c: &NftConfig) {
    let (t, n) = (&c.table, counter(c));
    base_chain(s, c, "ip6", "in", "input");
    let _ = writeln!(s, "add chain ip6 {t} in_link_local");
    let _ = writeln!(s, "add chain ip6 {t} out_link_local");
    let _ = writeln!(s, "add set ip6 {t} vips {{ type ipv6_addr; }}");
    let _ = writeln!(
        s,
        "add set ip6 {t} neighbor-discovery {{ type icmpv6_type; flags constant; \
         elements = {{ nd-neighbor-solicit, nd-neighbor-advert }}; }}"
    );
    // `ip6 nexthdr icmpv6` is keepalived's match (not nft's default
    // `meta l4proto`), so the kernel holds the same bytecode.
    let nd = "ip6 nexthdr icmpv6 icmpv6 type @neighbor-discovery";
    let _ = writeln!(s, "add rule ip6 {t} in {nd} {n}accept");
    let _ = writeln!(
        s,
        "add rule ip6 {t} in ip6 daddr fe80::/10 {n}goto in_link_local"
    );
    let _ = writeln!(s, "add rule ip6 {t} out {nd} {n}accept");
    let _ = writeln!(
        s,
        "add rule ip6 {t} out ip6 saddr fe80::/10 {n}goto out_link_local"
    );
    let _ = writeln!(s, "add rule ip6 {t} in ip6 daddr @vips {n}drop");
    let _ = writeln!(s, "add rule ip6 {t} out ip6 saddr @vips {n}drop");
}

fn link_local(s: &mut String, c: &NftConfig) {
    let (t, n) = (&c.table, counter(c));
    let _ = writeln!(
        s,
        "add set ip6 {t} vips_link_local {{ type ipv6_addr . iface_index; }}"
    );
    let _ = writeln!(
        s,
        "add rule ip6 {t} in_link_local ip6 daddr . iif @vips_link_local {n}drop"
    );
    let _ = writeln!(
        s,
        "add rule ip6 {t} out_link_local ip6 saddr . oif @vips_link_local {n}drop"
    );
}

/// The VMAC map and its IGMP rule.
fn igmp(s: &mut String, c: &NftConfig) {
    let (t, n) = (&c.table, counter(c));
    let _ = writeln!(
        s,
        "add map ip {t} vmac_map {{ type iface_index : iface_index; }}"
    );
    let _ = writeln!(
        s,
        "add rule ip {t} out ip protocol igmp meta oifkind \"macvlan\" \
         dup to ip daddr device oif map @vmac_map {n}drop"
    );
}

/// The IPv6 VMAC map and set, their MLD and router solicitation rules.
fn mld(s: &mut String, c: &NftConfig) {
    let (t, n) = (&c.table, counter(c));
    let _ = writeln!(
        s,
        "add map ip6 {t} vmac_map {{ type iface_index : iface_index; }}"
    );
    let _ = writeln!(s, "add set ip6 {t} vmac_set {{ type iface_index; }}");
    let _ = writeln!(
        s,
        "add rule ip6 {t} out icmpv6 type mld2-listener-report meta oifkind \"macvlan\" \
         dup to ip6 daddr device oif map @vmac_map {n}drop"
    );
    let _ = writeln!(
        s,
        "add rule ip6 {t} out icmpv6 type nd-router-solicit meta oifkind \"macvlan\" \
         oif @vmac_set {n}drop"
    );
}

/// `add element` / `delete element` of the VMAC maps (and IPv6 set).
fn vmac_elements(s: &mut String, t: &str, verb: &str, list: &[Vmac]) {
    for (family, ipv6) in [("ip", false), ("ip6", true)] {
        let of_family = || list.iter().filter(move |v| v.ipv6 == ipv6);
        let map: Vec<String> = of_family()
            .map(|v| format!("{} : {}", v.vmac, v.base))
            .collect();
        if map.is_empty() {
            continue;
        }
        let _ = writeln!(
            s,
            "{verb} element {family} {t} vmac_map {{ {} }}",
            map.join(", ")
        );
        if ipv6 {
            let set: Vec<String> = of_family().map(|v| v.vmac.to_string()).collect();
            let _ = writeln!(
                s,
                "{verb} element ip6 {t} vmac_set {{ {} }}",
                set.join(", ")
            );
        }
    }
}

/// `add element` / `delete element` lines, one per set.
fn elements(s: &mut String, t: &str, verb: &str, list: &[Guarded]) {
    let mut sets: BTreeMap<(&str, &str), Vec<String>> = BTreeMap::new();
    for g in list {
        let (key, item) = match g.addr {
            IpAddr::V4(a) => (("ip", "vips"), a.to_string()),
            IpAddr::V6(a) if is_link_local(a) => {
                (("ip6", "vips_link_local"), format!("{a} . {}", g.ifindex))
            }
            IpAddr::V6(a) => (("ip6", "vips"), a.to_string()),
        };
        sets.entry(key).or_default().push(item);
    }
    for ((family, set), items) in sets {
        let _ = writeln!(
            s,
            "{verb} element {family} {t} {set} {{ {} }}",
            items.join(", ")
        );
    }
}

/// The text that deletes the tables `built` says exist.
fn teardown(t: &str, built: Built) -> String {
    let mut s = String::new();
    if built.ip {
        let _ = writeln!(s, "delete table ip {t}");
    }
    if built.ip6 {
        let _ = writeln!(s, "delete table ip6 {t}");
    }
    s
}

/// Runs `nft -f -` with `script` on its standard input.
fn run(c: &NftConfig, script: &str) -> Result<(), LinuxError> {
    let op = "nft -f -";
    let mut child = Command::new(&c.program)
        .args(["-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(LinuxError::io(op))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A program that exits without reading says why in its status.
        match stdin.write_all(script.as_bytes()) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(LinuxError::io(op)(e));
            }
            _ => {}
        }
    }
    let out = child.wait_with_output().map_err(LinuxError::io(op))?;
    if out.status.success() {
        return Ok(());
    }
    let why = String::from_utf8_lossy(&out.stderr);
    let msg = format!("{}: {}", out.status, why.trim());
    Err(LinuxError::Io {
        op,
        source: std::io::Error::other(msg),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests: a panic is a failed test
mod tests {
    use super::*;

    fn g(addr: &str, ifindex: u32) -> Guarded {
        Guarded {
            addr: addr.parse().unwrap(),
            ifindex,
        }
    }

    #[test]
    fn the_first_ipv4_address_builds_keepalived_ip_table() {
        let change = Change {
            added: vec![g("10.0.0.1", 2)],
            ..Change::default()
        };
        let (s, built) = batch(&NftConfig::default(), Built::default(), &change);
        assert_eq!(
            s,
            "add table ip keepalived\ndelete table ip keepalived\n\
             add table ip6 keepalived\ndelete table ip6 keepalived\n\
             add table ip keepalived\n\
             add chain ip keepalived out { type filter hook output priority -1; policy accept; }\n\
             add chain ip keepalived in { type filter hook input priority -1; policy accept; }\n\
             add set ip keepalived vips { type ipv4_addr; }\n\
             add rule ip keepalived in ip daddr @vips drop\n\
             add rule ip keepalived out ip saddr @vips drop\n\
             add element ip keepalived vips { 10.0.0.1 }\n"
        );
        let expected = Built {
            cleared: true,
            ip: true,
            ip_vips: true,
            ..Built::default()
        };
        assert_eq!(built, expected);
        let change = Change {
            removed: vec![g("10.0.0.1", 2)],
            ..Change::default()
        };
        let (again, _) = batch(&NftConfig::default(), built, &change);
        assert_eq!(again, "delete element ip keepalived vips { 10.0.0.1 }\n");
    }

    #[test]
    fn ipv6_addresses_split_into_global_and_link_local_sets() {
        let c = NftConfig {
            table: "ka".into(),
            priority: 5,
            counters: true,
            program: "nft".into(),
        };
        let built = Built {
            cleared: true,
            ..Built::default()
        };
        let change = Change {
            added: vec![g("fd00::1", 3), g("fe80::52", 3)],
            ..Change::default()
        };
        let (s, after) = batch(&c, built, &change);
        assert_eq!(
            s,
            "add table ip6 ka\n\
             add chain ip6 ka out { type filter hook output priority 5; policy accept; }\n\
             add chain ip6 ka in { type filter hook input priority 5; policy accept; }\n\
             add chain ip6 ka in_link_local\n\
             add chain ip6 ka out_link_local\n\
             add set ip6 ka vips { type ipv6_addr; }\n\
             add set ip6 ka neighbor-discovery { type icmpv6_type; flags constant; \
             elements = { nd-neighbor-solicit, nd-neighbor-advert }; }\n\
             add rule ip6 ka in ip6 nexthdr icmpv6 icmpv6 type @neighbor-discovery counter accept\n\
             add rule ip6 ka in ip6 daddr fe80::/10 counter goto in_link_local\n\
             add rule ip6 ka out ip6 nexthdr icmpv6 icmpv6 type @neighbor-discovery counter accept\n\
             add rule ip6 ka out ip6 saddr fe80::/10 counter goto out_link_local\n\
             add rule ip6 ka in ip6 daddr @vips counter drop\n\
             add rule ip6 ka out ip6 saddr @vips counter drop\n\
             add set ip6 ka vips_link_local { type ipv6_addr . iface_index; }\n\
             add rule ip6 ka in_link_local ip6 daddr . iif @vips_link_local counter drop\n\
             add rule ip6 ka out_link_local ip6 saddr . oif @vips_link_local counter drop\n\
             add element ip6 ka vips { fd00::1 }\n\
             add element ip6 ka vips_link_local { fe80::52 . 3 }\n"
        );
        assert!(after.ip6 && after.ip6_vips && after.link_local && !after.ip);
        assert_eq!(teardown("ka", after), "delete table ip6 ka\n");
    }

    #[test]
    fn nothing_runs_when_nothing_changes() {
        // A program that cannot exist: any run would fail.
        let mut f = Firewall::new(NftConfig {
            program: "/nonexistent/nft".into(),
            ..NftConfig::default()
        });
        assert!(f.sync(&[], &[]).is_ok());
        assert!(f.remove().is_ok(), "nothing built, nothing to delete");
        let err = f.sync(&[g("10.0.0.1", 2)], &[]).unwrap_err();
        assert!(err.to_string().starts_with("nft -f -: "), "{err}");
        assert_eq!(f.guarded().count(), 0, "a failed batch changes nothing");
    }

    #[test]
    fn a_shared_address_stays_while_any_master_guards_it() {
        let mut f = Firewall::new(NftConfig {
            program: "/bin/true".into(),
            ..NftConfig::default()
        });
        let a = g("10.0.0.1", 2);
        f.sync(&[a, a], &[]).unwrap();
        f.sync(&[a], &[]).unwrap();
        assert_eq!(f.guarded().collect::<Vec<_>>(), [a]);
        f.sync(&[], &[]).unwrap();
        assert_eq!(f.guarded().count(), 0);
    }

    #[test]
    fn a_vmac_gets_the_igmp_rule_before_any_address() {
        let c = NftConfig {
            counters: true,
            ..NftConfig::default()
        };
        let change = Change {
            vmacs_added: vec![Vmac {
                vmac: 4,
                base: 3,
                ipv6: false,
            }],
            added: vec![g("10.0.0.1", 4)],
            ..Change::default()
        };
        let (s, built) = batch(&c, Built::default(), &change);
        assert_eq!(
            s,
            "add table ip keepalived\ndelete table ip keepalived\n\
             add table ip6 keepalived\ndelete table ip6 keepalived\n\
             add table ip keepalived\n\
             add chain ip keepalived out { type filter hook output priority -1; policy accept; }\n\
             add map ip keepalived vmac_map { type iface_index : iface_index; }\n\
             add rule ip keepalived out ip protocol igmp meta oifkind \"macvlan\" \
             dup to ip daddr device oif map @vmac_map counter drop\n\
             add element ip keepalived vmac_map { 4 : 3 }\n\
             add chain ip keepalived in { type filter hook input priority -1; policy accept; }\n\
             add set ip keepalived vips { type ipv4_addr; }\n\
             add rule ip keepalived in ip daddr @vips counter drop\n\
             add rule ip keepalived out ip saddr @vips counter drop\n\
             add element ip keepalived vips { 10.0.0.1 }\n"
        );
        assert!(built.ip && built.ip_igmp && built.ip_vips);
        let gone = Change {
            vmacs_removed: vec![Vmac {
                vmac: 4,
                base: 3,
                ipv6: false,
            }],
            ..Change::default()
        };
        let (s, _) = batch(&c, built, &gone);
        assert_eq!(s, "delete element ip keepalived vmac_map { 4 : 3 }\n");
    }

    /// keepalived 2.2.7's ip6 table for an IPv6 VMAC (`nft list ruleset`
    /// of keepalived with one, see `root_netns_twin_vmac.rs`), and the
    /// guard of addresses added to it later.
    #[test]
    fn an_ipv6_vmac_gets_the_mld_and_router_solicitation_rules() {
        let v = |vmac, ipv6| Vmac {
            vmac,
            base: 3,
            ipv6,
        };
        let change = Change {
            vmacs_added: vec![v(5, true), v(6, true), v(6, false)],
            ..Change::default()
        };
        let (s, built) = batch(&NftConfig::default(), Built::default(), &change);
        assert_eq!(
            s,
            "add table ip keepalived\ndelete table ip keepalived\n\
             add table ip6 keepalived\ndelete table ip6 keepalived\n\
             add table ip keepalived\n\
             add chain ip keepalived out { type filter hook output priority -1; policy accept; }\n\
             add map ip keepalived vmac_map { type iface_index : iface_index; }\n\
             add rule ip keepalived out ip protocol igmp meta oifkind \"macvlan\" \
             dup to ip daddr device oif map @vmac_map drop\n\
             add table ip6 keepalived\n\
             add chain ip6 keepalived out { type filter hook output priority -1; policy accept; }\n\
             add map ip6 keepalived vmac_map { type iface_index : iface_index; }\n\
             add set ip6 keepalived vmac_set { type iface_index; }\n\
             add rule ip6 keepalived out icmpv6 type mld2-listener-report meta oifkind \"macvlan\" \
             dup to ip6 daddr device oif map @vmac_map drop\n\
             add rule ip6 keepalived out icmpv6 type nd-router-solicit meta oifkind \"macvlan\" \
             oif @vmac_set drop\n\
             add element ip keepalived vmac_map { 6 : 3 }\n\
             add element ip6 keepalived vmac_map { 5 : 3, 6 : 3 }\n\
             add element ip6 keepalived vmac_set { 5, 6 }\n"
        );
        assert!(built.ip6 && built.ip6_igmp && !built.ip6_vips && built.ip_igmp);
        let change = Change {
            added: vec![g("fd00::1", 5)],
            vmacs_removed: vec![v(6, true)],
            ..Change::default()
        };
        let (s, built) = batch(&NftConfig::default(), built, &change);
        assert!(
            s.starts_with(
                "delete element ip6 keepalived vmac_map { 6 : 3 }\n\
                 delete element ip6 keepalived vmac_set { 6 }\n\
                 add chain ip6 keepalived in { type filter hook input priority -1; policy accept; }\n"
            ),
            "{s}"
        );
        assert!(!s.contains("add table"), "{s}");
        assert!(built.ip6_vips);
        assert_eq!(
            teardown("keepalived", built),
            "delete table ip keepalived\ndelete table ip6 keepalived\n"
        );
    }

    #[test]
    fn dropping_a_built_firewall_deletes_its_tables() {
        // A stand-in `nft` that appends its batches to a file.
        let dir = std::env::temp_dir().join(format!("nft-drop-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (program, log) = (dir.join("nft"), dir.join("batches"));
        let script = format!("#!/bin/sh\ncat >> {}\n", log.display());
        std::fs::write(&program, script).unwrap();
        let chmod = Command::new("chmod").arg("+x").arg(&program).status();
        assert!(chmod.unwrap().success());
        let mut f = Firewall::new(NftConfig {
            program,
            ..NftConfig::default()
        });
        f.sync(&[g("fd00::1", 2)], &[]).unwrap();
        drop(f);
        let batches = std::fs::read_to_string(&log).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        assert!(
            batches.ends_with(
                "add element ip6 keepalived vips { fd00::1 }\ndelete table ip6 keepalived\n"
            ),
            "{batches}"
        );
    }

    #[test]
    fn link_local_means_fe80_slash_10() {
        assert!(is_link_local("fe80::1".parse().unwrap()));
        assert!(is_link_local("febf:ffff::1".parse().unwrap()));
        assert!(!is_link_local("fec0::1".parse().unwrap()));
        assert!(!is_link_local("fd00::1".parse().unwrap()));
    }
}
