//! Lowering of the top-level `SSL` block (keepalived 2.2.7
//! `check_parser.c`): four file-or-word settings, the last of each kept.

use crate::diagnostics::{Code, Diagnostic};
use crate::model::Ssl;
use crate::parser::Node;
use crate::span::Spanned;

use super::Lower;

/// The keywords of the `SSL` block.
const SSL_KEYWORDS: &[&str] = &["password", "ca", "certificate", "key"];

impl Lower<'_> {
    /// One `SSL` block; like keepalived, a second block replaces the
    /// first (with its warning) and starts empty.
    pub(super) fn ssl(&mut self, n: &Node<'_>, ssl: &mut Option<Ssl>) {
        if ssl.is_some() {
            let msg = "SSL context already specified - replacing";
            self.push(Diagnostic::warning(Code::Duplicate, n.span, msg));
        }
        let mut s = Ssl::default();
        for c in n.children() {
            let (slot, what) = match c.keyword {
                "password" => (&mut s.password, "password"),
                "ca" => (&mut s.ca, "cafile"),
                "certificate" => (&mut s.certificate, "certfile"),
                "key" => (&mut s.key, "keyfile"),
                _ => {
                    self.unknown(c, &[SSL_KEYWORDS]);
                    continue;
                }
            };
            let Some(value) = self.value(c) else {
                continue;
            };
            if slot.is_some() {
                let msg = format!("SSL {what} already specified - replacing");
                self.push(Diagnostic::warning(Code::Duplicate, c.span, msg));
            }
            *slot = Some(Spanned::new(value.to_string(), c.span));
        }
        *ssl = Some(s);
    }
}
