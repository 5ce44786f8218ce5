//! AgentX (RFC 2741) for a subagent: the PDUs it sends and receives
//! ([`pdu`]) and the answers to Get, GetNext and GetBulk from a sorted map
//! of objects ([`view`]).
//!
//! The contract: [`pdu::decode`] takes untrusted bytes and never panics;
//! encoders write network byte order with the header's length filled in;
//! the view answers exactly as section 7.2.3 says (noSuchObject,
//! endOfMibView, a search range's `include` and `end`). Sans-IO: the
//! caller owns the socket to the master agent (keepalived-lite keeps a
//! Unix stream to snmpd, see its `snmp` module).
//!
//! ```
//! use std::collections::BTreeMap;
//! use agentx::pdu::{SearchRange, Value};
//! use agentx::view::get_next;
//!
//! let mut objects = BTreeMap::new();
//! objects.insert(vec![1, 3, 6, 1, 2, 1, 68, 1, 1, 0], Value::Integer(2));
//! let asked = SearchRange { start: vec![1, 3, 6, 1, 2, 1, 68], include: false, end: vec![] };
//! let answer = get_next(&objects, &[asked]);
//! assert_eq!(answer[0].name, [1, 3, 6, 1, 2, 1, 68, 1, 1, 0]);
//! assert_eq!(answer[0].value, Value::Integer(2));
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod pdu;
pub mod view;
