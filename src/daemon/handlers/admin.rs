//! What admins ask through `forgectl`: users, keys, repositories, grants, decisions, the audit
//! log, status and `authorized_keys`.

use super::answer::{Failure, Handled};
use super::{creation, listing};
use crate::daemon::disk;
use crate::daemon::state::Daemon;
use crate::policy::Access;
use crate::types::keys::{self, KeyRef, PublicKey, Title};
use crate::types::repo_name::RepoName;
use crate::types::sshd_line;
use crate::types::timestamp::Timestamp;
use crate::types::user_name::UserName;
use crate::wire::{Response, StatusInfo};

/// The most audit entries one request returns.
const MAX_AUDIT_LIMIT: u32 = 100_000;

pub(super) fn user_add(daemon: &Daemon, user: UserName) -> Handled {
    daemon.store.add_user(&user)?;
    tracing::info!(user = %user, "user added");
    Ok(Response::Done)
}

pub(super) fn user_list(daemon: &Daemon) -> Handled {
    Ok(Response::Users {
        users: daemon
            .store
            .list_users()?
            .into_iter()
            .map(listing::user)
            .collect(),
    })
}

pub(super) fn user_remove(daemon: &Daemon, user: UserName) -> Handled {
    daemon.store.remove_user(&user)?;
    tracing::info!(user = %user, "user removed with their keys and grants");
    Ok(Response::Done)
}

/// `key_add`: a key, its title (the comment when none is given) and an expiry that must still
/// be ahead.
pub(super) fn key_add(
    daemon: &Daemon,
    user: UserName,
    text: &str,
    title: Option<Title>,
    expires: Option<Timestamp>,
) -> Handled {
    let refused = |why: String| Failure::refused(format!("cannot add key for '{user}': {why}"));
    let key = PublicKey::parse_authorized(text).map_err(|e| refused(e.to_string()))?;
    if let Some(expires) = expires
        && keys::is_expired(Some(expires), Timestamp::now())
    {
        return Err(refused(format!(
            "expiry {expires} is already past; give a later date"
        )));
    }
    let title = title.unwrap_or_else(|| Title::from_comment(&key));
    let info = daemon
        .store
        .add_key(&user, &key, &title, expires)
        .map_err(|e| match e {
            crate::store::Error::AlreadyExists { what } => {
                refused(format!("{what}; remove it first"))
            }
            other => other.into(),
        })?;
    tracing::info!(user = %user, key = %info.id, fingerprint = %info.fingerprint, expires = ?info.expires.map(|at| at.to_string()), "key added");
    Ok(Response::Keys {
        keys: vec![listing::key(info)],
    })
}

pub(super) fn key_list(
    daemon: &Daemon,
    user: Option<UserName>,
    unused_since: Option<Timestamp>,
) -> Handled {
    Ok(Response::Keys {
        keys: daemon
            .store
            .list_keys(user.as_ref(), unused_since)?
            .into_iter()
            .map(listing::key)
            .collect(),
    })
}

pub(super) fn key_remove(daemon: &Daemon, key: KeyRef) -> Handled {
    let info = daemon.store.remove_key(&key)?;
    tracing::info!(user = %info.user, key = %info.id, fingerprint = %info.fingerprint, "key removed");
    Ok(Response::Keys {
        keys: vec![listing::key(info)],
    })
}

pub(super) fn repo_create(
    daemon: &Daemon,
    repo: RepoName,
    description: &str,
    public: bool,
    creator: Option<UserName>,
) -> Handled {
    if let Some(creator) = creator {
        if !daemon.store.has_user(&creator)? {
            return Err(Failure::refused(format!("user '{creator}' does not exist")));
        }
        creation::as_creator(daemon, &creator, &repo)?;
        return Ok(Response::Done);
    }
    if description.len() > 1024 || description.chars().any(char::is_control) {
        return Err(Failure::refused(
            "a description is one line of at most 1024 bytes",
        ));
    }
    creation::plain(daemon, &repo, description, public)?;
    Ok(Response::Done)
}

pub(super) fn repo_list(daemon: &Daemon) -> Handled {
    Ok(Response::Repos {
        repos: daemon
            .store
            .list_repos()?
            .into_iter()
            .map(listing::repo)
            .collect(),
    })
}

pub(super) fn repo_remove(daemon: &Daemon, repo: RepoName) -> Handled {
    let root = daemon.config.repos.clone();
    let mut moved_to = None;
    daemon.store.remove_repo(
        &repo,
        Box::new(|| {
            moved_to = disk::move_aside(&root, &repo)?;
            Ok(())
        }),
    )?;
    match moved_to {
        Some(place) => {
            tracing::info!(repo = %repo, kept_in = %place.display(), "repository removed; its files were moved aside")
        }
        None => tracing::info!(repo = %repo, "repository removed; it had no folder"),
    }
    Ok(Response::Done)
}

pub(super) fn grant(daemon: &Daemon, repo: RepoName, user: UserName, access: Access) -> Handled {
    daemon.store.grant(&repo, &user, access)?;
    tracing::info!(user = %user, repo = %repo, %access, "access granted");
    Ok(Response::Done)
}

pub(super) fn revoke(daemon: &Daemon, repo: RepoName, user: UserName) -> Handled {
    daemon.store.revoke(&repo, &user)?;
    tracing::info!(user = %user, repo = %repo, "grant revoked");
    Ok(Response::Done)
}

pub(super) fn audit(
    daemon: &Daemon,
    repo: Option<RepoName>,
    user: Option<UserName>,
    limit: u32,
) -> Handled {
    let entries = daemon.store.audit(
        repo.as_ref(),
        user.as_ref().map(UserName::as_str),
        limit.min(MAX_AUDIT_LIMIT),
    )?;
    Ok(Response::Audit {
        entries: entries.into_iter().map(listing::audit_entry).collect(),
    })
}

pub(super) fn admin_audit(daemon: &Daemon, since: Option<Timestamp>, limit: u32) -> Handled {
    let entries = daemon
        .store
        .admin_audit(since, limit.min(MAX_AUDIT_LIMIT))?;
    Ok(Response::AdminAudit {
        entries: entries
            .into_iter()
            .map(listing::admin_audit_entry)
            .collect(),
    })
}

pub(super) fn denied_audit(daemon: &Daemon, since: Option<Timestamp>, limit: u32) -> Handled {
    let entries = daemon.store.denied(since, limit.min(MAX_AUDIT_LIMIT))?;
    Ok(Response::Denied {
        entries: entries.into_iter().map(listing::denied_entry).collect(),
    })
}

/// `repo_restore`: registers a removed repository again with its folder moved back, as a
/// plain private repository (its grants, description and creator went with its row; the
/// admin audit of its removal still names them). The latest removed copy unless `from`.
pub(super) fn repo_restore(daemon: &Daemon, repo: RepoName, from: Option<String>) -> Handled {
    let refused = |why: String| Failure::refused(format!("cannot restore '{repo}': {why}"));
    let root = &daemon.config.repos;
    if daemon.store.repo_facts(&repo)?.is_some() {
        return Err(refused(
            "a repository of that name exists again; remove it first, or restore under a new name by hand".into(),
        ));
    }
    if disk::resolve(root, &repo).is_ok() {
        return Err(refused(format!(
            "{} exists on disk, unknown to forge; move it away first",
            repo.to_path(root).display()
        )));
    }
    let mut copies = disk::removed_copies(root, &repo)?;
    let chosen = match from {
        None => copies.pop().ok_or_else(|| {
            refused(format!(
                "no removed copy of it under {}",
                root.join(disk::REMOVED_FOLDER).display()
            ))
        })?,
        Some(stamp) => {
            let Some(at) = copies.iter().position(|copy| *copy == stamp) else {
                return Err(refused(format!(
                    "no copy removed at '{}'; the removed copies are: {}",
                    crate::types::shown::Escaped(&stamp),
                    if copies.is_empty() {
                        "none".to_owned()
                    } else {
                        copies.join(", ")
                    }
                )));
            };
            copies.remove(at)
        }
    };
    let mut moved_from = None;
    daemon.store.create_repo(
        &repo,
        "",
        false,
        None,
        Box::new(|| {
            moved_from = Some(disk::move_back(root, &repo, &chosen)?);
            Ok(())
        }),
    )?;
    let from = moved_from.expect("the folder was moved back inside the transaction");
    if let Err(e) = disk::align_settings(root, &repo, &daemon.config.hooks) {
        tracing::warn!(repo = %repo, error = %crate::exit::one_line(e), "restored repository keeps its old git settings");
    }
    tracing::info!(repo = %repo, from = %from.display(), "repository restored");
    Ok(Response::Restored {
        repo,
        from,
        others: copies,
    })
}

pub(super) fn status(daemon: &Daemon) -> Handled {
    let counts = daemon.store.counts()?;
    Ok(Response::Status(StatusInfo {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        protocol: crate::wire::PROTOCOL_VERSION,
        uptime_seconds: daemon.started.elapsed().as_secs(),
        users: counts.users,
        keys: counts.keys,
        repos: counts.repos,
        audit_entries: counts.audit_entries,
        pending_updates: counts.pending_updates,
        problems: disk::hook_shims_problem(&daemon.config.hooks)
            .into_iter()
            .collect(),
        maintenance: daemon.gate.maintenance().map(|on| on.message),
    }))
}

/// `authorized_keys`: a line for every key that has not expired; a key that will expire
/// carries `expiry-time`, so a file left stale still stops it.
pub(super) fn authorized_keys(daemon: &Daemon) -> Handled {
    let config = &daemon.config;
    let lines = daemon
        .store
        .all_keys(Timestamp::now())?
        .into_iter()
        .map(|(id, key, expires)| {
            sshd_line::authorized_keys_line(
                &config.forge_shell,
                config.path_for_forced_command(),
                id,
                &key,
                expires,
            )
        })
        .collect();
    Ok(Response::AuthorizedKeys { lines })
}
