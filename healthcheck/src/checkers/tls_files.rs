//! keepalived's `SSL` block for SSL_GET: the client certificate and key
//! it presents (the key decrypted with the block's `password` if it is
//! encrypted) and the CA file it loads, read once at start (keepalived
//! 2.2.7 `check_ssl.c`).
//!
//! keepalived never turns on server verification (its context keeps
//! OpenSSL's `SSL_VERIFY_NONE`): the `ca` file must load, and is
//! otherwise unused. So the options built here accept any server
//! certificate, as without the block.

use std::fmt;
use std::path::{Path, PathBuf};

use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::CertificateDer;

use super::tls_key::read_key;
use super::x509::spki_of;
use crate::checkers::TlsOptions;

/// The files of keepalived's `SSL` block (each optional, as there).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct TlsFiles {
    /// `certificate`: the client's PEM certificate chain, leaf first.
    pub certificate: Option<PathBuf>,
    /// `key`: the client's PEM private key (PKCS#8, PKCS#1 or SEC1),
    /// unencrypted or encrypted with `password` (PKCS#8 PBES2, or
    /// OpenSSL's legacy AES/DES-EDE3-CBC encryption).
    pub key: Option<PathBuf>,
    /// `password`: the pass phrase of an encrypted `key`.
    pub password: Option<String>,
    /// `ca`: PEM CA certificates; loaded (at least one must be there) but,
    /// as in keepalived, not used to verify the server.
    pub ca: Option<PathBuf>,
}

impl fmt::Debug for TlsFiles {
    /// Everything but the password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsFiles")
            .field("certificate", &self.certificate)
            .field("key", &self.key)
            .field("password", &self.password.as_ref().map(|_| "..."))
            .field("ca", &self.ca)
            .finish()
    }
}

/// Which file of a [`TlsFiles`] could not be loaded, in keepalived's
/// order of loading: certificate, key, CA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsFile {
    /// `certificate`.
    Certificate,
    /// `key` (also: a key that does not match the certificate).
    Key,
    /// `ca`.
    Ca,
}

impl fmt::Display for TlsFile {
    /// The block's keyword.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TlsFile::Certificate => "certificate",
            TlsFile::Key => "key",
            TlsFile::Ca => "ca",
        })
    }
}

/// Why [`TlsFiles::load`] failed: the file and what was wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("SSL {file} {path}: {why}")]
pub struct TlsLoadError {
    /// The file that failed.
    pub file: TlsFile,
    /// Its path.
    pub path: String,
    /// What was wrong (unreadable, no PEM item, mismatched key).
    pub why: String,
}

impl TlsFiles {
    /// Loads the files into SSL_GET's TLS options: the certificate chain
    /// and key presented when the server asks for a client certificate
    /// (only when both are given, as OpenSSL sends none without a key),
    /// any server certificate accepted.
    pub fn load(&self) -> Result<TlsOptions, TlsLoadError> {
        let chain = match &self.certificate {
            Some(p) => Some(load(TlsFile::Certificate, p, certificates)?),
            None => None,
        };
        let key = match &self.key {
            Some(p) => Some(load(TlsFile::Key, p, |p| {
                read_key(p, self.password.as_deref())
            })?),
            None => None,
        };
        // A key that is not the certificate's fails before the CA loads.
        let options = match (chain, key) {
            (Some(chain), Some(key)) => TlsOptions::unverified_with_client_auth(chain, key),
            _ => TlsOptions::unverified(),
        }
        .map_err(|e| self.key_error(&e))?;
        if let Some(p) = &self.ca {
            load(TlsFile::Ca, p, certificates)?;
        }
        Ok(options)
    }

    /// rustls refusing the key (unsupported algorithm, not the
    /// certificate's key): keepalived's "Cant load key file".
    fn key_error(&self, e: &rustls::Error) -> TlsLoadError {
        TlsLoadError {
            file: TlsFile::Key,
            path: self.key.as_deref().map_or_else(String::new, show),
            why: e.to_string(),
        }
    }
}

fn load<T>(
    file: TlsFile,
    path: &Path,
    read: impl FnOnce(&Path) -> Result<T, String>,
) -> Result<T, TlsLoadError> {
    read(path).map_err(|why| TlsLoadError {
        file,
        path: show(path),
        why,
    })
}

fn show(p: &Path) -> String {
    p.display().to_string()
}

/// Every certificate of a PEM file; none, or one that is not an X.509
/// certificate, is an error.
fn certificates(p: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_file_iter(p)
        .map_err(pem_why)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(pem_why)?;
    if certs.is_empty() {
        return Err(pem_why(pem::Error::NoItemsFound));
    }
    if certs.iter().any(|c| spki_of(c).is_none()) {
        return Err("malformed X.509 certificate".into());
    }
    Ok(certs)
}

fn pem_why(e: pem::Error) -> String {
    match e {
        pem::Error::Io(e) => e.to_string(),
        pem::Error::NoItemsFound => "no PEM item of that kind".into(),
        other => format!("malformed PEM: {other}"),
    }
}
