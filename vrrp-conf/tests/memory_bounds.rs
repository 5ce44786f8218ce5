//! What a configuration makes the preprocessor allocate is bounded by a
//! line, not by what the line asks for: a `~SEQ` makes its values one at
//! a time, and a line without end is not read whole. Measured with a
//! counting allocator; the tests take turns (`TURN`), as they would share
//! the count.
#![allow(clippy::unwrap_used, reason = "tests")]

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use vrrp_conf::preprocess::{run_file, run_str, FileKind};
use vrrp_conf::{Code, LoadError, Loader, MemLoader, Options};

/// The system allocator, keeping the live and the peak byte counts.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to `System`; only counters are
// added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(live, Ordering::Relaxed);
        // SAFETY: the caller's contract is System's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract is System's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

static TURN: Mutex<()> = Mutex::new(());

/// The most `f` had allocated at once, beyond what was live before.
fn peak_of<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let out = f();
    (out, PEAK.load(Ordering::Relaxed) - before)
}

#[test]
fn a_long_sequence_is_not_materialised() {
    // A million steps of a line that produces nothing (`@id` that does not
    // apply): before, the million values were built up front, about
    // 80 MB for this 31-byte line.
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let text = "~SEQ(i, 0, 999999) @nomatch x\n";
    let loader = MemLoader::new();
    let opts = Options::default();
    let (out, peak) = peak_of(|| run_str("k.conf", text, &loader, &opts));
    assert!(out.diags.is_empty(), "{:?}", out.diags);
    assert!(out.tokens.is_empty());
    assert!(peak < 1 << 20, "peak {peak} bytes");

    // The values themselves are unchanged: decimal, hexadecimal, steps.
    let text = "~SEQ(i, 0, 3, 10) a $i\n~SEQx(j, 250, 255) b $j\n~SEQ(k, 2, -2) c $k\n";
    let out = run_str("k.conf", text, &loader, &opts);
    assert!(out.diags.is_empty(), "{:?}", out.diags);
    let words: Vec<&str> = out.tokens.iter().map(|t| t.text(&out.text)).collect();
    assert_eq!(
        words.join(" "),
        "a 0 a 3 a 6 a 9 b fa b fb b fc b fd b fe b ff c 2 c 1 c 0 c -1 c -2"
    );
}

/// Every path is one file: `bytes` bytes `a` and no newline (without end
/// for `None`), then a statement.
struct Endless {
    bytes: Option<u64>,
}

impl Loader for Endless {
    fn open(&self, _: &Path) -> Result<Box<dyn BufRead + '_>, LoadError> {
        let a = std::io::repeat(b'a');
        let tail = &b"\nvrrp_script s {\n}\n"[..];
        Ok(match self.bytes {
            Some(n) => Box::new(BufReader::new(a.take(n).chain(tail))),
            None => Box::new(BufReader::new(a)),
        })
    }
    fn glob(&self, _: &str) -> Result<Vec<PathBuf>, LoadError> {
        Ok(Vec::new())
    }
    fn kind(&self, _: &Path) -> Option<FileKind> {
        Some(FileKind::File)
    }
}

#[test]
fn a_line_without_end_is_not_read_whole() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let opts = Options::default();
    // 64 MB in one line: before, held whole (then copied, then lexed).
    let loader = Endless {
        bytes: Some(64 << 20),
    };
    let (out, peak) = peak_of(|| run_file(Path::new("/k.conf"), &loader, &opts));
    assert!(peak < 8 << 20, "peak {peak} bytes");
    let codes: Vec<Code> = out.diags.iter().map(|d| d.code).collect();
    assert_eq!(codes, [Code::LineTooLong]);
    assert_eq!(
        out.diags[0].message,
        "line is longer than 1048576 bytes: the rest of /k.conf is not read"
    );
    // Nothing after it is read, so no half-line turns into statements.
    assert!(out.tokens.is_empty());
    // A line of the longest length, newline apart, is read, and so is
    // the rest of the file.
    let loader = Endless {
        bytes: Some(1 << 20),
    };
    let out = run_file(Path::new("/k.conf"), &loader, &opts);
    let words: Vec<&str> = out.tokens.iter().map(|t| t.text(&out.text)).collect();
    assert_eq!(words.get(1..), Some(&["vrrp_script", "s", "{", "}"][..]));
    // A file that never ends a line (say /dev/zero) ends the same way.
    let out = run_file(Path::new("/k.conf"), &Endless { bytes: None }, &opts);
    let codes: Vec<Code> = out.diags.iter().map(|d| d.code).collect();
    assert_eq!(codes, [Code::LineTooLong]);
}
