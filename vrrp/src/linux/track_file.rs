//! `track_file`: the number in a file, watched with inotify as keepalived
//! 2.2.7 watches it (`trackers/track_file.c`), reported as
//! [`Status::Value`](crate::track::Status::Value) for [`crate::track`].
//!
//! keepalived's rules, kept here:
//! * the path is resolved once (symbolic links followed); a file that does
//!   not exist yet is fine if its directory does, and is watched for;
//! * the directory is watched for `IN_CLOSE_WRITE`, `IN_DELETE` and
//!   `IN_MOVE`: a file written and closed, or moved in, is read again; a
//!   file deleted or moved away reads as 0;
//! * reading: the first 127 bytes as C's `strtol(text, NULL, 0)` reads
//!   them ([`parse_value`]): leading white space, a sign, `0x` hexadecimal
//!   or `0` octal, trailing text ignored; no digits at all is 0, an empty
//!   or unreadable file is 0; a number outside `i32::MIN..=i32::MAX + 1`
//!   is ignored (the last value stays).

use std::ffi::OsString;
use std::fs;
use std::io::{self, Read};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify, InotifyEvent, WatchDescriptor};

/// How much of a file keepalived reads.
const READ_MAX: u64 = 127;

/// Why a tracked file cannot be watched.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrackFileError {
    /// The inotify instance could not be made.
    #[error("inotify: {0}")]
    Inotify(#[source] io::Error),
    /// Neither the file nor its directory exists (keepalived: "Track file
    /// directory for NAME does not exist - removing").
    #[error("track file directory for {name} does not exist")]
    NoDirectory {
        /// The `track_file` block's name.
        name: String,
    },
    /// The file exists but cannot be resolved, or its directory cannot be
    /// watched (keepalived: "track file NAME is not accessible").
    #[error("track file {name} is not accessible: {source}")]
    Inaccessible {
        /// The `track_file` block's name.
        name: String,
        /// The OS error.
        #[source]
        source: io::Error,
    },
}

/// The number a tracked file's text holds, read as C's `strtol(text, NULL,
/// 0)`; `None` if keepalived ignores it (it overflows, or lies outside
/// `i32::MIN..=i32::MAX + 1`). Text without a number is 0.
pub fn parse_value(text: &[u8]) -> Option<i64> {
    // C reads a string: it ends at the first NUL.
    let text = text.split(|&b| b == 0).next().unwrap_or_default();
    let mut rest = text;
    while let [b, tail @ ..] = rest {
        // C's isspace() in the C locale.
        if !matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
            break;
        }
        rest = tail;
    }
    let negative = rest.first() == Some(&b'-');
    if matches!(rest.first(), Some(b'-' | b'+')) {
        rest = &rest[1..];
    }
    let radix = match rest {
        [b'0', b'x' | b'X', d, ..] if d.is_ascii_hexdigit() => {
            rest = &rest[2..];
            16
        }
        [b'0', ..] => 8,
        _ => 10,
    };
    let mut value: i64 = 0;
    for &b in rest {
        let Some(d) = char::from(b).to_digit(radix) else {
            break;
        };
        // strtol overflows (ERANGE): keepalived ignores the number.
        value = value.checked_mul(i64::from(radix))?;
        value = if negative {
            value.checked_sub(i64::from(d))?
        } else {
            value.checked_add(i64::from(d))?
        };
    }
    let range = i64::from(i32::MIN)..=i64::from(i32::MAX) + 1;
    range.contains(&value).then_some(value)
}

/// Reads a tracked file as keepalived does: `Some(0)` if it is missing,
/// unreadable or empty, `None` if its number is ignored.
pub fn read_value(path: &Path) -> Option<i64> {
    let mut buf = Vec::new();
    match fs::File::open(path).and_then(|f| f.take(READ_MAX).read_to_end(&mut buf)) {
        Ok(n) if n > 0 => parse_value(&buf),
        _ => Some(0),
    }
}

/// `init_file [VALUE] [overwrite]`: writes `VALUE` (default 0) and a new
/// line into the file before it is first read, if it does not exist, or,
/// with `overwrite`, if it is a regular file and this is not a reload.
/// Errors are keepalived's "Unable to initialise track file".
pub fn init_file(path: &Path, value: i32, overwrite: bool, reload: bool) -> io::Result<()> {
    match fs::metadata(path) {
        Ok(_) if !overwrite => return Ok(()),
        Ok(m) if !m.is_file() => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a regular file",
            ))
        }
        // Never overwritten on a reload.
        Ok(_) if reload => return Ok(()),
        _ => {}
    }
    fs::write(path, format!("{value}\n"))
}

#[derive(Debug)]
struct Watched {
    name: String,
    path: PathBuf,
    dir: WatchDescriptor,
    file_part: OsString,
    value: i64,
}

/// Tracked files watched through one nonblocking inotify descriptor:
/// wait for it to be readable ([`AsFd`]), then call [`FileWatcher::poll`].
#[derive(Debug)]
pub struct FileWatcher {
    inotify: Inotify,
    files: Vec<Watched>,
}

impl FileWatcher {
    /// An inotify descriptor watching nothing yet.
    pub fn new() -> Result<Self, TrackFileError> {
        let flags = InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC;
        let inotify = Inotify::init(flags).map_err(|e| TrackFileError::Inotify(e.into()))?;
        Ok(Self {
            inotify,
            files: Vec::new(),
        })
    }

    /// Watches the file `path` of the `track_file` block `name` and returns
    /// its value now (0 if it does not exist yet).
    pub fn add(&mut self, name: &str, path: &Path) -> Result<i64, TrackFileError> {
        let (path, exists) = resolve(name, path)?;
        let inaccessible = |source| TrackFileError::Inaccessible {
            name: name.to_owned(),
            source,
        };
        let (Some(dir), Some(file_part)) = (path.parent(), path.file_name()) else {
            return Err(inaccessible(io::ErrorKind::InvalidInput.into()));
        };
        let mask =
            AddWatchFlags::IN_CLOSE_WRITE | AddWatchFlags::IN_DELETE | AddWatchFlags::IN_MOVE;
        let wd = (self.inotify.add_watch(dir, mask)).map_err(|e| inaccessible(e.into()))?;
        // An invalid number at start-up leaves the value 0, as keepalived.
        let value = if exists {
            read_value(&path).unwrap_or(0)
        } else {
            0
        };
        self.files.push(Watched {
            name: name.to_owned(),
            file_part: file_part.to_owned(),
            path,
            dir: wd,
            value,
        });
        Ok(value)
    }

    /// The files whose value changed since the last call, with the new
    /// value, from the events queued on the descriptor (never blocks).
    pub fn poll(&mut self) -> io::Result<Vec<(String, i64)>> {
        let mut changed = Vec::new();
        loop {
            let events = match self.inotify.read_events() {
                Ok(e) => e,
                Err(Errno::EAGAIN) => return Ok(changed),
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(e.into()),
            };
            for e in &events {
                self.event(e, &mut changed);
            }
        }
    }

    fn event(&mut self, e: &InotifyEvent, changed: &mut Vec<(String, i64)>) {
        if e.mask.contains(AddWatchFlags::IN_ISDIR) {
            return;
        }
        let gone = e
            .mask
            .intersects(AddWatchFlags::IN_DELETE | AddWatchFlags::IN_MOVED_FROM);
        let written = e
            .mask
            .intersects(AddWatchFlags::IN_CLOSE_WRITE | AddWatchFlags::IN_MOVED_TO);
        let ours = |f: &&mut Watched| f.dir == e.wd && e.name.as_ref() == Some(&f.file_part);
        for f in self.files.iter_mut().filter(ours) {
            let value = if gone {
                Some(0)
            } else if written {
                read_value(&f.path)
            } else {
                None
            };
            if let Some(v) = value.filter(|v| *v != f.value) {
                f.value = v;
                changed.push((f.name.clone(), v));
            }
        }
    }
}

impl AsFd for FileWatcher {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inotify.as_fd()
    }
}

impl AsRawFd for FileWatcher {
    fn as_raw_fd(&self) -> RawFd {
        self.inotify.as_fd().as_raw_fd()
    }
}

/// A [`FileWatcher`] on the tokio reactor (feature `tokio`).
#[cfg(feature = "tokio")]
#[derive(Debug)]
pub struct AsyncFileWatcher(tokio::io::unix::AsyncFd<FileWatcher>);

#[cfg(feature = "tokio")]
impl AsyncFileWatcher {
    /// Registers `watcher` with the current tokio runtime's reactor.
    #[allow(unsafe_code)]
    pub fn new(watcher: FileWatcher) -> io::Result<Self> {
        // SAFETY: the inotify descriptor is owned by nix's `Inotify` inside
        // `FileWatcher`, created with it and closed only when it is dropped,
        // which the `AsyncFd` owning it does after deregistering; every
        // `as_raw_fd` call returns that same descriptor.
        let fd = unsafe { tokio::io::unix::AsyncFd::register(watcher) };
        fd.map(Self).map_err(|e| e.into_parts().1)
    }

    /// Waits for the next changes ([`FileWatcher::poll`], never empty).
    pub async fn changed(&mut self) -> io::Result<Vec<(String, i64)>> {
        loop {
            let mut ready = self.0.readable_mut().await?;
            let changed = ready.get_inner_mut().poll()?;
            ready.clear_ready();
            if !changed.is_empty() {
                return Ok(changed);
            }
        }
    }
}

/// keepalived's resolution: the real path of an existing file, else the
/// real path of its directory (which must exist) joined with its name.
fn resolve(name: &str, path: &Path) -> Result<(PathBuf, bool), TrackFileError> {
    match fs::canonicalize(path) {
        Ok(p) => return Ok((p, true)),
        Err(e) if e.kind() != io::ErrorKind::NotFound => {
            return Err(TrackFileError::Inaccessible {
                name: name.to_owned(),
                source: e,
            })
        }
        Err(_) => {}
    }
    let no_dir = || TrackFileError::NoDirectory {
        name: name.to_owned(),
    };
    let file = path.file_name().ok_or_else(no_dir)?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let dir = fs::canonicalize(dir).map_err(|_| no_dir())?;
    if !dir.is_dir() {
        return Err(no_dir());
    }
    Ok((dir.join(file), false))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

    use super::*;

    #[test]
    fn values_read_as_strtol_base_0() {
        for (text, want) in [
            ("0", Some(0)),
            ("10\n", Some(10)),
            ("  -5 apples", Some(-5)),
            ("+3x", Some(3)),
            ("0x1f", Some(31)),
            ("0x", Some(0)),
            ("010", Some(8)),
            ("08", Some(0)),
            ("", Some(0)),
            ("invalid", Some(0)),
            ("- 5", Some(0)),
            ("\t\n7", Some(7)),
            ("2147483648", Some(2_147_483_648)),
            ("2147483649", None),
            ("-2147483648", Some(-2_147_483_648)),
            ("-2147483649", None),
            ("99999999999999999999999", None),
        ] {
            assert_eq!(parse_value(text.as_bytes()), want, "{text:?}");
        }
        assert_eq!(parse_value(b"1\x002"), Some(1));
    }

    fn temp_dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("vrrp-track-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn writes_renames_and_deletes_are_seen() {
        let dir = temp_dir("watch");
        let path = dir.join("prio");
        fs::write(&path, "7\n").unwrap();
        let mut w = FileWatcher::new().unwrap();
        assert_eq!(w.add("tf", &path).unwrap(), 7);
        assert_eq!(w.add("missing", &dir.join("later")).unwrap(), 0);
        assert_eq!(w.poll().unwrap(), []);
        fs::write(&path, "-5").unwrap();
        assert_eq!(w.poll().unwrap(), [("tf".to_owned(), -5)]);
        // An ignored number changes nothing; rewriting the same value
        // neither.
        fs::write(&path, "99999999999").unwrap();
        fs::write(&path, "-5").unwrap();
        assert_eq!(w.poll().unwrap(), []);
        fs::write(dir.join("tmp"), "3").unwrap();
        fs::rename(dir.join("tmp"), dir.join("later")).unwrap();
        fs::remove_file(&path).unwrap();
        assert_eq!(
            w.poll().unwrap(),
            [("missing".to_owned(), 3), ("tf".to_owned(), 0)]
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_missing_directory_is_refused() {
        let mut w = FileWatcher::new().unwrap();
        let e = w
            .add("tf", Path::new("/nonexistent-dir-vrrp/x"))
            .unwrap_err();
        assert_eq!(e.to_string(), "track file directory for tf does not exist");
    }

    #[test]
    fn init_file_creates_or_overwrites() {
        let dir = temp_dir("init");
        let path = dir.join("f");
        init_file(&path, 5, false, false).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "5\n");
        init_file(&path, 6, false, false).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "5\n");
        init_file(&path, 6, true, true).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "5\n");
        init_file(&path, 6, true, false).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "6\n");
        assert!(init_file(&dir, 1, true, false).is_err());
        fs::remove_dir_all(&dir).unwrap();
    }
}
