//! `forgectl restore DIR`: put a checked backup in place on a stopped or fresh forge, with
//! forge's owners and modes: the database is the daemon account's (0600 in a 0700 folder),
//! repositories are the git account's and group's (folders 2770, files 0660, as
//! `daemon/disk.rs` and the package's postinst make them).

use super::manifest::Manifest;
use super::take::sync_folder;
use super::{DATABASE_FILE, Error, REPOS_FOLDER, io_error, repos, verify};
use crate::config::Config;
use crate::daemon::disk::{FILE_MODE, FOLDER_MODE, REMOVED_FOLDER};
use crate::types::repo_name::RepoName;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// What a restore did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    /// Repositories put in place.
    pub repos: usize,
    /// Where what the target held before was moved, with `--force`.
    pub moved_aside: Vec<PathBuf>,
}

/// Restores the backup in `dir` onto the forge `config` describes; with `db_only` only the
/// database. Refused while forged answers on the configured socket, and, unless `force`, when
/// the target holds a database or repositories (with `force` they are moved aside, not
/// deleted).
pub fn restore(dir: &Path, config: &Config, db_only: bool, force: bool) -> Result<Restored, Error> {
    let refuse = |why: String| Error::Target { why };
    verify::verify(dir)?;
    let manifest = Manifest::read(dir)?;
    if manifest.db_only && !db_only {
        return Err(refuse(format!(
            "{} holds only a database; add --db-only",
            dir.display()
        )));
    }
    if std::os::unix::net::UnixStream::connect(&config.socket).is_ok() {
        return Err(refuse(format!(
            "forged is running on {}; stop it first (systemctl stop forged)",
            config.socket.display()
        )));
    }
    let names: Vec<RepoName> = if db_only {
        Vec::new()
    } else {
        manifest
            .repos
            .keys()
            .map(|name| RepoName::parse(name))
            .collect::<Result<_, _>>()
            .map_err(|e| refuse(format!("the manifest names a bad repository: {e}")))?
    };
    let held = held_data(config, &names);
    if !held.is_empty() && !force {
        return Err(refuse(format!(
            "the target holds data ({}); restore onto a fresh forge, or add --force to move it aside",
            held.iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let stamp = format!(
        "before-restore-{}",
        crate::types::timestamp::Timestamp::now().unix()
    );
    let mut moved_aside = Vec::new();
    let owners = Owners::of(config)?;
    restore_database(dir, config, &stamp, &owners, &mut moved_aside)?;
    for name in &names {
        let target = name.to_path(&config.repos);
        if target.exists() {
            let aside = config
                .repos
                .join(REMOVED_FOLDER)
                .join(&stamp)
                .join(format!("{name}.git"));
            make_folders(
                aside.parent().expect("a repository path has a parent"),
                &config.repos,
                owners.git,
            )?;
            std::fs::rename(&target, &aside).map_err(io_error("move aside", &target))?;
            moved_aside.push(aside);
        }
        let staging = config.repos.join(".restoring").join(format!("{name}.git"));
        if staging.exists() {
            std::fs::remove_dir_all(&staging).map_err(io_error("remove", &staging))?;
        }
        make_folders(
            staging.parent().expect("a staging path has a parent"),
            &config.repos,
            owners.git,
        )?;
        repos::copy(&name.to_path(&dir.join(REPOS_FOLDER)), &staging)?;
        repos::set_owners(&staging, FOLDER_MODE, FILE_MODE, owners.git)?;
        make_folders(
            target.parent().expect("a repository path has a parent"),
            &config.repos,
            owners.git,
        )?;
        std::fs::rename(&staging, &target).map_err(io_error("move into place", &target))?;
    }
    let staging_root = config.repos.join(".restoring");
    let _ = std::fs::remove_dir_all(&staging_root);
    Ok(Restored {
        repos: names.len(),
        moved_aside,
    })
}

/// The accounts restored files belong to; none when not running as root (a test or a
/// private forge), where files stay the caller's.
struct Owners {
    daemon: Option<(u32, u32)>,
    git: Option<(u32, u32)>,
}

impl Owners {
    fn of(config: &Config) -> Result<Owners, Error> {
        if !nix::unistd::Uid::effective().is_root() {
            return Ok(Owners {
                daemon: None,
                git: None,
            });
        }
        let account = |name: &str| -> Result<Option<(u32, u32)>, Error> {
            match nix::unistd::User::from_name(name) {
                Ok(Some(user)) => Ok(Some((user.uid.as_raw(), user.gid.as_raw()))),
                _ => Err(Error::Target {
                    why: format!(
                        "account '{}' does not exist; install the package first",
                        crate::types::shown::shown(name)
                    ),
                }),
            }
        };
        Ok(Owners {
            daemon: account(&config.daemon_user)?,
            git: account(&config.git_user)?,
        })
    }
}

/// Returns what the target holds that a restore would replace.
fn held_data(config: &Config, names: &[RepoName]) -> Vec<PathBuf> {
    let mut held = Vec::new();
    if std::fs::metadata(&config.database).is_ok_and(|m| m.len() > 0) {
        held.push(config.database.clone());
    }
    for name in names {
        let path = name.to_path(&config.repos);
        if path.exists() {
            held.push(path);
        }
    }
    held
}

fn restore_database(
    dir: &Path,
    config: &Config,
    stamp: &str,
    owners: &Owners,
    moved_aside: &mut Vec<PathBuf>,
) -> Result<(), Error> {
    let database = &config.database;
    let folder = database.parent().unwrap_or(Path::new("."));
    if !folder.exists() {
        std::fs::create_dir_all(folder).map_err(io_error("make", folder))?;
        std::fs::set_permissions(folder, std::fs::Permissions::from_mode(0o700))
            .map_err(io_error("set the mode of", folder))?;
        if let Some((uid, gid)) = owners.daemon {
            std::os::unix::fs::chown(folder, Some(uid), Some(gid))
                .map_err(io_error("set the owner of", folder))?;
        }
    }
    // The database with its WAL and shared memory, moved aside together.
    for suffix in ["", "-wal", "-shm"] {
        let path = PathBuf::from(format!("{}{suffix}", database.display()));
        if path.exists() {
            let aside = PathBuf::from(format!("{}{suffix}.{stamp}", database.display()));
            std::fs::rename(&path, &aside).map_err(io_error("move aside", &path))?;
            if suffix.is_empty() {
                moved_aside.push(aside);
            }
        }
    }
    let part = PathBuf::from(format!("{}.restoring", database.display()));
    std::fs::copy(dir.join(DATABASE_FILE), &part).map_err(io_error("copy", &part))?;
    std::fs::set_permissions(
        &part,
        std::fs::Permissions::from_mode(crate::store::FILE_MODE),
    )
    .map_err(io_error("set the mode of", &part))?;
    if let Some((uid, gid)) = owners.daemon {
        std::os::unix::fs::chown(&part, Some(uid), Some(gid))
            .map_err(io_error("set the owner of", &part))?;
    }
    std::fs::File::open(&part)
        .and_then(|file| file.sync_all())
        .map_err(io_error("flush", &part))?;
    std::fs::rename(&part, database).map_err(io_error("move into place", database))?;
    sync_folder(folder)
}

/// Makes `folder` and its parents below `root` (which must exist or is made too) with forge's
/// folder mode and owner.
fn make_folders(folder: &Path, root: &Path, owner: Option<(u32, u32)>) -> Result<(), Error> {
    if folder.exists() {
        return Ok(());
    }
    if folder != root
        && let Some(parent) = folder.parent()
    {
        make_folders(parent, root, owner)?;
    }
    std::fs::create_dir(folder).map_err(io_error("make", folder))?;
    std::fs::set_permissions(folder, std::fs::Permissions::from_mode(FOLDER_MODE))
        .map_err(io_error("set the mode of", folder))?;
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::chown(folder, Some(uid), Some(gid))
            .map_err(io_error("set the owner of", folder))?;
    }
    Ok(())
}
