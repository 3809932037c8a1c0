//! Repositories on disk: bare repositories made with forge's settings, and removed ones moved
//! aside rather than deleted.

use crate::exit::{self, Classify, Code};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// The folder under the repos root where removed repositories are kept. Its name starts with
/// `.`, which no repository segment may, so it can never collide with a repository.
pub(crate) const REMOVED_FOLDER: &str = ".removed";

/// Why a repository folder could not be made or moved.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The folder exists already, unknown to forge.
    #[error("{} exists already; move it away first", path.display())]
    Exists {
        /// The folder.
        path: PathBuf,
    },
    /// A file system operation failed.
    #[error("{what} {}", path.display())]
    Io {
        /// What was being done.
        what: &'static str,
        /// On which path.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// libgit2 failed.
    #[error("cannot initialise a repository in {}", path.display())]
    Git {
        /// The folder.
        path: PathBuf,
        /// Why.
        #[source]
        source: git2::Error,
    },
}

fn io_error<'a>(what: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> Error + 'a {
    move |source| Error::Io {
        what,
        path: path.to_owned(),
        source,
    }
}

/// Creates a bare repository at `path` whose hooks are the shims in `hooks`.
///
/// The repository is made in a temporary folder beside `path` and renamed into place, so no
/// half-made repository is ever visible under its name. Its configuration:
/// - `core.hooksPath`: the shared hook shims, so every push is decided by forged;
/// - `receive.fsckObjects`: a push of corrupt objects is refused;
/// - `core.fsync=committed` and `core.fsyncMethod=fsync`: objects and refs reach the disk
///   before git reports success, so an acknowledged push survives a power cut;
/// - `core.logAllRefUpdates`: reflogs, for recovery by hand;
/// - `core.sharedRepository=group`: what git writes on a push stays writable by the git
///   account's group, of which forged's own account is a member (see forge.toml(5));
/// - `receive.denyNonFastForwards=false`: a shared repository denies force pushes by default,
///   but whether one may happen is the policy's to decide.
pub fn create_bare(path: &Path, hooks: &Path) -> Result<(), Error> {
    if path.exists() {
        return Err(Error::Exists {
            path: path.to_owned(),
        });
    }
    let parent = path.parent().ok_or_else(|| Error::Exists {
        path: path.to_owned(),
    })?;
    fs::create_dir_all(parent).map_err(io_error("cannot create", parent))?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let staging = parent.join(format!(".creating-{}-{file_name}", std::process::id()));
    let result = init_bare(&staging, hooks).and_then(|()| {
        fs::rename(&staging, path).map_err(io_error("cannot move a new repository to", path))?;
        sync_folder(parent)
    });
    if result.is_err() {
        let _ = fs::remove_dir_all(&staging);
    }
    result
}

fn init_bare(path: &Path, hooks: &Path) -> Result<(), Error> {
    let git_error = |source| Error::Git {
        path: path.to_owned(),
        source,
    };
    let repository = git2::Repository::init_opts(
        path,
        git2::RepositoryInitOptions::new()
            .bare(true)
            .no_reinit(true)
            // Group-writable folders whatever forged's umask: the git account pushes into them.
            .mode(git2::RepositoryInitMode::SHARED_GROUP)
            .initial_head("main"),
    )
    .map_err(git_error)?;
    let mut config = repository.config().map_err(git_error)?;
    let hooks_path = hooks.to_string_lossy();
    for (name, value) in forge_settings(&hooks_path) {
        config.set_str(name, value).map_err(git_error)?;
    }
    // libgit2 leaves sample hooks behind; core.hooksPath makes them dead weight.
    let _ = fs::remove_dir_all(path.join("hooks"));
    Ok(())
}

/// The configuration every forge repository carries (see [`create_bare`]).
fn forge_settings(hooks_path: &str) -> [(&'static str, &str); 7] {
    [
        ("core.hooksPath", hooks_path),
        ("receive.fsckObjects", "true"),
        ("core.fsync", "committed"),
        ("core.fsyncMethod", "fsync"),
        ("core.logAllRefUpdates", "true"),
        ("core.sharedRepository", "group"),
        ("receive.denyNonFastForwards", "false"),
    ]
}

/// Brings the configuration of the existing bare repository at `path` in line with forge's
/// (see [`create_bare`]): a repository made before the hooks folder moved, or by hand, gets
/// `core.hooksPath` and the other settings. Returns the names of the settings it changed.
pub fn align_settings(path: &Path, hooks: &Path) -> Result<Vec<&'static str>, Error> {
    let git_error = |source| Error::Git {
        path: path.to_owned(),
        source,
    };
    let repository = git2::Repository::open_bare(path).map_err(git_error)?;
    let mut config = repository.config().map_err(git_error)?;
    let current = config.snapshot().map_err(git_error)?;
    let hooks_path = hooks.to_string_lossy();
    let mut changed = Vec::new();
    for (name, value) in forge_settings(&hooks_path) {
        if current.get_str(name).ok() != Some(value) {
            config.set_str(name, value).map_err(git_error)?;
            changed.push(name);
        }
    }
    Ok(changed)
}

/// Moves the repository at `path` into `<root>/.removed/<unix time>/`, keeping its relative
/// name; returns where it went, or `None` when there was no folder.
pub fn move_aside(root: &Path, path: &Path) -> Result<Option<PathBuf>, Error> {
    if !path.exists() {
        return Ok(None);
    }
    let relative = path.strip_prefix(root).map_err(|_| Error::Exists {
        path: path.to_owned(),
    })?;
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let target = root
        .join(REMOVED_FOLDER)
        .join(stamp.to_string())
        .join(relative);
    if let Some(parent) = target.parent() {
        fs::create_dir_all(parent).map_err(io_error("cannot create", parent))?;
    }
    fs::rename(path, &target).map_err(io_error("cannot move aside", path))?;
    Ok(Some(target))
}

fn sync_folder(path: &Path) -> Result<(), Error> {
    fs::File::open(path)
        .and_then(|folder| folder.sync_all())
        .map_err(io_error("cannot sync", path))
}

impl Classify for Error {
    fn code(&self) -> Code {
        match self {
            Error::Exists { .. } => Code::Refused,
            Error::Io { source, .. } => exit::io_code(source),
            Error::Git { .. } => Code::Internal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_repository_carries_forges_settings() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("acme/widgets.git");
        create_bare(&path, Path::new("/usr/lib/forge/hooks")).unwrap();
        let repository = git2::Repository::open_bare(&path).unwrap();
        let config = repository.config().unwrap().snapshot().unwrap();
        assert_eq!(
            config.get_str("core.hooksPath").unwrap(),
            "/usr/lib/forge/hooks"
        );
        assert!(config.get_bool("receive.fsckObjects").unwrap());
        assert_eq!(config.get_str("core.fsync").unwrap(), "committed");
        assert!(repository.is_bare());
        let leftovers: Vec<_> = fs::read_dir(root.path().join("acme"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers, ["widgets.git"]);
    }

    #[test]
    fn an_existing_repository_is_brought_in_line_once() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("old.git");
        git2::Repository::init_bare(&path).unwrap();
        let hooks = Path::new("/usr/lib/forge/hooks");
        let changed = align_settings(&path, hooks).unwrap();
        assert!(changed.contains(&"core.hooksPath"), "{changed:?}");
        let config = git2::Repository::open_bare(&path)
            .unwrap()
            .config()
            .unwrap()
            .snapshot()
            .unwrap();
        assert_eq!(
            config.get_str("core.hooksPath").unwrap(),
            "/usr/lib/forge/hooks"
        );
        assert!(align_settings(&path, hooks).unwrap().is_empty());
        let moved = align_settings(&path, Path::new("/opt/forge/hooks")).unwrap();
        assert_eq!(moved, ["core.hooksPath"]);
        assert!(align_settings(&root.path().join("missing.git"), hooks).is_err());
    }

    #[test]
    fn an_existing_folder_is_not_taken_over() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("taken.git");
        fs::create_dir(&path).unwrap();
        assert!(matches!(
            create_bare(&path, Path::new("/h")),
            Err(Error::Exists { .. })
        ));
    }

    #[test]
    fn removed_repositories_are_moved_aside_not_deleted() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("acme/widgets.git");
        create_bare(&path, Path::new("/h")).unwrap();
        let kept = move_aside(root.path(), &path).unwrap().unwrap();
        assert!(!path.exists());
        assert!(kept.join("HEAD").exists());
        assert!(kept.starts_with(root.path().join(REMOVED_FOLDER)));
        assert_eq!(move_aside(root.path(), &path).unwrap(), None);
    }
}
