//! Backup and restore, run by `forgectl` as root on the forge host.
//!
//! forged makes the database snapshot (SQLite's `VACUUM INTO`, in its own state folder) and
//! pauses writes on request, under a lease that ends the pause should forgectl die; forgectl
//! reads the snapshot back over the socket (no file is shared between the accounts) and
//! snapshots the repositories itself from the repos root while writes are paused: object
//! files are hard-linked (copied when the backup is on another filesystem), everything git
//! rewrites in place (refs, `packed-refs`, `config`, `HEAD`) is copied. Then writes resume and
//! the slow part (reading the database back, the manifest) runs unpaused.
//!
//! A backup folder holds `forge.db`, `repos/<name>.git` and `manifest.json`
//! ([`manifest::Manifest`]). [`verify`] checks one; [`restore`] puts one in place.

pub mod manifest;
pub mod repos;
pub mod restore;
pub mod take;
pub mod verify;

use crate::exit::{self, Classify, Code};
use std::path::PathBuf;

/// The database file of a backup folder.
pub const DATABASE_FILE: &str = "forge.db";
/// The repositories folder of a backup folder.
pub const REPOS_FOLDER: &str = "repos";
/// The manifest of a backup folder.
pub const MANIFEST_FILE: &str = "manifest.json";

/// Why a backup, a check or a restore failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or folder could not be read or written.
    #[error("cannot {what} {}", path.display())]
    Io {
        /// What was being done.
        what: &'static str,
        /// Where.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The backup folder is not empty.
    #[error("{} is not empty; give a new or empty folder", path.display())]
    NotEmpty {
        /// The folder.
        path: PathBuf,
    },
    /// forged failed or refused.
    #[error("forged refused")]
    Forged(#[from] crate::wire::client::Error),
    /// The snapshot could not be read.
    #[error("cannot read the database snapshot {}", path.display())]
    Snapshot {
        /// The snapshot file.
        path: PathBuf,
        /// Why.
        #[source]
        source: crate::store::Error,
    },
    /// The manifest is missing or does not parse.
    #[error("manifest {} does not parse: {why}", path.display())]
    Manifest {
        /// The file.
        path: PathBuf,
        /// Why.
        why: String,
    },
    /// git failed on a repository.
    #[error("repository '{repo}': {why}")]
    Git {
        /// The repository.
        repo: String,
        /// What failed.
        why: String,
    },
    /// The backup does not check out.
    #[error("backup {} fails its check: {why}", dir.display())]
    Bad {
        /// The backup folder.
        dir: PathBuf,
        /// The first thing wrong, naming the repository where there is one.
        why: String,
    },
    /// The target of a restore is in use or holds data.
    #[error("cannot restore: {why}")]
    Target {
        /// Why, and what to do.
        why: String,
    },
}

impl Classify for Error {
    fn code(&self) -> Code {
        match self {
            Error::Io { source, .. } => exit::io_code(source),
            Error::Forged(e) => e.code(),
            Error::NotEmpty { .. }
            | Error::Manifest { .. }
            | Error::Bad { .. }
            | Error::Target { .. }
            | Error::Snapshot { .. }
            | Error::Git { .. } => Code::Refused,
        }
    }
}

/// Returns a closure making an [`Error::Io`] for `what` on `path`.
pub(crate) fn io_error<'a>(
    what: &'static str,
    path: &'a std::path::Path,
) -> impl FnOnce(std::io::Error) -> Error + 'a {
    move |source| Error::Io {
        what,
        path: path.to_owned(),
        source,
    }
}
