//! The receive path's index of routers by (interface, VRID, family,
//! channel). Beside the sorted keys it keeps each key's (interface, VRID,
//! family) as one integer, so a datagram's binary search compares a `u64`
//! read from memory at each step instead of building it from the key.

use std::net::IpAddr;

/// A router's place in the receive path: (ifindex, VRID, IPv6, channel,
/// slot).
pub(super) type Key = (u32, u8, bool, Option<IpAddr>, u32);

/// (interface, VRID, family) as one integer that sorts as the tuple: the
/// receive path's searches compare it in one step.
pub(super) fn family_code(ifindex: u32, vrid: u8, ipv6: bool) -> u64 {
    (u64::from(ifindex) << 9) | (u64::from(vrid) << 1) | u64::from(ipv6)
}

/// The code of a key's (interface, VRID, family).
fn code_of(k: &Key) -> u64 {
    family_code(k.0, k.1, k.2)
}

/// The routers' keys, sorted, and their family codes, index for index.
/// Only `insert` and `remove` change them, and they change both alike.
#[derive(Debug, Default)]
pub(super) struct KeyIndex {
    keys: Vec<Key>,
    /// `codes[i]` is `code_of(&keys[i])`: sorted too, since the codes sort
    /// as the tuples' first three fields.
    codes: Vec<u64>,
}

impl KeyIndex {
    /// Puts `key` in place.
    pub(super) fn insert(&mut self, key: Key) {
        let at = self.keys.binary_search(&key).unwrap_or_else(|at| at);
        self.keys.insert(at, key);
        self.codes.insert(at, code_of(&key));
    }

    /// Drops the key of router `slot` (a router has one at most).
    pub(super) fn remove(&mut self, slot: u32) {
        while let Some(at) = self.keys.iter().position(|k| k.4 == slot) {
            self.keys.remove(at);
            self.codes.remove(at);
        }
    }

    /// The keys of family `code` (a [`family_code`]), in channel order:
    /// one binary search of the codes, then a forward scan (a family has
    /// a few routers at most).
    pub(super) fn family(&self, code: u64) -> &[Key] {
        let from = self.codes.partition_point(|c| *c < code);
        let rest = self.codes.get(from..).unwrap_or(&[]);
        let len = rest.iter().take_while(|c| **c == code).count();
        self.keys.get(from..from + len).unwrap_or(&[])
    }

    /// Every key, in order.
    pub(super) fn iter(&self) -> std::slice::Iter<'_, Key> {
        self.keys.iter()
    }

    /// True if the codes are those of the keys, index for index, and the
    /// keys are sorted: what the searches rely on.
    #[cfg(test)]
    pub(super) fn in_step(&self) -> bool {
        let codes = self.keys.iter().map(code_of);
        self.keys.windows(2).all(|w| w[0] <= w[1]) && codes.eq(self.codes.iter().copied())
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    #[test]
    fn codes_follow_inserts_and_removals() {
        let mut index = KeyIndex::default();
        let group = Some(IpAddr::V4(Ipv4Addr::new(224, 0, 0, 18)));
        let keys = [
            (2, 7, false, group, 0),
            (1, 7, true, None, 1),
            (1, 7, false, None, 2),
            (1, 7, false, group, 3),
            (1, 8, false, group, 4),
        ];
        for k in keys {
            index.insert(k);
            assert!(index.in_step());
        }
        let slots = |ks: &[Key]| ks.iter().map(|k| k.4).collect::<Vec<_>>();
        assert_eq!(slots(index.family(family_code(1, 7, false))), [2, 3]);
        assert_eq!(slots(index.family(family_code(1, 7, true))), [1]);
        assert_eq!(slots(index.family(family_code(2, 7, false))), [0]);
        assert_eq!(slots(index.family(family_code(2, 8, false))), [0u32; 0]);
        index.remove(2);
        index.remove(9);
        assert!(index.in_step());
        assert_eq!(slots(index.family(family_code(1, 7, false))), [3]);
        assert_eq!(slots(index.iter().as_slice()), [3, 1, 4, 0]);
    }
}
