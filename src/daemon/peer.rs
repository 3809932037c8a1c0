//! Who is asking: the peer's uid from `SO_PEERCRED`, and the role that uid has.

use crate::config::Config;
use crate::wire::Role;
use nix::unistd::{Gid, Group, Uid, User};
use std::collections::HashSet;
use std::ffi::CString;
use std::os::unix::net::UnixStream;

/// The process at the other end of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    /// Its user id.
    pub uid: u32,
    /// Its primary group id.
    pub gid: u32,
    /// Its process id.
    pub pid: i32,
}

impl Caller {
    /// Returns the peer of `stream`, as the kernel reports it.
    pub fn of(stream: &UnixStream) -> std::io::Result<Caller> {
        let credentials =
            nix::sys::socket::getsockopt(stream, nix::sys::socket::sockopt::PeerCredentials)
                .map_err(std::io::Error::from)?;
        Ok(Caller {
            uid: credentials.uid(),
            gid: credentials.gid(),
            pid: credentials.pid(),
        })
    }
}

impl Caller {
    /// Returns the name of the caller's uid in this host's user database, as forged sees it;
    /// empty when it has none (a uid from another namespace, say).
    pub fn name(&self) -> String {
        User::from_uid(Uid::from_raw(self.uid))
            .ok()
            .flatten()
            .map(|user| user.name)
            .unwrap_or_default()
    }
}

/// The accounts that have a role, resolved from the configuration when forged starts.
#[derive(Debug, Clone, Default)]
pub struct Roles {
    git_uid: Option<u32>,
    keys_uid: Option<u32>,
    admin_uids: HashSet<u32>,
    admin_gids: HashSet<u32>,
}

impl Roles {
    /// Returns the roles `config` names; names that do not resolve are logged and ignored.
    pub fn resolve(config: &Config) -> Roles {
        let mut roles = Roles::default();
        match User::from_name(&config.git_user) {
            Ok(Some(user)) => roles.git_uid = Some(user.uid.as_raw()),
            _ => tracing::warn!(
                user = %config.git_user,
                "git_user is not an account here; no one has the service role"
            ),
        }
        match User::from_name(&config.keys_user) {
            Ok(Some(user)) => roles.keys_uid = Some(user.uid.as_raw()),
            _ => tracing::info!(
                user = %config.keys_user,
                "keys_user is not an account here; forge-keys must run as the git account or root"
            ),
        }
        for admin in &config.admins {
            if let Some(group) = admin.strip_prefix('@') {
                match Group::from_name(group) {
                    Ok(Some(group)) => {
                        roles.admin_gids.insert(group.gid.as_raw());
                    }
                    _ => tracing::warn!(group, "admin group does not exist; ignored"),
                }
            } else {
                match User::from_name(admin) {
                    Ok(Some(user)) => {
                        roles.admin_uids.insert(user.uid.as_raw());
                    }
                    _ => tracing::warn!(user = %admin, "admin account does not exist; ignored"),
                }
            }
        }
        roles
    }

    /// Returns the role of `caller`: root and admins are [`Role::Admin`], the git account is
    /// [`Role::Service`], the keys account is [`Role::KeyLookup`], anyone else has none.
    pub fn role_of(&self, caller: &Caller) -> Option<Role> {
        if caller.uid == 0 || self.admin_uids.contains(&caller.uid) {
            return Some(Role::Admin);
        }
        if self.git_uid == Some(caller.uid) {
            return Some(Role::Service);
        }
        if !self.admin_gids.is_empty() && self.is_in_admin_group(caller) {
            return Some(Role::Admin);
        }
        if self.keys_uid == Some(caller.uid) {
            return Some(Role::KeyLookup);
        }
        None
    }

    /// Returns roles given by uid, for tests that must not depend on this machine's accounts.
    #[cfg(test)]
    pub(crate) fn of_uids(git: u32, keys: u32, admins: &[u32]) -> Roles {
        Roles {
            git_uid: Some(git),
            keys_uid: Some(keys),
            admin_uids: admins.iter().copied().collect(),
            admin_gids: HashSet::new(),
        }
    }

    fn is_in_admin_group(&self, caller: &Caller) -> bool {
        if self.admin_gids.contains(&caller.gid) {
            return true;
        }
        let Ok(Some(user)) = User::from_uid(Uid::from_raw(caller.uid)) else {
            return false;
        };
        let Ok(name) = CString::new(user.name) else {
            return false;
        };
        nix::unistd::getgrouplist(&name, Gid::from_raw(caller.gid))
            .map(|groups| {
                groups
                    .iter()
                    .any(|gid| self.admin_gids.contains(&gid.as_raw()))
            })
            .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(uid: u32, gid: u32) -> Caller {
        Caller { uid, gid, pid: 1 }
    }

    #[test]
    fn root_is_always_admin_and_strangers_have_no_role() {
        let roles = Roles {
            git_uid: Some(998),
            keys_uid: Some(997),
            admin_uids: HashSet::from([1000]),
            admin_gids: HashSet::from([27]),
        };
        assert_eq!(roles.role_of(&caller(0, 0)), Some(Role::Admin));
        assert_eq!(roles.role_of(&caller(1000, 1000)), Some(Role::Admin));
        assert_eq!(roles.role_of(&caller(998, 998)), Some(Role::Service));
        assert_eq!(roles.role_of(&caller(997, 997)), Some(Role::KeyLookup));
        assert_eq!(roles.role_of(&caller(4242, 27)), Some(Role::Admin));
        assert_eq!(roles.role_of(&caller(4242, 4242)), None);
    }

    #[test]
    fn an_admin_who_is_also_the_git_account_stays_admin() {
        let roles = Roles {
            git_uid: Some(1000),
            keys_uid: None,
            admin_uids: HashSet::from([1000]),
            admin_gids: HashSet::new(),
        };
        assert_eq!(roles.role_of(&caller(1000, 1000)), Some(Role::Admin));
    }

    #[test]
    fn the_peer_of_a_socket_pair_is_this_process() {
        let (ours, _theirs) = UnixStream::pair().unwrap();
        let peer = Caller::of(&ours).unwrap();
        assert_eq!(peer.uid, Uid::current().as_raw());
        assert_eq!(peer.pid, std::process::id() as i32);
    }
}
