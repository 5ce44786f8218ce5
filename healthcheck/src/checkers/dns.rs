//! DNS_CHECK: a query over UDP; up when the answer holds a record of the
//! requested type. The wire format is hickory-proto's.

use std::str::FromStr;

use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RecordType};

use crate::checkers::net::{bounded, udp_connect, udp_reason};
use crate::{BoxFuture, CheckContext, CheckOutcome, Checker, DownReason};

/// The record types DNS_CHECK accepts (keepalived's `type`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum DnsType {
    /// IPv4 address.
    A,
    /// Name server.
    Ns,
    /// Canonical name.
    Cname,
    /// Start of authority (keepalived's default: its DNS_CHECK with an
    /// unknown `type` "defaults to SOA").
    #[default]
    Soa,
    /// Mail exchange.
    Mx,
    /// Text.
    Txt,
    /// IPv6 address.
    Aaaa,
}

impl DnsType {
    fn record_type(self) -> RecordType {
        match self {
            DnsType::A => RecordType::A,
            DnsType::Ns => RecordType::NS,
            DnsType::Cname => RecordType::CNAME,
            DnsType::Soa => RecordType::SOA,
            DnsType::Mx => RecordType::MX,
            DnsType::Txt => RecordType::TXT,
            DnsType::Aaaa => RecordType::AAAA,
        }
    }
}

/// keepalived's DNS_CHECK (`type`, `name`, default `.`).
///
/// As keepalived 2.2.7, any answer with our id and RCODE NOERROR is up,
/// even one holding no record (NODATA, a referral); datagrams that do not
/// parse are ignored while waiting. [`DnsChecker::require_answer`] also
/// wants a record of the queried type.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DnsChecker {
    /// The queried name.
    pub name: String,
    /// The queried type.
    pub qtype: DnsType,
    /// Down ([`DownReason::DnsNoAnswer`]) unless the answer holds a record
    /// of `qtype` (default false, as keepalived).
    pub require_answer: bool,
}

impl DnsChecker {
    /// A query for `name` of type `qtype`.
    pub fn new(name: impl Into<String>, qtype: DnsType) -> Self {
        Self {
            name: name.into(),
            qtype,
            require_answer: false,
        }
    }

    /// The same checker, down unless the answer holds a record of `qtype`.
    pub fn require_answer(mut self) -> Self {
        self.require_answer = true;
        self
    }

    fn query(&self, id: u16) -> Result<Vec<u8>, DownReason> {
        let name = Name::from_str(&self.name).map_err(|_| DownReason::Config("bad DNS name"))?;
        let mut m = Message::new();
        m.set_id(id)
            .set_message_type(MessageType::Query)
            .set_op_code(OpCode::Query)
            .set_recursion_desired(true)
            .add_query(Query::query(name, self.qtype.record_type()));
        m.to_vec()
            .map_err(|_| DownReason::Config("DNS query does not encode"))
    }

    async fn ask(&self, ctx: &CheckContext) -> Result<(), DownReason> {
        // The id only has to differ between concurrent checks.
        let id = (std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos())
            >> 8) as u16;
        let q = self.query(id)?;
        let s = udp_connect(ctx).await?;
        s.send(&q).await.map_err(|e| udp_reason(&e))?;
        let mut buf = vec![0u8; 4096];
        loop {
            let n = s.recv(&mut buf).await.map_err(|e| udp_reason(&e))?;
            let Ok(resp) = Message::from_vec(buf.get(..n).unwrap_or_default()) else {
                continue; // As keepalived: not an answer, keep waiting.
            };
            if resp.id() != id || resp.message_type() != MessageType::Response {
                continue; // A stray datagram: keep waiting.
            }
            if resp.response_code() != ResponseCode::NoError {
                return Err(DownReason::DnsRcode(resp.response_code().into()));
            }
            let want = self.qtype.record_type();
            let has = |r: &hickory_proto::rr::Record| r.record_type() == want;
            return if !self.require_answer || resp.answers().iter().any(has) {
                Ok(())
            } else {
                Err(DownReason::DnsNoAnswer)
            };
        }
    }
}

impl Checker for DnsChecker {
    fn check<'a>(&'a self, ctx: &'a CheckContext) -> BoxFuture<'a, CheckOutcome> {
        Box::pin(bounded(ctx, self.ask(ctx)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_keepalived_s() {
        assert_eq!(DnsType::default(), DnsType::Soa);
        assert!(!DnsChecker::new(".", DnsType::default()).require_answer);
    }
}
