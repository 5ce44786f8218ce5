//! The read-only side of a subagent: Get, GetNext and GetBulk (RFC 2741
//! sections 7.2.3.1-7.2.3.3) answered from a sorted map of objects, the
//! way a subagent that builds its whole view at once serves it.

use std::collections::BTreeMap;

use crate::pdu::{Oid, SearchRange, Value, VarBind};

/// agentx Get: each range's start, or noSuchObject.
pub fn get(t: &BTreeMap<Oid, Value>, ranges: &[SearchRange]) -> Vec<VarBind> {
    ranges
        .iter()
        .map(|r| VarBind {
            name: r.start.clone(),
            value: t.get(&r.start).cloned().unwrap_or(Value::NoSuchObject),
        })
        .collect()
}

/// The first object of `r` in `t`, or endOfMibView named by its start.
fn next_in(t: &BTreeMap<Oid, Value>, r: &SearchRange) -> VarBind {
    use std::ops::Bound::{Excluded, Included, Unbounded};
    let from = if r.include {
        Included(&r.start)
    } else {
        Excluded(&r.start)
    };
    let found = t
        .range::<Oid, _>((from, Unbounded))
        .next()
        .filter(|(k, _)| r.end.is_empty() || **k < r.end);
    match found {
        Some((k, v)) => VarBind {
            name: k.clone(),
            value: v.clone(),
        },
        None => VarBind {
            name: r.start.clone(),
            value: Value::EndOfMibView,
        },
    }
}

/// agentx GetNext.
pub fn get_next(t: &BTreeMap<Oid, Value>, ranges: &[SearchRange]) -> Vec<VarBind> {
    ranges.iter().map(|r| next_in(t, r)).collect()
}

/// The most varbinds [`get_bulk`] answers. No SNMP message carries more
/// (at most 65,507 bytes over UDP, at least 7 bytes per varbind in BER),
/// and RFC 3416 section 4.2.3 lets an agent drop varbinds from the end of
/// a GetBulk answer; without a bound, a request of a few KiB (many
/// ranges, max-repetitions 65,535) would build an answer of many GB.
pub const MAX_BULK_VARBINDS: usize = 10_000;

/// agentx GetBulk (RFC 2741 section 7.2.3.3): the non-repeaters once,
/// then the others `max_repetitions` times, repetition by repetition,
/// until all of them reach the end or the answer holds
/// [`MAX_BULK_VARBINDS`] varbinds (the non-repeaters are always answered
/// whole: there is one per range asked).
pub fn get_bulk(
    t: &BTreeMap<Oid, Value>,
    non_repeaters: usize,
    max_repetitions: u16,
    ranges: &[SearchRange],
) -> Vec<VarBind> {
    let n = non_repeaters.min(ranges.len());
    let mut out = get_next(t, &ranges[..n]);
    let mut cursors: Vec<SearchRange> = ranges[n..].to_vec();
    for _ in 0..max_repetitions {
        if cursors.is_empty() {
            break;
        }
        let mut all_end = true;
        for c in &mut cursors {
            if out.len() >= MAX_BULK_VARBINDS {
                return out;
            }
            let vb = next_in(t, c);
            if vb.value != Value::EndOfMibView {
                all_end = false;
                c.start = vb.name.clone();
                c.include = false;
            }
            out.push(vb);
        }
        if all_end {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    fn tree() -> BTreeMap<Oid, Value> {
        [(vec![1, 2], 1), (vec![1, 3, 1], 2), (vec![1, 4], 3)]
            .into_iter()
            .map(|(k, v)| (k, Value::Integer(v)))
            .collect()
    }

    fn range(start: &[u32], include: bool, end: &[u32]) -> SearchRange {
        SearchRange {
            start: start.to_vec(),
            include,
            end: end.to_vec(),
        }
    }

    #[test]
    fn get_next_honours_include_and_end() {
        let t = tree();
        let names = |v: Vec<VarBind>| v.into_iter().map(|b| (b.name, b.value)).collect::<Vec<_>>();
        assert_eq!(
            names(get_next(&t, &[range(&[1, 2], true, &[])])),
            [(vec![1, 2], Value::Integer(1))]
        );
        assert_eq!(
            names(get_next(&t, &[range(&[1, 2], false, &[])])),
            [(vec![1, 3, 1], Value::Integer(2))]
        );
        assert_eq!(
            names(get_next(&t, &[range(&[1, 3, 1], false, &[1, 4])])),
            [(vec![1, 3, 1], Value::EndOfMibView)]
        );
        assert_eq!(
            names(get(&t, &[range(&[1, 3], false, &[])])),
            [(vec![1, 3], Value::NoSuchObject)]
        );
    }

    #[test]
    fn get_bulk_repeats_until_the_end() {
        let t = tree();
        let v = get_bulk(
            &t,
            1,
            5,
            &[range(&[1], false, &[]), range(&[1, 2], false, &[])],
        );
        let names: Vec<Oid> = v.iter().map(|b| b.name.clone()).collect();
        assert_eq!(names, [vec![1, 2], vec![1, 3, 1], vec![1, 4], vec![1, 4]]);
        assert_eq!(v[3].value, Value::EndOfMibView);
    }
    #[test]
    fn get_bulk_output_is_bounded_whatever_the_request() {
        // 2,000 repeaters of an empty range (8 bytes each in a PDU) with
        // max-repetitions 65,535 over 200 objects asked for 2,000 x 201
        // varbinds: one small PDU made the subagent build hundreds of MB.
        let t: BTreeMap<Oid, Value> = (0..200u32)
            .map(|i| (vec![1, i], Value::Integer(i as i32)))
            .collect();
        let ranges = vec![range(&[], false, &[]); 2_000];
        let v = get_bulk(&t, 0, u16::MAX, &ranges);
        assert_eq!(v.len(), MAX_BULK_VARBINDS);
        // Cut at the end only (RFC 3416 section 4.2.3): repetition r of
        // range k is at r * 2,000 + k, and names the r-th object.
        assert_eq!(v[0].name, [1, 0]);
        assert_eq!(v[1_999].name, [1, 0]);
        assert_eq!(v[2_000].name, [1, 1]);
        assert_eq!(v[MAX_BULK_VARBINDS - 1].name, [1, 4]);
        // Non-repeaters are answered whole, even past the bound.
        let v = get_bulk(&t, 12_000, u16::MAX, &vec![range(&[1], false, &[]); 12_000]);
        assert_eq!(v.len(), 12_000);
        assert!(v.iter().all(|b| b.name == [1, 0]));
    }
}
