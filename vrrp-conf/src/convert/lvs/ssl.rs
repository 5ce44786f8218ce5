//! The top-level `SSL` block to SSL_GET's client TLS files (keepalived
//! 2.2.7 `check_parser.c`, `check_ssl.c`).
//!
//! keepalived reads the block's files once, when its checker starts and
//! only if some SSL_GET runs; a file that does not load stops the checker
//! (the daemon reports it, as keepalived logs it). `-t` reads none of
//! them. Without the block SSL_GET presents no client certificate. Either
//! way the server's certificate is never verified: `ca` is loaded only.
//! `password` decrypts an encrypted `key`.

use std::path::PathBuf;

use healthcheck::checkers::TlsFiles;

use crate::model::Config;
use crate::span::Spanned;

use super::{Probe, ServicePlan};

/// The block's files, if it is there and some SSL_GET runs (keepalived's
/// `ssl_required`).
pub(super) fn files(config: &Config, services: &[ServicePlan]) -> Option<TlsFiles> {
    let ssl = config.ssl.as_ref()?;
    let checks = services.iter().flat_map(|s| &s.real_servers);
    let ssl_get = |p: &Probe| matches!(p, Probe::Http { ssl: true, .. });
    if !checks.flat_map(|r| &r.checks).any(|c| ssl_get(&c.probe)) {
        return None;
    }
    let path = |v: &Option<Spanned<String>>| v.as_ref().map(|v| PathBuf::from(&v.value));
    Some(TlsFiles {
        certificate: path(&ssl.certificate),
        key: path(&ssl.key),
        ca: path(&ssl.ca),
        password: ssl.password.as_ref().map(|p| p.value.clone()),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a panic is a failed test

    use super::*;
    use crate::convert::lvs::build;
    use crate::convert::{convert, Halves};
    use crate::{parse_str, Options};

    const SSL_GET: &str = "virtual_server 10.0.0.1 443 {\n protocol TCP\n \
                           real_server 10.1.0.1 8443 {\n SSL_GET {\n url {\n path /\n }\n }\n }\n}\n";
    const TCP: &str = "virtual_server 10.0.0.1 443 {\n protocol TCP\n \
                       real_server 10.1.0.1 8443 {\n TCP_CHECK {\n }\n }\n}\n";

    /// The parse and conversion diagnostics of `text`, rendered, and the
    /// checker's TLS files.
    fn run(text: &str) -> (Vec<String>, Option<TlsFiles>) {
        let parsed = parse_str("k.conf", text, &Options::default());
        let halves = Halves::keepalived(&parsed.config, false, true);
        let out = convert(&parsed, halves);
        let d = parsed.diagnostics.iter().chain(&out.diagnostics);
        let d = d.map(|d| d.display(&parsed.sources).to_string()).collect();
        let files = build(&parsed.config).unwrap().ssl;
        (d, files)
    }

    fn some(p: &str) -> Option<PathBuf> {
        Some(PathBuf::from(p))
    }

    #[test]
    fn the_block_becomes_ssl_gets_files() {
        let block = "SSL {\n ca /etc/ca.pem\n certificate /etc/cli.pem\n key /etc/cli.key\n}\n";
        let (d, files) = run(&format!("{block}{SSL_GET}"));
        assert_eq!(d, Vec::<String>::new());
        let want = TlsFiles {
            certificate: some("/etc/cli.pem"),
            key: some("/etc/cli.key"),
            ca: some("/etc/ca.pem"),
            password: None,
        };
        assert_eq!(files, Some(want));
        // keepalived loads them only when an SSL_GET runs.
        assert_eq!(run(&format!("{block}{TCP}")), (vec![], None));
        // Without the block: no client certificate.
        assert_eq!(run(SSL_GET), (vec![], None));
        // An empty block: keepalived's "autogen" context, the same.
        let (d, files) = run(&format!("SSL {{\n}}\n{SSL_GET}"));
        assert_eq!((d, files), (vec![], Some(TlsFiles::default())));
    }

    #[test]
    fn password_goes_with_the_key() {
        let text = format!("SSL {{\n password secret\n key /etc/cli.key\n}}\n{SSL_GET}");
        let (d, files) = run(&text);
        assert_eq!(d, Vec::<String>::new());
        let want = TlsFiles {
            key: some("/etc/cli.key"),
            password: Some("secret".into()),
            ..TlsFiles::default()
        };
        assert_eq!(files, Some(want));
    }

    #[test]
    fn repeats_and_mistakes_are_reported_as_keepalived_does() {
        let text = format!(
            "SSL {{\n key /a.key\n}}\nSSL {{\n ca /ca.pem\n key /b.key\n key /c.key extra\n \
             cert /x.pem\n certificate\n}}\n{SSL_GET}"
        );
        let (d, files) = run(&text);
        assert_eq!(
            d,
            [
                "k.conf:4:1: warning: SSL context already specified - replacing",
                "k.conf:7:2: warning: 'key' takes one value; keepalived ignores the rest of the \
                 line: 'extra'",
                "k.conf:7:2: warning: SSL keyfile already specified - replacing",
                "k.conf:8:2: error: unknown keyword 'cert'",
                "k.conf:9:2: error: 'certificate' needs a value",
            ]
        );
        // The second block replaced the first: its key, and no other.
        let want = TlsFiles {
            certificate: None,
            key: some("/c.key"),
            ca: some("/ca.pem"),
            password: None,
        };
        assert_eq!(files, Some(want));
    }

    #[test]
    fn the_block_round_trips_through_emit() {
        let text = format!(
            "SSL {{\n password \"two words\"\n ca /ca.pem\n certificate /c.pem\n key /k.pem\n}}\n{SSL_GET}"
        );
        let parsed = parse_str("k.conf", &text, &Options::default());
        let emitted = crate::emit::emit(&parsed.config);
        assert!(
            emitted.starts_with(
                "SSL {\n    password \"two words\"\n    ca /ca.pem\n    certificate /c.pem\n    \
                 key /k.pem\n}\n"
            ),
            "{emitted}"
        );
        let again = parse_str("e.conf", &emitted, &Options::default());
        assert_eq!(again.config, parsed.config);
    }
}
