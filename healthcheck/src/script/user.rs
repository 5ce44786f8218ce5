//! Who a script runs as: keepalived's `script_user USER [GROUP]` and the
//! per-script `user USER [GROUP]`.

use std::ffi::CString;

use nix::unistd::{getgrouplist, Gid, Group, Uid, User};

/// The identity a script runs with: uid, gid and supplementary groups.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RunAs {
    /// The user id.
    pub uid: u32,
    /// The primary group id.
    pub gid: u32,
    /// Supplementary groups (as `initgroups` would set them).
    pub groups: Vec<u32>,
}

/// Why a user or group could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UserError {
    /// No such user.
    #[error("unknown user {0:?}")]
    UnknownUser(String),
    /// No such group.
    #[error("unknown group {0:?}")]
    UnknownGroup(String),
    /// The name service failed.
    #[error("user lookup failed: {0}")]
    Lookup(nix::errno::Errno),
}

impl RunAs {
    /// These ids, with no supplementary group but `gid`.
    pub fn ids(uid: u32, gid: u32) -> Self {
        Self {
            uid,
            gid,
            groups: vec![gid],
        }
    }

    /// This process's effective identity (what a script runs as when no
    /// user is switched to).
    pub fn current() -> Self {
        let gid = nix::unistd::getegid().as_raw();
        let groups = nix::unistd::getgroups()
            .map(|g| g.into_iter().map(Gid::as_raw).collect())
            .unwrap_or_else(|_| vec![gid]);
        Self {
            uid: nix::unistd::geteuid().as_raw(),
            gid,
            groups,
        }
    }

    /// Resolves `user` and optionally `group` (default: the user's
    /// primary group), with the user's supplementary groups as
    /// `initgroups` would set them. keepalived 2.2.7 itself keeps only the
    /// primary group (`setgroups(1, &gid)`); [`RunAs::ids`] does exactly
    /// that.
    ///
    /// Blocking: the name service may ask the network (LDAP, sssd).
    /// Resolve once at configuration time, or on a blocking pool.
    pub fn lookup(user: &str, group: Option<&str>) -> Result<Self, UserError> {
        let unknown = || UserError::UnknownUser(user.to_owned());
        let u = User::from_name(user)
            .map_err(UserError::Lookup)?
            .ok_or_else(unknown)?;
        let gid = match group {
            None => u.gid,
            Some(g) => {
                Group::from_name(g)
                    .map_err(UserError::Lookup)?
                    .ok_or_else(|| UserError::UnknownGroup(g.to_owned()))?
                    .gid
            }
        };
        let name = CString::new(user).map_err(|_| unknown())?;
        let mut groups: Vec<u32> = getgrouplist(&name, gid)
            .map_err(UserError::Lookup)?
            .into_iter()
            .map(Gid::as_raw)
            .collect();
        if !groups.contains(&gid.as_raw()) {
            groups.push(gid.as_raw());
        }
        Ok(Self {
            uid: u.uid.as_raw(),
            gid: gid.as_raw(),
            groups,
        })
    }

    /// A closure switching the calling process to this identity: groups,
    /// gid, then uid. Everything is prepared here, so the closure only makes
    /// async-signal-safe calls (it runs between fork and exec).
    pub(crate) fn switcher(&self) -> impl FnMut() -> std::io::Result<()> + Send + Sync + 'static {
        let groups: Vec<Gid> = self.groups.iter().copied().map(Gid::from_raw).collect();
        let (uid, gid) = (Uid::from_raw(self.uid), Gid::from_raw(self.gid));
        move || {
            nix::unistd::setgroups(&groups)?;
            nix::unistd::setgid(gid)?;
            nix::unistd::setuid(uid)?;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_and_unknown_users() {
        assert_eq!(RunAs::current().uid, nix::unistd::geteuid().as_raw());
        let root = RunAs::lookup("root", None);
        assert_eq!(root.as_ref().map(|r| (r.uid, r.gid)), Ok((0, 0)));
        assert!(root.is_ok_and(|r| r.groups.contains(&0)));
        let nobody = RunAs::lookup("nobody", Some("root"));
        assert_eq!(nobody.map(|r| (r.uid, r.gid)), Ok((65534, 0)));
        assert_eq!(
            RunAs::lookup("no-such-user-hc", None),
            Err(UserError::UnknownUser("no-such-user-hc".into()))
        );
        assert_eq!(
            RunAs::lookup("root", Some("no-such-group-hc")),
            Err(UserError::UnknownGroup("no-such-group-hc".into()))
        );
    }
}
