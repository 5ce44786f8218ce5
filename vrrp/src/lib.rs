//! VRRPv2 (RFC 3768) for embedding: a wire codec with keepalived-compatible
//! PASS and IPsec-AH authentication, and (later) a sans-IO state machine.
//!
//! Work in progress: the codec lands first, then the state machine and the
//! Linux adapters behind the `linux` feature.
#![forbid(unsafe_code)]
