//! Repository folders in backups: snapshotting one (object files hard-linked, everything git
//! rewrites in place copied), reading its ref tips, checking it with `git fsck`, and copying
//! one back with forge's owners and modes.

use super::{Error, io_error};
use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// How many files a snapshot linked and how many it copied.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Copied {
    /// Object files hard-linked.
    pub linked: u64,
    /// Files copied.
    pub copied: u64,
    /// Files that vanished between listing and linking (git's housekeeping).
    pub vanished: u64,
}

/// Returns whether `name` must be read after its siblings: what git's housekeeping writes
/// before it removes what the siblings hold.
fn is_read_last(name: &std::ffi::OsStr) -> bool {
    name == "pack" || name == "packed-refs"
}

/// Returns whether `relative` (a path inside a repository folder) is an object file that git
/// never rewrites once written, so that a hard link of it is a snapshot: loose objects and
/// packs. `objects/info/` (rewritten by repacks) and the quarantine folders of pushes in
/// progress are not.
fn is_immutable_object(relative: &Path) -> bool {
    let mut parts = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy());
    if parts.next().as_deref() != Some("objects") {
        return false;
    }
    match parts.next().as_deref() {
        Some("pack") => true,
        Some(folder) => folder.len() == 2 && folder.bytes().all(|b| b.is_ascii_hexdigit()),
        None => false,
    }
}

/// Returns whether `relative` is a quarantine folder of a push in progress, which a snapshot
/// leaves out.
fn is_quarantine(relative: &Path) -> bool {
    let text = relative.to_string_lossy();
    text.starts_with("objects/incoming-") || text.starts_with("objects/tmp_objdir")
}

/// How many times a snapshot is taken again when a file vanished under it.
const ATTEMPTS: usize = 3;

/// Snapshots the repository folder `from` into `to` (which must not exist): object files are
/// hard-linked, or copied when `to` is on another filesystem; everything else is copied.
///
/// Pushes are paused, but git's automatic housekeeping (`gc --auto` after a push) may still
/// run: it writes new packs and `packed-refs` before it removes what they replace. So `pack/`
/// is read after the loose objects and `packed-refs` after `refs/`, and a snapshot under which
/// a file vanished is taken again.
pub fn snapshot(from: &Path, to: &Path) -> Result<Copied, Error> {
    let mut attempt = 1;
    loop {
        let mut copied = Copied::default();
        walk(from, to, Path::new(""), &mut copied, true)?;
        if copied.vanished == 0 || attempt == ATTEMPTS {
            return Ok(copied);
        }
        attempt += 1;
        fs::remove_dir_all(to).map_err(io_error("remove", to))?;
    }
}

/// Copies the repository folder `from` into `to` (which must not exist), every file copied.
pub fn copy(from: &Path, to: &Path) -> Result<Copied, Error> {
    let mut copied = Copied::default();
    walk(from, to, Path::new(""), &mut copied, false)?;
    Ok(copied)
}

fn walk(
    from: &Path,
    to: &Path,
    relative: &Path,
    copied: &mut Copied,
    link_objects: bool,
) -> Result<(), Error> {
    let source = from.join(relative);
    let target = to.join(relative);
    fs::create_dir_all(&target).map_err(io_error("make", &target))?;
    let mut entries = fs::read_dir(&source)
        .and_then(|entries| entries.collect::<Result<Vec<_>, _>>())
        .map_err(io_error("read", &source))?;
    entries.sort_by_key(|entry| is_read_last(&entry.file_name()));
    for entry in entries {
        let inner = relative.join(entry.file_name());
        if is_quarantine(&inner) {
            continue;
        }
        let kind = entry
            .file_type()
            .map_err(io_error("look at", &entry.path()))?;
        let (from_path, to_path) = (from.join(&inner), to.join(&inner));
        if kind.is_dir() {
            walk(from, to, &inner, copied, link_objects)?;
        } else if kind.is_symlink() {
            let points_to = fs::read_link(&from_path).map_err(io_error("read", &from_path))?;
            std::os::unix::fs::symlink(points_to, &to_path).map_err(io_error("make", &to_path))?;
            copied.copied += 1;
        } else if link_objects && is_immutable_object(&inner) {
            match fs::hard_link(&from_path, &to_path) {
                Ok(()) => copied.linked += 1,
                // Another filesystem (or links not allowed): a copy, made while paused.
                Err(e) if matches!(e.raw_os_error(), Some(EXDEV | EPERM)) => {
                    copy_file(&from_path, &to_path)?;
                    copied.copied += 1;
                }
                // Packed and pruned since the folder was read: taken again.
                Err(e) if e.kind() == io::ErrorKind::NotFound => copied.vanished += 1,
                Err(e) => return Err(io_error("link", &to_path)(e)),
            }
        } else {
            match copy_file(&from_path, &to_path) {
                Ok(()) => copied.copied += 1,
                Err(Error::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
                    copied.vanished += 1
                }
                Err(e) => return Err(e),
            }
        }
    }
    Ok(())
}

const EXDEV: i32 = nix::errno::Errno::EXDEV as i32;
const EPERM: i32 = nix::errno::Errno::EPERM as i32;

fn copy_file(from: &Path, to: &Path) -> Result<(), Error> {
    fs::copy(from, to).map_err(io_error("copy", from))?;
    Ok(())
}

/// Returns every ref of the repository at `path` and the id it points at (symbolic refs
/// such as `HEAD` left out).
pub fn ref_tips(repo: &str, path: &Path) -> Result<BTreeMap<String, String>, Error> {
    let failed = |e: git2::Error| Error::Git {
        repo: repo.to_owned(),
        why: e.message().to_owned(),
    };
    let repository = git2::Repository::open_bare(path).map_err(failed)?;
    let mut tips = BTreeMap::new();
    for reference in repository.references().map_err(failed)? {
        let reference = reference.map_err(failed)?;
        if let (Ok(name), Some(target)) = (reference.name(), reference.target()) {
            tips.insert(name.to_owned(), target.to_string());
        }
    }
    Ok(tips)
}

/// Runs `git fsck` on the repository at `path`; an error carries git's first line.
pub fn fsck(repo: &str, path: &Path) -> Result<(), Error> {
    let output = std::process::Command::new("git")
        .arg("-C")
        .arg(path)
        .args(["fsck", "--full", "--no-dangling", "--no-progress"])
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        // A restored folder belongs to the git account, not to root.
        .env("GIT_CONFIG_COUNT", "1")
        .env("GIT_CONFIG_KEY_0", "safe.directory")
        .env("GIT_CONFIG_VALUE_0", "*")
        .output()
        .map_err(io_error("run git fsck on", path))?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let first = stderr.lines().next().unwrap_or("git fsck failed");
    Err(Error::Git {
        repo: repo.to_owned(),
        why: format!(
            "git fsck failed: {}",
            crate::types::shown::Escaped(first.trim())
        ),
    })
}

/// Gives every folder under `path` (itself included) `folder_mode` and every file the owner
/// and group's read bits, and write bits where the owner had them; with `owner`, also that
/// uid and gid.
pub fn set_owners(
    path: &Path,
    folder_mode: u32,
    file_mode: u32,
    owner: Option<(u32, u32)>,
) -> Result<(), Error> {
    let meta = fs::symlink_metadata(path).map_err(io_error("look at", path))?;
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::lchown(path, Some(uid), Some(gid))
            .map_err(io_error("set the owner of", path))?;
    }
    if meta.file_type().is_symlink() {
        return Ok(());
    }
    let mode = if meta.is_dir() {
        folder_mode
    } else if meta.permissions().mode() & 0o200 != 0 {
        file_mode
    } else {
        file_mode & 0o444
    };
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .map_err(io_error("set the mode of", path))?;
    if meta.is_dir() {
        for entry in fs::read_dir(path).map_err(io_error("read", path))? {
            let entry = entry.map_err(io_error("read", path))?;
            set_owners(&entry.path(), folder_mode, file_mode, owner)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_object_files_are_linked() {
        let valid = ["objects/ab/cdef0123", "objects/pack/pack-1.pack"];
        let invalid = [
            "refs/heads/main",
            "packed-refs",
            "config",
            "HEAD",
            "objects/info/packs",
            "objects",
        ];
        for path in valid {
            assert!(is_immutable_object(Path::new(path)), "{path}");
        }
        for path in invalid {
            assert!(!is_immutable_object(Path::new(path)), "{path}");
        }
        assert!(is_quarantine(Path::new("objects/incoming-Ab12")));
        assert!(is_read_last("pack".as_ref()) && is_read_last("packed-refs".as_ref()));
        assert!(!is_read_last("refs".as_ref()));
    }

    #[test]
    fn a_snapshot_links_objects_and_copies_refs() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let from = dir.path().join("a.git");
        let repository = git2::Repository::init_bare(&from).unwrap();
        let blob = repository.blob(b"one").unwrap();
        let tree = {
            let mut builder = repository.treebuilder(None).unwrap();
            builder.insert("a", blob, 0o100644).unwrap();
            builder.write().unwrap()
        };
        let tree = repository.find_tree(tree).unwrap();
        let who = git2::Signature::now("a", "a@example.com").unwrap();
        let commit = repository
            .commit(Some("refs/heads/main"), &who, &who, "one", &tree, &[])
            .unwrap();
        let to = dir.path().join("b.git");
        let copied = snapshot(&from, &to).unwrap();
        assert!(copied.linked >= 3, "{copied:?}");
        let main = to.join("refs/heads/main");
        assert_ne!(
            fs::metadata(&main).unwrap().ino(),
            fs::metadata(from.join("refs/heads/main")).unwrap().ino(),
            "refs are copied, never linked"
        );
        let tips = ref_tips("b", &to).unwrap();
        assert_eq!(tips["refs/heads/main"], commit.to_string());
        fsck("b", &to).unwrap();
    }
}
