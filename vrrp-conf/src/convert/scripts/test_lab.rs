//! A directory of scripts for the script-security tests.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

/// `/run/vc-TAG-PID` (root's, mode 755) with `good.sh` (755) and
/// `open/bad.sh` in a world-writable directory; removed on drop.
pub(crate) struct Lab(PathBuf);

#[allow(clippy::unwrap_used)] // tests: a panic is a failed test
impl Lab {
    pub(crate) fn new(tag: &str) -> Self {
        let d = PathBuf::from(format!("/run/vc-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("open")).unwrap();
        let mode = |p: PathBuf, m| std::fs::set_permissions(p, PermissionsExt::from_mode(m));
        mode(d.clone(), 0o755).unwrap();
        mode(d.join("open"), 0o777).unwrap();
        for f in ["good.sh", "open/bad.sh"] {
            std::fs::write(d.join(f), "#!/bin/sh\nexit 0\n").unwrap();
            mode(d.join(f), 0o755).unwrap();
        }
        Lab(d)
    }

    /// The safe script.
    pub(crate) fn good(&self) -> String {
        format!("{}/good.sh", self.0.display())
    }

    /// The script in a world-writable directory.
    pub(crate) fn bad(&self) -> String {
        format!("{}/open/bad.sh", self.0.display())
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
