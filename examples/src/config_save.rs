//! `global_defs { config_save_dir DIR }`, as keepalived 2.2.7 has it: the
//! directory is checked (and created, mode 0700 less the umask, if it is
//! missing) as the configuration is read, `-t` included; after each read
//! the processed copy of the configuration goes to
//! `DIR/keepalived.conf.PID.N` (N counting reads from 0); at each reload
//! the VRRP half writes its DATA dump before and after to
//! `DIR/keepalived_vrrp.PID.N.pre` and `.post`, the checker half its own
//! to `DIR/keepalived_check.PID.N.pre` and `.post` (N counting each
//! half's reloads from 1). keepalived-lite is one process, so PID is the same in all names.

use std::collections::HashMap;
use std::io::Write as _;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use vrrp_conf::preprocess::{stream_file_with_copy, Chunk};
use vrrp_conf::{Code, Diagnostic, FsLoader, Parsed};

use crate::cli::Cli;

/// The directory of the last configuration read, with its counters.
static STATE: Mutex<Option<Saved>> = Mutex::new(None);

#[derive(Debug, Default)]
struct Saved {
    /// `config_save_dir` without its trailing slash.
    dir: PathBuf,
    /// The next `keepalived.conf.PID.N`.
    conf_num: u32,
    /// Reloads seen, per process name (`vrrp`, `check`).
    reloads: HashMap<&'static str, u32>,
}

/// Reads the configuration as [`Cli::load`] does; if it names a
/// `config_save_dir`, checks the directory (a problem is an error in
/// `parsed`, in keepalived's words). Once a directory was accepted, the
/// processed copy of this and every later reading is saved there: as in
/// keepalived, a reload without the keyword (or with a bad one) keeps it.
/// The copy comes from a second reading, made only then, so that a
/// configuration without `config_save_dir` costs nothing more.
pub fn load(cli: &Cli) -> Parsed {
    let mut parsed = cli.load();
    let setting = (parsed.config.global_defs.other.iter())
        .rfind(|s| s.keyword == "config_save_dir")
        .and_then(|s| Some((s.args.first()?.clone(), s.span)));
    if let Some((name, span)) = setting {
        match prepare(&name) {
            Ok(()) => set_dir(without_slash(&name)),
            Err(msg) => (parsed.diagnostics).push(Diagnostic::error(Code::InvalidValue, span, msg)),
        }
    }
    if saving() {
        let opts = cli.options();
        let drop_chunks = &mut |_: Chunk<'_>, _: &mut Vec<Diagnostic>| {};
        let read = stream_file_with_copy(&cli.use_file, &FsLoader, &opts, drop_chunks);
        save_copy(&read.2);
    }
    parsed
}

/// keepalived's check of the directory: it must be one, or be missing
/// and then is created.
pub fn prepare(name: &str) -> Result<(), String> {
    let err = |e: &std::io::Error| {
        let n = e.raw_os_error().unwrap_or(0);
        (n, strerror(e))
    };
    match std::fs::metadata(name) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(format!(
            "config_save_dir {name} exists and is not a directory"
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let made = std::fs::DirBuilder::new().mode(0o700).create(name);
            made.map_err(|e| {
                let (n, s) = err(&e);
                format!("Unable to create config_save_dir {name} (error {n} - {s})")
            })
        }
        Err(e) => {
            let (n, s) = err(&e);
            Err(format!("config_save_dir {name} error {n} - {s}"))
        }
    }
}

/// The C library's words for an error (Rust adds " (os error N)").
fn strerror(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.rfind(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// The directory as keepalived names files in it: one trailing slash
/// dropped.
fn without_slash(name: &str) -> PathBuf {
    PathBuf::from(name.strip_suffix('/').unwrap_or(name))
}

fn set_dir(dir: PathBuf) {
    let mut state = STATE.lock().unwrap_or_else(|e| e.into_inner());
    state.get_or_insert_with(Saved::default).dir = dir;
}

/// True once a `config_save_dir` was accepted.
fn saving() -> bool {
    STATE.lock().unwrap_or_else(|e| e.into_inner()).is_some()
}

/// Writes the processed copy to `keepalived.conf.PID.N`.
fn save_copy(copy: &str) {
    let path = {
        let mut state = STATE.lock().unwrap_or_else(|e| e.into_inner());
        let Some(s) = state.as_mut() else { return };
        let n = s.conf_num;
        s.conf_num += 1;
        s.dir
            .join(format!("keepalived.conf.{}.{n}", std::process::id()))
    };
    write(&path, copy);
}

/// Writes `text` (the DATA dump of `process`, `vrrp` or `check`) to
/// `keepalived_PROCESS.PID.N.pre` before a reload (`post` false; N counts
/// reloads from 1) or `.post` after it, if a `config_save_dir` is set.
pub fn save_dump(process: &'static str, post: bool, text: &str) {
    let path = {
        let mut state = STATE.lock().unwrap_or_else(|e| e.into_inner());
        let Some(s) = state.as_mut() else { return };
        let n = s.reloads.entry(process).or_insert(0);
        if !post {
            *n += 1;
        }
        let suffix = if post { "post" } else { "pre" };
        let name = format!("keepalived_{process}.{}.{n}.{suffix}", std::process::id());
        s.dir.join(name)
    };
    write(&path, text);
}

/// [`save_dump`] of the VRRP half's DATA dump (keepalived's
/// `keepalived.data`), if a `config_save_dir` is set.
pub async fn save_vrrp_data(post: bool) {
    if !saving() {
        return;
    }
    let text = match crate::observe::vrrp().await {
        Some(state) => crate::dump::data(&state),
        None => String::new(),
    };
    save_dump("vrrp", post, &text);
}

/// [`save_dump`] of the checker half's DATA dump (keepalived's
/// `keepalived_check.data`), if a `config_save_dir` is set.
pub fn save_check_data(post: bool) {
    if !saving() {
        return;
    }
    let text = crate::dump_check::current().unwrap_or_default();
    save_dump("check", post, &text);
}

/// Creates `path` with mode 0600 (less the umask), as keepalived does;
/// a failure is logged, as keepalived logs it, and changes nothing else.
fn write(path: &Path, text: &str) {
    let written = crate::dump::create_private(path).and_then(|mut f| f.write_all(text.as_bytes()));
    if written.is_err() {
        tracing::info!("Failed to open config_save file {}", path.display());
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.
    use super::*;

    #[test]
    fn the_directory_is_checked_and_created_with_keepalived_s_words() {
        let base = std::env::temp_dir().join(format!("kl-save-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        std::fs::create_dir_all(&base).unwrap();
        let new = base.join("new");
        assert_eq!(prepare(new.to_str().unwrap()), Ok(()));
        assert!(new.is_dir());
        assert_eq!(prepare(new.to_str().unwrap()), Ok(()));
        let file = base.join("file");
        std::fs::write(&file, "").unwrap();
        let f = file.display();
        assert_eq!(
            prepare(&format!("{f}")),
            Err(format!("config_save_dir {f} exists and is not a directory"))
        );
        assert_eq!(
            prepare(&format!("{f}/x")),
            Err(format!("config_save_dir {f}/x error 20 - Not a directory"))
        );
        let deep = base.join("no/deeper");
        let d = deep.display();
        assert_eq!(
            prepare(&format!("{d}")),
            Err(format!(
                "Unable to create config_save_dir {d} (error 2 - No such file or directory)"
            ))
        );
        std::fs::remove_dir_all(&base).unwrap();
    }

    /// The only test that reads through [`load`] (it sets the process's
    /// directory): a reading without the keyword still saves, as
    /// keepalived keeps its directory.
    #[test]
    fn every_reading_is_saved_once_a_directory_was_accepted() {
        use clap::Parser;
        let base = std::env::temp_dir().join(format!("kl-save-load-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        std::fs::create_dir_all(&base).unwrap();
        let conf = base.join("k.conf");
        let save = base.join("save");
        let text = format!(
            "global_defs {{\n  config_save_dir {}/\n}}\n",
            save.display()
        );
        std::fs::write(&conf, &text).unwrap();
        let cli = Cli::try_parse_from(["keepalived-lite", "-f", conf.to_str().unwrap()]).unwrap();
        assert!(!load(&cli).has_errors());
        std::fs::write(&conf, "global_defs {\n  router_id x\n}\n").unwrap();
        assert!(!load(&cli).has_errors());
        let pid = std::process::id();
        let copy =
            |n: u32| std::fs::read_to_string(save.join(format!("keepalived.conf.{pid}.{n}")));
        let c = conf.display();
        let want = format!(
            "# {c}\nglobal_defs {{\nconfig_save_dir {}/\n}}\n!\n",
            save.display()
        );
        assert_eq!(copy(0).unwrap(), want);
        assert_eq!(
            copy(1).unwrap(),
            format!("# {c}\nglobal_defs {{\nrouter_id x\n}}\n!\n")
        );
        std::fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn one_trailing_slash_is_dropped() {
        assert_eq!(without_slash("/a/b/"), PathBuf::from("/a/b"));
        assert_eq!(without_slash("/a/b"), PathBuf::from("/a/b"));
    }
}
