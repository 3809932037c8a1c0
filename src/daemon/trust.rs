//! forged's own account: it runs as `daemon_user`, and the git account can neither read nor
//! write the database, nor replace it through a folder above it. Code running as git (a git
//! process, a hook) then cannot change what forged decides or records.
//!
//! When `daemon_user` is the git account (forge's tests and demo run everything as one
//! account) nothing is checked, and forged logs that this is the weaker setup.

use crate::config::Config;
use crate::exit::{Classify, Code};
use nix::unistd::{Gid, Uid, User};
use std::ffi::CString;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Why forged refuses to run as it was started.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An account forge.toml names does not exist here.
    #[error(
        "'{key}' names the account '{name}', which does not exist here; create it or fix forge.toml"
    )]
    NoAccount {
        /// The configuration key.
        key: &'static str,
        /// The account named.
        name: String,
    },
    /// forged was started as another account than `daemon_user`.
    #[error(
        "forged runs as uid {uid}, not as daemon_user '{user}'; start it as '{user}' (forged.service does)"
    )]
    WrongAccount {
        /// The uid forged runs as.
        uid: u32,
        /// The configured account.
        user: String,
    },
    /// The git account could read, write or replace the database or its folder.
    #[error("{} is {how} by the git account '{git}'; give it to '{daemon}' alone (chown {daemon}:, chmod {want})", path.display())]
    Exposed {
        /// The file or folder.
        path: PathBuf,
        /// What the git account could do.
        how: &'static str,
        /// The git account.
        git: String,
        /// forged's account.
        daemon: String,
        /// The mode to give it.
        want: &'static str,
    },
}

impl Classify for Error {
    /// The installation is set up wrong: refused, nothing changed.
    fn code(&self) -> Code {
        Code::Refused
    }
}

/// How forged's state is kept from the git account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Setup {
    /// forged runs as its own account and the git account cannot touch the database.
    Separate,
    /// forged runs as the git account (tests, the demo): anything running as git can rewrite
    /// the database.
    Shared,
}

/// An account as the kernel checks file access for it.
#[derive(Debug, Clone)]
struct Account {
    uid: u32,
    gids: Vec<u32>,
}

const READ: u32 = 0o4;
const WRITE: u32 = 0o2;

impl Account {
    /// Returns whether this account may do `bits` (of [`READ`], [`WRITE`]) to a file owned by
    /// `uid`:`gid` with `mode`. An owner may always, since it can change the mode.
    fn may(&self, uid: u32, gid: u32, mode: u32, bits: u32) -> bool {
        if uid == self.uid || self.uid == 0 {
            return true;
        }
        let granted = if self.gids.contains(&gid) {
            mode >> 3
        } else {
            mode
        };
        granted & bits != 0
    }
}

/// Checks that forged runs as `daemon_user` and that the git account cannot read or write the
/// database (the file, its `-wal` and `-shm`, its folder) or replace it through any folder
/// above; `database`'s folder must exist.
pub(crate) fn check(config: &Config) -> Result<Setup, Error> {
    if config.daemon_user == config.git_user {
        return Ok(Setup::Shared);
    }
    let daemon = user("daemon_user", &config.daemon_user)?;
    let running = Uid::effective().as_raw();
    if running != daemon.uid.as_raw() {
        return Err(Error::WrongAccount {
            uid: running,
            user: config.daemon_user.clone(),
        });
    }
    let git = user("git_user", &config.git_user)?;
    let git = Account {
        uid: git.uid.as_raw(),
        gids: groups_of(&git),
    };
    let exposed = |path: &Path, how, want| Error::Exposed {
        path: path.to_owned(),
        how,
        git: config.git_user.clone(),
        daemon: config.daemon_user.clone(),
        want,
    };
    let database = &config.database;
    let mut files = vec![database.clone()];
    for suffix in ["-wal", "-shm"] {
        let mut name = database.as_os_str().to_owned();
        name.push(suffix);
        files.push(PathBuf::from(name));
    }
    for file in &files {
        let Ok(meta) = std::fs::symlink_metadata(file) else {
            continue;
        };
        if git.may(meta.uid(), meta.gid(), meta.mode(), READ | WRITE) {
            return Err(exposed(file, "readable or writable", "600"));
        }
    }
    let Some(folder) = database.parent() else {
        return Ok(Setup::Separate);
    };
    if let Ok(meta) = std::fs::symlink_metadata(folder)
        && git.may(meta.uid(), meta.gid(), meta.mode(), READ | WRITE)
    {
        return Err(exposed(folder, "readable or writable", "700"));
    }
    // A folder the git account may write lets it rename what is inside and put its own in
    // place, unless the folder is sticky and the entry is not the git account's.
    let mut child = folder;
    for above in folder.ancestors().skip(1) {
        let (Ok(meta), Ok(inside)) = (
            std::fs::symlink_metadata(above),
            std::fs::symlink_metadata(child),
        ) else {
            break;
        };
        let sticky = meta.mode() & 0o1000 != 0;
        let writable = git.may(meta.uid(), meta.gid(), meta.mode(), WRITE);
        if writable && !(sticky && inside.uid() != git.uid) {
            return Err(exposed(above, "writable", "755, owned by root"));
        }
        child = above;
    }
    Ok(Setup::Separate)
}

fn user(key: &'static str, name: &str) -> Result<User, Error> {
    match User::from_name(name) {
        Ok(Some(user)) => Ok(user),
        _ => Err(Error::NoAccount {
            key,
            name: name.to_owned(),
        }),
    }
}

/// Returns the groups `user` is in: its own and every supplementary one.
fn groups_of(user: &User) -> Vec<u32> {
    let Ok(name) = CString::new(user.name.as_bytes()) else {
        return vec![user.gid.as_raw()];
    };
    nix::unistd::getgrouplist(&name, user.gid)
        .map(|groups| groups.into_iter().map(Gid::as_raw).collect())
        .unwrap_or_else(|_| vec![user.gid.as_raw()])
}

#[cfg(test)]
mod tests {
    use super::*;

    const GIT: u32 = 998;
    const FORGE: u32 = 997;

    fn git() -> Account {
        Account {
            uid: GIT,
            gids: vec![GIT, 50],
        }
    }

    #[test]
    fn the_git_account_reaches_what_it_owns_its_groups_or_everyone_may() {
        let rows = [
            // (owner, group, mode, bits, may)
            (FORGE, FORGE, 0o600, READ | WRITE, false),
            (FORGE, FORGE, 0o700, READ | WRITE, false),
            (GIT, GIT, 0o000, READ, true),
            (FORGE, GIT, 0o640, READ, true),
            (FORGE, 50, 0o620, WRITE, true),
            (FORGE, FORGE, 0o604, READ, true),
            (FORGE, FORGE, 0o660, READ | WRITE, false),
            (0, GIT, 0o750, WRITE, false),
            (0, GIT, 0o770, WRITE, true),
            // Group bits decide for a member, even when others get more.
            (FORGE, GIT, 0o606, READ, false),
        ];
        for (uid, gid, mode, bits, may) in rows {
            assert_eq!(
                git().may(uid, gid, mode, bits),
                may,
                "owner {uid}:{gid} mode {mode:o} bits {bits:o}"
            );
        }
    }

    #[test]
    fn a_database_others_may_read_is_refused_and_a_private_one_passes() {
        let root_and_nobody =
            Uid::effective().is_root() && User::from_name("nobody").ok().flatten().is_some();
        if !root_and_nobody {
            return;
        }
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("state");
        std::fs::create_dir(&folder).unwrap();
        std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o700)).unwrap();
        let database = folder.join("forge.db");
        std::fs::write(&database, "").unwrap();
        let config = Config {
            database: database.clone(),
            git_user: "nobody".into(),
            daemon_user: "root".into(),
            ..Config::default()
        };
        std::fs::set_permissions(&database, std::fs::Permissions::from_mode(0o644)).unwrap();
        let message = check(&config).unwrap_err().to_string();
        assert!(
            message.contains("readable or writable by the git account 'nobody'"),
            "{message}"
        );
        std::fs::set_permissions(&database, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(check(&config).unwrap(), Setup::Separate);
        std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o755)).unwrap();
        let message = check(&config).unwrap_err().to_string();
        assert!(message.contains("chmod 700"), "{message}");
    }

    #[test]
    fn one_account_for_everything_is_the_shared_setup() {
        let config = Config {
            git_user: "nosuchaccountforge".into(),
            daemon_user: "nosuchaccountforge".into(),
            ..Config::default()
        };
        assert_eq!(check(&config).unwrap(), Setup::Shared);
    }

    #[test]
    fn a_missing_daemon_account_is_named() {
        let config = Config {
            daemon_user: "nosuchaccountforge".into(),
            ..Config::default()
        };
        let message = check(&config).unwrap_err().to_string();
        assert!(message.contains("'daemon_user'"), "{message}");
    }
}
