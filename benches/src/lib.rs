//! Criterion benchmarks over the crate family; see `benches/` and
//! BENCHMARKS.md at the repository root. This library is empty on purpose.
#![forbid(unsafe_code)]
