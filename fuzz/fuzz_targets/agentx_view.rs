//! A request from an AgentX master agent answered end to end, as
//! keepalived-lite's subagent does: `pdu::decode`, then Get, GetNext or
//! GetBulk over a fixed view shaped like the VRRP, VRRPv3 and keepalived
//! MIBs, then the Response encoder. Never panics; the answer is bounded
//! (one varbind per Get/GetNext range, at most the non-repeaters plus
//! `MAX_BULK_VARBINDS` for GetBulk), every GetNext answer lies inside its
//! search range, and the Response decodes back to the same varbinds.
#![no_main]

use std::collections::BTreeMap;
use std::sync::OnceLock;

use agentx::pdu::{self, Oid, Pdu, SearchRange, Value, VarBind, HEADER_LEN};
use agentx::view::{get, get_bulk, get_next, MAX_BULK_VARBINDS};
use libfuzzer_sys::fuzz_target;

/// 3 tables x 8 columns x 10 rows of the MIBs keepalived-lite serves.
fn view() -> &'static BTreeMap<Oid, Value> {
    static VIEW: OnceLock<BTreeMap<Oid, Value>> = OnceLock::new();
    VIEW.get_or_init(|| {
        let tables: [&[u32]; 3] = [
            &[1, 3, 6, 1, 2, 1, 68, 1, 3, 1],
            &[1, 3, 6, 1, 2, 1, 207, 1, 1, 1, 1],
            &[1, 3, 6, 1, 4, 1, 9586, 100, 5, 2, 3, 1],
        ];
        let mut t = BTreeMap::new();
        for (n, entry) in tables.iter().enumerate() {
            for col in 1..=8u32 {
                for row in 1..=10u32 {
                    let mut oid = entry.to_vec();
                    oid.extend([col, 1, row]);
                    let v = match col % 3 {
                        0 => Value::Integer(row as i32 - 5),
                        1 => Value::OctetString(vec![n as u8; row as usize]),
                        _ => Value::Counter64(u64::from(row) << 40),
                    };
                    t.insert(oid, v);
                }
            }
        }
        t
    })
}

/// Whether `vb` answers GetNext range `r` correctly.
fn inside(vb: &VarBind, r: &SearchRange) -> bool {
    if vb.value == Value::EndOfMibView {
        return vb.name == r.start;
    }
    let after = if r.include {
        vb.name >= r.start
    } else {
        vb.name > r.start
    };
    after && (r.end.is_empty() || vb.name < r.end) && view().get(&vb.name) == Some(&vb.value)
}

fuzz_target!(|data: &[u8]| {
    let Ok((h, p)) = pdu::decode(data) else {
        return;
    };
    let t = view();
    let answer = match &p {
        Pdu::Get(r) => {
            let a = get(t, r);
            assert_eq!(a.len(), r.len());
            a
        }
        Pdu::GetNext(r) => {
            let a = get_next(t, r);
            assert_eq!(a.len(), r.len());
            assert!(a.iter().zip(r).all(|(vb, r)| inside(vb, r)));
            a
        }
        Pdu::GetBulk {
            non_repeaters,
            max_repetitions,
            ranges,
        } => {
            let n = usize::from(*non_repeaters).min(ranges.len());
            let a = get_bulk(t, n, *max_repetitions, ranges);
            assert!(a.len() <= n + MAX_BULK_VARBINDS);
            assert!(a.iter().zip(&ranges[..n]).all(|(vb, r)| inside(vb, r)));
            a
        }
        _ => return,
    };
    let bytes = pdu::response(&h, pdu::error::NONE, 0, &answer);
    let (rh, rp) = pdu::decode(&bytes).expect("our Response decodes");
    assert_eq!((rh.kind, rh.packet_id), (pdu::kind::RESPONSE, h.packet_id));
    assert_eq!(rp, Pdu::Response { error: 0, index: 0 });
    // The encoder cuts OIDs at 128 sub-identifiers (RFC 2578); a request
    // may name longer ones, which come back cut.
    if answer.iter().all(|vb| vb.name.len() <= 128) {
        let again = pdu::decode_varbinds(&bytes[HEADER_LEN + 8..], true).expect("re-decodes");
        assert_eq!(again, answer);
    }
});
