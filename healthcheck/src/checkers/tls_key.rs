//! The `SSL` block's private key, as OpenSSL's `SSL_CTX_use_PrivateKey_file`
//! reads it for keepalived: the first PEM private key of the file,
//! unencrypted (PKCS#8, PKCS#1, SEC1) or encrypted with the block's
//! `password`, either as PKCS#8 (`ENCRYPTED PRIVATE KEY`, PBES2) or in
//! OpenSSL's legacy form (`Proc-Type: 4,ENCRYPTED` with a `DEK-Info` of
//! AES-128/192/256-CBC or DES-EDE3-CBC, the key derived by OpenSSL's
//! `EVP_BytesToKey` with MD5 and one round).

use std::path::Path;

use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockDecryptMut, KeyIvInit};
use md5::{Digest, Md5};
use pkcs8::der::pem;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs1KeyDer, PrivatePkcs8KeyDer, PrivateSec1KeyDer};

/// Reads the key in `path`, decrypting it with `password` if it is
/// encrypted (a password for a plain key is unused, as in OpenSSL).
pub(crate) fn read_key(
    path: &Path,
    password: Option<&str>,
) -> Result<PrivateKeyDer<'static>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let Some(block) = first_key_block(&text) else {
        return Err("no PEM private key".into());
    };
    let encrypted = block.label == "ENCRYPTED PRIVATE KEY" || block.dek_info.is_some();
    let password = match (encrypted, password) {
        (false, _) => {
            return PrivateKeyDer::from_pem_slice(block.pem.as_bytes())
                .map_err(|e| format!("malformed PEM: {e}"))
        }
        (true, None) => return Err("the key is encrypted and the SSL block has no password".into()),
        (true, Some(p)) => p,
    };
    let der = pem::decode_vec(block.pem.as_bytes())
        .map_err(|e| format!("malformed PEM: {e}"))?
        .1;
    match block.dek_info {
        None => pkcs8(&der, password),
        Some(dek) => legacy(block.label, dek, &der, password),
    }
}

/// The first PEM block whose label ends in `PRIVATE KEY`, rebuilt without
/// its headers, and its `DEK-Info` header if it has one.
struct KeyBlock<'a> {
    label: &'a str,
    dek_info: Option<&'a str>,
    pem: String,
}

fn first_key_block(text: &str) -> Option<KeyBlock<'_>> {
    let mut lines = text.lines().map(str::trim);
    let label = lines.find_map(|l| {
        let label = l.strip_prefix("-----BEGIN ")?.strip_suffix("-----")?;
        label.ends_with("PRIVATE KEY").then_some(label)
    })?;
    let end = format!("-----END {label}-----");
    let mut dek_info = None;
    let mut pem = format!("-----BEGIN {label}-----\n");
    for l in lines {
        if l == end {
            pem.push_str(&end);
            pem.push('\n');
            return Some(KeyBlock {
                label,
                dek_info,
                pem,
            });
        }
        match l.split_once(':') {
            Some(("DEK-Info", v)) => dek_info = Some(v.trim()),
            Some(_) => {}
            None if l.is_empty() => {}
            None => {
                pem.push_str(l);
                pem.push('\n');
            }
        }
    }
    None
}

fn pkcs8(der: &[u8], password: &str) -> Result<PrivateKeyDer<'static>, String> {
    let info = pkcs8::EncryptedPrivateKeyInfo::try_from(der).map_err(|e| e.to_string())?;
    let plain = info
        .decrypt(password)
        .map_err(|_| "cannot decrypt the key with the SSL block's password".to_string())?;
    Ok(PrivatePkcs8KeyDer::from(plain.as_bytes().to_vec()).into())
}

/// OpenSSL's legacy encryption of a PKCS#1 (`RSA PRIVATE KEY`) or SEC1
/// (`EC PRIVATE KEY`) key.
fn legacy(
    label: &str,
    dek: &str,
    der: &[u8],
    password: &str,
) -> Result<PrivateKeyDer<'static>, String> {
    let (cipher, iv) = dek.split_once(',').ok_or("malformed DEK-Info")?;
    let iv = hex(iv.trim()).ok_or("malformed DEK-Info")?;
    let salt = iv.get(..8).ok_or("malformed DEK-Info")?;
    let key = |len: usize| bytes_to_key(password.as_bytes(), salt, len);
    let bad = |_| "cannot decrypt the key with the SSL block's password".to_string();
    let plain = match cipher.trim() {
        "AES-128-CBC" => decrypt::<aes::Aes128>(&key(16), &iv, der).map_err(bad)?,
        "AES-192-CBC" => decrypt::<aes::Aes192>(&key(24), &iv, der).map_err(bad)?,
        "AES-256-CBC" => decrypt::<aes::Aes256>(&key(32), &iv, der).map_err(bad)?,
        "DES-EDE3-CBC" => decrypt::<des::TdesEde3>(&key(24), &iv, der).map_err(bad)?,
        other => return Err(format!("unsupported key encryption {other}")),
    };
    match label {
        "RSA PRIVATE KEY" => Ok(PrivatePkcs1KeyDer::from(plain).into()),
        "EC PRIVATE KEY" => Ok(PrivateSec1KeyDer::from(plain).into()),
        other => Err(format!("unsupported encrypted key type {other}")),
    }
}

fn decrypt<C>(key: &[u8], iv: &[u8], data: &[u8]) -> Result<Vec<u8>, ()>
where
    C: cbc::cipher::BlockDecryptMut + cbc::cipher::BlockCipher + cbc::cipher::KeyInit,
{
    let d = cbc::Decryptor::<C>::new_from_slices(key, iv).map_err(|_| ())?;
    d.decrypt_padded_vec_mut::<Pkcs7>(data).map_err(|_| ())
}

/// OpenSSL's `EVP_BytesToKey` with MD5 and one round: `D_i = MD5(D_{i-1}
/// || password || salt)`, concatenated up to `len` bytes.
fn bytes_to_key(password: &[u8], salt: &[u8], len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 16);
    let mut prev: Vec<u8> = Vec::new();
    while out.len() < len {
        let mut h = Md5::new();
        h.update(&prev);
        h.update(password);
        h.update(salt);
        prev = h.finalize().to_vec();
        out.extend_from_slice(&prev);
    }
    out.truncate(len);
    out
}

fn hex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// OpenSSL's `openssl enc -aes-128-cbc -pass pass:secret -S 0102030405060708 -P`
    /// (`-md md5`) prints this key.
    #[test]
    fn bytes_to_key_is_openssls() {
        let key = bytes_to_key(b"secret", &[1, 2, 3, 4, 5, 6, 7, 8], 16);
        assert_eq!(hex_of(&key), KEY_128);
    }

    fn hex_of(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02X}")).collect()
    }

    const KEY_128: &str = "C9E5A1BD216DBE1317E230CEF48F38EE";
}
