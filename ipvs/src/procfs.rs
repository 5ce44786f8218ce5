//! A cheap look at the table for change detection: `/proc/net/ip_vs`.
//!
//! Reading the table over netlink takes one dump for the services and one
//! more for each service's destinations; the kernel's text file shows
//! the same services and destinations in one read. A daemon that re-reads
//! the table to repair drift (an admin's `ipvsadm -d`) can compare
//! [`layout`]s and do the netlink read only when the layout changed, plus
//! now and then: the file does not show thresholds, netmasks,
//! persistence engines or tunnel settings.

use std::io;

/// Where the kernel shows the table of the caller's network namespace.
const PATH: &str = "/proc/net/ip_vs";

/// The table as `/proc/net/ip_vs` shows it, without the destinations'
/// connection counters (they change with traffic): services with their
/// protocol, address and port or firewall mark, scheduler and persistence;
/// destinations with their address, port, forwarding method and weight.
/// Equal layouts mean none of those changed in between.
pub fn layout() -> io::Result<Vec<u8>> {
    use std::io::Read;
    // The file's size reads as 0: room for a few hundred services, so
    // that one read() takes them (fs::read would start at 32 bytes).
    let mut text = Vec::with_capacity(64 * 1024);
    std::fs::File::open(PATH)?.read_to_end(&mut text)?;
    Ok(without_counters(&text))
}

/// `text` with the last two fields (ActiveConn, InActConn) of every
/// destination line (`  -> ...`) dropped.
fn without_counters(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for line in text.split(|&b| b == b'\n') {
        if line.starts_with(b"  ->") {
            out.extend_from_slice(drop_fields(line, 2));
        } else {
            out.extend_from_slice(line);
        }
        out.push(b'\n');
    }
    out
}

/// `line` without its last `n` whitespace-separated fields.
fn drop_fields(line: &[u8], n: usize) -> &[u8] {
    let mut end = line.len();
    for _ in 0..n {
        let trimmed = line.get(..end).unwrap_or(&[]).trim_ascii_end();
        let field_start = trimmed
            .iter()
            .rposition(|b| b.is_ascii_whitespace())
            .map_or(0, |i| i + 1);
        end = field_start;
    }
    line.get(..end).unwrap_or(&[]).trim_ascii_end()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a panic is a failure

    use super::*;

    const TEXT: &str = "IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port Forward Weight ActiveConn InActConn
TCP  0A640000:0050 rr
  -> 7F000001:1F91      Masq    1      3          17
  -> 7F000002:1F91      Route   2      0          0
FWM  00000005 wlc persistent 300
  -> 0A010001:0000      Tunnel  1      0          0
";

    #[test]
    fn the_layout_drops_only_the_connection_counters() {
        let want = "IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port Forward Weight
TCP  0A640000:0050 rr
  -> 7F000001:1F91      Masq    1
  -> 7F000002:1F91      Route   2
FWM  00000005 wlc persistent 300
  -> 0A010001:0000      Tunnel  1
";
        let got = without_counters(TEXT.as_bytes());
        // The file ends with a newline: one more empty line, as read.
        assert_eq!(String::from_utf8(got).unwrap(), format!("{want}\n"));
    }

    #[test]
    fn traffic_keeps_the_layout_and_an_edit_changes_it() {
        let busier = TEXT.replace("3          17", "90         4");
        assert_eq!(
            without_counters(TEXT.as_bytes()),
            without_counters(busier.as_bytes())
        );
        let reweighted = TEXT.replace("Route   2", "Route   3");
        assert_ne!(
            without_counters(TEXT.as_bytes()),
            without_counters(reweighted.as_bytes())
        );
        let removed = TEXT.replace("  -> 7F000002:1F91      Route   2      0          0\n", "");
        assert_ne!(
            without_counters(TEXT.as_bytes()),
            without_counters(removed.as_bytes())
        );
    }

    #[test]
    fn short_lines_lose_what_they_have() {
        assert_eq!(drop_fields(b"  -> a", 2), b"");
        assert_eq!(drop_fields(b"", 2), b"");
        assert_eq!(drop_fields(b"  -> a b c", 2), b"  -> a");
    }
}
