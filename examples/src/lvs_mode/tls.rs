//! SSL_GET's TLS as keepalived 2.2.7 sets it up (`check_ssl.c`): any
//! server certificate is accepted (the `healthcheck` crate verifies by
//! default; keepalived-lite follows keepalived here), and with an `SSL`
//! block its client certificate is presented. A file of the block that
//! does not load is logged in keepalived's words and stops the checker,
//! at start and at reload, as keepalived's `stop_check` does.

use healthcheck::checkers::{TlsFile, TlsFiles, TlsLoadError, TlsOptions};
use tracing::info;

use super::daemon::DaemonError;

/// The TLS options of every SSL_GET of a plan whose `SSL` block (if any
/// and if an SSL_GET runs) is `files`.
pub(super) fn keepalived_tls(files: Option<&TlsFiles>) -> Result<TlsOptions, DaemonError> {
    let Some(files) = files else {
        return TlsOptions::unverified().map_err(|e| DaemonError::Tls(e.to_string()));
    };
    files.load().map_err(|e| {
        for line in failure_lines(files, &e) {
            info!("{line}");
        }
        DaemonError::Tls(e.to_string())
    })
}

/// keepalived's lines for a file that does not load (`build_ssl_ctx`,
/// `init_ssl_ctx`), the password in clear as keepalived prints it; an
/// unset value prints as glibc prints a NULL string.
pub(super) fn failure_lines(files: &TlsFiles, e: &TlsLoadError) -> [String; 6] {
    let what = match e.file {
        TlsFile::Certificate => "certificate",
        TlsFile::Key => "key",
        _ => "CA",
    };
    let show = |p: &Option<std::path::PathBuf>| {
        p.as_deref()
            .map_or_else(|| "(null)".to_string(), |p| p.display().to_string())
    };
    let password = files.password.as_deref().unwrap_or("(null)");
    [
        format!("SSL error : Cant load {what} file..."),
        "Error Initialize SSL, ctx Instance".to_string(),
        format!("  SSL  keyfile:{}", show(&files.key)),
        format!("  SSL password:{password}"),
        format!("  SSL   cafile:{}", show(&files.ca)),
        "Terminate...".to_string(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_key_is_logged_as_keepalived_logs_it() {
        let files = TlsFiles {
            certificate: Some("/nonexistent/cli.pem".into()),
            key: Some("/nonexistent/cli.key".into()),
            ca: None,
            password: Some("secret".into()),
        };
        let Err(DaemonError::Tls(why)) = keepalived_tls(Some(&files)) else {
            panic!("a missing certificate must fail");
        };
        assert_eq!(
            why,
            "SSL certificate /nonexistent/cli.pem: No such file or directory (os error 2)"
        );
        let e = TlsLoadError {
            file: TlsFile::Key,
            path: "/nonexistent/cli.key".into(),
            why: String::new(),
        };
        assert_eq!(
            failure_lines(&files, &e),
            [
                "SSL error : Cant load key file...",
                "Error Initialize SSL, ctx Instance",
                "  SSL  keyfile:/nonexistent/cli.key",
                "  SSL password:secret",
                "  SSL   cafile:(null)",
                "Terminate...",
            ]
        );
    }
}
