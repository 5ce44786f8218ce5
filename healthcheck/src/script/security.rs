//! keepalived 2.2.7's script security check (`check_script_secure`): is a
//! script there, executable by the user that runs it, and, when that user
//! is root, writable by root alone along its whole path?
//!
//! The rules, as keepalived applies them:
//! - a bare program name is searched in `PATH` (keepalived warns: "Please
//!   specify full path");
//! - the path is resolved (`..`, `//`, symbolic links); when a link
//!   renames the file, the link's name is kept if it is the same file;
//! - the file must be executable by the script's uid:gid;
//! - only a script that runs as root (uid 0 or gid 0, or a setuid/setgid
//!   root file) is checked further: every directory from `/` down must be
//!   owned by root and not group-writable (unless the group is root) or
//!   world-writable, unless it has the sticky bit; the file itself (or the
//!   symbolic link) likewise, without the sticky-bit exception. Both the
//!   configured and the resolved path are checked.
//! - An unsafe path makes the script [`Flags::insecure`]; with
//!   `enable_script_security` it is also [`Flags::inhibit`]: never run.
//!
//! Unlike keepalived, the checks stat as this process (root), not with the
//! script user's effective ids, so a directory that only root may search
//! does not hide a script from the user; the executable bits are still
//! judged for the script's uid:gid.

use std::fs::Metadata;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// glibc's `_CS_PATH`: the search path keepalived uses when it has no
/// `PATH` of its own.
pub const CS_PATH: &str = "/bin:/usr/bin";

const S_ISUID: u32 = 0o4000;
const S_ISGID: u32 = 0o2000;
const S_ISVTX: u32 = 0o1000;
const S_IWGRP: u32 = 0o020;
const S_IWOTH: u32 = 0o002;
const S_IXUSR: u32 = 0o100;
const S_IXGRP: u32 = 0o010;
const S_IXOTH: u32 = 0o001;

/// What the check found (keepalived's `SC_*` flags).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Flags {
    /// A path component is writable by non-root (`SC_INSECURE`).
    pub insecure: bool,
    /// Must not run (`SC_INHIBIT`): insecure under
    /// `enable_script_security`, or a path component of the wrong type.
    pub inhibit: bool,
    /// Not found or not accessible (`SC_NOTFOUND`).
    pub not_found: bool,
    /// Executable by the script's uid:gid (`SC_EXECUTABLE`).
    pub executable: bool,
    /// A real file was found (`SC_ISSCRIPT`).
    pub is_script: bool,
    /// A `</path` file test run by the shell, not a program (`SC_SYSTEM`).
    pub system: bool,
}

impl Flags {
    /// keepalived's verdict for a track (`vrrp_script`) or MISC_CHECK
    /// script: it runs unless inhibited, not found, or neither executable
    /// nor a shell file test.
    pub fn track_runs(&self) -> bool {
        !self.inhibit && !self.not_found && (self.executable || self.system)
    }

    /// keepalived's verdict for a notify script: it runs only if
    /// executable and neither inhibited nor not found.
    pub fn notify_runs(&self) -> bool {
        !self.inhibit && !self.not_found && self.executable
    }
}

/// The result of [`check`]: the flags, keepalived's log lines in order,
/// and the program path keepalived would run.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Checked {
    /// What was found.
    pub flags: Flags,
    /// keepalived's log lines for this script, in its words.
    pub log: Vec<String>,
    /// The program as keepalived runs it (the path search's result, or the
    /// resolved path); `None` if unchanged or not found.
    pub program: Option<String>,
}

/// Checks `program` (a script's first word) as keepalived does before it
/// runs it as `uid:gid`; `enforce` is `enable_script_security`. `path` is
/// the search path for a bare name (keepalived's own `PATH`, else
/// [`CS_PATH`]).
pub fn check(program: &str, uid: u32, gid: u32, enforce: bool, path: &str) -> Checked {
    let mut c = Checked {
        flags: Flags::default(),
        log: Vec::new(),
        program: None,
    };
    if is_file_test(program) {
        c.flags.system = true;
        return c;
    }
    let mut name = program.to_owned();
    if !program.contains('/') {
        match search(program, uid, gid, path) {
            Ok(found) => {
                c.log.push(format!(
                    "WARNING - script `{program}` resolved by path search to `{found}`. Please specify full path."
                ));
                name.clone_from(&found);
                c.program = Some(found);
            }
            Err(e) => {
                c.log.push(if e == io::ErrorKind::PermissionDenied {
                    format!("Permissions failure for script {program} in path - disabling")
                } else {
                    format!("Cannot find script {program} in path - disabling")
                });
                c.flags.not_found = true;
                return c;
            }
        }
    }
    let real = match std::fs::canonicalize(&name) {
        Ok(r) => r.to_string_lossy().into_owned(),
        Err(e) => {
            c.log.push(format!(
                "Script {name} cannot be accessed - {}",
                strerror(&e)
            ));
            c.flags.not_found = true;
            c.program = None;
            return c;
        }
    };
    let (run, real_file) = keep_link_name(&name, &real);
    if run != name {
        name.clone_from(&run);
        c.program = Some(run);
    }
    let Ok(meta) = std::fs::metadata(real_file.as_deref().unwrap_or(&name)) else {
        c.log
            .push(format!("Unable to access script `{name}` - disabling"));
        c.flags.not_found = true;
        return c;
    };
    c.flags.is_script = true;
    if !is_executable(&meta, uid, gid) {
        c.log.push(format!(
            "WARNING - script '{name}' is not executable for uid:gid {uid}:{gid} - disabling."
        ));
        return c;
    }
    c.flags.executable = true;
    if !runs_as_root(&meta, uid, gid) {
        return c;
    }
    for p in std::iter::once(name.as_str()).chain(real_file.as_deref()) {
        path_security(p, enforce, &mut c);
    }
    c
}

/// keepalived's special case: a line starting `</path` (spaces allowed
/// after `<`) only tests that a file opens.
fn is_file_test(program: &str) -> bool {
    program
        .strip_prefix('<')
        .is_some_and(|rest| rest.trim_start_matches([' ', '\t']).starts_with('/'))
}

/// The path search of `execvp`, as keepalived does it: the first regular
/// file executable by uid:gid; `PermissionDenied` if only unusable files
/// were found.
fn search(name: &str, uid: u32, gid: u32, path: &str) -> Result<String, io::ErrorKind> {
    let mut denied = false;
    for dir in path.split(':') {
        let candidate = if dir.is_empty() {
            name.to_owned()
        } else {
            format!("{dir}/{name}")
        };
        if let Ok(m) = std::fs::metadata(&candidate) {
            if m.is_file() && is_executable(&m, uid, gid) {
                return Ok(candidate);
            }
            denied = true;
        }
    }
    Err(if denied {
        io::ErrorKind::PermissionDenied
    } else {
        io::ErrorKind::NotFound
    })
}

/// The path to run and, when a symbolic link renamed the file, the real
/// file too: keepalived keeps the configured file name (some programs act
/// on the name they are called by) in the resolved directory, if that is
/// the same file; otherwise it runs the resolved path.
fn keep_link_name(name: &str, real: &str) -> (String, Option<String>) {
    if name == real {
        return (name.to_owned(), None);
    }
    let file_part = |p: &str| p.rsplit('/').next().unwrap_or("").to_owned();
    let (orig, resolved) = (file_part(name), file_part(real));
    if orig == resolved {
        return (real.to_owned(), None);
    }
    let dir = real.rsplit_once('/').map_or("", |(d, _)| d);
    let renamed = format!("{dir}/{orig}");
    let same = match (std::fs::metadata(real), std::fs::metadata(&renamed)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        (Err(_), _) => true,
        (Ok(_), Err(_)) => false,
    };
    if same {
        (renamed, Some(real.to_owned()))
    } else {
        (real.to_owned(), None)
    }
}

/// keepalived's `is_executable`: root needs any x bit; the owner needs
/// u+x; a member of the file's group g+x; anyone else o+x.
fn is_executable(m: &Metadata, uid: u32, gid: u32) -> bool {
    let mode = m.mode();
    if uid == 0 {
        mode & (S_IXUSR | S_IXGRP | S_IXOTH) != 0
    } else if uid == m.uid() {
        mode & S_IXUSR != 0
    } else if gid == m.gid() {
        mode & S_IXGRP != 0
    } else {
        mode & S_IXOTH != 0
    }
}

/// Whether the script gets root's powers: run as uid or gid 0, or a
/// setuid/setgid root executable.
fn runs_as_root(m: &Metadata, uid: u32, gid: u32) -> bool {
    let mode = m.mode();
    uid == 0
        || gid == 0
        || (m.uid() == 0 && mode & S_IXUSR != 0 && mode & S_ISUID != 0)
        || (m.gid() == 0 && mode & S_IXGRP != 0 && mode & S_ISGID != 0)
}

/// keepalived's `check_security`: every prefix of `file` from `/` down,
/// without following symbolic links.
fn path_security(file: &str, enforce: bool, c: &mut Checked) {
    let prefixes = prefixes(file);
    let last = prefixes.len().saturating_sub(1);
    for (i, p) in prefixes.iter().enumerate() {
        let m = match std::fs::symlink_metadata(p) {
            Ok(m) => m,
            Err(e) => {
                c.log.push(match e.raw_os_error() {
                    Some(errno) if is_lookup_error(errno) => {
                        format!("check_script_secure could not find script '{file}' - disabling")
                    }
                    _ => format!(
                        "check_script_secure('{file}') returned errno {} - {} - disabling",
                        e.raw_os_error().unwrap_or(0),
                        strerror(&e)
                    ),
                });
                c.flags.not_found = true;
                return;
            }
        };
        let ft = m.file_type();
        let right_type = if i < last {
            ft.is_dir()
        } else {
            ft.is_file() || ft.is_symlink()
        };
        if !right_type {
            c.log
                .push(format!("Wrong file type found in script path '{file}'."));
            c.flags.inhibit = true;
            return;
        }
        if unsafe_entry(&m) {
            let tail = if enforce { " - disabling" } else { "" };
            c.log.push(format!(
                "Unsafe permissions found for script '{file}'{tail}."
            ));
            c.flags.insecure = true;
            c.flags.inhibit |= enforce;
            return;
        }
    }
}

/// EACCES, ELOOP, ENOENT and ENOTDIR: "could not find".
fn is_lookup_error(errno: i32) -> bool {
    use nix::errno::Errno;
    [Errno::EACCES, Errno::ELOOP, Errno::ENOENT, Errno::ENOTDIR]
        .iter()
        .any(|e| *e as i32 == errno)
}

/// Not owned by root, or a file (or a directory without the sticky bit)
/// writable by a non-root group or by everyone.
fn unsafe_entry(m: &Metadata) -> bool {
    let mode = m.mode();
    let ft = m.file_type();
    let guarded = (ft.is_dir() && mode & S_ISVTX == 0) || ft.is_file();
    m.uid() != 0 || (guarded && ((m.gid() != 0 && mode & S_IWGRP != 0) || mode & S_IWOTH != 0))
}

/// `/`, `/a`, `/a/b`, ... `file`, as keepalived walks them.
fn prefixes(file: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for (i, ch) in file.char_indices() {
        if ch == '/' {
            out.push(PathBuf::from(if i == 0 { "/" } else { &file[..i] }));
        }
    }
    out.push(Path::new(file).to_path_buf());
    out.dedup();
    out
}

/// The C library's text for an error, as keepalived's `%m` prints it.
fn strerror(e: &io::Error) -> String {
    e.raw_os_error().map_or_else(
        || e.to_string(),
        |n| nix::errno::Errno::from_raw(n).desc().to_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{symlink, PermissionsExt};

    /// A fresh directory under `/run` (root-owned, not world-writable,
    /// unlike `/tmp`), removed on drop.
    struct Dir(PathBuf);

    impl Dir {
        fn new(tag: &str) -> Self {
            let d = PathBuf::from(format!("/run/hc-sec-{tag}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&d);
            std::fs::create_dir_all(&d).expect("create test dir");
            chmod(&d, 0o755);
            Dir(d)
        }
        fn script(&self, name: &str, mode: u32) -> String {
            let p = self.0.join(name);
            std::fs::write(&p, "#!/bin/sh\nexit 0\n").expect("write script");
            chmod(&p, mode);
            p.to_string_lossy().into_owned()
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn chmod(p: &Path, mode: u32) {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).expect("chmod");
    }

    #[test]
    fn a_safe_root_script_runs() {
        let d = Dir::new("safe");
        let s = d.script("ok.sh", 0o755);
        let c = check(&s, 0, 0, true, CS_PATH);
        assert_eq!(c.log, Vec::<String>::new());
        assert!(c.flags.is_script && c.flags.executable && !c.flags.insecure);
        assert!(c.flags.track_runs() && c.flags.notify_runs());
        assert_eq!(c.program, None);
    }

    #[test]
    fn world_writable_file_is_inhibited_only_when_enforced() {
        let d = Dir::new("ww");
        let s = d.script("bad.sh", 0o757);
        let c = check(&s, 0, 0, true, CS_PATH);
        assert_eq!(
            c.log,
            [format!(
                "Unsafe permissions found for script '{s}' - disabling."
            )]
        );
        assert!(c.flags.insecure && c.flags.inhibit && !c.flags.track_runs());
        let c = check(&s, 0, 0, false, CS_PATH);
        assert_eq!(
            c.log,
            [format!("Unsafe permissions found for script '{s}'.")]
        );
        assert!(c.flags.insecure && !c.flags.inhibit && c.flags.track_runs());
    }

    #[test]
    fn writable_parent_directory_is_unsafe_unless_sticky() {
        let d = Dir::new("dir");
        let sub = d.0.join("open");
        std::fs::create_dir(&sub).expect("mkdir");
        chmod(&sub, 0o777);
        let s = sub.join("x.sh");
        std::fs::write(&s, "#!/bin/sh\n").expect("write");
        chmod(&s, 0o755);
        let s = s.to_string_lossy().into_owned();
        assert!(check(&s, 0, 0, true, CS_PATH).flags.inhibit);
        chmod(&sub, 0o1777);
        assert!(!check(&s, 0, 0, true, CS_PATH).flags.insecure);
    }

    #[test]
    fn another_user_is_not_path_checked_but_needs_the_x_bit() {
        let d = Dir::new("user");
        let s = d.script("bad.sh", 0o757);
        let c = check(&s, 65534, 65534, true, CS_PATH);
        assert!(c.flags.executable && !c.flags.insecure && c.flags.track_runs());
        let s = d.script("noexec.sh", 0o754);
        let c = check(&s, 65534, 65534, true, CS_PATH);
        assert_eq!(
            c.log,
            [format!(
                "WARNING - script '{s}' is not executable for uid:gid 65534:65534 - disabling."
            )]
        );
        assert!(c.flags.is_script && !c.flags.track_runs() && !c.flags.notify_runs());
    }

    #[test]
    fn missing_scripts_and_path_search() {
        let c = check("/nonexistent/x.sh", 0, 0, true, CS_PATH);
        assert_eq!(
            c.log,
            ["Script /nonexistent/x.sh cannot be accessed - No such file or directory"]
        );
        assert!(c.flags.not_found);
        let c = check("no-such-program-hc", 0, 0, false, CS_PATH);
        assert_eq!(
            c.log,
            ["Cannot find script no-such-program-hc in path - disabling"]
        );
        let d = Dir::new("search");
        d.script("found.sh", 0o755);
        let path = format!("/nonexistent:{}", d.0.display());
        let c = check("found.sh", 0, 0, true, &path);
        let full = format!("{}/found.sh", d.0.display());
        assert_eq!(c.log, [format!("WARNING - script `found.sh` resolved by path search to `{full}`. Please specify full path.")]);
        assert_eq!(c.program, Some(full));
        assert!(c.flags.track_runs());
    }

    #[test]
    fn symbolic_links_keep_their_name_and_both_paths_are_checked() {
        let d = Dir::new("link");
        let real = d.script("real.sh", 0o755);
        let link = d.0.join("alias.sh");
        symlink(&real, &link).expect("symlink");
        let link = link.to_string_lossy().into_owned();
        let c = check(&link, 0, 0, true, CS_PATH);
        assert_eq!((c.program, c.log), (None, Vec::<String>::new()));
        // A link of the same name in an unsafe directory: keepalived runs
        // (and checks) the resolved path instead.
        let open = d.0.join("open");
        std::fs::create_dir(&open).expect("mkdir");
        chmod(&open, 0o777);
        let via = open.join("real.sh");
        symlink(&real, &via).expect("symlink");
        let via = via.to_string_lossy().into_owned();
        let c = check(&via, 0, 0, true, CS_PATH);
        assert_eq!(c.program, Some(real.clone()));
        assert!(!c.flags.insecure, "{c:?}");
        // A link to a file in an unsafe directory: refused.
        let bad = open.join("target.sh");
        std::fs::write(&bad, "#!/bin/sh\n").expect("write");
        chmod(&bad, 0o755);
        let to_bad = d.0.join("to-bad.sh");
        symlink(&bad, &to_bad).expect("symlink");
        let c = check(&to_bad.to_string_lossy(), 0, 0, true, CS_PATH);
        assert!(c.flags.inhibit, "{c:?}");
    }

    #[test]
    fn file_tests_and_prefixes() {
        assert!(check("< /etc/passwd", 0, 0, true, CS_PATH).flags.system);
        assert!(check("</etc/passwd", 0, 0, true, CS_PATH)
            .flags
            .track_runs());
        assert_eq!(
            prefixes("/a/b/c"),
            ["/", "/a", "/a/b", "/a/b/c"].map(PathBuf::from)
        );
    }
}
