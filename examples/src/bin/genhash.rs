//! `genhash`: a drop-in for keepalived's, printing the digest that an
//! HTTP_GET/SSL_GET `digest` line needs for a url.
//!
//! The digest covers the response body bytes exactly as keepalived hashes
//! them (see `healthcheck::digest`). Like keepalived's genhash, TLS
//! certificates are not verified unless `--verify` is given.

fn main() -> std::process::ExitCode {
    keepalived_lite::genhash::main_with(std::env::args_os())
}
