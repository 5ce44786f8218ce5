//! A tokio driver for a Monitor (feature `tokio`).
