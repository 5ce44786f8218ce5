//! HTTP_GET and SSL_GET: url blocks with status codes and keepalived's digest.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::checkers::net::{bounded, connect, io_reason};
use crate::checkers::TlsOptions;
use crate::digest::{DigestError, DigestedResponse, HashKind, ResponseDigester};
use crate::{BoxFuture, CheckContext, CheckOutcome, Checker, DownReason, UrlSpan};

/// The request's protocol (keepalived's `http_protocol`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum HttpVersion {
    /// `HTTP/1.0` without a Connection header (the default).
    #[default]
    V1_0,
    /// `HTTP/1.0` with `Connection: close` (`1.0C`).
    V1_0Close,
    /// `HTTP/1.1` with `Connection: close`.
    V1_1,
}

/// A set of accepted status codes in 100..=599.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusCodes([u64; 8]);

/// Why a `status_code` list was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StatusCodesError {
    /// An item is not a code or range within 100..=599.
    #[error("invalid status code '{0}'")]
    Invalid(String),
}

impl Default for StatusCodes {
    /// keepalived's default: 200-299.
    fn default() -> Self {
        let mut s = Self::empty();
        s.insert_range(200, 299);
        s
    }
}

impl StatusCodes {
    /// No accepted code.
    pub fn empty() -> Self {
        Self([0; 8])
    }

    /// Parses keepalived's `status_code` arguments: codes and ranges
    /// separated by spaces, e.g. `"200 301-303"`.
    pub fn parse(list: &str) -> Result<Self, StatusCodesError> {
        let mut s = Self::empty();
        for item in list.split_whitespace() {
            let bad = || StatusCodesError::Invalid(item.to_owned());
            let (lo, hi) = match item.split_once('-') {
                Some((a, b)) => (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?),
                None => {
                    let c = item.parse().map_err(|_| bad())?;
                    (c, c)
                }
            };
            if !(100..=599).contains(&lo) || !(100..=599).contains(&hi) || lo > hi {
                return Err(bad());
            }
            s.insert_range(lo, hi);
        }
        Ok(s)
    }

    fn insert_range(&mut self, lo: u16, hi: u16) {
        for c in lo..=hi {
            let i = usize::from(c - 100);
            if let Some(w) = self.0.get_mut(i / 64) {
                *w |= 1 << (i % 64);
            }
        }
    }

    /// Whether `code` is accepted.
    pub fn contains(&self, code: i32) -> bool {
        // `code` comes from the server (`atoi`): any i32, i32::MIN included.
        let Some(Ok(i)) = code.checked_sub(100).map(usize::try_from) else {
            return false;
        };
        i < 500 && self.0.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0)
    }
}

/// One `url` block.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UrlCheck {
    /// The request path (`path`).
    pub path: String,
    /// Accepted codes (`status_code`, default 200-299).
    pub status: StatusCodes,
    /// The expected body digest (`digest`), raw bytes.
    pub digest: Option<Vec<u8>>,
    /// A per-url `virtualhost`.
    pub virtualhost: Option<String>,
    /// `regex` and its settings: matched against the whole response.
    pub regex: Option<super::BodyRegex>,
}

impl UrlCheck {
    /// A url block with default status codes and no digest.
    pub fn new(path: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            status: StatusCodes::default(),
            digest: None,
            virtualhost: None,
            regex: None,
        }
    }
}

/// HTTP_GET (no `tls`) or SSL_GET (with `tls`). All urls must pass; an
/// attempt checks those of its [`CheckContext::urls`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HttpChecker {
    /// The url blocks, checked in order.
    pub urls: Vec<UrlCheck>,
    /// The checker-wide `virtualhost` (Host header, and SNI name for TLS).
    pub virtualhost: Option<String>,
    /// The request protocol.
    pub version: HttpVersion,
    /// TLS settings for SSL_GET.
    pub tls: Option<TlsOptions>,
    /// The digest's hash (MD5 as keepalived).
    pub hash: HashKind,
}

impl HttpChecker {
    /// HTTP_GET of these urls.
    pub fn http(urls: Vec<UrlCheck>) -> Self {
        Self {
            urls,
            virtualhost: None,
            version: HttpVersion::default(),
            tls: None,
            hash: HashKind::Md5,
        }
    }

    /// SSL_GET of these urls.
    pub fn ssl(urls: Vec<UrlCheck>, tls: TlsOptions) -> Self {
        Self {
            tls: Some(tls),
            ..Self::http(urls)
        }
    }

    async fn check_url(
        &self,
        ctx: &CheckContext,
        url: &UrlCheck,
        progress: &Progress,
    ) -> Result<(), DownReason> {
        let vhost = url.virtualhost.as_deref().or(self.virtualhost.as_deref());
        // Without a digest or regex the status line decides: the body is
        // not read.
        let need = if url.digest.is_some() || url.regex.is_some() {
            Need::Body
        } else {
            Need::Header
        };
        let req = Request {
            path: &url.path,
            vhost,
            version: self.version,
            progress,
        };
        let mut kept = url.regex.as_ref().map(|_| Vec::new());
        let resp = get(ctx, &req, self.tls.as_ref(), self.hash, need, kept.as_mut()).await?;
        if !url.status.contains(resp.status) {
            return Err(DownReason::HttpStatus(
                u16::try_from(resp.status).unwrap_or(0),
            ));
        }
        if url.digest.as_ref().is_some_and(|d| *d != resp.digest) {
            return Err(DownReason::DigestMismatch);
        }
        match (&url.regex, kept) {
            (Some(r), Some(seen)) if !r.passes(&seen) => Err(DownReason::RegexMismatch),
            _ => Ok(()),
        }
    }
}

impl Checker for HttpChecker {
    /// Checks the urls of `ctx.urls` in order, one connection each, and
    /// stops at the first that fails: [`CheckOutcome::UrlDown`] names it.
    /// A span beyond the url list (a reload shortened it) checks them all.
    fn check<'a>(&'a self, ctx: &'a CheckContext) -> BoxFuture<'a, CheckOutcome> {
        // One budget for all urls: the Checker contract bounds the whole
        // check by `ctx.timeout` (the driver cuts it there anyway).
        Box::pin(async move {
            let progress = Progress::default();
            let n = self.urls.len();
            let (start, count) = match ctx.urls {
                UrlSpan::From(i) if i < n => (i, n),
                UrlSpan::Only(i) if i < n => (i, 1),
                _ => (0, n),
            };
            let all = async {
                for (i, url) in self.urls.iter().enumerate().skip(start).take(count) {
                    progress.url.store(i, Ordering::Relaxed);
                    self.check_url(ctx, url, &progress).await?;
                }
                Ok(())
            };
            let reason = match bounded(ctx, all).await {
                CheckOutcome::Down(DownReason::Timeout) => progress.timed_out(),
                CheckOutcome::Down(reason) => reason,
                outcome => return outcome,
            };
            let url = progress.url.load(Ordering::Relaxed);
            CheckOutcome::UrlDown { url, reason }
        })
    }
}

/// How far the current GET got, so that running out of time says where,
/// as keepalived's check_http.c does ("Timeout connecting", "Timeout WEB
/// write", "Timeout WEB read", "Timeout HTTP read"), and at which url.
#[derive(Debug, Default)]
pub(crate) struct Progress {
    stage: AtomicU8,
    /// The index of the url being checked.
    url: AtomicUsize,
}

impl Progress {
    /// Connecting, TLS handshake included.
    const CONNECTING: u8 = 0;
    /// Sending the request.
    const SENDING: u8 = 1;
    /// The request is out; no byte of the response yet.
    const WAITING: u8 = 2;
    /// Some of the response came.
    const READING: u8 = 3;

    fn set(&self, stage: u8) {
        self.stage.store(stage, Ordering::Relaxed);
    }

    /// The reason for running out of time at this point.
    fn timed_out(&self) -> DownReason {
        match self.stage.load(Ordering::Relaxed) {
            Self::SENDING => DownReason::SendTimeout,
            Self::WAITING => DownReason::ReadTimeout { started: false },
            Self::READING => DownReason::ReadTimeout { started: true },
            _ => DownReason::Timeout,
        }
    }
}

/// keepalived's request for `path`.
pub(crate) fn request(
    path: &str,
    vhost: Option<&str>,
    version: HttpVersion,
    target: SocketAddr,
) -> String {
    let minor = u8::from(version == HttpVersion::V1_1);
    let close = if version == HttpVersion::V1_0 {
        ""
    } else {
        "Connection: close\r\n"
    };
    let host = match (vhost, target) {
        (Some(v), _) => v.to_owned(),
        (None, SocketAddr::V4(a)) => format!("{}:{}", a.ip(), a.port()),
        (None, SocketAddr::V6(a)) => format!("[{}]:{}", a.ip(), a.port()),
    };
    format!(
        "GET {path} HTTP/1.{minor}\r\nUser-Agent: KeepAliveClient\r\n{close}Host: {host}\r\n\r\n"
    )
}

/// Sends keepalived's GET for `path` and digests the response, as
/// `genhash` does: up to `Content-Length` bytes of body when the header
/// has that field (the stream is not read further, so a server keeping
/// the connection open does not hold the check), else to the end of the
/// stream. No timeout: wrap it.
pub async fn fetch(
    ctx: &CheckContext,
    path: &str,
    vhost: Option<&str>,
    version: HttpVersion,
    tls: Option<&TlsOptions>,
    hash: HashKind,
) -> Result<DigestedResponse, DownReason> {
    let req = Request {
        path,
        vhost,
        version,
        progress: &Progress::default(),
    };
    get(ctx, &req, tls, hash, Need::Body, None).await
}

/// How much of a response a check needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Need {
    /// The header only (the status code decides; the digest covers no body).
    Header,
    /// The body too: `Content-Length` bytes of it, or all of it to the end
    /// of the stream when the header has no such field.
    Body,
}

/// One GET: what goes on the request line and in the Host header.
struct Request<'a> {
    path: &'a str,
    vhost: Option<&'a str>,
    version: HttpVersion,
    progress: &'a Progress,
}

async fn get(
    ctx: &CheckContext,
    r: &Request<'_>,
    tls: Option<&TlsOptions>,
    hash: HashKind,
    need: Need,
    kept: Option<&mut Vec<u8>>,
) -> Result<DigestedResponse, DownReason> {
    let req = request(r.path, r.vhost, r.version, ctx.target);
    let progress = r.progress;
    progress.set(Progress::CONNECTING);
    let tcp = connect(ctx).await?;
    match tls {
        None => exchange(tcp, &req, hash, need, kept, progress).await,
        Some(opts) => {
            let fallback = r
                .vhost
                .map_or_else(|| ctx.target.ip().to_string(), str::to_owned);
            let stream = opts.handshake(tcp, &fallback).await?;
            exchange(stream, &req, hash, need, kept, progress).await
        }
    }
}

async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    req: &str,
    hash: HashKind,
    need: Need,
    kept: Option<&mut Vec<u8>>,
    progress: &Progress,
) -> Result<DigestedResponse, DownReason> {
    progress.set(Progress::SENDING);
    let sent = |e: std::io::Error| DownReason::SendFailed(e.kind());
    s.write_all(req.as_bytes()).await.map_err(sent)?;
    s.flush().await.map_err(sent)?;
    progress.set(Progress::WAITING);
    // The first byte marks the response as started.
    let mut first = [0u8; 1];
    let n = s.read(&mut first).await.map_err(|e| match e.kind() {
        std::io::ErrorKind::UnexpectedEof => DownReason::NoHttpResponse,
        _ => io_reason(&e),
    })?;
    if n == 0 {
        return Err(DownReason::NoHttpResponse);
    }
    progress.set(Progress::READING);
    let mut rest = (&first[..]).chain(&mut s);
    read_response(&mut rest, hash, need, kept).await
}

/// Body bytes still wanted, once the header is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Left {
    /// The header is not complete yet.
    Header,
    /// No `Content-Length`: everything up to the end of the stream.
    ToEof,
    /// This many more bytes.
    Bytes(u64),
}

/// Reads an HTTP response from `s` and digests it as keepalived does,
/// stopping as soon as `need` is met: after the header for
/// [`Need::Header`]; for [`Need::Body`] after `Content-Length` body bytes,
/// or at the end of the stream without that field. A stream that ends
/// early is not an error once the header is complete (the digest then
/// covers what came). `kept` gets the response as read, up to
/// [`super::MAX_SUBJECT`] bytes. No timeout: wrap it.
pub(crate) async fn read_response<S: AsyncRead + Unpin>(
    s: &mut S,
    hash: HashKind,
    need: Need,
    mut kept: Option<&mut Vec<u8>>,
) -> Result<DigestedResponse, DownReason> {
    let mut d = ResponseDigester::new(hash);
    let mut buf = vec![0u8; 16 * 1024];
    let mut left = Left::Header;
    while left != Left::Bytes(0) {
        let n = match s.read(&mut buf).await {
            Ok(0) => break,
            Ok(n) => n,
            // A TLS peer closing without close_notify ends the stream too.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(io_reason(&e)),
        };
        let data = buf.get(..n).unwrap_or_default();
        d.feed(data);
        if let Some(k) = kept.as_deref_mut() {
            let room = super::MAX_SUBJECT.saturating_sub(k.len());
            k.extend_from_slice(data.get(..room.min(n)).unwrap_or(data));
        }
        left = match left {
            Left::Bytes(l) => Left::Bytes(l.saturating_sub(n as u64)),
            Left::ToEof => Left::ToEof,
            Left::Header if !d.has_header() => Left::Header,
            Left::Header if need == Need::Header => break,
            Left::Header => body_left(&d),
        };
    }
    d.finish().map_err(|e| match e {
        DigestError::HeaderTooLarge => DownReason::Protocol("HTTP header too large"),
        _ => DownReason::NoHttpResponse,
    })
}

/// What is left of the body once the header is complete. The digester
/// keeps the parsed header to itself until `finish`, so it is asked once,
/// on a copy (at most the 64 KiB header and a hash state).
fn body_left(d: &ResponseDigester) -> Left {
    match d.clone().finish() {
        Ok(r) => r
            .content_length
            .map_or(Left::ToEof, |l| Left::Bytes(l.saturating_sub(r.hashed))),
        Err(_) => Left::ToEof,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// A failure at the only url.
    fn at_first(reason: DownReason) -> CheckOutcome {
        CheckOutcome::UrlDown { url: 0, reason }
    }

    #[test]
    fn request_matches_keepalived() {
        let t: SocketAddr = "127.0.0.1:18081".parse().unwrap_or_else(|_| unreachable!());
        assert_eq!(
            request("/x", None, HttpVersion::V1_0, t),
            "GET /x HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: 127.0.0.1:18081\r\n\r\n"
        );
        assert_eq!(
            request("/y", Some("vh.example"), HttpVersion::V1_1, t),
            "GET /y HTTP/1.1\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: vh.example\r\n\r\n"
        );
    }

    #[tokio::test]
    async fn the_timeout_bounds_all_urls_together() {
        use tokio::io::AsyncReadExt;
        let l = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|_| unreachable!());
        let addr = l.local_addr().unwrap_or_else(|_| unreachable!());
        // Each answer takes 0.75 of the timeout: two urls need 1.5 of it.
        let server = tokio::spawn(async move {
            while let Ok((mut s, _)) = l.accept().await {
                tokio::spawn(async move {
                    let mut buf = [0u8; 1024];
                    let _ = s.read(&mut buf).await;
                    tokio::time::sleep(Duration::from_millis(750)).await;
                    let _ = s.write_all(b"HTTP/1.0 200 OK\r\n\r\nok").await;
                });
            }
        });
        let c = HttpChecker::http(vec![UrlCheck::new("/a"), UrlCheck::new("/b")]);
        let ctx = CheckContext::new(addr, Duration::from_secs(1));
        // Out of time waiting for the second answer.
        let waiting = DownReason::ReadTimeout { started: false };
        let want = CheckOutcome::UrlDown {
            url: 1,
            reason: waiting,
        };
        assert_eq!(c.check(&ctx).await, want);
        server.abort();
    }

    /// An attempt checks the urls of its span, one connection each, and
    /// names the url that failed; a span beyond the urls checks them all.
    #[tokio::test]
    async fn an_attempt_checks_its_span_and_names_the_failing_url() {
        use std::sync::{Arc, Mutex};
        use tokio::io::AsyncReadExt;
        let l = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|_| unreachable!());
        let addr = l.local_addr().unwrap_or_else(|_| unreachable!());
        let asked = Arc::new(Mutex::new(Vec::<String>::new()));
        let log = asked.clone();
        // "/b" fails; every request is noted by its path.
        let server = tokio::spawn(async move {
            while let Ok((mut s, _)) = l.accept().await {
                let mut buf = [0u8; 1024];
                let n = s.read(&mut buf).await.unwrap_or(0);
                let req = String::from_utf8_lossy(buf.get(..n).unwrap_or_default()).into_owned();
                let path = req.split(' ').nth(1).unwrap_or("").to_owned();
                let code = if path == "/b" { 500 } else { 200 };
                log.lock().unwrap_or_else(|e| e.into_inner()).push(path);
                let _ = s
                    .write_all(format!("HTTP/1.0 {code} X\r\n\r\n").as_bytes())
                    .await;
            }
        });
        let c = HttpChecker::http(["/a", "/b", "/c"].map(UrlCheck::new).to_vec());
        let b_fails = CheckOutcome::UrlDown {
            url: 1,
            reason: DownReason::HttpStatus(500),
        };
        for (span, want, paths) in [
            (UrlSpan::From(0), b_fails.clone(), &["/a", "/b"][..]),
            (UrlSpan::From(2), CheckOutcome::Up, &["/c"]),
            (UrlSpan::Only(0), CheckOutcome::Up, &["/a"]),
            (UrlSpan::Only(1), b_fails.clone(), &["/b"]),
            (UrlSpan::Only(3), b_fails.clone(), &["/a", "/b"]),
            (UrlSpan::From(usize::MAX), b_fails, &["/a", "/b"]),
        ] {
            let ctx = CheckContext::new(addr, Duration::from_secs(30)).with_urls(span);
            assert_eq!(c.check(&ctx).await, want, "{span:?}");
            let seen = std::mem::take(&mut *asked.lock().unwrap_or_else(|e| e.into_inner()));
            assert_eq!(seen, paths, "{span:?}");
        }
        server.abort();
    }

    #[tokio::test]
    async fn garbage_status_lines_are_down_not_panics() {
        use tokio::io::AsyncReadExt;
        for (resp, want) in [
            (
                &b"HTTP/1.0 -2147483648 X\r\n\r\n"[..],
                DownReason::HttpStatus(0),
            ),
            (b"HTTP/1.0 99999999999 X\r\n\r\n", DownReason::HttpStatus(0)),
            (b"\r\n\r\n", DownReason::HttpStatus(0)),
            (b"HTTP/1.0 200", DownReason::NoHttpResponse),
        ] {
            let l = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .unwrap_or_else(|_| unreachable!());
            let addr = l.local_addr().unwrap_or_else(|_| unreachable!());
            let server = tokio::spawn(async move {
                if let Ok((mut s, _)) = l.accept().await {
                    let mut buf = [0u8; 1024];
                    let _ = s.read(&mut buf).await;
                    let _ = s.write_all(resp).await;
                }
            });
            let c = HttpChecker::http(vec![UrlCheck::new("/")]);
            let ctx = CheckContext::new(addr, Duration::from_secs(30));
            assert_eq!(c.check(&ctx).await, at_first(want));
            server.abort();
        }
    }

    /// A server that answers every request with `resp` and then keeps the
    /// connection open (reading until the client closes).
    async fn holding_server(resp: &'static [u8]) -> (SocketAddr, tokio::task::JoinHandle<()>) {
        use tokio::io::AsyncReadExt;
        let l = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|_| unreachable!());
        let addr = l.local_addr().unwrap_or_else(|_| unreachable!());
        let server = tokio::spawn(async move {
            while let Ok((mut s, _)) = l.accept().await {
                tokio::spawn(async move {
                    let mut buf = [0u8; 1024];
                    let _ = s.read(&mut buf).await;
                    let _ = s.write_all(resp).await;
                    while matches!(s.read(&mut buf).await, Ok(n) if n > 0) {}
                });
            }
        });
        (addr, server)
    }

    /// Running out of time says how far the GET got: an answer that never
    /// starts, or one that stops half way.
    #[tokio::test]
    async fn a_timeout_says_where_the_get_stopped() {
        for (resp, started) in [(&b""[..], false), (b"HTTP/1.0 200 OK\r\n", true)] {
            let (addr, server) = holding_server(resp).await;
            let ctx = CheckContext::new(addr, Duration::from_millis(300));
            let c = HttpChecker::http(vec![UrlCheck::new("/")]);
            let want = at_first(DownReason::ReadTimeout { started });
            assert_eq!(c.check(&ctx).await, want);
            server.abort();
        }
    }

    /// MD5 of "hello".
    const HELLO_MD5: [u8; 16] = [
        0x5d, 0x41, 0x40, 0x2a, 0xbc, 0x4b, 0x2a, 0x76, 0xb9, 0x71, 0x9d, 0x91, 0x10, 0x17, 0xc5,
        0x92,
    ];

    #[tokio::test]
    async fn reading_stops_once_content_length_is_satisfied() {
        // Once read to the end of the stream: the server never closes, so
        // the check ended at its timeout, down.
        let (addr, server) =
            holding_server(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello").await;
        let ctx = CheckContext::new(addr, Duration::from_secs(10));
        let mut url = UrlCheck::new("/");
        url.digest = Some(HELLO_MD5.to_vec());
        let c = HttpChecker::http(vec![url]);
        assert_eq!(c.check(&ctx).await, CheckOutcome::Up);
        let r = fetch(&ctx, "/", None, HttpVersion::V1_1, None, HashKind::Md5)
            .await
            .unwrap_or_else(|_| unreachable!());
        assert_eq!((r.status, r.hashed), (200, 5));
        assert_eq!(r.digest, HELLO_MD5);
        server.abort();
    }

    #[tokio::test]
    async fn a_regex_is_matched_against_the_whole_response() {
        let (addr, server) =
            holding_server(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nstatus=ok").await;
        let ctx = CheckContext::new(addr, Duration::from_secs(10));
        let check = |pattern: &str, no_match: bool, min: usize| {
            let mut url = UrlCheck::new("/");
            let mut r =
                super::super::BodyRegex::new(pattern, &[]).unwrap_or_else(|_| unreachable!());
            r.no_match = no_match;
            r.min_offset = min;
            url.regex = Some(r);
            HttpChecker::http(vec![url])
        };
        let down = at_first(DownReason::RegexMismatch);
        assert_eq!(
            check("status=ok$", false, 0).check(&ctx).await,
            CheckOutcome::Up
        );
        assert_eq!(
            check("^HTTP/1.1 200", false, 0).check(&ctx).await,
            CheckOutcome::Up
        );
        assert_eq!(check("status=down", false, 0).check(&ctx).await, down);
        assert_eq!(
            check("status=down", true, 0).check(&ctx).await,
            CheckOutcome::Up
        );
        assert_eq!(check("ok", true, 0).check(&ctx).await, down);
        // "status" starts at byte 38 of the response.
        assert_eq!(
            check("status", false, 38).check(&ctx).await,
            CheckOutcome::Up
        );
        assert_eq!(check("status", false, 39).check(&ctx).await, down);
        server.abort();
    }

    #[tokio::test]
    async fn without_a_digest_the_header_is_enough() {
        // No Content-Length and an open connection: only the header is read.
        let (addr, server) = holding_server(b"HTTP/1.0 200 OK\r\n\r\nbody...").await;
        let ctx = CheckContext::new(addr, Duration::from_secs(10));
        let c = HttpChecker::http(vec![UrlCheck::new("/")]);
        assert_eq!(c.check(&ctx).await, CheckOutcome::Up);
        server.abort();
    }

    #[tokio::test]
    async fn without_content_length_the_body_runs_to_the_end_of_the_stream() {
        let resp: &[u8] = b"HTTP/1.0 200 OK\r\n\r\nhello";
        let mut stream = resp;
        let r = read_response(&mut stream, HashKind::Md5, Need::Body, None)
            .await
            .unwrap_or_else(|_| unreachable!());
        assert_eq!((r.hashed, r.content_length), (5, None));
        assert_eq!(r.digest, HELLO_MD5);
        // With Content-Length 3 only "hel" counts, and reading stops there.
        let resp: &[u8] = b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nhello";
        let mut stream = resp;
        let r = read_response(&mut stream, HashKind::Md5, Need::Body, None)
            .await
            .unwrap_or_else(|_| unreachable!());
        assert_eq!((r.hashed, r.content_length), (3, Some(3)));
    }

    #[test]
    fn status_lists_and_ranges() {
        let s = StatusCodes::parse("200 301-303").unwrap_or_else(|_| unreachable!());
        assert!(s.contains(200) && s.contains(302) && !s.contains(304) && !s.contains(201));
        assert!(StatusCodes::default().contains(299) && !StatusCodes::default().contains(300));
        assert!(StatusCodes::parse("99").is_err() && StatusCodes::parse("300-200").is_err());
        assert!(!s.contains(-1) && !s.contains(700));
        // "HTTP/1.0 -2147483648 X" reads as i32::MIN: subtracting overflowed.
        assert!(!s.contains(i32::MIN) && !s.contains(i32::MAX));
    }
}
