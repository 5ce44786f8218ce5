//! A keepalived.conf parser: lexer, preprocessor, parser to a typed serde
//! model, validation with file:line:col diagnostics, and an emitter.
//!
//! Not written yet: this crate holds no items so far.
#![forbid(unsafe_code)]
