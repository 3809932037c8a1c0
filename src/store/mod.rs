//! All of forge's state in one SQLite file: opening it safely, and the one [`Store`] whose
//! `impl` blocks are split by table (`users.rs`, `keys.rs`, `repos.rs`, `audit.rs`,
//! `sessions.rs`).
//!
//! SQL lives only in this module. Each public method is one transaction and returns the
//! store's own records (never the wire's). The database runs in WAL mode with
//! `synchronous=FULL`, so a change forged acknowledged survives a crash or a power cut.
//!
//! Three writes on the push path commit without the flush ([`Store::lock_unflushed`]): a
//! session (`check`), a push's confirmation (post-receive's `record`) and a key's last use;
//! and so does a denied attempt's record, which nobody was told of.
//! Each is in the WAL when forged answers, so it survives forged's own crash; a power cut may
//! take it back, and with it every later commit (SQLite replays the WAL in order, so no later
//! flushed commit outlives it), which loses nothing: a lost session refuses its push (the user
//! pushes again), a lost confirmation leaves the push's pending row, which was flushed before
//! git moved the ref and which the reconciler confirms, and a last use is a hint.
//!
//! The SQL of the table files is kept to what SQLite and PostgreSQL both accept: times are
//! integer unix seconds formatted in Rust, `ON CONFLICT ... DO NOTHING` rather than `INSERT OR
//! IGNORE`, `RETURNING id` rather than `last_insert_rowid()`, random values made in Rust. What
//! only SQLite understands stays in this file and in `migrations.rs`: opening the file, the
//! `PRAGMA`s (journal mode, sync, foreign keys, `user_version`), the schema, and reading
//! SQLite's error codes. A second backend replaces those and keeps the rest.

mod admin_audit;
mod audit;
mod cas;
mod fingerprints;
mod keys;
mod maintenance;
mod migrations;
mod policy;
mod policy_version;
pub(crate) mod repos;
mod sessions;
mod users;

pub use admin_audit::{
    AdminAction, AdminAuditRecord, AuditScope, DeniedAttempt, DeniedRecord, OK as AUDIT_OK,
};
pub use audit::{AuditRecord, Counts, PendingUpdate, Pusher, RefChange};
pub use cas::{CaRecord, PrincipalRecord};
pub use keys::{KeyRecord, KeyUse, LAST_USE_GRANULARITY_SECONDS};
pub use maintenance::{MaintenanceRecord, RecordedTip, Snapshot};
pub use policy::{RepoFacts, StoredPolicy};
pub use repos::{GrantRecord, RepoRecord};
pub use sessions::SessionRecord;
pub use users::UserRecord;

use crate::exit::{Classify, Code};
use crate::types::timestamp::Timestamp;
use rusqlite::{Connection, ErrorCode, OpenFlags};
use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// How long a statement waits for another writer before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// SQLite failed.
    #[error("database error")]
    Sqlite(#[from] rusqlite::Error),
    /// A row with the same unique value exists.
    #[error("{what} already exists")]
    AlreadyExists {
        /// What exists, in words.
        what: String,
    },
    /// The row asked for does not exist.
    #[error("{what} does not exist")]
    NotFound {
        /// What is missing, in words.
        what: String,
    },
    /// The database was made by a newer forge.
    #[error(
        "database schema version {found} is newer than this forged knows ({known}); upgrade forge"
    )]
    TooNew {
        /// The version found in the file.
        found: i64,
        /// The newest version this build knows.
        known: i64,
    },
    /// A stored value no longer parses.
    #[error("stored {what} is not valid: {value}")]
    Corrupt {
        /// Which column.
        what: &'static str,
        /// The value found.
        value: String,
    },
    /// Work done inside a transaction (such as creating a repository's folder) failed, so the
    /// transaction was rolled back.
    #[error("{what}")]
    Outside {
        /// What was being done.
        what: String,
        /// Why it failed.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The database file, or its WAL, could not be given [`FILE_MODE`].
    #[error("cannot give {} mode 0600", path.display())]
    Mode {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// The mode of the database file and of its `-wal` and `-shm` files, whatever the umask:
/// forged's alone (SQLite gives the WAL and shared-memory files the mode of the database).
pub const FILE_MODE: u32 = 0o600;

/// Makes the database file at `path` if missing and gives it, and any WAL or shared-memory
/// file beside it, [`FILE_MODE`]; SQLite alone would make it 0644, and keep what it found.
fn set_file_modes(path: &Path) -> Result<(), Error> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let mode_error = |path: &Path| {
        let path = path.to_owned();
        move |source| Error::Mode { path, source }
    };
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(FILE_MODE)
        .open(path)
        .map_err(mode_error(path))?;
    file.set_permissions(std::fs::Permissions::from_mode(FILE_MODE))
        .map_err(mode_error(path))?;
    for suffix in ["-wal", "-shm"] {
        let mut beside = path.as_os_str().to_owned();
        beside.push(suffix);
        let beside = std::path::PathBuf::from(beside);
        match std::fs::set_permissions(&beside, std::fs::Permissions::from_mode(FILE_MODE)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(mode_error(&beside)(e));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Returns `error` as [`Error::AlreadyExists`] when it is a UNIQUE violation.
fn unique_as_exists(error: rusqlite::Error, what: impl FnOnce() -> String) -> Error {
    match error.sqlite_error_code() {
        Some(ErrorCode::ConstraintViolation) => Error::AlreadyExists { what: what() },
        _ => Error::Sqlite(error),
    }
}

/// forge's state: one SQLite connection, used one transaction at a time.
pub struct Store {
    connection: Mutex<Connection>,
}

impl Store {
    /// Returns the store in the file at `path`, created and migrated as needed.
    ///
    /// A new file is made readable and writable by its owner only (mode 0600); SQLite gives
    /// its `-wal` and `-shm` files the same mode.
    pub fn open(path: &Path) -> Result<Store, Error> {
        set_file_modes(path)?;
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let connection = Connection::open_with_flags(path, flags)?;
        Store::configure(connection)
    }

    /// Returns a store in memory, for tests.
    pub fn open_in_memory() -> Result<Store, Error> {
        Store::configure(Connection::open_in_memory()?)
    }

    fn configure(mut connection: Connection) -> Result<Store, Error> {
        connection.busy_timeout(BUSY_TIMEOUT)?;
        connection.pragma_update(None, "journal_mode", "WAL")?;
        connection.pragma_update(None, "synchronous", "FULL")?;
        connection.pragma_update(None, "foreign_keys", true)?;
        migrations::apply(&mut connection)?;
        Ok(Store {
            connection: Mutex::new(connection),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave a transaction half done: an open
        // transaction is rolled back when dropped. So a poisoned lock is safe to take.
        self.connection
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Returns the connection for a write whose commits need not reach the disk before they
    /// return (see the module doc for which, and why that loses nothing): `synchronous=NORMAL`
    /// until the guard drops, then `FULL` again.
    fn lock_unflushed(&self) -> Unflushed<'_> {
        let connection = self.lock();
        // If this fails the commit is flushed after all: slower, never less safe.
        let _ = connection.pragma_update(None, "synchronous", "NORMAL");
        Unflushed { connection }
    }
}

/// The connection while its commits are not flushed; see [`Store::lock_unflushed`].
struct Unflushed<'a> {
    connection: MutexGuard<'a, Connection>,
}

impl std::ops::Deref for Unflushed<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        &self.connection
    }
}

impl std::ops::DerefMut for Unflushed<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        &mut self.connection
    }
}

impl Drop for Unflushed<'_> {
    fn drop(&mut self) {
        // Setting a pragma that is a flag of the connection does no I/O and cannot fail short
        // of memory; should it fail, the next durable write is not flushed, so it is logged
        // at error.
        if let Err(e) = self.connection.pragma_update(None, "synchronous", "FULL") {
            tracing::error!(error = %e, "cannot restore synchronous=FULL on the database");
        }
    }
}

/// Returns the current time in unix seconds.
fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Returns a stored unix time as a [`Timestamp`], or [`Error::Corrupt`] naming the column.
///
/// Times are kept as integers and formatted in Rust, so no engine's date functions are needed.
fn stored_instant(what: &'static str, second: i64) -> Result<Timestamp, Error> {
    Timestamp::from_unix(second).ok_or_else(|| Error::Corrupt {
        what,
        value: second.to_string(),
    })
}

/// Returns a stored unix time that may be missing as a [`Timestamp`], or [`Error::Corrupt`].
fn stored_time(what: &'static str, second: Option<i64>) -> Result<Option<Timestamp>, Error> {
    second
        .map(|second| stored_instant(what, second))
        .transpose()
}

/// Returns the value in `text`, or [`Error::Corrupt`] naming the column.
fn parse_stored<T, E>(
    what: &'static str,
    text: String,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Result<T, Error> {
    parse(&text).map_err(|_| Error::Corrupt { what, value: text })
}

impl Classify for Error {
    fn code(&self) -> Code {
        match self {
            Error::Sqlite(rusqlite::Error::SqliteFailure(e, _))
                if matches!(e.code, ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) =>
            {
                Code::Unavailable
            }
            Error::Sqlite(_) | Error::Corrupt { .. } => Code::Internal,
            Error::AlreadyExists { .. } | Error::NotFound { .. } | Error::TooNew { .. } => {
                Code::Refused
            }
            Error::Outside { .. } => Code::Internal,
            Error::Mode { source, .. } => crate::exit::io_code(source),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn regression_11_the_database_and_its_wal_are_0600_whatever_the_umask() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("forge.db");
        // The umask is the process's: nextest runs each test in a process of its own.
        let before = nix::sys::stat::umask(nix::sys::stat::Mode::empty());
        let store = Store::open(&path);
        nix::sys::stat::umask(before);
        let store = store.unwrap();
        store
            .add_user(&crate::types::user_name::UserName::parse("alice").unwrap())
            .unwrap();
        for name in ["forge.db", "forge.db-wal", "forge.db-shm"] {
            let mode = std::fs::metadata(dir.path().join(name))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o7777, FILE_MODE, "{name}");
        }
        drop(store);
        // A database an older forged left world-readable is closed up at the next start.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        Store::open(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o7777, FILE_MODE);
    }

    #[test]
    fn a_file_store_uses_wal_and_full_sync() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("forge.db")).unwrap();
        let connection = store.lock();
        let mode: String = connection
            .query_row("PRAGMA journal_mode", [], |row| row.get(0))
            .unwrap();
        let sync: i64 = connection
            .query_row("PRAGMA synchronous", [], |row| row.get(0))
            .unwrap();
        let foreign_keys: i64 = connection
            .query_row("PRAGMA foreign_keys", [], |row| row.get(0))
            .unwrap();
        assert_eq!((mode.as_str(), sync, foreign_keys), ("wal", 2, 1));
    }

    #[test]
    fn an_unflushed_write_leaves_the_connection_flushing_again() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("forge.db")).unwrap();
        let sync = |connection: &Connection| -> i64 {
            connection
                .query_row("PRAGMA synchronous", [], |row| row.get(0))
                .unwrap()
        };
        {
            let unflushed = store.lock_unflushed();
            assert_eq!(sync(&unflushed), 1, "NORMAL while unflushed");
        }
        assert_eq!(sync(&store.lock()), 2, "FULL again afterwards");
    }

    #[test]
    fn a_new_database_is_its_owners_alone() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("forge.db");
        let store = Store::open(&path).unwrap();
        store.counts().unwrap();
        for name in ["forge.db", "forge.db-wal", "forge.db-shm"] {
            let mode = std::fs::metadata(dir.path().join(name))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{name} has mode {mode:o}");
        }
    }

    #[test]
    fn reopening_keeps_the_data() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("forge.db");
        let alice = crate::types::user_name::UserName::parse("alice").unwrap();
        Store::open(&path).unwrap().add_user(&alice).unwrap();
        let users = Store::open(&path).unwrap().list_users().unwrap();
        assert_eq!(users[0].name, alice);
    }
}
