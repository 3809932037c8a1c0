//! The `maintenance` table (one row while maintenance mode is on), and what a backup needs of
//! the database: a consistent copy made by SQLite itself (`VACUUM INTO`, never a file copy), the
//! schema version, and, read from such a copy, the ref tips its audit log records.

use super::{Error, Store, migrations, stored_instant};
use crate::types::timestamp::Timestamp;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use std::path::Path;

/// Maintenance mode as stored: on since when, by whom, with what message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaintenanceRecord {
    /// The admin's message, shown to every refused push and write.
    pub message: String,
    /// When it was turned on.
    pub since: Timestamp,
    /// The uid of the admin who turned it on.
    pub by_uid: u32,
}

/// The newest confirmed audit row of one ref, as a snapshot records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedTip {
    /// The repository.
    pub repo: String,
    /// The full ref name.
    pub ref_name: String,
    /// The id the ref got (all zeros for a deletion).
    pub new: String,
    /// Whether a pending row (accepted, not yet confirmed) names `new` instead; the
    /// reconciler confirms such rows later.
    pub pending_new: Vec<String>,
}

impl Store {
    /// Returns maintenance mode, if it is on.
    pub fn maintenance(&self) -> Result<Option<MaintenanceRecord>, Error> {
        let connection = self.lock();
        let row: Option<(String, i64, i64)> = connection
            .query_row(
                "SELECT message, since, by_uid FROM maintenance WHERE id = 1",
                [],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .optional()?;
        row.map(|(message, since, by_uid)| {
            Ok(MaintenanceRecord {
                message,
                since: stored_instant("maintenance time", since)?,
                by_uid: u32::try_from(by_uid).map_err(|_| Error::Corrupt {
                    what: "maintenance uid",
                    value: by_uid.to_string(),
                })?,
            })
        })
        .transpose()
    }

    /// Turns maintenance mode on, or replaces its message if it is on already.
    pub fn set_maintenance(&self, record: &MaintenanceRecord) -> Result<(), Error> {
        let connection = self.lock();
        connection.execute(
            "INSERT INTO maintenance (id, message, since, by_uid) VALUES (1, ?1, ?2, ?3) \
             ON CONFLICT (id) DO UPDATE SET message = excluded.message",
            params![record.message, record.since.unix(), record.by_uid],
        )?;
        Ok(())
    }

    /// Turns maintenance mode off; returns whether it was on.
    pub fn clear_maintenance(&self) -> Result<bool, Error> {
        let connection = self.lock();
        Ok(connection.execute("DELETE FROM maintenance", [])? > 0)
    }

    /// Writes a consistent copy of the whole database to `target`, which must not exist, with
    /// SQLite's `VACUUM INTO`; returns the schema version and the id of the newest confirmed
    /// audit row, both read from the copy.
    pub fn snapshot_into(&self, target: &Path) -> Result<(i64, Option<i64>), Error> {
        let name = target.to_str().ok_or_else(|| Error::Corrupt {
            what: "snapshot path",
            value: target.display().to_string(),
        })?;
        self.lock().execute("VACUUM INTO ?1", [name])?;
        let copy = Snapshot::open(target)?;
        Ok((copy.schema_version()?, copy.last_audit_id()?))
    }
}

/// A database snapshot opened read-only, for checking a backup: never migrated, never
/// written, no `-wal` or `-shm` made beside it.
pub struct Snapshot {
    connection: Connection,
}

impl Snapshot {
    /// Opens the snapshot at `path`; one from a newer forge is refused.
    pub fn open(path: &Path) -> Result<Snapshot, Error> {
        // A URI, for `immutable`: the characters a URI gives a meaning to are escaped.
        let escaped = path
            .display()
            .to_string()
            .replace('%', "%25")
            .replace('?', "%3f")
            .replace('#', "%23");
        let uri = format!("file:{escaped}?immutable=1");
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let connection = Connection::open_with_flags(uri, flags)?;
        let found: i64 = connection.query_row("PRAGMA user_version", [], |row| row.get(0))?;
        if found > migrations::latest() {
            return Err(Error::TooNew {
                found,
                known: migrations::latest(),
            });
        }
        Ok(Snapshot { connection })
    }

    /// Returns whether SQLite finds the file sound (`PRAGMA integrity_check` says `ok` and
    /// `foreign_key_check` finds nothing).
    pub fn is_sound(&self) -> Result<bool, Error> {
        let integrity: String = self
            .connection
            .query_row("PRAGMA integrity_check", [], |row| row.get(0))?;
        let mut statement = self.connection.prepare("PRAGMA foreign_key_check")?;
        let orphans = statement.query_map([], |_| Ok(()))?.count();
        Ok(integrity == "ok" && orphans == 0)
    }

    /// Returns the schema version.
    pub fn schema_version(&self) -> Result<i64, Error> {
        Ok(self
            .connection
            .query_row("PRAGMA user_version", [], |row| row.get(0))?)
    }

    /// Returns the names of the registered repositories, sorted.
    pub fn repos(&self) -> Result<Vec<String>, Error> {
        let mut statement = self
            .connection
            .prepare("SELECT name FROM repos ORDER BY name")?;
        let rows = statement.query_map([], |row| row.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Returns the id of the newest confirmed audit row.
    pub fn last_audit_id(&self) -> Result<Option<i64>, Error> {
        Ok(self.connection.query_row(
            "SELECT max(id) FROM ref_updates WHERE state = 'confirmed'",
            [],
            |row| row.get(0),
        )?)
    }

    /// Returns, for every ref of `repo` the audit log names, the id its newest confirmed row
    /// gave it, and the ids pending rows newer than that would give it.
    pub fn recorded_tips(&self, repo: &str) -> Result<Vec<RecordedTip>, Error> {
        let mut statement = self.connection.prepare(
            "SELECT ref_name, new FROM ref_updates r \
             WHERE repo = ?1 AND state = 'confirmed' AND id = \
               (SELECT max(id) FROM ref_updates s \
                WHERE s.repo = r.repo AND s.ref_name = r.ref_name AND s.state = 'confirmed') \
             ORDER BY ref_name",
        )?;
        let confirmed: Vec<(String, String)> = statement
            .query_map([repo], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<Result<_, _>>()?;
        let mut pending = self.connection.prepare(
            "SELECT new FROM ref_updates WHERE repo = ?1 AND ref_name = ?2 AND state = 'pending'",
        )?;
        let mut tips = Vec::with_capacity(confirmed.len());
        for (ref_name, new) in confirmed {
            let pending_new = pending
                .query_map(params![repo, ref_name], |row| row.get(0))?
                .collect::<Result<_, _>>()?;
            tips.push(RecordedTip {
                repo: repo.to_owned(),
                ref_name,
                new,
                pending_new,
            });
        }
        Ok(tips)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maintenance_is_off_on_then_off_again() {
        let store = Store::open_in_memory().unwrap();
        assert_eq!(store.maintenance().unwrap(), None);
        let on = MaintenanceRecord {
            message: "disk swap until 06:00".into(),
            since: Timestamp::from_unix(1_800_000_000).unwrap(),
            by_uid: 0,
        };
        store.set_maintenance(&on).unwrap();
        assert_eq!(store.maintenance().unwrap(), Some(on.clone()));
        let again = MaintenanceRecord {
            message: "later".into(),
            since: Timestamp::from_unix(1_800_000_100).unwrap(),
            by_uid: 1000,
        };
        store.set_maintenance(&again).unwrap();
        let kept = store.maintenance().unwrap().unwrap();
        assert_eq!(
            (kept.message.as_str(), kept.since, kept.by_uid),
            ("later", on.since, 0)
        );
        assert!(store.clear_maintenance().unwrap());
        assert!(!store.clear_maintenance().unwrap());
        assert_eq!(store.maintenance().unwrap(), None);
    }

    #[test]
    fn a_snapshot_is_a_sound_database_of_the_same_schema() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("forge.db")).unwrap();
        store
            .add_user(&crate::types::user_name::UserName::parse("alice").unwrap())
            .unwrap();
        let target = dir.path().join("copy ?#%41.db");
        let (version, last) = store.snapshot_into(&target).unwrap();
        assert_eq!((version, last), (migrations::latest(), None));
        let snapshot = Snapshot::open(&target).unwrap();
        assert!(snapshot.is_sound().unwrap());
        assert_eq!(snapshot.schema_version().unwrap(), version);
        assert!(
            store.snapshot_into(&target).is_err(),
            "VACUUM INTO never overwrites"
        );
    }
}
