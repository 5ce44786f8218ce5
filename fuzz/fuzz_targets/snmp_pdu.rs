//! Untrusted bytes from an AgentX master agent (keepalived-lite's SNMP
//! subagent): `pdu::decode` and `pdu::decode_varbinds` must never panic,
//! an accepted PDU must lie inside the input, and every varbind list the
//! decoder accepts must come back unchanged through our encoder.
#![no_main]

use agentx::pdu::{self, Pdu, HEADER_LEN};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok((h, p)) = pdu::decode(data) {
        // The header's length was honoured, not trusted blindly.
        let end = HEADER_LEN as u64 + u64::from(h.payload_len);
        assert!(end <= data.len() as u64);
        assert_eq!(data[1], h.kind);
        if let Pdu::Get(r) | Pdu::GetNext(r) | Pdu::GetBulk { ranges: r, .. } = &p {
            // Each range costs at least two 4-byte OID headers.
            assert!(r.len() * 8 <= h.payload_len as usize);
        }
    }
    // The same bytes as a varbind list, in both byte orders.
    for big in [true, false] {
        let Ok(vbs) = pdu::decode_varbinds(data, big) else {
            continue;
        };
        // Our encoder cuts OIDs at 128 sub-identifiers (RFC 2578).
        let long = |o: &[u32]| o.len() > 128;
        if vbs
            .iter()
            .any(|vb| long(&vb.name) || matches!(&vb.value, pdu::Value::Oid(o) if long(o)))
        {
            continue;
        }
        let bytes = pdu::notify(1, 2, &vbs);
        let (h, p) = pdu::decode(&bytes).expect("our Notify decodes");
        assert_eq!(
            (h.kind, h.session_id, h.packet_id),
            (pdu::kind::NOTIFY, 1, 2)
        );
        assert_eq!(p, Pdu::Other(pdu::kind::NOTIFY));
        let again = pdu::decode_varbinds(&bytes[HEADER_LEN..], true).expect("re-decodes");
        assert_eq!(again, vbs);
    }
});
