//! `forgectl backup DIR`: pause writes, have forged snapshot the database, snapshot the
//! repositories, resume, then read the database back and write the manifest.

use super::manifest::Manifest;
use super::{DATABASE_FILE, Error, REPOS_FOLDER, io_error, repos};
use crate::types::repo_name::RepoName;
use crate::types::timestamp::Timestamp;
use crate::wire::client::{self, Client};
use crate::wire::{Request, Response};
use base64ct::Encoding;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

/// How long forged waits for pushes in flight before it gives up on pausing.
pub const PAUSE_WAIT: Duration = Duration::from_secs(60);

/// What a backup did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Repositories snapshotted.
    pub repos: usize,
    /// Refs recorded in the manifest.
    pub refs: usize,
    /// Object files hard-linked and files copied.
    pub files: repos::Copied,
    /// The database snapshot's size.
    pub database_bytes: u64,
    /// How long writes were paused.
    pub paused: Duration,
}

/// Writes were paused under `token`; dropping this resumes them, best effort, should the
/// backup fail before [`Pause::resume`].
struct Pause<'a> {
    client: &'a Client,
    token: Option<String>,
    since: Instant,
}

impl Pause<'_> {
    fn resume(mut self) -> Result<Duration, Error> {
        let token = self.token.take().expect("a pause is resumed once");
        let asked = Request::ResumeWrites { token };
        expect_done(self.client, &asked)?;
        Ok(self.since.elapsed())
    }
}

impl Drop for Pause<'_> {
    fn drop(&mut self) {
        if let Some(token) = self.token.take() {
            // The lease ends it anyway; this only shortens it.
            let _ = self.client.call(&Request::ResumeWrites { token });
        }
    }
}

fn expect_done(client: &Client, request: &Request) -> Result<(), Error> {
    match client.call(request)? {
        Response::Done => Ok(()),
        _ => Err(client::Error::Unexpected { op: request.op() }.into()),
    }
}

/// Makes `dir` (new or empty) the backup folder.
fn prepare(dir: &Path) -> Result<(), Error> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(Error::NotEmpty {
                    path: dir.to_owned(),
                });
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir).map_err(io_error("make", dir))?;
        }
        Err(e) => return Err(io_error("read", dir)(e)),
    }
    use std::os::unix::fs::PermissionsExt;
    // It holds the whole database: its owner's alone.
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .map_err(io_error("set the mode of", dir))
}

/// Takes a backup of the forge `client` talks to, whose repos root is `repos_root`, into
/// `dir`; with `db_only` only the database (no pause is needed: `VACUUM INTO` is consistent
/// by itself). Writes stay paused for at most `lease`, should this process die meanwhile.
pub fn take(
    client: &Client,
    repos_root: &Path,
    dir: &Path,
    db_only: bool,
    lease: Duration,
) -> Result<Summary, Error> {
    prepare(dir)?;
    let mut pause = None;
    if !db_only {
        let request = Request::PauseWrites {
            lease_seconds: u32::try_from(lease.as_secs()).unwrap_or(u32::MAX),
            wait_seconds: PAUSE_WAIT.as_secs() as u32,
        };
        let token = match client.call(&request)? {
            Response::Paused { token, .. } => token,
            _ => return Err(client::Error::Unexpected { op: request.op() }.into()),
        };
        pause = Some(Pause {
            client,
            token: Some(token),
            since: Instant::now(),
        });
        // Writes are paused, nothing is snapshotted yet.
        crate::fault::point("backup.paused");
    }
    let token = pause.as_ref().and_then(|pause| pause.token.clone());
    let request = Request::DbSnapshot { token };
    let (snapshot, database_bytes, schema_version, last_audit_id) = match client.call(&request)? {
        Response::DbSnapshot {
            snapshot,
            bytes,
            schema_version,
            last_audit_id,
        } => (snapshot, bytes, schema_version, last_audit_id),
        _ => return Err(client::Error::Unexpected { op: request.op() }.into()),
    };
    let mut files = repos::Copied::default();
    let mut names = Vec::new();
    if !db_only {
        names = repo_names(client)?;
        let into = dir.join(REPOS_FOLDER);
        for name in &names {
            let from = name.to_path(repos_root);
            if !from.exists() {
                continue;
            }
            let copied = repos::snapshot(&from, &name.to_path(&into))?;
            files.linked += copied.linked;
            files.copied += copied.copied;
        }
    }
    let paused = match pause {
        Some(pause) => pause.resume()?,
        None => Duration::ZERO,
    };
    // The slow part, unpaused.
    read_snapshot(client, &snapshot, &dir.join(DATABASE_FILE))?;
    let _ = client.call(&Request::DbSnapshotDrop { snapshot });
    let mut tips = BTreeMap::new();
    let into = dir.join(REPOS_FOLDER);
    for name in &names {
        let path = name.to_path(&into);
        if path.exists() {
            tips.insert(name.to_string(), repos::ref_tips(name.as_str(), &path)?);
        }
    }
    let refs = tips.values().map(BTreeMap::len).sum();
    Manifest {
        forge_version: env!("CARGO_PKG_VERSION").to_owned(),
        schema_version,
        created: Timestamp::now(),
        db_only,
        last_audit_id,
        repos: tips,
    }
    .write(dir)?;
    sync_folder(dir)?;
    Ok(Summary {
        repos: names.len(),
        refs,
        files,
        database_bytes,
        paused,
    })
}

fn repo_names(client: &Client) -> Result<Vec<RepoName>, Error> {
    let request = Request::RepoList;
    let repos = match client.call(&request)? {
        Response::Repos { repos } => repos,
        _ => return Err(client::Error::Unexpected { op: request.op() }.into()),
    };
    Ok(repos.into_iter().map(|repo| repo.name).collect())
}

/// Reads snapshot `id` from forged into `target`, flushed.
fn read_snapshot(client: &Client, id: &str, target: &Path) -> Result<(), Error> {
    let part = target.with_extension("db.part");
    let mut file = std::fs::File::create(&part).map_err(io_error("create", &part))?;
    let mut offset = 0u64;
    loop {
        let request = Request::DbSnapshotRead {
            snapshot: id.to_owned(),
            offset,
        };
        let (data, eof) = match client.call(&request)? {
            Response::DbChunk { data, eof } => (data, eof),
            _ => return Err(client::Error::Unexpected { op: request.op() }.into()),
        };
        let bytes = base64ct::Base64::decode_vec(&data)
            .map_err(|_| client::Error::Unexpected { op: request.op() })?;
        file.write_all(&bytes).map_err(io_error("write", &part))?;
        offset += bytes.len() as u64;
        if eof {
            break;
        }
        if bytes.is_empty() {
            return Err(client::Error::Unexpected { op: request.op() }.into());
        }
    }
    file.sync_all().map_err(io_error("flush", &part))?;
    drop(file);
    std::fs::rename(&part, target).map_err(io_error("rename into", target))?;
    Ok(())
}

/// Flushes the entries of `dir` to the disk.
pub(crate) fn sync_folder(dir: &Path) -> Result<(), Error> {
    std::fs::File::open(dir)
        .and_then(|folder| folder.sync_all())
        .map_err(io_error("flush", dir))
}
