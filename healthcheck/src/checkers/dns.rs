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
    /// IPv4 address (keepalived's default).
    #[default]
    A,
    /// Name server.
    Ns,
    /// Canonical name.
    Cname,
    /// Start of authority.
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
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DnsChecker {
    /// The queried name.
    pub name: String,
    /// The queried type.
    pub qtype: DnsType,
}

impl DnsChecker {
    /// A query for `name` of type `qtype`.
    pub fn new(name: impl Into<String>, qtype: DnsType) -> Self {
        Self {
            name: name.into(),
            qtype,
        }
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
                return Err(DownReason::Protocol("malformed DNS answer"));
            };
            if resp.id() != id || resp.message_type() != MessageType::Response {
                continue; // A stray datagram: keep waiting.
            }
            if resp.response_code() != ResponseCode::NoError {
                return Err(DownReason::DnsRcode(resp.response_code().into()));
            }
            let want = self.qtype.record_type();
            return if resp.answers().iter().any(|r| r.record_type() == want) {
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
