//! Just enough X.509 for SSL_GET: the public key of a certificate of any
//! version. keepalived's OpenSSL accepts X.509 v1 certificates (what
//! `openssl x509 -req` makes without extensions), which rustls's
//! certificate parser (webpki) refuses.

use pkcs8::der::asn1::{AnyRef, BitStringRef};
use pkcs8::der::{Decode, Encode, SliceReader, Tag, TagNumber, Tagged};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::{CertificateError, DigitallySignedStruct, PeerMisbehaved};

/// A certificate's SubjectPublicKeyInfo (its DER, tag and length
/// included), found by walking the DER of any X.509 version: v1
/// certificates have no `[0]` version field.
pub(crate) fn spki_of(cert: &[u8]) -> Option<Vec<u8>> {
    let outer = AnyRef::from_der(cert).ok()?;
    let mut r = SliceReader::new(outer.value()).ok()?;
    let tbs = AnyRef::decode(&mut r).ok()?;
    let mut t = SliceReader::new(tbs.value()).ok()?;
    let version = Tag::ContextSpecific {
        constructed: true,
        number: TagNumber::N0,
    };
    let first = AnyRef::decode(&mut t).ok()?;
    // Past the version: serial, signature, issuer, validity, subject.
    let before = if first.tag() == version { 5 } else { 4 };
    for _ in 0..before {
        AnyRef::decode(&mut t).ok()?;
    }
    AnyRef::decode(&mut t).ok()?.to_der().ok()
}

/// A SubjectPublicKeyInfo's algorithm (the contents of its
/// AlgorithmIdentifier) and key bits.
fn spki_parts(spki: &[u8]) -> Option<(&[u8], &[u8])> {
    let outer = AnyRef::from_der(spki).ok()?;
    let mut r = SliceReader::new(outer.value()).ok()?;
    let alg = AnyRef::decode(&mut r).ok()?;
    let key = BitStringRef::decode(&mut r).ok()?;
    Some((alg.value(), key.as_bytes()?))
}

/// Checks a handshake signature with the key of `cert`, of any X.509
/// version (the signature schemes of `algs`, as rustls's own check).
pub(crate) fn verify_signature(
    message: &[u8],
    cert: &[u8],
    dss: &DigitallySignedStruct,
    algs: &WebPkiSupportedAlgorithms,
) -> Result<HandshakeSignatureValid, rustls::Error> {
    let bad = rustls::Error::InvalidCertificate(CertificateError::BadEncoding);
    let spki = spki_of(cert).ok_or(bad.clone())?;
    let (alg_id, key) = spki_parts(&spki).ok_or(bad)?;
    let (_, candidates) = (algs.mapping.iter())
        .find(|(scheme, _)| *scheme == dss.scheme)
        .ok_or(PeerMisbehaved::SignedHandshakeWithUnadvertisedSigScheme)?;
    let for_key = candidates
        .iter()
        .filter(|a| &*a.public_key_alg_id() == alg_id);
    for alg in for_key {
        if alg.verify_signature(key, message, dss.signature()).is_ok() {
            return Ok(HandshakeSignatureValid::assertion());
        }
    }
    Err(rustls::Error::InvalidCertificate(
        CertificateError::BadSignature,
    ))
}
