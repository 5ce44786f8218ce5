//! The file-system loader: `include` with globs, braces, relative paths and
//! cycles, read through `FsLoader` from a small directory tree made once
//! per process under the temporary directory. The input is written as the
//! main file each run. Paths outside the tree are refused by a wrapper, so
//! the fuzzer never reads the host's files (a `/proc` file or a huge log
//! would only measure the disk). Never panics; every file read is in the
//! tree, and the main file is read first.
#![no_main]

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use vrrp_conf::preprocess::run_file;
use vrrp_conf::{FsLoader, LoadError, Loader, Options};

/// `FsLoader`, confined to `root`.
struct Confined<'a>(&'a Path);

impl Loader for Confined<'_> {
    fn open(&self, path: &Path) -> Result<Box<dyn BufRead + '_>, LoadError> {
        if !path.starts_with(self.0) {
            return Err(LoadError::Disabled);
        }
        FsLoader.open(path)
    }

    fn glob(&self, pattern: &str) -> Result<Vec<PathBuf>, LoadError> {
        if !Path::new(pattern).starts_with(self.0) || pattern.contains("..") {
            return Err(LoadError::Disabled);
        }
        FsLoader.glob(pattern)
    }

    fn kind(&self, path: &Path) -> Option<vrrp_conf::preprocess::FileKind> {
        if !path.starts_with(self.0) {
            return None;
        }
        FsLoader.kind(path)
    }
}

/// The tree: includes that resolve, glob, nest and cycle back to main.
const FILES: [(&str, &str); 6] = [
    ("a.conf", "vrrp_script s {\n script /bin/true\n}\n"),
    ("conf.d/x1.conf", "include ../a.conf\n$P=1\n"),
    ("conf.d/y1.conf", "include ../main.conf\n"),
    ("conf.d/z 1.conf", "@main x ${P}\n"),
    ("sub/deep/d.conf", "include ../../conf.d/{x,z}*.conf\n"),
    ("dir.conf/inner.conf", "y\n"),
];

fn root() -> &'static Path {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        let root = std::env::temp_dir().join(format!("conf-loader-fuzz-{}", std::process::id()));
        for (name, text) in FILES {
            let p = root.join(name);
            std::fs::create_dir_all(p.parent().expect("in the tree")).expect("tree");
            std::fs::write(p, text).expect("tree");
        }
        root
    })
}

/// Longest input tried (keepalived's own sample files are up to 3.3 KiB).
const MAX_INPUT: usize = 2048;

fuzz_target!(|data: &[u8]| {
    // Longer inputs find nothing new and cost quadratic work in brace
    // expansion (bounded, but slow under the sanitizer).
    if data.len() > MAX_INPUT {
        return;
    }
    let root = root();
    let main = root.join("main.conf");
    if std::fs::write(&main, data).is_err() {
        return;
    }
    let opts = Options {
        config_id: Some("main".into()),
        max_include_depth: 4,
        max_expanded_lines: 256,
        max_expanded_len: 8 * 1024,
        include_check: 0,
    };
    let out = run_file(&main, &Confined(root), &opts);
    let names = out.sources.names();
    assert_eq!(names.first().map(String::as_str), main.to_str());
    assert!(names.iter().all(|n| Path::new(n).starts_with(root)));
    for d in &out.diags {
        let _ = d.display(&out.sources).to_string();
    }
});
