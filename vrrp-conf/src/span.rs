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
