//! Maintenance mode and what a backup asks of forged: a short pause of writes under a lease,
//! and a database snapshot made by SQLite (`VACUUM INTO` in forged's own state folder) that
//! forgectl reads back over the socket piece by piece, so no file is shared between accounts.

use super::answer::{Failure, Handled};
use crate::daemon::gate::{Closed, MAX_PAUSE_LEASE};
use crate::daemon::peer::Caller;
use crate::daemon::state::Daemon;
use crate::store::MaintenanceRecord;
use crate::types::timestamp::Timestamp;
use crate::wire::{ErrorKind, MaintenanceInfo, Response};
use base64ct::Encoding;
use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::time::Duration;

/// The longest maintenance message, in bytes.
const MAX_MESSAGE_BYTES: usize = 200;

/// The longest wait one request may ask for, inside an admin client's request timeout.
const MAX_WAIT: Duration = Duration::from_secs(110);

/// The bytes of a snapshot one `db_snapshot_read` answers.
const CHUNK_BYTES: usize = 1 << 20;

/// How old a snapshot file may get before the next snapshot removes it (its backup died).
const STALE_SNAPSHOT: Duration = Duration::from_secs(60 * 60);

/// Returns the failure a closed gate answers with.
pub(super) fn refusal(closed: Closed) -> Failure {
    let message = match closed {
        Closed::Maintenance(message) => format!("under maintenance: {message}; try again later"),
        Closed::Paused => "paused for maintenance; try again".to_owned(),
    };
    Failure {
        kind: ErrorKind::Maintenance,
        message,
    }
}

/// Lets a change of state through the gate, or refuses it.
pub(super) fn admit(daemon: &Daemon) -> Result<(), Failure> {
    daemon.gate.admit().map_err(refusal)
}

pub(super) fn on(daemon: &Daemon, caller: &Caller, message: String) -> Handled {
    let message = message.trim().to_owned();
    if message.is_empty()
        || message.len() > MAX_MESSAGE_BYTES
        || message.chars().any(char::is_control)
    {
        return Err(Failure::refused(format!(
            "a maintenance message is one line of 1 to {MAX_MESSAGE_BYTES} bytes; shorten it"
        )));
    }
    daemon.store.set_maintenance(&MaintenanceRecord {
        message,
        since: Timestamp::now(),
        by_uid: caller.uid,
    })?;
    let stored = daemon.store.maintenance()?;
    if let Some(on) = &stored {
        tracing::warn!(peer_uid = caller.uid, message = %crate::types::shown::Escaped(&on.message), "maintenance mode on: pushes and changes are refused");
    }
    daemon.gate.set_maintenance(stored);
    status(daemon)
}

pub(super) fn off(daemon: &Daemon, caller: &Caller) -> Handled {
    let was_on = daemon.store.clear_maintenance()?;
    daemon.gate.set_maintenance(None);
    if was_on {
        tracing::warn!(peer_uid = caller.uid, "maintenance mode off");
    }
    status(daemon)
}

pub(super) fn status(daemon: &Daemon) -> Handled {
    Ok(info(daemon, daemon.gate.in_flight()))
}

pub(super) fn wait(daemon: &Daemon, timeout_seconds: u32) -> Handled {
    let timeout = Duration::from_secs(timeout_seconds.into()).min(MAX_WAIT);
    let left = daemon.gate.wait_idle(timeout);
    Ok(info(daemon, left))
}

fn info(daemon: &Daemon, in_flight: usize) -> Response {
    let on = daemon.gate.maintenance();
    Response::Maintenance(MaintenanceInfo {
        on: on.is_some(),
        message: on.as_ref().map(|on| on.message.clone()),
        since: on.as_ref().map(|on| on.since),
        by_uid: on.as_ref().map(|on| on.by_uid),
        in_flight: in_flight as u64,
    })
}

pub(super) fn pause(daemon: &Daemon, lease_seconds: u32, wait_seconds: u32) -> Handled {
    let lease = Duration::from_secs(lease_seconds.into()).min(MAX_PAUSE_LEASE);
    let wait = Duration::from_secs(wait_seconds.into()).min(MAX_WAIT);
    let token = crate::types::random_id::fresh()
        .map_err(|e| Failure::internal(crate::exit::one_line(e)))?;
    match daemon.gate.pause(&token, lease, wait) {
        Err(()) => Err(Failure::busy(
            "writes are paused by another backup already; wait for it to finish",
        )),
        Ok(0) => {
            tracing::info!(
                lease_seconds = lease.as_secs(),
                "writes paused for a backup"
            );
            Ok(Response::Paused {
                token,
                lease_seconds: lease.as_secs() as u32,
            })
        }
        Ok(left) => Err(Failure::busy(format!(
            "{left} pushes still in flight after {} seconds; try again, or give more time",
            wait.as_secs()
        ))),
    }
}

pub(super) fn resume(daemon: &Daemon, token: &str) -> Handled {
    if daemon.gate.resume(token) {
        tracing::info!("writes resumed after a backup");
        return Ok(Response::Done);
    }
    Err(Failure::refused(
        "the pause had ended before it was resumed (its lease ran out, or forged restarted); take the backup again",
    ))
}

/// Returns the folder snapshots are made in: `snapshots/` beside the database, forged's alone.
fn snapshots(daemon: &Daemon) -> PathBuf {
    let database = &daemon.config.database;
    database
        .parent()
        .unwrap_or(std::path::Path::new("."))
        .join("snapshots")
}

/// Returns the file of snapshot `id`, which must be an id forged made (32 hex digits).
fn snapshot_file(daemon: &Daemon, id: &str) -> Result<PathBuf, Failure> {
    if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Failure::refused("no such snapshot"));
    }
    Ok(snapshots(daemon).join(format!("{id}.db")))
}

pub(super) fn snapshot(daemon: &Daemon, token: Option<&str>) -> Handled {
    use std::os::unix::fs::DirBuilderExt;
    let folder = snapshots(daemon);
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&folder)
        .map_err(|e| Failure::internal(format!("cannot make {}: {e}", folder.display())))?;
    remove_stale(&folder);
    let id = crate::types::random_id::fresh()
        .map_err(|e| Failure::internal(crate::exit::one_line(e)))?;
    let file = snapshot_file(daemon, &id)?;
    let (schema_version, last_audit_id) = daemon.store.snapshot_into(&file)?;
    if let Some(token) = token
        && !daemon.gate.is_held(token)
    {
        let _ = std::fs::remove_file(&file);
        return Err(Failure::refused(
            "the pause had ended before the snapshot was made; take the backup again",
        ));
    }
    let bytes = std::fs::metadata(&file)
        .map_err(|e| Failure::internal(format!("cannot read {}: {e}", file.display())))?
        .len();
    tracing::info!(snapshot = %id, bytes, schema_version, "database snapshot made");
    Ok(Response::DbSnapshot {
        snapshot: id,
        bytes,
        schema_version,
        last_audit_id,
    })
}

/// Removes snapshot files older than [`STALE_SNAPSHOT`]: their backups died before dropping
/// them.
fn remove_stale(folder: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    for entry in entries.flatten() {
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|at| at.elapsed().ok())
            .is_some_and(|age| age > STALE_SNAPSHOT);
        if old && std::fs::remove_file(entry.path()).is_ok() {
            tracing::info!(file = %entry.path().display(), "stale database snapshot removed");
        }
    }
}

pub(super) fn read(daemon: &Daemon, id: &str, offset: u64) -> Handled {
    let path = snapshot_file(daemon, id)?;
    let mut file = std::fs::File::open(&path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Failure::refused("no such snapshot"),
        _ => Failure::internal(format!("cannot open {}: {e}", path.display())),
    })?;
    let failed =
        |e: std::io::Error| Failure::internal(format!("cannot read {}: {e}", path.display()));
    file.seek(SeekFrom::Start(offset)).map_err(failed)?;
    let mut buffer = Vec::with_capacity(CHUNK_BYTES);
    file.by_ref()
        .take(CHUNK_BYTES as u64)
        .read_to_end(&mut buffer)
        .map_err(failed)?;
    let length = file.metadata().map_err(failed)?.len();
    Ok(Response::DbChunk {
        eof: offset + buffer.len() as u64 >= length,
        data: base64ct::Base64::encode_string(&buffer),
    })
}

pub(super) fn drop(daemon: &Daemon, id: &str) -> Handled {
    let path = snapshot_file(daemon, id)?;
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(Response::Done),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Response::Done),
        Err(e) => Err(Failure::internal(format!(
            "cannot remove {}: {e}",
            path.display()
        ))),
    }
}
