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

/// agentx GetBulk (RFC 2741 section 7.2.3.3): the non-repeaters once,
/// then the others `max_repetitions` times, repetition by repetition,
/// until all of them reach the end.
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
}
