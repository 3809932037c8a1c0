//! Questions `forge-shell` asks: may this key have this access, who owns it, what can they
//! reach.

use super::{Daemon, Failure, Handled};
use crate::keys::KeyId;
use crate::policy::{self, Access};
use crate::repo_name::RepoName;
use crate::user_name::UserName;
use crate::wire::Response;

/// Returns the owner of `key`, or a denial that says nothing about why.
fn owner(daemon: &Daemon, key: KeyId) -> Result<UserName, Failure> {
    daemon.store.key_owner(key)?.ok_or_else(|| {
        tracing::warn!(key = %key, "unknown or removed key; denied");
        Failure::denied()
    })
}

/// `check`: grant the access, with the repository's folder and a fresh session id, or deny.
/// A denied repository and a missing one get the same answer.
pub(super) fn check(daemon: &Daemon, key: KeyId, repo: RepoName, access: Access) -> Handled {
    let user = owner(daemon, key)?;
    let Some(standing) = daemon.store.standing(&user, &repo)? else {
        tracing::info!(user = %user, key = %key, repo = %repo, %access, "no such repository; denied");
        return Err(Failure::denied());
    };
    let decision = policy::decide(standing, access);
    if !decision.allowed {
        tracing::info!(user = %user, key = %key, repo = %repo, %access, rule = %decision.reason, "access denied");
        return Err(Failure::denied());
    }
    let path = repo.to_path(&daemon.config.repos);
    if !path.is_dir() {
        return Err(Failure::internal(format!(
            "repository '{repo}' is registered but its folder {} is missing",
            path.display()
        )));
    }
    let session = daemon.ids.next();
    tracing::info!(user = %user, key = %key, repo = %repo, %access, rule = %decision.reason, session = %session, "access granted");
    Ok(Response::Granted {
        user,
        repo,
        path,
        session,
    })
}

/// `whoami`: the owner of a key.
pub(super) fn whoami(daemon: &Daemon, key: KeyId) -> Handled {
    let user = owner(daemon, key)?;
    Ok(Response::Identity { user, key })
}

/// `info`: the repositories the owner of a key can reach.
pub(super) fn info(daemon: &Daemon, key: KeyId) -> Handled {
    let user = owner(daemon, key)?;
    let repos = daemon.store.reachable(&user)?;
    Ok(Response::Reachable { user, repos })
}
