//! Where configuration files come from: the file system, or memory (for
//! tests and fuzzing, where nothing may touch the file system).

use std::collections::HashMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// Why a file could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The file does not exist or cannot be read.
    #[error("cannot read: {0}")]
    Unreadable(String),
    /// This loader does not read files (e.g. when fuzzing).
    #[error("file access is disabled")]
    Disabled,
}

/// Where configuration files come from. [`FsLoader`] reads the file
/// system; [`MemLoader`] serves a fixed set of files and touches nothing.
pub trait Loader {
    /// The file at `path`, opened for reading line by line.
    fn open(&self, path: &Path) -> Result<Box<dyn BufRead + '_>, LoadError>;
    /// The paths matching the glob `pattern` (no braces), sorted.
    fn glob(&self, pattern: &str) -> Result<Vec<PathBuf>, LoadError>;
    /// What is at `path` (symbolic links followed), `None` if nothing.
    fn kind(&self, path: &Path) -> Option<FileKind>;
}

/// What a path names, as an include sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// A regular file without execute permission: a configuration file.
    File,
    /// A directory.
    Dir,
    /// Anything else, executable files included (keepalived skips them).
    Other,
}

/// Reads from the file system.
#[derive(Debug, Clone, Copy, Default)]
pub struct FsLoader;

impl Loader for FsLoader {
    fn open(&self, path: &Path) -> Result<Box<dyn BufRead + '_>, LoadError> {
        let unreadable = |e: std::io::Error| LoadError::Unreadable(e.to_string());
        if path.is_dir() {
            return Err(LoadError::Unreadable("is a directory".into()));
        }
        let f = std::fs::File::open(path).map_err(unreadable)?;
        // Streamed through a small buffer: a large file is never held whole.
        Ok(Box::new(std::io::BufReader::with_capacity(64 * 1024, f)))
    }

    fn glob(&self, pattern: &str) -> Result<Vec<PathBuf>, LoadError> {
        let paths = glob::glob(pattern).map_err(|e| LoadError::Unreadable(e.to_string()))?;
        // Directories too: an include reports them, as keepalived does.
        let mut v: Vec<PathBuf> = paths.filter_map(Result::ok).collect();
        v.sort();
        Ok(v)
    }

    fn kind(&self, path: &Path) -> Option<FileKind> {
        use std::os::unix::fs::PermissionsExt;
        let m = std::fs::metadata(path).ok()?;
        Some(if m.is_dir() {
            FileKind::Dir
        } else if m.is_file() && m.permissions().mode() & 0o111 == 0 {
            FileKind::File
        } else {
            FileKind::Other
        })
    }
}

/// Serves files from memory; never touches the file system.
#[derive(Debug, Clone, Default)]
pub struct MemLoader {
    files: HashMap<PathBuf, String>,
}

impl MemLoader {
    /// An empty loader: every include finds nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a file.
    pub fn with(mut self, path: impl Into<PathBuf>, text: impl Into<String>) -> Self {
        self.files.insert(path.into(), text.into());
        self
    }
}

impl Loader for MemLoader {
    fn open(&self, path: &Path) -> Result<Box<dyn BufRead + '_>, LoadError> {
        match self.files.get(path) {
            Some(t) => Ok(Box::new(t.as_bytes())),
            None => Err(LoadError::Unreadable(format!(
                "{}: no such file",
                path.display()
            ))),
        }
    }

    fn glob(&self, pattern: &str) -> Result<Vec<PathBuf>, LoadError> {
        let pat = glob::Pattern::new(pattern).map_err(|e| LoadError::Unreadable(e.to_string()))?;
        // A directory named as such matches, as on a file system.
        if self.kind(Path::new(pattern)) == Some(FileKind::Dir) {
            return Ok(vec![PathBuf::from(pattern)]);
        }
        let mut v: Vec<PathBuf> = self
            .files
            .keys()
            .filter(|p| pat.matches_path(p))
            .cloned()
            .collect();
        v.sort();
        Ok(v)
    }

    fn kind(&self, path: &Path) -> Option<FileKind> {
        if self.files.contains_key(path) {
            return Some(FileKind::File);
        }
        let is_dir = self.files.keys().any(|f| f.starts_with(path));
        is_dir.then_some(FileKind::Dir)
    }
}

/// Removes `.` and resolves `..` components without touching the file
/// system, so that cycles are found and in-memory loaders match.
pub(super) fn normalize(p: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !p.starts_with('/') {
                    parts.push("..");
                }
            }
            _ => parts.push(c),
        }
    }
    let joined = parts.join("/");
    if p.starts_with('/') {
        format!("/{joined}")
    } else if joined.is_empty() {
        ".".into()
    } else {
        joined
    }
}
