//! `manifest.json` of a backup: what forge and schema made it, when, the newest audit row the
//! database snapshot holds, and each repository's ref tips at the moment of the snapshot.

use super::{Error, MANIFEST_FILE, io_error};
use crate::types::timestamp::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// What a backup holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The version of forge that made it.
    pub forge_version: String,
    /// The schema version of its database.
    pub schema_version: i64,
    /// When it was made.
    pub created: Timestamp,
    /// Whether it holds only the database.
    pub db_only: bool,
    /// The id of the newest confirmed audit row in the database.
    pub last_audit_id: Option<i64>,
    /// Each repository's refs and the ids they point at, by repository name; empty for a
    /// database-only backup.
    pub repos: BTreeMap<String, BTreeMap<String, String>>,
}

impl Manifest {
    /// Writes the manifest into `dir`, through a temporary file, flushed.
    pub fn write(&self, dir: &Path) -> Result<(), Error> {
        let text = serde_json::to_string_pretty(self).map_err(|e| Error::Manifest {
            path: dir.join(MANIFEST_FILE),
            why: e.to_string(),
        })?;
        let part = dir.join(format!("{MANIFEST_FILE}.part"));
        write_flushed(&part, text.as_bytes())?;
        let path = dir.join(MANIFEST_FILE);
        std::fs::rename(&part, &path).map_err(io_error("rename into", &path))?;
        Ok(())
    }

    /// Reads the manifest of the backup in `dir`.
    pub fn read(dir: &Path) -> Result<Manifest, Error> {
        let path = dir.join(MANIFEST_FILE);
        let text = std::fs::read_to_string(&path).map_err(io_error("read", &path))?;
        serde_json::from_str(&text).map_err(|e| Error::Manifest {
            path,
            why: e.to_string(),
        })
    }
}

/// Writes `bytes` to a new file at `path` and flushes it to the disk.
pub(crate) fn write_flushed(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    use std::io::Write;
    let mut file = std::fs::File::create(path).map_err(io_error("create", path))?;
    file.write_all(bytes).map_err(io_error("write", path))?;
    file.sync_all().map_err(io_error("flush", path))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manifest_reads_back_as_written() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = Manifest {
            forge_version: "0.1.0".into(),
            schema_version: 8,
            created: Timestamp::from_unix(1_800_000_000).unwrap(),
            db_only: false,
            last_audit_id: Some(7),
            repos: BTreeMap::from([(
                "acme/widgets".to_owned(),
                BTreeMap::from([("refs/heads/main".to_owned(), "a".repeat(40))]),
            )]),
        };
        manifest.write(dir.path()).unwrap();
        assert_eq!(Manifest::read(dir.path()).unwrap(), manifest);
    }
}
