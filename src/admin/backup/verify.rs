//! `forgectl restore DIR --verify`: a backup checks out when its database is sound and of the
//! manifest's schema, every repository fscks, every ref tip equals the manifest, and the audit
//! log of the snapshot agrees with the tips (each ref's newest confirmed row, or a pending row
//! the reconciler will confirm, names the id the ref is at).

use super::manifest::Manifest;
use super::{DATABASE_FILE, Error, REPOS_FOLDER, repos};
use crate::store::Snapshot;
use crate::types::repo_name::RepoName;
use std::path::Path;

/// What a check covered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checked {
    /// Repositories checked.
    pub repos: usize,
    /// Refs checked.
    pub refs: usize,
}

/// Checks the backup in `dir`; the error names the first thing wrong, and its repository.
pub fn verify(dir: &Path) -> Result<Checked, Error> {
    let bad = |why: String| Error::Bad {
        dir: dir.to_owned(),
        why,
    };
    let manifest = Manifest::read(dir)?;
    let database = dir.join(DATABASE_FILE);
    let snapshot_error = |source| Error::Snapshot {
        path: database.clone(),
        source,
    };
    if !database.is_file() {
        return Err(bad(format!("{DATABASE_FILE} is missing")));
    }
    let snapshot = Snapshot::open(&database).map_err(snapshot_error)?;
    if !snapshot.is_sound().map_err(snapshot_error)? {
        return Err(bad("the database fails SQLite's integrity check".into()));
    }
    let schema = snapshot.schema_version().map_err(snapshot_error)?;
    if schema != manifest.schema_version {
        return Err(bad(format!(
            "the database has schema {schema}, the manifest says {}",
            manifest.schema_version
        )));
    }
    let last = snapshot.last_audit_id().map_err(snapshot_error)?;
    if last != manifest.last_audit_id {
        return Err(bad(format!(
            "the database's newest audit row is {last:?}, the manifest says {:?}",
            manifest.last_audit_id
        )));
    }
    let mut checked = Checked { repos: 0, refs: 0 };
    if manifest.db_only {
        return Ok(checked);
    }
    let registered = snapshot.repos().map_err(snapshot_error)?;
    for (name, expected) in &manifest.repos {
        let shown = crate::types::shown::shown(name);
        let repo = RepoName::parse(name)
            .map_err(|e| bad(format!("repository '{shown}' in the manifest: {e}")))?;
        if !registered.contains(name) {
            return Err(bad(format!(
                "repository '{shown}' is in the manifest but not in the database"
            )));
        }
        let path = repo.to_path(&dir.join(REPOS_FOLDER));
        if !path.is_dir() {
            return Err(bad(format!("repository '{shown}' is missing")));
        }
        repos::fsck(name, &path).map_err(|e| bad(e.to_string()))?;
        let tips = repos::ref_tips(name, &path).map_err(|e| bad(e.to_string()))?;
        if let Some((ref_name, want)) = expected.iter().find(|(r, id)| tips.get(*r) != Some(*id)) {
            let found = tips.get(ref_name).map_or("missing", String::as_str);
            return Err(bad(format!(
                "repository '{shown}': {} is {found}, the manifest says {want}",
                crate::types::shown::Escaped(ref_name)
            )));
        }
        if let Some(extra) = tips.keys().find(|r| !expected.contains_key(*r)) {
            return Err(bad(format!(
                "repository '{shown}': {} is not in the manifest",
                crate::types::shown::Escaped(extra)
            )));
        }
        for recorded in snapshot.recorded_tips(name).map_err(snapshot_error)? {
            let at = tips.get(&recorded.ref_name);
            let deleted = recorded.new.bytes().all(|b| b == b'0');
            let agrees = match at {
                None => deleted,
                Some(id) => *id == recorded.new || recorded.pending_new.contains(id),
            };
            if !agrees {
                return Err(bad(format!(
                    "repository '{shown}': {} is {}, its newest audit row says {}",
                    crate::types::shown::Escaped(&recorded.ref_name),
                    at.map_or("missing", String::as_str),
                    recorded.new
                )));
            }
        }
        checked.repos += 1;
        checked.refs += tips.len();
    }
    Ok(checked)
}
