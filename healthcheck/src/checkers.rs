//! Built-in checkers (feature `tokio`).
