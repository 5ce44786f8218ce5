//! TLS for SSL_GET on rustls: certificate verification on by default.

use std::fmt;
use std::io;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::sign::{CertifiedKey, SingleCertAndKey};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, InconsistentKeys, RootCertStore,
    SignatureScheme,
};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use crate::{DownReason, TlsFailure};

/// TLS settings of an SSL_GET check.
#[derive(Clone)]
pub struct TlsOptions {
    config: Arc<ClientConfig>,
    verify: bool,
    server_name: Option<String>,
}

impl fmt::Debug for TlsOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsOptions")
            .field("verify", &self.verify)
            .field("server_name", &self.server_name)
            .finish()
    }
}

/// The crypto provider: the one the application installed, else the one
/// rustls's crate features name (ring, which this crate enables; rustls
/// then installs it as the process default, as its `ClientConfig::builder`
/// does). Never `ring::default_provider`, deprecated since rustls 0.23.48.
fn provider() -> Result<Arc<CryptoProvider>, rustls::Error> {
    if let Some(p) = CryptoProvider::get_default() {
        return Ok(p.clone());
    }
    // rustls panics here only when its features name two providers and
    // the application installed none: report that as an error instead.
    std::panic::catch_unwind(|| ClientConfig::builder().crypto_provider().clone()).map_err(|_| {
        rustls::Error::General(
            "no rustls crypto provider: install one with CryptoProvider::install_default".into(),
        )
    })
}

impl TlsOptions {
    /// Verifies the server against the Mozilla roots plus `extra_roots`.
    pub fn verified(extra_roots: &[CertificateDer<'static>]) -> Result<Self, rustls::Error> {
        let mut roots = RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        for r in extra_roots {
            roots.add(r.clone())?;
        }
        let config = ClientConfig::builder_with_provider(provider()?)
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Self {
            config: Arc::new(config),
            verify: true,
            server_name: None,
        })
    }

    /// Verifies against the Mozilla roots plus the CA certificates in a PEM
    /// text.
    pub fn from_pem(pem: &[u8]) -> Result<Self, TlsSetupError> {
        let certs = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| TlsSetupError::Pem)?;
        Self::verified(&certs).map_err(TlsSetupError::Rustls)
    }

    /// No certificate verification (keepalived's historical behaviour).
    pub fn unverified() -> Result<Self, rustls::Error> {
        Ok(Self {
            config: Arc::new(insecure_config()?),
            verify: false,
            server_name: None,
        })
    }

    /// No certificate verification, presenting `chain` (leaf first) with
    /// `key` when the server asks for a client certificate. Fails if rustls
    /// cannot use the key or it is not the leaf's key. The certificates are
    /// sent as they are: any X.509 version.
    pub fn unverified_with_client_auth(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> Result<Self, rustls::Error> {
        let builder = insecure_builder()?;
        let signer = builder
            .crypto_provider()
            .key_provider
            .load_private_key(key)?;
        // Compared as OpenSSL does, without rustls's certificate parser,
        // which refuses the X.509 v1 certificates OpenSSL presents.
        let leaf = chain.first().and_then(|c| super::x509::spki_of(c));
        if let (Some(k), Some(c)) = (signer.public_key(), leaf) {
            if k.as_ref() != c.as_slice() {
                return Err(rustls::Error::InconsistentKeys(
                    InconsistentKeys::KeyMismatch,
                ));
            }
        }
        let resolver = SingleCertAndKey::from(CertifiedKey::new(chain, signer));
        Ok(Self {
            config: Arc::new(builder.with_client_cert_resolver(Arc::new(resolver))),
            verify: false,
            server_name: None,
        })
    }

    /// The name sent as SNI and verified in the certificate (default: the
    /// virtual host, else the target's IP address, which sends no SNI).
    pub fn with_server_name(mut self, name: impl Into<String>) -> Self {
        self.server_name = Some(name.into());
        self
    }

    /// The same settings sending no SNI, as keepalived's SSL_GET does
    /// unless `enable_sni` is set (the name is still verified when
    /// verification is on).
    pub fn without_sni(mut self) -> Self {
        let mut config = (*self.config).clone();
        config.enable_sni = false;
        self.config = Arc::new(config);
        self
    }

    /// Whether SNI is sent (for a DNS name; never for an IP address).
    pub fn sends_sni(&self) -> bool {
        self.config.enable_sni
    }

    /// Whether certificates are verified.
    pub fn verifies(&self) -> bool {
        self.verify
    }

    /// Runs the handshake over `tcp`; `fallback_name` is used when no
    /// server name was set.
    pub(crate) async fn handshake(
        &self,
        tcp: TcpStream,
        fallback_name: &str,
    ) -> Result<TlsStream<TcpStream>, DownReason> {
        let name = self.server_name.as_deref().unwrap_or(fallback_name);
        let name = ServerName::try_from(name.to_owned())
            .map_err(|_| DownReason::Tls(TlsFailure::InvalidServerName))?;
        TlsConnector::from(self.config.clone())
            .connect(name, tcp)
            .await
            .map_err(|e| tls_reason(&e))
    }
}

/// Maps a handshake error to a typed reason.
pub(crate) fn tls_reason(e: &io::Error) -> DownReason {
    let Some(err) = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) else {
        return crate::checkers::net::io_reason(e);
    };
    let f = match err {
        rustls::Error::InvalidCertificate(c) => match c {
            CertificateError::UnknownIssuer => TlsFailure::UnknownIssuer,
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                TlsFailure::NameMismatch
            }
            CertificateError::Expired
            | CertificateError::ExpiredContext { .. }
            | CertificateError::NotValidYet
            | CertificateError::NotValidYetContext { .. } => TlsFailure::Expired,
            _ => TlsFailure::BadCertificate,
        },
        _ => TlsFailure::Handshake,
    };
    DownReason::Tls(f)
}

fn insecure_config() -> Result<ClientConfig, rustls::Error> {
    Ok(insecure_builder()?.with_no_client_auth())
}

/// A client config builder accepting any server certificate, awaiting
/// its client authentication.
fn insecure_builder(
) -> Result<rustls::ConfigBuilder<ClientConfig, rustls::client::WantsClientCert>, rustls::Error> {
    let p = provider()?;
    let verifier = Arc::new(AcceptAnyCert(p.clone()));
    Ok(ClientConfig::builder_with_provider(p)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(verifier))
}

/// Why TLS options could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsSetupError {
    /// The PEM text held a malformed certificate.
    #[error("malformed PEM certificate")]
    Pem,
    /// rustls refused the configuration or a root certificate.
    #[error("rustls: {0}")]
    Rustls(rustls::Error),
}

/// rustls could not read the certificate (an X.509 v1 certificate, which
/// OpenSSL takes): the signature is checked with the key read by
/// [`super::x509`]. Other errors stand.
fn any_version(
    e: rustls::Error,
    message: &[u8],
    cert: &CertificateDer<'_>,
    dss: &DigitallySignedStruct,
    algs: &rustls::crypto::WebPkiSupportedAlgorithms,
) -> Result<HandshakeSignatureValid, rustls::Error> {
    match e {
        rustls::Error::InvalidCertificate(_) => {
            super::x509::verify_signature(message, cert, dss, algs)
        }
        e => Err(e),
    }
}

/// Accepts any certificate but still checks the handshake signatures.
#[derive(Debug)]
struct AcceptAnyCert(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algs = &self.0.signature_verification_algorithms;
        verify_tls12_signature(message, cert, dss, algs)
            .or_else(|e| any_version(e, message, cert, dss, algs))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algs = &self.0.signature_verification_algorithms;
        verify_tls13_signature(message, cert, dss, algs)
            .or_else(|e| any_version(e, message, cert, dss, algs))
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sni_is_sent_unless_turned_off() -> Result<(), rustls::Error> {
        let tls = TlsOptions::unverified()?;
        assert!(tls.sends_sni());
        let off = tls.clone().without_sni();
        assert!(!off.sends_sni());
        assert!(tls.sends_sni(), "the original keeps its settings");
        Ok(())
    }
}
