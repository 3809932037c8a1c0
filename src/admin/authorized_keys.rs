//! The forge-managed block of an OpenSSH `authorized_keys` file: replacing it (or appending it)
//! while keeping every other byte of the file as it was, and writing the file back atomically
//! with its owner and mode.
//!
//! The block is delimited by [`BEGIN_MARKER`] and [`END_MARKER`]. Anything odd about the markers
//! is an error for the admin to fix by hand: guessing could leave stale keys active.
//!
//! The git account's own file (`~git/.ssh/authorized_keys`, see [`sync_account_file`]) is
//! reached without following any link below its home: the git account owns `~/.ssh` and could
//! otherwise point root's write at another account's `authorized_keys`.

use crate::exit::{self, Classify, Code};
use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The line that opens the managed block.
///
/// It is matched as a whole line, byte for byte.
pub const BEGIN_MARKER: &str = "# forge: begin managed keys; do not edit, run 'forgectl keys sync'";

/// The line that closes the managed block.
///
/// It is matched as a whole line, byte for byte.
pub const END_MARKER: &str = "# forge: end managed keys";

/// The mode of an `authorized_keys` file that forge creates.
const NEW_FILE_MODE: u32 = 0o600;

/// How many temporary names [`write_atomically`] tries before giving up.
const TEMP_NAME_ATTEMPTS: u32 = 16;

/// Errors from rewriting and writing an `authorized_keys` file.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// There is an end marker with no begin marker before it.
    #[error(
        "authorized_keys has an end marker on line {line} but no begin marker before it; fix the file by hand"
    )]
    EndWithoutBegin {
        /// The line number (from 1) of the end marker.
        line: usize,
    },
    /// There is a begin marker with no end marker after it.
    #[error(
        "authorized_keys has a begin marker on line {line} but no end marker after it; fix the file by hand"
    )]
    BeginWithoutEnd {
        /// The line number (from 1) of the begin marker.
        line: usize,
    },
    /// There is more than one begin marker.
    #[error(
        "authorized_keys has begin markers on lines {first} and {second} where one managed block is allowed; fix the file by hand"
    )]
    SeveralBegins {
        /// The line number (from 1) of the first begin marker.
        first: usize,
        /// The line number (from 1) of the second begin marker.
        second: usize,
    },
    /// There is more than one end marker.
    #[error(
        "authorized_keys has end markers on lines {first} and {second} where one managed block is allowed; fix the file by hand"
    )]
    SeveralEnds {
        /// The line number (from 1) of the first end marker.
        first: usize,
        /// The line number (from 1) of the second end marker.
        second: usize,
    },
    /// A line is a marker except for whitespace or a carriage return.
    #[error(
        "line {line} of authorized_keys looks like a forge marker but differs from it (spaces or line ending changed?); fix the file by hand"
    )]
    DamagedMarker {
        /// The line number (from 1) of the damaged marker.
        line: usize,
    },
    /// A managed line contains a line break or is itself a marker.
    #[error("managed line {index} contains a line break or a forge marker")]
    BadManagedLine {
        /// The position (from 0) of the line in the managed list.
        index: usize,
    },
    /// The target exists but is not a regular file (a symbolic link, a directory...).
    #[error("{} is not a regular file; forge only replaces a regular file", .path.display())]
    NotRegularFile {
        /// The target path.
        path: PathBuf,
    },
    /// The target belongs to another user, and only root may write a file for another user.
    #[error("{} belongs to uid {owner}; only root can replace it keeping its owner", .path.display())]
    ForeignOwner {
        /// The target path.
        path: PathBuf,
        /// The uid that owns the target.
        owner: u32,
    },
    /// The git account forge.toml names does not exist here, so its file cannot be found.
    #[error("git_user '{git_user}' is not an account here; give --file or fix forge.toml")]
    NoAccount {
        /// The account name.
        git_user: String,
    },
    /// The git account's `.ssh` folder or `authorized_keys` is a link, a hard link or someone
    /// else's: the git account could have pointed it at another account's file.
    #[error(
        "{} {why}; the git account could point it at another account's file: replace it with a plain one of its own",
        .path.display()
    )]
    Redirected {
        /// The folder or file.
        path: PathBuf,
        /// What is wrong with it.
        why: &'static str,
    },
    /// A file system operation failed.
    #[error("cannot {action} {}", .path.display())]
    Io {
        /// What was being done, such as `write` or `rename onto`.
        action: &'static str,
        /// The file or directory it was done to.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
}

/// Writes `lines` as forge's block of the git account's `authorized_keys` (or of `file`),
/// keeping every other line of the file; returns the file written.
///
/// A missing file is created, with its folder made as sshd's `StrictModes` wants it (mode
/// 0700, the git account's when root runs this). Without `file`, this is
/// [`sync_account_file`] for the git account.
pub fn sync(file: Option<&Path>, git_user: &str, lines: &[String]) -> Result<PathBuf, Error> {
    let file = match file {
        Some(file) => file.to_owned(),
        None => return sync_account_file(&Account::named(git_user)?, lines),
    };
    let existing = match fs::read(&file) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(io_error("read", &file)(e)),
    };
    let contents = rewrite(&existing, lines)?;
    if let Some(folder) = file.parent() {
        make_ssh_folder(folder, git_user)?;
    }
    write_atomically(&file, &contents)?;
    Ok(file)
}

/// The account whose `~/.ssh/authorized_keys` forge writes: who owns it, and where it lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The account's uid: the owner of the folder and the file.
    pub uid: u32,
    /// The account's primary group.
    pub gid: u32,
    /// The account's home folder.
    pub home: PathBuf,
}

impl Account {
    /// Returns the account `name` of this machine.
    pub fn named(name: &str) -> Result<Account, Error> {
        let user = nix::unistd::User::from_name(name)
            .ok()
            .flatten()
            .ok_or_else(|| Error::NoAccount {
                git_user: name.to_owned(),
            })?;
        Ok(Account {
            uid: user.uid.as_raw(),
            gid: user.gid.as_raw(),
            home: user.dir,
        })
    }
}

/// Writes `lines` as forge's block of `account`'s `~/.ssh/authorized_keys`, keeping every
/// other line; returns the file written.
///
/// The home folder is the system's word and may be a link; below it nothing is followed:
/// `.ssh` is opened with `O_NOFOLLOW` (made, mode 0700, when missing), and is refused when it
/// is a link or belongs to anyone but the account or root; the file is refused when it is a
/// link, has other hard links, or belongs to anyone but the account or root. The new file is
/// written beside it through the folder's descriptor and renamed over it, and when root runs
/// this both belong to the account (mode 0600 for the file), so sshd's `StrictModes` accepts
/// them: a file root left owned by root is given back.
pub fn sync_account_file(account: &Account, lines: &[String]) -> Result<PathBuf, Error> {
    use nix::fcntl::{OFlag, openat};
    use nix::sys::stat::Mode;
    let folder_path = account.home.join(".ssh");
    let path = folder_path.join("authorized_keys");
    let errno_io = |action, path: &Path| {
        let path = path.to_owned();
        move |errno: nix::errno::Errno| Error::Io {
            action,
            path,
            source: io::Error::from(errno),
        }
    };
    let home = nix::fcntl::open(
        &account.home,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(errno_io("open", &account.home))?;
    let is_root = nix::unistd::Uid::effective().is_root();
    let folder_flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    let folder = match openat(&home, ".ssh", folder_flags, Mode::empty()) {
        Ok(folder) => folder,
        Err(nix::errno::Errno::ENOENT) => {
            nix::sys::stat::mkdirat(&home, ".ssh", Mode::from_bits_truncate(0o700))
                .map_err(errno_io("create", &folder_path))?;
            let folder = openat(&home, ".ssh", folder_flags, Mode::empty())
                .map_err(errno_io("open", &folder_path))?;
            nix::sys::stat::fchmod(&folder, Mode::from_bits_truncate(0o700))
                .map_err(errno_io("restrict", &folder_path))?;
            if is_root {
                give_to(&folder, account)
                    .map_err(errno_io("give to the git account", &folder_path))?;
            }
            folder
        }
        Err(nix::errno::Errno::ELOOP | nix::errno::Errno::ENOTDIR) => {
            return Err(Error::Redirected {
                path: folder_path,
                why: "is a symbolic link or not a folder",
            });
        }
        Err(errno) => return Err(errno_io("open", &folder_path)(errno)),
    };
    let folder = File::from(folder);
    let found = folder
        .metadata()
        .map_err(io_error("inspect", &folder_path))?;
    if found.uid() != account.uid && found.uid() != 0 {
        return Err(Error::Redirected {
            path: folder_path,
            why: "belongs to another account",
        });
    }
    let existing = match openat(
        &folder,
        "authorized_keys",
        OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC,
        Mode::empty(),
    ) {
        Ok(fd) => {
            let mut file = File::from(fd);
            let metadata = file.metadata().map_err(io_error("inspect", &path))?;
            let why = if !metadata.is_file() {
                Some("is not a regular file")
            } else if metadata.nlink() != 1 {
                Some("has other hard links")
            } else if metadata.uid() != account.uid && metadata.uid() != 0 {
                Some("belongs to another account")
            } else {
                None
            };
            if let Some(why) = why {
                return Err(Error::Redirected { path, why });
            }
            let mut bytes = Vec::new();
            io::Read::read_to_end(&mut file, &mut bytes).map_err(io_error("read", &path))?;
            bytes
        }
        Err(nix::errno::Errno::ENOENT) => Vec::new(),
        Err(nix::errno::Errno::ELOOP) => {
            return Err(Error::Redirected {
                path,
                why: "is a symbolic link",
            });
        }
        Err(errno) => return Err(errno_io("read", &path)(errno)),
    };
    let contents = rewrite(&existing, lines)?;
    let temp = format!(".authorized_keys.forge-tmp.{}", std::process::id());
    let temp_path = folder_path.join(&temp);
    let written = openat(
        &folder,
        temp.as_str(),
        OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::from_bits_truncate(NEW_FILE_MODE),
    )
    .map_err(errno_io("create", &temp_path))
    .and_then(|fd| {
        let mut file = File::from(fd);
        file.write_all(&contents)
            .map_err(io_error("write", &temp_path))?;
        if is_root {
            give_to(&file, account).map_err(errno_io("give to the git account", &temp_path))?;
        }
        file.set_permissions(fs::Permissions::from_mode(NEW_FILE_MODE))
            .map_err(io_error("set the mode of", &temp_path))?;
        file.sync_all().map_err(io_error("sync", &temp_path))?;
        nix::fcntl::renameat(&folder, temp.as_str(), &folder, "authorized_keys")
            .map_err(errno_io("rename onto", &path))?;
        folder
            .sync_all()
            .map_err(io_error("sync directory", &folder_path))
    });
    if written.is_err() {
        let _ = nix::unistd::unlinkat(
            &folder,
            temp.as_str(),
            nix::unistd::UnlinkatFlags::NoRemoveDir,
        );
    }
    written.map(|()| path)
}

/// Gives the open file or folder `fd` to `account` (its uid and primary group).
fn give_to(fd: &impl std::os::fd::AsFd, account: &Account) -> nix::Result<()> {
    nix::unistd::fchown(
        fd,
        Some(nix::unistd::Uid::from_raw(account.uid)),
        Some(nix::unistd::Gid::from_raw(account.gid)),
    )
}

/// Creates the folder of a new authorized_keys file with the mode sshd's StrictModes wants,
/// owned by the git account when root creates it.
fn make_ssh_folder(folder: &Path, git_user: &str) -> Result<(), Error> {
    if folder.is_dir() {
        return Ok(());
    }
    fs::create_dir_all(folder).map_err(io_error("create", folder))?;
    fs::set_permissions(folder, fs::Permissions::from_mode(0o700))
        .map_err(io_error("restrict", folder))?;
    if nix::unistd::Uid::effective().is_root()
        && let Ok(Some(owner)) = nix::unistd::User::from_name(git_user)
    {
        std::os::unix::fs::chown(folder, Some(owner.uid.as_raw()), Some(owner.gid.as_raw()))
            .map_err(io_error("give to the git account", folder))?;
    }
    Ok(())
}

/// Returns a function that turns an io error while doing `action` to `path` into an [`Error`].
fn io_error(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> Error + use<> {
    let path = path.to_owned();
    move |source| Error::Io {
        action,
        path,
        source,
    }
}

/// Returns the new contents of an `authorized_keys` file with `managed` as its managed block.
///
/// If `existing` has one [`BEGIN_MARKER`] line and one [`END_MARKER`] line after it, the lines
/// from the begin marker to the end marker (both included) are replaced by the new block. If it
/// has no markers, the block is appended, after a newline if the file does not end with one.
/// Every byte outside the block is kept as it was: `existing` may have CRLF lines, no final
/// newline or bytes that are not UTF-8. The block is the begin marker, each managed line and the
/// end marker, each followed by `\n`.
///
/// Refused, for the admin to fix by hand: an end marker before or without a begin marker, a
/// begin marker without an end marker, two of either, and a line that equals a marker except for
/// surrounding whitespace (for instance after a conversion to CRLF), which would otherwise leave
/// a stale block in place. A managed line with a line break, or equal to a marker, is refused too.
pub fn rewrite(existing: &[u8], managed: &[String]) -> Result<Vec<u8>, Error> {
    if let Some(index) = managed.iter().position(|line| !is_managed_line(line)) {
        return Err(Error::BadManagedLine { index });
    }
    let block = render_block(managed);
    match find_block(existing)? {
        Some(span) => {
            let mut out = Vec::with_capacity(existing.len() + block.len());
            out.extend_from_slice(&existing[..span.start]);
            out.extend_from_slice(&block);
            out.extend_from_slice(&existing[span.end..]);
            Ok(out)
        }
        None => {
            let mut out = Vec::with_capacity(existing.len() + 1 + block.len());
            out.extend_from_slice(existing);
            if !existing.is_empty() && !existing.ends_with(b"\n") {
                out.push(b'\n');
            }
            out.extend_from_slice(&block);
            Ok(out)
        }
    }
}

/// Replaces the file at `path` with `contents`, atomically.
///
/// The contents go to a new temporary file in the same directory (created with `O_EXCL` and mode
/// 0600), which is synced, given the owner, group and mode of the file it replaces, renamed over
/// `path`, and then the directory is synced. A new file gets mode 0600 and the writer's owner.
///
/// Ownership: root gives the temporary file the existing file's owner and group. Another user
/// may only replace a file it owns (or gets [`Error::ForeignOwner`]); it keeps the group if it
/// can and otherwise leaves the group as created. A target that is a symbolic link or anything
/// but a regular file is refused, since the rename would replace the link itself. On any error
/// the temporary file is removed and the target is left as it was.
pub fn write_atomically(path: &Path, contents: &[u8]) -> Result<(), Error> {
    let existing = match fs::symlink_metadata(path) {
        Ok(metadata) if metadata.file_type().is_file() => Some(metadata),
        Ok(_) => {
            return Err(Error::NotRegularFile {
                path: path.to_path_buf(),
            });
        }
        Err(source) if source.kind() == io::ErrorKind::NotFound => None,
        Err(source) => return Err(io_error("inspect", path)(source)),
    };

    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let (mut file, temp) = create_temp(dir, path)?;

    file.write_all(contents)
        .map_err(io_error("write", temp.path()))?;
    let ours = file.metadata().map_err(io_error("inspect", temp.path()))?;
    let mode = match &existing {
        Some(metadata) => {
            give_owner(&file, temp.path(), path, metadata, &ours)?;
            metadata.mode() & 0o7777
        }
        None => NEW_FILE_MODE,
    };
    // After the chown, which clears set-id bits.
    file.set_permissions(fs::Permissions::from_mode(mode))
        .map_err(io_error("set the mode of", temp.path()))?;
    file.sync_all().map_err(io_error("sync", temp.path()))?;
    drop(file);

    fs::rename(temp.path(), path).map_err(io_error("rename onto", path))?;
    temp.forget();

    File::open(dir)
        .and_then(|dir| dir.sync_all())
        .map_err(io_error("sync directory", dir))
}

/// Where the managed block sits in a file: a byte range covering whole lines.
#[derive(Debug, PartialEq, Eq)]
struct Span {
    start: usize,
    end: usize,
}

/// Finds the managed block, or `None` if the file has no markers at all.
fn find_block(existing: &[u8]) -> Result<Option<Span>, Error> {
    let mut begins = Vec::new();
    let mut ends = Vec::new();
    let mut offset = 0;
    for (index, line) in existing.split_inclusive(|byte| *byte == b'\n').enumerate() {
        let number = index + 1;
        let content = line.strip_suffix(b"\n").unwrap_or(line);
        let span = Span {
            start: offset,
            end: offset + line.len(),
        };
        offset = span.end;
        if content == BEGIN_MARKER.as_bytes() {
            begins.push((number, span));
        } else if content == END_MARKER.as_bytes() {
            ends.push((number, span));
        } else {
            let trimmed = content.trim_ascii();
            if trimmed == BEGIN_MARKER.as_bytes() || trimmed == END_MARKER.as_bytes() {
                return Err(Error::DamagedMarker { line: number });
            }
        }
    }

    if let [(first, _), (second, _), ..] = begins.as_slice() {
        return Err(Error::SeveralBegins {
            first: *first,
            second: *second,
        });
    }
    if let [(first, _), (second, _), ..] = ends.as_slice() {
        return Err(Error::SeveralEnds {
            first: *first,
            second: *second,
        });
    }
    match (begins.first(), ends.first()) {
        (None, None) => Ok(None),
        (Some((_, begin)), Some((_, end))) if begin.start < end.start => Ok(Some(Span {
            start: begin.start,
            end: end.end,
        })),
        (Some((line, _)), None) => Err(Error::BeginWithoutEnd { line: *line }),
        // No begin marker, or the only one comes after the end marker.
        (_, Some((line, _))) => Err(Error::EndWithoutBegin { line: *line }),
    }
}

/// Returns whether a string can be one line of the managed block.
fn is_managed_line(line: &str) -> bool {
    !line.contains(['\n', '\r'])
        && line.trim_ascii() != BEGIN_MARKER
        && line.trim_ascii() != END_MARKER
}

/// Returns the managed block: the markers around the lines, each line ending in `\n`.
fn render_block(managed: &[String]) -> Vec<u8> {
    let mut block = Vec::new();
    for line in std::iter::once(BEGIN_MARKER)
        .chain(managed.iter().map(String::as_str))
        .chain(std::iter::once(END_MARKER))
    {
        block.extend_from_slice(line.as_bytes());
        block.push(b'\n');
    }
    block
}

/// A temporary file that is removed when dropped, unless [`TempPath::forget`] was called.
struct TempPath {
    path: PathBuf,
    keep: bool,
}

impl TempPath {
    fn path(&self) -> &Path {
        &self.path
    }

    /// Keeps the file: it has been renamed into place.
    fn forget(mut self) {
        self.keep = true;
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        if !self.keep {
            // Best effort: the error that got us here is the one worth reporting.
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Creates a new, empty file with mode 0600 next to `target`, under a name no one else uses.
fn create_temp(dir: &Path, target: &Path) -> Result<(File, TempPath), Error> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let base = target
        .file_name()
        .map(OsString::from)
        .unwrap_or_else(|| OsString::from("authorized_keys"));
    let mut last_error = None;
    for _ in 0..TEMP_NAME_ATTEMPTS {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.subsec_nanos());
        let mut name = OsString::from(".");
        name.push(&base);
        name.push(format!(
            ".forge-tmp.{}.{}.{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let path = dir.join(name);
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(NEW_FILE_MODE)
            .open(&path)
        {
            Ok(file) => return Ok((file, TempPath { path, keep: false })),
            Err(source) if source.kind() == io::ErrorKind::AlreadyExists => {
                last_error = Some((path, source));
            }
            Err(source) => {
                return Err(Error::Io {
                    action: "create",
                    path,
                    source,
                });
            }
        }
    }
    let (path, source) = last_error.unwrap_or_else(|| {
        (
            dir.to_path_buf(),
            io::Error::from(io::ErrorKind::AlreadyExists),
        )
    });
    Err(Error::Io {
        action: "create",
        path,
        source,
    })
}

/// What to do about the owner and group of the temporary file.
#[derive(Debug, PartialEq, Eq)]
enum Ownership {
    /// It already has the target's owner and group.
    Keep,
    /// We are root: give it the target's owner and group, or fail.
    Chown { uid: u32, gid: u32 },
    /// The target is ours but has another group: try to keep that group, or leave ours.
    TryChgrp { gid: u32 },
    /// The target belongs to someone else and we are not root.
    Refuse { owner: u32 },
}

/// Decides how to give the temporary file (owned by `ours`) the target's `(uid, gid)`.
fn plan_ownership(target: (u32, u32), ours: (u32, u32)) -> Ownership {
    let (uid, gid) = target;
    if target == ours {
        Ownership::Keep
    } else if ours.0 == 0 {
        Ownership::Chown { uid, gid }
    } else if uid != ours.0 {
        Ownership::Refuse { owner: uid }
    } else {
        Ownership::TryChgrp { gid }
    }
}

/// Gives the temporary file the owner and group of the target, as far as [`plan_ownership`] says.
fn give_owner(
    file: &File,
    temp: &Path,
    target: &Path,
    target_metadata: &fs::Metadata,
    ours: &fs::Metadata,
) -> Result<(), Error> {
    let plan = plan_ownership(
        (target_metadata.uid(), target_metadata.gid()),
        (ours.uid(), ours.gid()),
    );
    match plan {
        Ownership::Keep => Ok(()),
        Ownership::Chown { uid, gid } => std::os::unix::fs::fchown(file, Some(uid), Some(gid))
            .map_err(|source| Error::Io {
                action: "give the target's owner to",
                path: temp.to_path_buf(),
                source,
            }),
        Ownership::TryChgrp { gid } => {
            // A user may only pick a group it belongs to; failing that, its own group will do.
            let _ = std::os::unix::fs::fchown(file, None, Some(gid));
            Ok(())
        }
        Ownership::Refuse { owner } => Err(Error::ForeignOwner {
            path: target.to_path_buf(),
            owner,
        }),
    }
}

impl Classify for Error {
    fn code(&self) -> Code {
        match self {
            Error::EndWithoutBegin { .. }
            | Error::BeginWithoutEnd { .. }
            | Error::SeveralBegins { .. }
            | Error::SeveralEnds { .. }
            | Error::DamagedMarker { .. }
            | Error::NotRegularFile { .. }
            | Error::ForeignOwner { .. }
            | Error::Redirected { .. }
            | Error::NoAccount { .. } => Code::Refused,
            Error::BadManagedLine { .. } => Code::Internal,
            Error::Io { source, .. } => exit::io_code(source),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALICE: &str = "command=\"/usr/bin/forge-shell key-1\",restrict ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKWdBCWIAVdUijgQgfx7slfgwTxC0SCaU8fqHAQdPlcM";
    const BOB: &str = "command=\"/usr/bin/forge-shell key-2\",restrict ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBm3tpFUfZl6L3P7EVVAxzKoJLfEEnGiXZEm0JOjVvSF";

    fn managed(lines: &[&str]) -> Vec<String> {
        lines.iter().map(|line| (*line).to_owned()).collect()
    }

    /// Returns the block `rewrite` writes for these lines.
    fn block(lines: &[&str]) -> String {
        let mut out = format!("{BEGIN_MARKER}\n");
        for line in lines {
            out.push_str(line);
            out.push('\n');
        }
        out.push_str(END_MARKER);
        out.push('\n');
        out
    }

    fn bytes(text: &str) -> Vec<u8> {
        text.as_bytes().to_vec()
    }

    #[test]
    fn rewrite_replaces_or_appends_the_block_and_keeps_every_other_byte() {
        let new = block(&[ALICE, BOB]);
        let old = block(&["ssh-ed25519 AAAAstale"]);
        let mut not_utf8 = b"ssh-rsa AAAA\xff\xfe weird\n".to_vec();
        not_utf8.extend_from_slice(old.as_bytes());
        not_utf8.extend_from_slice(b"\x00tail\xc3");
        let mut not_utf8_expected = b"ssh-rsa AAAA\xff\xfe weird\n".to_vec();
        not_utf8_expected.extend_from_slice(new.as_bytes());
        not_utf8_expected.extend_from_slice(b"\x00tail\xc3");

        let valid: Vec<(&str, Vec<u8>, Vec<u8>)> = vec![
            ("no file yet", Vec::new(), bytes(&new)),
            (
                "no markers",
                bytes("ssh-ed25519 AAAAmine admin\n"),
                bytes(&format!("ssh-ed25519 AAAAmine admin\n{new}")),
            ),
            (
                "no markers, no final newline",
                bytes("ssh-ed25519 AAAAmine admin"),
                bytes(&format!("ssh-ed25519 AAAAmine admin\n{new}")),
            ),
            (
                "no markers, crlf lines",
                bytes("# keys\r\nssh-ed25519 AAAAmine\r\n"),
                bytes(&format!("# keys\r\nssh-ed25519 AAAAmine\r\n{new}")),
            ),
            ("only a blank line", bytes("\n"), bytes(&format!("\n{new}"))),
            ("block alone", bytes(&old), bytes(&new)),
            (
                "block in the middle",
                bytes(&format!(
                    "# before\n\nssh-ed25519 AAAAmine\n{old}# after\n  \n"
                )),
                bytes(&format!(
                    "# before\n\nssh-ed25519 AAAAmine\n{new}# after\n  \n"
                )),
            ),
            (
                "crlf lines around the block",
                bytes(&format!("# before\r\n{old}ssh-ed25519 AAAAmine\r\n")),
                bytes(&format!("# before\r\n{new}ssh-ed25519 AAAAmine\r\n")),
            ),
            (
                "text after the block without final newline",
                bytes(&format!("{old}ssh-ed25519 AAAAmine")),
                bytes(&format!("{new}ssh-ed25519 AAAAmine")),
            ),
            (
                "end marker without final newline",
                bytes(&format!("# before\n{}", old.trim_end_matches('\n'))),
                bytes(&format!("# before\n{new}")),
            ),
            (
                "marker text inside another line is not a marker",
                bytes(&format!("# see '{BEGIN_MARKER}'\n")),
                bytes(&format!("# see '{BEGIN_MARKER}'\n{new}")),
            ),
            ("bytes that are not utf-8", not_utf8, not_utf8_expected),
        ];
        for (name, existing, expected) in &valid {
            let out = rewrite(existing, &managed(&[ALICE, BOB]))
                .unwrap_or_else(|err| panic!("{name}: {err}"));
            assert_eq!(
                String::from_utf8_lossy(&out),
                String::from_utf8_lossy(expected),
                "{name}"
            );
            assert_eq!(&out, expected, "{name}");
            // A second run finds its own block and changes nothing.
            let again = rewrite(&out, &managed(&[ALICE, BOB])).unwrap();
            assert_eq!(again, out, "{name}: second run");
        }
    }

    #[test]
    fn rewrite_with_no_managed_keys_leaves_an_empty_block() {
        let existing = format!("# mine\n{}# more\n", block(&[ALICE, BOB]));
        let out = rewrite(existing.as_bytes(), &[]).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!("# mine\n{BEGIN_MARKER}\n{END_MARKER}\n# more\n")
        );
        assert_eq!(rewrite(b"", &[]).unwrap(), bytes(&block(&[])));
    }

    #[test]
    fn broken_markers_are_refused_with_the_line_to_fix() {
        let begin = BEGIN_MARKER;
        let end = END_MARKER;
        type Check = fn(&Error) -> bool;
        let invalid: Vec<(&str, String, Check)> = vec![
            ("end without begin", format!("# a\n{end}\n"), |e| {
                matches!(e, Error::EndWithoutBegin { line: 2 })
            }),
            ("end before begin", format!("{end}\n# a\n{begin}\n"), |e| {
                matches!(e, Error::EndWithoutBegin { line: 1 })
            }),
            (
                "begin without end",
                format!("# a\n# b\n{begin}\n{ALICE}\n"),
                |e| matches!(e, Error::BeginWithoutEnd { line: 3 }),
            ),
            (
                "two begins",
                format!("{begin}\n{ALICE}\n{begin}\n{end}\n"),
                |e| {
                    matches!(
                        e,
                        Error::SeveralBegins {
                            first: 1,
                            second: 3
                        }
                    )
                },
            ),
            (
                "two blocks",
                format!("{begin}\n{end}\n# a\n{begin}\n{end}\n"),
                |e| {
                    matches!(
                        e,
                        Error::SeveralBegins {
                            first: 1,
                            second: 4
                        }
                    )
                },
            ),
            ("two ends", format!("{begin}\n{end}\n{end}\n"), |e| {
                matches!(
                    e,
                    Error::SeveralEnds {
                        first: 2,
                        second: 3
                    }
                )
            }),
            (
                "begin with crlf",
                format!("{begin}\r\n{ALICE}\n{end}\n"),
                |e| matches!(e, Error::DamagedMarker { line: 1 }),
            ),
            (
                "end with trailing space",
                format!("{begin}\n{ALICE}\n{end} \n"),
                |e| matches!(e, Error::DamagedMarker { line: 3 }),
            ),
            ("indented begin", format!("# a\n  {begin}\n{end}\n"), |e| {
                matches!(e, Error::DamagedMarker { line: 2 })
            }),
        ];
        for (name, existing, check) in &invalid {
            match rewrite(existing.as_bytes(), &managed(&[ALICE])) {
                Ok(out) => panic!("{name}: accepted as {:?}", String::from_utf8_lossy(&out)),
                Err(err) => {
                    assert!(check(&err), "{name}: wrong error {err:?}");
                    assert!(err.to_string().ends_with("fix the file by hand"), "{err}");
                }
            }
        }
    }

    #[test]
    fn managed_lines_cannot_break_out_of_the_block() {
        let invalid = [
            format!("{ALICE}\n{BOB}"),
            format!("{ALICE}\r"),
            BEGIN_MARKER.to_owned(),
            format!("{END_MARKER} "),
        ];
        for line in invalid {
            assert!(
                matches!(
                    rewrite(b"", &[ALICE.to_owned(), line.clone()]),
                    Err(Error::BadManagedLine { index: 1 })
                ),
                "{line:?} accepted"
            );
        }
    }

    #[test]
    fn ownership_is_kept_by_root_and_by_the_owner_only() {
        let rows = [
            ((1000, 1000), (1000, 1000), Ownership::Keep),
            ((0, 0), (0, 0), Ownership::Keep),
            (
                (1000, 1001),
                (0, 0),
                Ownership::Chown {
                    uid: 1000,
                    gid: 1001,
                },
            ),
            ((0, 5), (0, 0), Ownership::Chown { uid: 0, gid: 5 }),
            (
                (1000, 1001),
                (1000, 1000),
                Ownership::TryChgrp { gid: 1001 },
            ),
            (
                (1000, 1000),
                (1002, 1000),
                Ownership::Refuse { owner: 1000 },
            ),
            ((0, 0), (1000, 1000), Ownership::Refuse { owner: 0 }),
        ];
        for (target, ours, expected) in rows {
            assert_eq!(
                plan_ownership(target, ours),
                expected,
                "{target:?} {ours:?}"
            );
        }
    }

    /// Returns the names in a directory, sorted.
    fn names_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    fn mode_of(path: &Path) -> u32 {
        fs::metadata(path).unwrap().mode() & 0o7777
    }

    #[test]
    fn write_atomically_creates_a_new_file_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("authorized_keys");
        write_atomically(&path, b"one\n").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"one\n");
        assert_eq!(mode_of(&path), 0o600);
        assert_eq!(names_in(dir.path()), ["authorized_keys"]);
    }

    #[test]
    fn write_atomically_replaces_the_content_and_keeps_the_mode() {
        for mode in [0o640, 0o600, 0o644, 0o400] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("authorized_keys");
            fs::write(&path, b"old content that is longer\n").unwrap();
            fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
            let before = fs::metadata(&path).unwrap();

            write_atomically(&path, b"new\n").unwrap();

            let after = fs::metadata(&path).unwrap();
            assert_eq!(fs::read(&path).unwrap(), b"new\n");
            assert_eq!(mode_of(&path), mode, "{mode:o}");
            assert_eq!((after.uid(), after.gid()), (before.uid(), before.gid()));
            assert_ne!(
                after.ino(),
                before.ino(),
                "the file was not replaced by rename"
            );
            assert_eq!(names_in(dir.path()), ["authorized_keys"]);
        }
    }

    #[test]
    fn write_atomically_as_root_keeps_another_users_owner() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("authorized_keys");
        fs::write(&path, b"old\n").unwrap();
        if fs::metadata(&path).unwrap().uid() != 0 {
            // Only root can make a file owned by someone else; plan_ownership covers the
            // decision for other users.
            return;
        }
        std::os::unix::fs::chown(&path, Some(4242), Some(4343)).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();

        write_atomically(&path, b"new\n").unwrap();

        let after = fs::metadata(&path).unwrap();
        assert_eq!((after.uid(), after.gid()), (4242, 4343));
        assert_eq!(mode_of(&path), 0o640);
        assert_eq!(fs::read(&path).unwrap(), b"new\n");
    }

    #[test]
    fn write_atomically_refuses_a_symlink_and_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real");
        fs::write(&real, b"real\n").unwrap();
        let link = dir.path().join("authorized_keys");
        std::os::unix::fs::symlink(&real, &link).unwrap();

        let err = write_atomically(&link, b"new\n").unwrap_err();

        assert!(matches!(err, Error::NotRegularFile { .. }), "{err:?}");
        assert_eq!(fs::read(&real).unwrap(), b"real\n");
        assert_eq!(names_in(dir.path()), ["authorized_keys", "real"]);
    }

    #[test]
    fn temp_files_are_removed_unless_renamed_into_place() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("authorized_keys");

        let (_, dropped) = create_temp(dir.path(), &target).unwrap();
        let (_, kept) = create_temp(dir.path(), &target).unwrap();
        assert_ne!(dropped.path(), kept.path());
        assert_eq!(mode_of(kept.path()), 0o600);
        assert_eq!(names_in(dir.path()).len(), 2);

        drop(dropped);
        let kept_path = kept.path().to_path_buf();
        kept.forget();
        assert_eq!(
            names_in(dir.path()),
            [kept_path.file_name().unwrap().to_string_lossy()]
        );
    }

    #[test]
    fn write_atomically_refuses_a_directory_and_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("authorized_keys");
        fs::create_dir(&target).unwrap();

        let err = write_atomically(&target, b"new\n").unwrap_err();

        assert!(matches!(err, Error::NotRegularFile { .. }), "{err:?}");
        assert_eq!(names_in(dir.path()), ["authorized_keys"]);
    }

    #[test]
    fn io_errors_name_the_path_and_keep_the_cause() {
        use std::error::Error as _;
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("gone").join("authorized_keys");
        let err = write_atomically(&missing, b"x").unwrap_err();
        assert!(err.to_string().starts_with("cannot create "), "{err}");
        assert!(err.to_string().contains("gone"), "{err}");
        assert!(err.source().is_some());
    }

    /// A home folder for an account of uid 4242 (root gives files away; others skip).
    fn scratch_account() -> Option<(tempfile::TempDir, Account)> {
        if !nix::unistd::Uid::effective().is_root() {
            eprintln!("skipped: not root: only root writes a file for another account");
            return None;
        }
        let home = tempfile::tempdir().unwrap();
        let account = Account {
            uid: 4242,
            gid: 4343,
            home: home.path().to_owned(),
        };
        Some((home, account))
    }

    #[test]
    fn regression_11_a_sync_as_root_leaves_the_file_to_the_git_account() {
        let Some((home, account)) = scratch_account() else {
            return;
        };
        let written = sync_account_file(&account, &managed(&[ALICE])).unwrap();
        let ssh = home.path().join(".ssh");
        assert_eq!(written, ssh.join("authorized_keys"));
        for (path, mode) in [(&ssh, 0o700), (&written, 0o600)] {
            let found = fs::metadata(path).unwrap();
            assert_eq!((found.uid(), found.gid()), (4242, 4343), "{path:?}");
            assert_eq!(found.mode() & 0o7777, mode, "{path:?}");
        }
        // A file an earlier sync left owned by root is given back, its other lines kept.
        std::os::unix::fs::chown(&written, Some(0), Some(0)).unwrap();
        fs::write(
            &written,
            format!("ssh-ed25519 AAAA mine\n{}", block(&[ALICE])),
        )
        .unwrap();
        sync_account_file(&account, &managed(&[BOB])).unwrap();
        assert_eq!(fs::metadata(&written).unwrap().uid(), 4242);
        let text = fs::read_to_string(&written).unwrap();
        assert_eq!(text, format!("ssh-ed25519 AAAA mine\n{}", block(&[BOB])));
        assert_eq!(names_in(&ssh), ["authorized_keys"]);
    }

    #[test]
    fn regression_11_a_redirected_ssh_folder_or_file_is_refused() {
        let Some((home, account)) = scratch_account() else {
            return;
        };
        let other = tempfile::tempdir().unwrap();
        let victim = other.path().join("authorized_keys");
        fs::write(&victim, "ssh-ed25519 AAAA victim\n").unwrap();
        let ssh = home.path().join(".ssh");
        std::os::unix::fs::symlink(other.path(), &ssh).unwrap();
        let refused = sync_account_file(&account, &managed(&[ALICE])).unwrap_err();
        assert!(matches!(refused, Error::Redirected { .. }), "{refused}");
        assert_eq!(
            fs::read_to_string(&victim).unwrap(),
            "ssh-ed25519 AAAA victim\n"
        );
        assert_eq!(names_in(other.path()), ["authorized_keys"]);

        fs::remove_file(&ssh).unwrap();
        fs::create_dir(&ssh).unwrap();
        std::os::unix::fs::chown(&ssh, Some(4242), Some(4343)).unwrap();
        let file = ssh.join("authorized_keys");
        std::os::unix::fs::symlink(&victim, &file).unwrap();
        let refused = sync_account_file(&account, &managed(&[ALICE])).unwrap_err();
        assert!(matches!(refused, Error::Redirected { .. }), "{refused}");
        fs::remove_file(&file).unwrap();
        fs::hard_link(&victim, &file).unwrap();
        let refused = sync_account_file(&account, &managed(&[ALICE])).unwrap_err();
        assert!(refused.to_string().contains("hard links"), "{refused}");
        fs::remove_file(&file).unwrap();
        fs::write(&file, "").unwrap();
        std::os::unix::fs::chown(&file, Some(5555), Some(5555)).unwrap();
        let refused = sync_account_file(&account, &managed(&[ALICE])).unwrap_err();
        assert!(refused.to_string().contains("another account"), "{refused}");
        assert_eq!(
            fs::read_to_string(&victim).unwrap(),
            "ssh-ed25519 AAAA victim\n"
        );
    }
}
