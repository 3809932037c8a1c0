//! Reconciling pending ref updates against the real refs: the updates pre-receive accepted but
//! post-receive never confirmed (forged died in between, or post-receive could not reach it).
//!
//! A pending update whose ref now holds its new id (or, for a delete, is gone) happened: it is
//! confirmed. Any other did not happen (git refused it, or the push died) and is dropped. A
//! repository that cannot be opened leaves its rows pending for the next round.

use crate::daemon::state::Daemon;
use crate::store::PendingUpdate;
use crate::types::repo_name::RepoName;
use std::collections::HashMap;

/// What became of a pending update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    Happened,
    DidNotHappen,
    Unknown,
}

/// Reconciles the pending updates accepted at or before `accepted_before` (unix seconds).
pub(crate) fn run(daemon: &Daemon, accepted_before: i64) {
    let pending = match daemon.store.pending(accepted_before) {
        Ok(pending) => pending,
        Err(e) => {
            tracing::error!(error = %e, "cannot read pending ref updates");
            return;
        }
    };
    if pending.is_empty() {
        return;
    }
    let mut repositories: HashMap<String, Option<git2::Repository>> = HashMap::new();
    let (mut happened, mut did_not_happen) = (Vec::new(), Vec::new());
    for update in &pending {
        let repository = repositories
            .entry(update.repo.clone())
            .or_insert_with(|| open(daemon, &update.repo));
        match fate(repository.as_ref(), update) {
            Fate::Happened => happened.push(update.id),
            Fate::DidNotHappen => did_not_happen.push(update.id),
            Fate::Unknown => {}
        }
    }
    match daemon.store.resolve_pending(&happened, &did_not_happen) {
        Ok(()) => tracing::info!(
            confirmed = happened.len(),
            dropped = did_not_happen.len(),
            left = pending.len() - happened.len() - did_not_happen.len(),
            "pending ref updates reconciled"
        ),
        Err(e) => tracing::error!(error = %e, "cannot reconcile pending ref updates"),
    }
}

fn open(daemon: &Daemon, repo: &str) -> Option<git2::Repository> {
    let name = RepoName::parse(repo).ok()?;
    match git2::Repository::open_bare(name.to_path(&daemon.config.repos)) {
        Ok(repository) => Some(repository),
        Err(e) => {
            tracing::warn!(repo, error = %e, "cannot open repository to reconcile; left pending");
            None
        }
    }
}

fn fate(repository: Option<&git2::Repository>, update: &PendingUpdate) -> Fate {
    let Some(repository) = repository else {
        return Fate::Unknown;
    };
    let is_delete = update.new.bytes().all(|b| b == b'0');
    match repository.find_reference(&update.ref_name) {
        Ok(reference) => match reference.target() {
            Some(target) if !is_delete && target.to_string() == update.new => Fate::Happened,
            _ => Fate::DidNotHappen,
        },
        Err(e) if e.code() == git2::ErrorCode::NotFound => {
            if is_delete {
                Fate::Happened
            } else {
                Fate::DidNotHappen
            }
        }
        Err(_) => Fate::Unknown,
    }
}
