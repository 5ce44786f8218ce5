//! Health checks for load-balanced real servers: a sans-IO rise/fall core
//! with scheduling, an object-safe `Checker` trait, and keepalived's
//! built-in checkers.
//!
//! Not written yet: this crate holds no items so far.
#![forbid(unsafe_code)]
