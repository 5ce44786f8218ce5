//! Source positions: which file, line and column a token came from, after
//! includes, parameters and sequence blocks were expanded.

use serde::{Deserialize, Serialize};

/// Index of a file in a [`SourceMap`].
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub struct FileId(pub u32);

/// A position in the configuration: file, 1-based line and 1-based column.
///
/// For text produced by parameter substitution or `~SEQ`/`~LST` expansion the
/// line is the line that used the parameter and the column counts in the
/// expanded text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Span {
    /// The file the text came from.
    pub file: FileId,
    /// 1-based line number in that file.
    pub line: u32,
    /// 1-based column (in bytes) in the (expanded) line.
    pub col: u32,
}

impl Span {
    /// A span at `line`, `col` of `file`.
    pub fn new(file: FileId, line: u32, col: u32) -> Self {
        Span { file, line, col }
    }
}

/// The names of all files read, indexed by [`FileId`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceMap {
    names: Vec<String>,
}

impl SourceMap {
    /// Registers a file name and returns its id.
    pub fn add(&mut self, name: impl Into<String>) -> FileId {
        let id = FileId(u32::try_from(self.names.len()).unwrap_or(u32::MAX));
        self.names.push(name.into());
        id
    }

    /// The name of `file`, or `"?"` for an id this map did not hand out.
    pub fn name(&self, file: FileId) -> &str {
        self.names.get(file.0 as usize).map_or("?", String::as_str)
    }

    /// All file names, in the order they were first read.
    pub fn names(&self) -> &[String] {
        &self.names
    }
}

/// A value with the place it was written, so that a later stage can still
/// cite file:line for it.
///
/// The position is not part of the configuration's meaning: `Spanned`
/// compares, hashes, displays and serializes as its value alone (so
/// `parse(emit(m)) == m` holds although every line moved), and
/// deserializes with a default span. It dereferences to the value.
#[derive(Debug, Clone, Copy, Default)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Where it was written.
    pub span: Span,
}

impl<T> Spanned<T> {
    /// `value` written at `span`.
    pub fn new(value: T, span: Span) -> Self {
        Spanned { value, span }
    }
}

impl<T> From<T> for Spanned<T> {
    /// A value without a known position (made by code, not parsed).
    fn from(value: T) -> Self {
        Spanned::new(value, Span::default())
    }
}

impl<T> std::ops::Deref for Spanned<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: PartialEq> PartialEq for Spanned<T> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl<T: Eq> Eq for Spanned<T> {}

impl<T: std::hash::Hash> std::hash::Hash for Spanned<T> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.value.hash(state);
    }
}

impl<T: std::fmt::Display> std::fmt::Display for Spanned<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.value.fmt(f)
    }
}

impl<T: Serialize> Serialize for Spanned<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(s)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Spanned<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize(d).map(Spanned::from)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests: a panic is a failed test
mod tests {
    use super::*;

    #[test]
    fn spanned_values_compare_and_serialize_without_their_span() {
        let a = Spanned::new(5u8, Span::new(FileId(0), 3, 7));
        let b = Spanned::new(5u8, Span::new(FileId(1), 9, 1));
        assert_eq!(a, b);
        assert_ne!(a, Spanned::from(6u8));
        assert_eq!(serde_json::to_string(&a).unwrap(), "5");
        let back: Spanned<u8> = serde_json::from_str("5").unwrap();
        assert_eq!((back.value, back.span), (5, Span::default()));
        assert_eq!((*a + 1, a.to_string()), (6, "5".to_string()));
    }
}
