//! Repositories on disk: bare repositories made with forge's settings, and removed ones moved
//! aside rather than deleted.
//!
//! Every path beneath the repos root is walked one component at a time, each opened relative
//! to its parent's file descriptor with `O_NOFOLLOW`, so a symbolic link anywhere below the
//! root (`team/evil.git -> ../secret.git`, or a linked folder `team -> /elsewhere`) is refused,
//! never followed; missing folders are made with `mkdirat` relative to their parent. The root
//! itself is the admin's choice and may be a link.
//!
//! What is left is a race: git, run later on the checked path, resolves it again, so a link
//! swapped in between the check and git's own open would be followed. Only the accounts that
//! may write below the root can swap one in, and forge makes every folder there writable by
//! its owner alone ([`FOLDER_MODE`]); a repository is made inside a folder held open by
//! descriptor (through `/proc/self/fd`), so creation cannot be redirected at all.

use crate::exit::{self, Classify, Code};
use crate::types::repo_name::RepoName;
use nix::errno::Errno;
use nix::fcntl::{AtFlags, OFlag};
use nix::sys::stat::{self, Mode, SFlag};
use std::fs;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The folder under the repos root where removed repositories are kept. Its name starts with
/// `.`, which no repository segment may, so it can never collide with a repository.
pub(crate) const REMOVED_FOLDER: &str = ".removed";

/// The mode of every folder forge makes under the repos root, whatever forged's umask: the
/// owner and the git group write (forged's own account makes repositories the git account
/// pushes into, see forge.toml(5)), setgid so that everything below stays the git group's,
/// others nothing.
pub(crate) const FOLDER_MODE: u32 = 0o2770;

/// The mode of every file of a new repository: the owner and the git group read and write,
/// others nothing; git keeps later pushes' files group-writable (`core.sharedRepository`).
pub(crate) const FILE_MODE: u32 = 0o660;

/// Why a repository folder could not be made or moved.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The folder exists already, unknown to forge.
    #[error("{} exists already; move it away first", path.display())]
    Exists {
        /// The folder.
        path: PathBuf,
    },
    /// A component beneath the repos root is a symbolic link, which forge never follows.
    #[error(
        "{} is a symbolic link; forge follows no links under the repos root: replace it with the folder itself",
        path.display()
    )]
    Link {
        /// The component that is a link.
        path: PathBuf,
    },
    /// The folder, or one on the way to it, does not exist or is not a folder.
    #[error("{} is missing or not a folder", path.display())]
    Missing {
        /// The first component that is missing.
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

fn errno_error<'a>(what: &'static str, path: &'a Path) -> impl FnOnce(Errno) -> Error + 'a {
    move |errno| Error::Io {
        what,
        path: path.to_owned(),
        source: io::Error::from(errno),
    }
}

/// Opens the folder `root` itself (following links: it is the admin's configured path).
fn open_root(root: &Path) -> Result<OwnedFd, Error> {
    nix::fcntl::open(
        root,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|errno| match errno {
        Errno::ENOENT | Errno::ENOTDIR => Error::Missing {
            path: root.to_owned(),
        },
        errno => errno_error("cannot open", root)(errno),
    })
}

/// Opens the folder `name` inside `parent` (shown as `path`) without following a link; makes
/// it first, with [`FOLDER_MODE`], when `create` is set and it is missing.
fn open_step(parent: &OwnedFd, name: &str, path: &Path, create: bool) -> Result<OwnedFd, Error> {
    let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    match nix::fcntl::openat(parent, name, flags, Mode::empty()) {
        Ok(fd) => Ok(fd),
        Err(Errno::ENOENT) if create => {
            match stat::mkdirat(parent, name, Mode::from_bits_truncate(FOLDER_MODE)) {
                Ok(()) | Err(Errno::EEXIST) => {}
                Err(errno) => return Err(errno_error("cannot create", path)(errno)),
            }
            let fd = nix::fcntl::openat(parent, name, flags, Mode::empty())
                .map_err(|errno| step_error(parent, name, path, errno))?;
            // mkdirat's mode passed through the umask; the folder gets exactly FOLDER_MODE.
            stat::fchmod(&fd, Mode::from_bits_truncate(FOLDER_MODE))
                .map_err(errno_error("cannot set the mode of", path))?;
            Ok(fd)
        }
        Err(errno) => Err(step_error(parent, name, path, errno)),
    }
}

/// Says why `name` inside `parent` could not be opened as a folder: a link, missing, or other.
fn step_error(parent: &OwnedFd, name: &str, path: &Path, errno: Errno) -> Error {
    let is_link = stat::fstatat(parent, name, AtFlags::AT_SYMLINK_NOFOLLOW).is_ok_and(|found| {
        SFlag::from_bits_truncate(found.st_mode) & SFlag::S_IFMT == SFlag::S_IFLNK
    });
    match errno {
        _ if is_link => Error::Link {
            path: path.to_owned(),
        },
        Errno::ENOENT | Errno::ENOTDIR => Error::Missing {
            path: path.to_owned(),
        },
        errno => errno_error("cannot open", path)(errno),
    }
}

/// Opens the folder `root/<segments...>`, each segment without following a link; makes the
/// missing ones when `create` is set.
fn open_beneath<'a>(
    root: &Path,
    segments: impl IntoIterator<Item = &'a str>,
    create: bool,
) -> Result<OwnedFd, Error> {
    let mut folder = open_root(root)?;
    let mut path = root.to_owned();
    for segment in segments {
        path.push(segment);
        folder = open_step(&folder, segment, &path, create)?;
    }
    Ok(folder)
}

/// Returns the path of an open folder that resolves to that very folder, whatever is renamed
/// or linked around it meanwhile (the kernel's `/proc/self/fd/N`).
fn pinned(folder: &OwnedFd) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{}", folder.as_raw_fd()))
}

/// Splits `repo`'s folder into the segments of its parent and its own name, `<last>.git`.
fn parts(repo: &RepoName) -> (Vec<&str>, String) {
    let mut segments: Vec<&str> = repo.as_str().split('/').collect();
    let last = segments.pop().unwrap_or_default();
    (segments, format!("{last}.git"))
}

/// Returns the folder of `repo` under `root` once it is known to be there with no symbolic
/// link on the way (see the module's comment for the race that is left).
pub fn resolve(root: &Path, repo: &RepoName) -> Result<PathBuf, Error> {
    let (segments, folder) = parts(repo);
    open_beneath(root, segments.into_iter().chain([folder.as_str()]), false)?;
    Ok(repo.to_path(root))
}

/// Creates the bare repository `repo` under `root` whose hooks are the shims in `hooks`.
///
/// The folders on the way are made (or walked) without following any link, see [`resolve`].
/// The repository is made in a temporary folder beside its place and renamed into place, so
/// no half-made repository is ever visible under its name. Its folders get [`FOLDER_MODE`]
/// and its files [`FILE_MODE`], whatever the umask. Its configuration:
/// - `core.hooksPath`: the shared hook shims, so every push is decided by forged;
/// - `receive.fsckObjects`: a push of corrupt objects is refused;
/// - `core.fsync=committed` and `core.fsyncMethod=fsync`: objects and refs reach the disk
///   before git reports success, so an acknowledged push survives a power cut;
/// - `core.logAllRefUpdates`: reflogs, for recovery by hand;
/// - `core.sharedRepository=group`: what git writes on a push stays writable by the git
///   account's group, of which forged's own account is a member (see forge.toml(5));
/// - `receive.denyNonFastForwards=false`: a shared repository denies force pushes by default,
///   but whether one may happen is the policy's to decide.
pub fn create_bare(root: &Path, repo: &RepoName, hooks: &Path) -> Result<(), Error> {
    let path = repo.to_path(root);
    let (segments, folder) = parts(repo);
    let parent = open_beneath(root, segments, true)?;
    match stat::fstatat(&parent, folder.as_str(), AtFlags::AT_SYMLINK_NOFOLLOW) {
        Ok(_) => return Err(Error::Exists { path }),
        Err(Errno::ENOENT) => {}
        Err(errno) => return Err(errno_error("cannot look at", &path)(errno)),
    }
    let staging = staging_name();
    let staging_path = pinned(&parent).join(&staging);
    // A folder of this name is left from a crashed forged that had our pid: nobody uses it.
    let _ = fs::remove_dir_all(&staging_path);
    let result = init_bare(&staging_path, hooks)
        .and_then(|()| set_modes(&staging_path))
        .and_then(|()| {
            nix::fcntl::renameat(&parent, staging.as_str(), &parent, folder.as_str())
                .map_err(errno_error("cannot move a new repository to", &path))?;
            parent
                .try_clone()
                .map(fs::File::from)
                .and_then(|folder| folder.sync_all())
                .map_err(io_error("cannot sync the folder of", &path))
        });
    if result.is_err() {
        let _ = fs::remove_dir_all(&staging_path);
    }
    result
}

/// Returns a name for a staging folder, unique in this process and short whatever the
/// repository's name: a name of the longest segment already fills a file name (#11).
fn staging_name() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let seq = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!(".creating-{}-{seq}", std::process::id())
}

/// Gives every folder under `path` (itself included) [`FOLDER_MODE`] and every file
/// [`FILE_MODE`]; links are left alone (a new repository has none).
fn set_modes(path: &Path) -> Result<(), Error> {
    let kind = fs::symlink_metadata(path).map_err(io_error("cannot look at", path))?;
    if kind.file_type().is_symlink() {
        return Ok(());
    }
    let mode = if kind.is_dir() {
        FOLDER_MODE
    } else {
        FILE_MODE
    };
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .map_err(io_error("cannot set the mode of", path))?;
    if kind.is_dir() {
        for entry in fs::read_dir(path).map_err(io_error("cannot read", path))? {
            set_modes(&entry.map_err(io_error("cannot read", path))?.path())?;
        }
    }
    Ok(())
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
fn forge_settings(hooks_path: &str) -> [(&'static str, &str); 8] {
    [
        ("core.hooksPath", hooks_path),
        ("receive.fsckObjects", "true"),
        ("core.fsync", "committed"),
        ("core.fsyncMethod", "fsync"),
        ("core.logAllRefUpdates", "true"),
        // No refs/replace/ ref changes what any git run on the repository reads (#11);
        // forge-shell also sets it, above every file, for the services it starts.
        ("core.useReplaceRefs", "false"),
        ("core.sharedRepository", "group"),
        ("receive.denyNonFastForwards", "false"),
    ]
}

/// Brings the configuration of the existing bare repository `repo` under `root` in line with
/// forge's (see [`create_bare`]): a repository made before the hooks folder moved, or by hand,
/// gets `core.hooksPath` and the other settings. Returns the names of the settings it changed.
/// A repository reached through a symbolic link is refused ([`Error::Link`]), not changed.
pub fn align_settings(
    root: &Path,
    repo: &RepoName,
    hooks: &Path,
) -> Result<Vec<&'static str>, Error> {
    let path = repo.to_path(root);
    let (segments, folder) = parts(repo);
    let opened = open_beneath(root, segments.into_iter().chain([folder.as_str()]), false)?;
    let git_error = |source| Error::Git {
        path: path.clone(),
        source,
    };
    let repository = git2::Repository::open_bare(pinned(&opened)).map_err(git_error)?;
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

/// Moves the repository `repo` under `root` into `<root>/.removed/<unix time>/`, keeping its
/// relative name; returns where it went, or `None` when there was no folder. A link in its
/// place is moved aside as the link it is; a link on the way to it is refused.
pub fn move_aside(root: &Path, repo: &RepoName) -> Result<Option<PathBuf>, Error> {
    let path = repo.to_path(root);
    let (segments, folder) = parts(repo);
    let parent = match open_beneath(root, segments.iter().copied(), false) {
        Ok(parent) => parent,
        Err(Error::Missing { .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    match stat::fstatat(&parent, folder.as_str(), AtFlags::AT_SYMLINK_NOFOLLOW) {
        Ok(_) => {}
        Err(Errno::ENOENT) => return Ok(None),
        Err(errno) => return Err(errno_error("cannot look at", &path)(errno)),
    }
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    // A second removal of the same name within the same second goes to `<seconds>.1`, and so
    // on, rather than failing on the first copy in its way.
    let is_taken = |stamp: &str| {
        open_beneath(
            root,
            [REMOVED_FOLDER, stamp]
                .into_iter()
                .chain(segments.iter().copied()),
            false,
        )
        .is_ok_and(|kept| {
            stat::fstatat(&kept, folder.as_str(), AtFlags::AT_SYMLINK_NOFOLLOW).is_ok()
        })
    };
    let stamp = (0..1000)
        .map(|n| {
            if n == 0 {
                seconds.to_string()
            } else {
                format!("{seconds}.{n}")
            }
        })
        .find(|stamp| !is_taken(stamp))
        .ok_or_else(|| Error::Exists {
            path: root.join(REMOVED_FOLDER).join(seconds.to_string()),
        })?;
    let kept = [REMOVED_FOLDER, stamp.as_str()];
    let target_parent = open_beneath(root, kept.iter().copied().chain(segments), true)?;
    nix::fcntl::renameat(&parent, folder.as_str(), &target_parent, folder.as_str())
        .map_err(errno_error("cannot move aside", &path))?;
    let relative = repo.to_path(Path::new(""));
    Ok(Some(root.join(REMOVED_FOLDER).join(stamp).join(relative)))
}

/// Returns the removed copies of `repo` kept under `root` by [`move_aside`], named by the unix
/// seconds of their removal, oldest first. Only folders count: a link that was moved aside as
/// a link is never brought back.
pub fn removed_copies(root: &Path, repo: &RepoName) -> Result<Vec<String>, Error> {
    let kept = root.join(REMOVED_FOLDER);
    let entries = match fs::read_dir(&kept) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_error("cannot list", &kept)(e)),
    };
    let (segments, folder) = parts(repo);
    let mut stamps = Vec::new();
    for entry in entries {
        let entry = entry.map_err(io_error("cannot list", &kept))?;
        let Some(stamp) = entry.file_name().to_str().and_then(removal_stamp) else {
            continue;
        };
        let stamp_name = removal_name(stamp);
        let steps = [REMOVED_FOLDER, stamp_name.as_str()]
            .into_iter()
            .chain(segments.iter().copied());
        let Ok(parent) = open_beneath(root, steps, false) else {
            continue;
        };
        if let Ok(found) = stat::fstatat(&parent, folder.as_str(), AtFlags::AT_SYMLINK_NOFOLLOW)
            && SFlag::from_bits_truncate(found.st_mode) & SFlag::S_IFMT == SFlag::S_IFDIR
        {
            stamps.push(stamp);
        }
    }
    stamps.sort_unstable();
    Ok(stamps.into_iter().map(removal_name).collect())
}

/// Returns the `(seconds, n)` a removal folder's name `<seconds>` or `<seconds>.<n>` stands
/// for; `None` for any other name (written differently, such as with a leading zero).
fn removal_stamp(name: &str) -> Option<(u64, u64)> {
    let (seconds, n) = match name.split_once('.') {
        Some((seconds, n)) => (seconds.parse().ok()?, n.parse().ok()?),
        None => (name.parse().ok()?, 0),
    };
    (removal_name((seconds, n)) == name).then_some((seconds, n))
}

fn removal_name((seconds, n): (u64, u64)) -> String {
    if n == 0 {
        seconds.to_string()
    } else {
        format!("{seconds}.{n}")
    }
}

/// Moves the copy of `repo` removed at `stamp` (see [`removed_copies`]) back into its place
/// under `root`; returns where it came from. Refuses ([`Error::Exists`]) when something is in
/// its place.
pub fn move_back(root: &Path, repo: &RepoName, stamp: &str) -> Result<PathBuf, Error> {
    let path = repo.to_path(root);
    let relative = repo.to_path(Path::new(""));
    let from = root.join(REMOVED_FOLDER).join(stamp).join(relative);
    let (segments, folder) = parts(repo);
    let source = open_beneath(
        root,
        [REMOVED_FOLDER, stamp]
            .into_iter()
            .chain(segments.iter().copied()),
        false,
    )?;
    let parent = open_beneath(root, segments, true)?;
    match stat::fstatat(&parent, folder.as_str(), AtFlags::AT_SYMLINK_NOFOLLOW) {
        Ok(_) => return Err(Error::Exists { path }),
        Err(Errno::ENOENT) => {}
        Err(errno) => return Err(errno_error("cannot look at", &path)(errno)),
    }
    nix::fcntl::renameat(&source, folder.as_str(), &parent, folder.as_str())
        .map_err(errno_error("cannot move back", &from))?;
    parent
        .try_clone()
        .map(fs::File::from)
        .and_then(|folder| folder.sync_all())
        .map_err(io_error("cannot sync the folder of", &path))?;
    Ok(from)
}

/// The hook shims every push needs: without them git runs no hook, and a push would be
/// accepted with no decision and no record.
pub(crate) const HOOK_SHIMS: [&str; 2] = ["pre-receive", "post-receive"];

/// Returns why the hook shims in `hooks` cannot decide a push (the folder or a shim is
/// missing, or a shim is not an executable file), or `None` when they are in place.
pub fn hook_shims_problem(hooks: &Path) -> Option<String> {
    for shim in HOOK_SHIMS {
        let path = hooks.join(shim);
        let problem = match fs::metadata(&path) {
            Err(e) => format!("cannot use {}: {e}", path.display()),
            Ok(found) if !found.is_file() => format!("{} is not a file", path.display()),
            Ok(found) if found.permissions().mode() & 0o111 == 0 => {
                format!("{} is not executable", path.display())
            }
            Ok(_) => continue,
        };
        return Some(format!(
            "pushes are refused: {problem}; reinstall forge or fix 'hooks' in forge.toml"
        ));
    }
    None
}

/// The problem with the hook shims last logged, so that each is logged once, not per push.
static REPORTED: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

/// Checks the hook shims in `hooks` (see [`hook_shims_problem`]); logs a new problem once, at
/// `error`, and its end at `info`. A problem is returned as a short line that names no path,
/// for the answer to the refused request; the details are in the log and `forgectl status`.
pub fn check_hook_shims(hooks: &Path) -> Result<(), String> {
    let problem = hook_shims_problem(hooks);
    let mut reported = REPORTED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if *reported != problem {
        match &problem {
            Some(problem) => tracing::error!(hooks = %hooks.display(), "{problem}"),
            None => {
                tracing::info!(hooks = %hooks.display(), "hook shims in place; pushes are decided again")
            }
        }
        reported.clone_from(&problem);
    }
    match problem {
        None => Ok(()),
        Some(_) => {
            Err("pushes are refused until the hook shims are in place; see forgectl status".into())
        }
    }
}

impl Classify for Error {
    fn code(&self) -> Code {
        match self {
            Error::Exists { .. } | Error::Link { .. } | Error::Missing { .. } => Code::Refused,
            Error::Io { source, .. } => exit::io_code(source),
            Error::Git { .. } => Code::Internal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn name(text: &str) -> RepoName {
        RepoName::parse(text).unwrap()
    }

    fn mode(path: &Path) -> u32 {
        fs::symlink_metadata(path).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn a_new_repository_carries_forges_settings() {
        let root = tempfile::tempdir().unwrap();
        let repo = name("acme/widgets");
        create_bare(root.path(), &repo, Path::new("/usr/lib/forge/hooks")).unwrap();
        let path = root.path().join("acme/widgets.git");
        let repository = git2::Repository::open_bare(&path).unwrap();
        let config = repository.config().unwrap().snapshot().unwrap();
        assert_eq!(
            config.get_str("core.hooksPath").unwrap(),
            "/usr/lib/forge/hooks"
        );
        assert!(config.get_bool("receive.fsckObjects").unwrap());
        assert_eq!(config.get_str("core.fsync").unwrap(), "committed");
        assert_eq!(config.get_str("core.sharedRepository").unwrap(), "group");
        assert!(repository.is_bare());
        let leftovers: Vec<_> = fs::read_dir(root.path().join("acme"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers, ["widgets.git"]);
        assert_eq!(resolve(root.path(), &repo).unwrap(), path);
    }

    #[test]
    fn a_new_repository_has_forges_modes_whatever_the_umask() {
        let root = tempfile::tempdir().unwrap();
        // The umask is the process's: nextest runs each test in a process of its own.
        let before = stat::umask(Mode::empty());
        let created = create_bare(root.path(), &name("a/b/c"), Path::new("/h"));
        stat::umask(before);
        created.unwrap();
        for folder in [
            "a",
            "a/b",
            "a/b/c.git",
            "a/b/c.git/objects",
            "a/b/c.git/refs",
        ] {
            assert_eq!(mode(&root.path().join(folder)), FOLDER_MODE, "{folder}");
        }
        for file in ["a/b/c.git/HEAD", "a/b/c.git/config"] {
            assert_eq!(mode(&root.path().join(file)), FILE_MODE, "{file}");
        }
    }

    #[test]
    fn regression_11_a_name_of_the_longest_segment_can_be_created() {
        // A segment of 251 bytes is a folder name of 255 with `.git`, the most a file system
        // allows; the staging folder beside it must not be longer than that.
        let root = tempfile::tempdir().unwrap();
        for len in [236, 251] {
            let repo = name(&"w".repeat(len));
            create_bare(root.path(), &repo, Path::new("/h"))
                .unwrap_or_else(|e| panic!("{len}: {e:#?}"));
            assert!(repo.to_path(root.path()).join("HEAD").exists());
        }
    }

    #[test]
    fn an_existing_repository_is_brought_in_line_once() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("old.git");
        git2::Repository::init_bare(&path).unwrap();
        let (old, hooks) = (name("old"), Path::new("/usr/lib/forge/hooks"));
        let changed = align_settings(root.path(), &old, hooks).unwrap();
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
        assert!(align_settings(root.path(), &old, hooks).unwrap().is_empty());
        let moved = align_settings(root.path(), &old, Path::new("/opt/forge/hooks")).unwrap();
        assert_eq!(moved, ["core.hooksPath"]);
        assert!(align_settings(root.path(), &name("missing"), hooks).is_err());
    }

    #[test]
    fn an_existing_folder_is_not_taken_over() {
        let root = tempfile::tempdir().unwrap();
        fs::create_dir(root.path().join("taken.git")).unwrap();
        assert!(matches!(
            create_bare(root.path(), &name("taken"), Path::new("/h")),
            Err(Error::Exists { .. })
        ));
    }

    /// A root with a private repository `secret` and, outside it, a folder `elsewhere`.
    fn root_with_links() -> (tempfile::TempDir, PathBuf) {
        let top = tempfile::tempdir().unwrap();
        let root = top.path().join("repos");
        fs::create_dir(&root).unwrap();
        create_bare(&root, &name("secret"), Path::new("/h")).unwrap();
        fs::create_dir(top.path().join("elsewhere")).unwrap();
        fs::create_dir(root.join("team")).unwrap();
        symlink("../secret.git", root.join("team/evil.git")).unwrap();
        symlink(top.path().join("elsewhere"), root.join("linked")).unwrap();
        (top, root)
    }

    #[test]
    fn regression_11_no_link_beneath_the_root_is_followed() {
        let (top, root) = root_with_links();
        let evil = name("team/evil");
        assert!(matches!(resolve(&root, &evil), Err(Error::Link { .. })));
        assert!(matches!(
            align_settings(&root, &evil, Path::new("/x")),
            Err(Error::Link { .. })
        ));
        let config = git2::Repository::open_bare(root.join("secret.git"))
            .unwrap()
            .config()
            .unwrap()
            .snapshot()
            .unwrap();
        assert_eq!(config.get_str("core.hooksPath").unwrap(), "/h");
        assert!(matches!(
            resolve(&root, &name("linked/x")),
            Err(Error::Link { .. })
        ));
        assert!(matches!(
            create_bare(&root, &name("linked/new"), Path::new("/h")),
            Err(Error::Link { .. })
        ));
        assert!(matches!(
            create_bare(&root, &name("linked/deep/new"), Path::new("/h")),
            Err(Error::Link { .. })
        ));
        let outside: Vec<_> = fs::read_dir(top.path().join("elsewhere"))
            .unwrap()
            .collect();
        assert!(outside.is_empty(), "{outside:?}");
        assert!(matches!(
            resolve(&root, &name("nothing/here")),
            Err(Error::Missing { .. })
        ));
        assert!(matches!(
            move_aside(&root, &name("linked/x")),
            Err(Error::Link { .. })
        ));
    }

    #[test]
    fn hook_shims_must_be_executable_files() {
        let hooks = tempfile::tempdir().unwrap();
        let missing = hook_shims_problem(&hooks.path().join("gone")).unwrap();
        assert!(
            missing.starts_with("pushes are refused: cannot use "),
            "{missing}"
        );
        for shim in HOOK_SHIMS {
            fs::write(hooks.path().join(shim), "#!/bin/sh\n").unwrap();
            fs::set_permissions(hooks.path().join(shim), fs::Permissions::from_mode(0o755))
                .unwrap();
        }
        assert_eq!(hook_shims_problem(hooks.path()), None);
        let pre = hooks.path().join("pre-receive");
        fs::set_permissions(&pre, fs::Permissions::from_mode(0o644)).unwrap();
        let problem = hook_shims_problem(hooks.path()).unwrap();
        assert!(
            problem.contains("pre-receive is not executable"),
            "{problem}"
        );
        let refused = check_hook_shims(hooks.path()).unwrap_err();
        assert!(!refused.contains('/'), "{refused}");
    }

    #[test]
    fn removed_repositories_are_moved_aside_not_deleted() {
        let root = tempfile::tempdir().unwrap();
        let repo = name("acme/widgets");
        let path = root.path().join("acme/widgets.git");
        create_bare(root.path(), &repo, Path::new("/h")).unwrap();
        let kept = move_aside(root.path(), &repo).unwrap().unwrap();
        assert!(!path.exists());
        assert!(kept.join("HEAD").exists());
        assert!(kept.starts_with(root.path().join(REMOVED_FOLDER)));
        assert_eq!(move_aside(root.path(), &repo).unwrap(), None);
        assert_eq!(move_aside(root.path(), &name("never/was")).unwrap(), None);
        // Removed again (within the same second, or not): a second copy, the first kept.
        create_bare(root.path(), &repo, Path::new("/h")).unwrap();
        let again = move_aside(root.path(), &repo).unwrap().unwrap();
        assert_ne!(again, kept);
        assert!(kept.join("HEAD").exists() && again.join("HEAD").exists());
        assert_eq!(removed_copies(root.path(), &repo).unwrap().len(), 2);
    }

    #[test]
    fn a_removed_repository_comes_back_from_its_latest_copy_or_a_chosen_one() {
        let root = tempfile::tempdir().unwrap();
        let repo = name("acme/widgets");
        assert!(removed_copies(root.path(), &repo).unwrap().is_empty());
        for stamp in ["100", "200", "100.1"] {
            let kept = root.path().join(REMOVED_FOLDER).join(stamp).join("acme");
            fs::create_dir_all(&kept).unwrap();
            fs::create_dir(kept.join("widgets.git")).unwrap();
            fs::write(kept.join("widgets.git/HEAD"), stamp).unwrap();
        }
        // Not copies: a link, another repository, a folder not named by a time.
        let odd = root.path().join(REMOVED_FOLDER).join("300/acme");
        fs::create_dir_all(&odd).unwrap();
        std::os::unix::fs::symlink("/etc", odd.join("widgets.git")).unwrap();
        fs::create_dir_all(
            root.path()
                .join(REMOVED_FOLDER)
                .join("0400/acme/widgets.git"),
        )
        .unwrap();
        fs::create_dir_all(
            root.path()
                .join(REMOVED_FOLDER)
                .join("500/acme/gadgets.git"),
        )
        .unwrap();
        assert_eq!(
            removed_copies(root.path(), &repo).unwrap(),
            ["100", "100.1", "200"]
        );
        let from = move_back(root.path(), &repo, "200").unwrap();
        assert_eq!(from, root.path().join(".removed/200/acme/widgets.git"));
        let head = fs::read_to_string(root.path().join("acme/widgets.git/HEAD")).unwrap();
        assert_eq!(head, "200");
        assert!(matches!(
            move_back(root.path(), &repo, "100"),
            Err(Error::Exists { .. })
        ));
        assert_eq!(
            removed_copies(root.path(), &repo).unwrap(),
            ["100", "100.1"]
        );
    }

    #[test]
    fn a_link_in_a_repositorys_place_is_moved_aside_as_a_link() {
        let (_top, root) = root_with_links();
        let kept = move_aside(&root, &name("team/evil")).unwrap().unwrap();
        assert!(
            fs::symlink_metadata(&kept)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert!(root.join("secret.git/HEAD").exists());
    }
}
