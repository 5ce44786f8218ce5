//! The HTTP body digest exactly as keepalived's HTTP_GET and `genhash`
//! compute it.
//!
//! keepalived hashes the raw bytes after the first `\r\n\r\n` of the
//! response, with no decoding at all (a chunked body is hashed with its
//! chunk-size lines), and stops after `Content-Length` bytes when the
//! header has that field. The field name is matched case-sensitively
//! (`Content-Length:`) and its value read like C's `atoi`: a negative or
//! overflowing value means "no limit" and garbage means 0.

use md5::Md5;
use sha1::{Digest, Sha1};

/// The hash function of a digest (keepalived only knows MD5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum HashKind {
    /// MD5, keepalived's `digest`.
    #[default]
    Md5,
    /// SHA-1.
    Sha1,
}

#[derive(Debug, Clone)]
enum Hasher {
    Md5(Md5),
    Sha1(Sha1),
}

impl Hasher {
    fn new(kind: HashKind) -> Self {
        match kind {
            HashKind::Md5 => Hasher::Md5(Md5::new()),
            HashKind::Sha1 => Hasher::Sha1(Sha1::new()),
        }
    }
    fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Md5(h) => h.update(data),
            Hasher::Sha1(h) => h.update(data),
        }
    }
    fn finish(self) -> Vec<u8> {
        match self {
            Hasher::Md5(h) => h.finalize().to_vec(),
            Hasher::Sha1(h) => h.finalize().to_vec(),
        }
    }
}

/// The parsed head of a response and its body digest.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DigestedResponse {
    /// The status code as keepalived reads it (`atoi` of the second word).
    pub status: i32,
    /// The header bytes, up to and including the blank line.
    pub header: Vec<u8>,
    /// The `Content-Length` limit, if the header set one.
    pub content_length: Option<u64>,
    /// How many body bytes were hashed.
    pub hashed: u64,
    /// The digest of the hashed body bytes.
    pub digest: Vec<u8>,
}

/// Why no digest could be produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DigestError {
    /// The stream ended before the end of the header (`\r\n\r\n`).
    #[error("no data received from remote webserver")]
    NoHeader,
    /// The header did not end within [`MAX_HEADER`] bytes.
    #[error("HTTP header longer than {MAX_HEADER} bytes")]
    HeaderTooLarge,
}

/// The longest header (blank line included) a digester accepts: the
/// header is buffered, so a peer that never ends it must not grow memory
/// until the timeout.
pub const MAX_HEADER: usize = 64 * 1024;

/// A streaming response digester: feed the bytes as they arrive, then
/// call [`ResponseDigester::finish`] at end of stream.
#[derive(Debug, Clone)]
pub struct ResponseDigester {
    header: Vec<u8>,
    head_done: bool,
    too_large: bool,
    status: i32,
    content_length: Option<u64>,
    hashed: u64,
    hasher: Hasher,
}

const HEADER_END: &[u8] = b"\r\n\r\n";

impl ResponseDigester {
    /// A digester using `kind`.
    pub fn new(kind: HashKind) -> Self {
        Self {
            header: Vec::new(),
            head_done: false,
            too_large: false,
            status: 0,
            content_length: None,
            hashed: 0,
            hasher: Hasher::new(kind),
        }
    }

    /// Feeds the next bytes of the response.
    pub fn feed(&mut self, data: &[u8]) {
        if self.head_done {
            self.hash_body(data);
            return;
        }
        if self.too_large {
            return;
        }
        // Only the tail of the old header can start the terminator.
        let search_from = self.header.len().saturating_sub(HEADER_END.len() - 1);
        self.header.extend_from_slice(data);
        let found = find(&self.header[search_from..], HEADER_END);
        // Decided on the end's position only, so read boundaries don't matter.
        let end = found.map(|pos| search_from + pos + HEADER_END.len());
        if end.map_or(self.header.len() >= MAX_HEADER, |e| e > MAX_HEADER) {
            self.too_large = true;
            self.header = Vec::new();
            return;
        }
        let Some(end) = end else { return };
        let body = self.header.split_off(end);
        self.head_done = true;
        self.status = status_code(&self.header);
        self.content_length = content_length(&self.header);
        self.hash_body(&body);
    }

    fn hash_body(&mut self, data: &[u8]) {
        let room = self
            .content_length
            .map_or(u64::MAX, |l| l.saturating_sub(self.hashed));
        let n = usize::try_from(room).unwrap_or(usize::MAX).min(data.len());
        if let Some(part) = data.get(..n) {
            self.hasher.update(part);
            self.hashed += n as u64;
        }
    }

    /// Whether the full header has been seen.
    pub fn has_header(&self) -> bool {
        self.head_done
    }

    /// Ends the stream.
    pub fn finish(self) -> Result<DigestedResponse, DigestError> {
        if self.too_large {
            return Err(DigestError::HeaderTooLarge);
        }
        if !self.head_done {
            return Err(DigestError::NoHeader);
        }
        Ok(DigestedResponse {
            status: self.status,
            header: self.header,
            content_length: self.content_length,
            hashed: self.hashed,
            digest: self.hasher.finish(),
        })
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// C's `atoi`: leading whitespace, a sign, digits; `strtol` saturation then
/// truncation to `int`, as glibc does.
fn atoi(s: &[u8]) -> i32 {
    let mut it = s
        .iter()
        .copied()
        .skip_while(|c| matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'))
        .peekable();
    let neg = match it.peek() {
        Some(b'-') => {
            it.next();
            true
        }
        Some(b'+') => {
            it.next();
            false
        }
        _ => false,
    };
    let mut v: i64 = 0;
    for c in it.take_while(u8::is_ascii_digit) {
        v = v.saturating_mul(10).saturating_add(i64::from(c - b'0'));
    }
    let v = if neg { v.saturating_neg() } else { v };
    v as i32
}

fn status_code(header: &[u8]) -> i32 {
    let Some(sp) = header.iter().position(|&c| c == b' ') else {
        return 0;
    };
    let rest = header.get(sp + 1..).unwrap_or_default();
    let word = rest.split(|&c| c == b' ').next().unwrap_or_default();
    atoi(word)
}

fn content_length(header: &[u8]) -> Option<u64> {
    // strstr stops at a NUL byte.
    let text = header.split(|&c| c == 0).next().unwrap_or_default();
    let at = find(text, b"Content-Length:")?;
    let v = atoi(text.get(at + 15..).unwrap_or_default());
    u64::try_from(v).ok()
}

/// Lower-case hex, as `genhash` prints it.
pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest_of(parts: &[&[u8]]) -> DigestedResponse {
        let mut d = ResponseDigester::new(HashKind::Md5);
        for p in parts {
            d.feed(p);
        }
        d.finish().expect("header present")
    }

    #[test]
    fn hashes_body_only() {
        let r = digest_of(&[b"HTTP/1.0 200 OK\r\nX: y\r\n\r\nhello"]);
        assert_eq!(r.status, 200);
        assert_eq!(to_hex(&r.digest), "5d41402abc4b2a76b9719d911017c592");
    }

    #[test]
    fn header_end_split_across_reads() {
        let r = digest_of(&[b"HTTP/1.1 404 NF\r\n\r", b"\nhel", b"lo"]);
        assert_eq!(r.status, 404);
        assert_eq!(to_hex(&r.digest), "5d41402abc4b2a76b9719d911017c592");
    }

    #[test]
    fn content_length_truncates() {
        let r = digest_of(&[b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nhe", b"llo"]);
        assert_eq!(r.hashed, 3);
        // md5("hel"), checked against keepalived's genhash.
        assert_eq!(to_hex(&r.digest), "46356afe55fa3cea9cbe73ad442cad47");
    }

    #[test]
    fn chunked_body_hashed_raw() {
        let r = digest_of(&[
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        ]);
        // md5 of the raw chunked bytes, checked against keepalived's genhash.
        assert_eq!(to_hex(&r.digest), "79e9489e3bd3f0cb0158215341de046d");
    }

    #[test]
    fn atoi_quirks() {
        assert_eq!(atoi(b"  42abc"), 42);
        assert_eq!(atoi(b"abc"), 0);
        assert_eq!(atoi(b"-5"), -5);
        assert_eq!(atoi(b"99999999999999999999"), -1);
        assert_eq!(content_length(b"content-length: 3\r\n"), None);
        assert_eq!(content_length(b"Content-Length: -1\r\n"), None);
        assert_eq!(content_length(b"Content-Length: x\r\n"), Some(0));
    }

    #[test]
    fn read_boundaries_do_not_matter() {
        let resp: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nabcdefghij";
        let whole = digest_of(&[resp]);
        assert_eq!(whole.hashed, 7);
        for a in 0..resp.len() {
            for b in a..resp.len() {
                let split = digest_of(&[&resp[..a], &resp[a..b], &resp[b..]]);
                assert_eq!(split, whole, "split at {a} and {b}");
            }
        }
    }

    #[test]
    fn endless_header_is_refused_at_the_same_size_whatever_the_reads() {
        let head = b"HTTP/1.0 200 OK\r\nX: ";
        let fits = [
            &head[..],
            &vec![b'a'; MAX_HEADER - head.len() - 4],
            b"\r\n\r\nhi",
        ]
        .concat();
        let over = [
            &head[..],
            &vec![b'a'; MAX_HEADER - head.len() - 3],
            b"\r\n\r\nhi",
        ]
        .concat();
        assert_eq!(digest_of(&[&fits]).header.len(), MAX_HEADER);
        for step in [1, 7, 4096, MAX_HEADER + 10] {
            let mut d = ResponseDigester::new(HashKind::Md5);
            for c in over.chunks(step) {
                d.feed(c);
            }
            assert_eq!(d.finish(), Err(DigestError::HeaderTooLarge), "step {step}");
        }
        // Memory stays bounded while the peer keeps talking.
        let mut d = ResponseDigester::new(HashKind::Md5);
        for _ in 0..100 {
            d.feed(&[b'a'; 4096]);
        }
        assert!(d.header.capacity() <= MAX_HEADER + 4096);
        assert_eq!(d.finish(), Err(DigestError::HeaderTooLarge));
    }

    #[test]
    fn no_header_is_an_error() {
        let mut d = ResponseDigester::new(HashKind::Md5);
        d.feed(b"HTTP/1.0 200 OK\r\n");
        assert_eq!(d.finish(), Err(DigestError::NoHeader));
    }
}
