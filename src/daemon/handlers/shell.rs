//! Questions `forge-shell` asks: may this identity (a key or a certificate) have this access
//! (creating the repository from a pattern on the way, as gitolite does), who is behind it,
//! what can they reach.

use super::answer::{Failure, Handled};
use super::{creation, creation::state_of, denied};
use crate::daemon::disk;
use crate::daemon::peer::Caller;
use crate::daemon::state::Daemon;
use crate::policy::decide::{self, Decision, PushNeeds};
use crate::policy::{Access, Need, Op, RepoState};
use crate::store::SessionRecord;
use crate::types::identity::Identity;
use crate::types::keys::{self, KeyId, PublicKey};
use crate::types::repo_name::RepoName;
use crate::types::sshd_line;
use crate::types::timestamp::Timestamp;
use crate::types::user_name::UserName;
use crate::wire::{ReachableRepo, Response};

/// The user behind an identity, resolved now.
pub(super) struct Owner {
    /// The user.
    pub(super) user: UserName,
    /// For a certificate, the name of the CA that signed it; logs name it, since audit
    /// records have no key to point at.
    pub(super) ca: Option<String>,
}

impl Owner {
    /// Returns the CA's name for a log field, empty for a key.
    pub(super) fn ca(&self) -> &str {
        self.ca.as_deref().unwrap_or("")
    }
}

/// Returns the user behind `identity`, or a denial that says nothing about why: the owner of
/// a key that is registered and not expired, or the user of a certificate while both it and
/// the CA that signed it are registered.
pub(super) fn owner(daemon: &Daemon, identity: &Identity) -> Result<Owner, Failure> {
    let found = match identity {
        Identity::Key(key) => key_owner(daemon, *key)?.map(|user| Owner { user, ca: None }),
        Identity::Certificate { ca, user } => {
            daemon.store.certificate_ca(*ca, user)?.map(|name| Owner {
                user: user.clone(),
                ca: Some(name.to_string()),
            })
        }
    };
    found.ok_or_else(|| {
        tracing::warn!(key = %identity, "unknown, removed or expired key, CA or user; denied");
        Failure::denied()
    })
}

/// Returns the owner of `key` unless it is unknown, removed or expired.
///
/// A key that passes was just used to log in (sshd verified its signature before running
/// forge-shell), so its use is recorded, at most once a minute; a failure to record is logged
/// and does not fail the request.
fn key_owner(daemon: &Daemon, key: KeyId) -> Result<Option<UserName>, Failure> {
    let Some(found) = daemon.store.key_use(key)? else {
        return Ok(None);
    };
    let now = Timestamp::now();
    if keys::is_expired(found.expires, now) {
        let expired = found.expires.map(|at| at.to_string()).unwrap_or_default();
        tracing::warn!(user = %found.user, key = %key, expired = %expired, "expired key; denied");
        return Ok(None);
    }
    if found.is_use_due(now)
        && let Err(error) = daemon.store.record_key_use(key, now)
    {
        tracing::warn!(key = %key, error = %crate::exit::one_line(error), "cannot record the key's use; going on");
    }
    Ok(Some(found.user))
}

/// `check`: grant the access, with the repository's folder and a fresh session id, or deny.
/// A write session is recorded in the store: it is the capability the hooks must quote back.
/// A denied repository and a missing one get the same answer. A missing repository the user
/// may create from a pattern is created first, by a clone as by a push.
pub(super) fn check(
    daemon: &Daemon,
    caller: &Caller,
    identity: Identity,
    repo: RepoName,
    access: Access,
) -> Handled {
    // Only a write runs hooks, needs the facts of a push and gets a session the hooks quote.
    let write = access >= Access::Write;
    if write {
        hook_shims_in_place(daemon)?;
    }
    let denied = |user: &str, ca: Option<&str>, rule: String| {
        denied::record(
            daemon,
            denied::Attempt {
                identity: Some(&identity),
                user,
                ca,
                repo: &repo,
                access: access.to_string(),
                rule,
            },
        )
    };
    let owner = owner(daemon, &identity).inspect_err(|_| {
        denied(
            "",
            None,
            "unknown, removed or expired key, CA or user".into(),
        )
    })?;
    let (user, key, ca) = (&owner.user, &identity, owner.ca());
    let need = Need::of(if write { Op::Write } else { Op::Read });
    let policy = daemon.policy().map_err(Failure::internal)?;
    let mut facts = daemon.store.repo_facts(&repo)?;
    if facts.is_none() {
        let missing = RepoState::missing(repo.as_str());
        match decide::access(&policy, user.as_str(), &missing, access) {
            Decision::Creatable(_) => {
                // A clone creates too: the gate a write `check` passed is passed here as well.
                if !write {
                    super::maintenance::admit(daemon)?;
                }
                facts = Some(create_audited(
                    daemon, caller, &identity, &repo, user, access,
                )?)
            }
            refused => {
                denied(
                    user.as_str(),
                    owner.ca.as_deref(),
                    refused.verdict().origin(),
                );
                tracing::info!(user = %user, key = %key, ca, repo = %repo, %need, "no such repository; denied");
                return Err(Failure::denied());
            }
        }
    }
    let facts = facts.expect("the repository exists or was just created");
    let state = state_of(&repo, &facts);
    let decision = decide::access(&policy, user.as_str(), &state, access);
    let rule = decision.verdict().reason();
    if !decision.is_granted() {
        denied(
            user.as_str(),
            owner.ca.as_deref(),
            decision.verdict().origin(),
        );
        tracing::info!(user = %user, key = %key, ca, repo = %repo, %need, rule = %rule, "access denied");
        return Err(Failure::denied());
    }
    let path = folder(daemon, &repo)?;
    let needs = if write {
        decide::push_needs(&policy, user.as_str(), &state)
    } else {
        PushNeeds::ALL
    };
    let session = crate::types::random_id::fresh()
        .map_err(|e| Failure::internal(crate::exit::one_line(e)))?;
    if write {
        issue(daemon, &session, &owner.user, &identity, &repo, access)?;
    }
    tracing::info!(user = %user, key = %key, ca, repo = %repo, %need, rule = %rule, session = %session, "access granted");
    Ok(Response::Granted {
        user: owner.user,
        repo,
        path,
        session,
        needs,
    })
}

/// Creates `repo` from a pattern for `user`, whose `check` asked for it: a change of state
/// like `create`, so it gets its admin audit row in the transaction that creates it, though
/// `check` itself changes nothing else.
fn create_audited(
    daemon: &Daemon,
    caller: &Caller,
    identity: &Identity,
    repo: &RepoName,
    user: &UserName,
    access: Access,
) -> Result<crate::store::RepoFacts, Failure> {
    let audit = daemon.store.audit_scope(crate::store::AdminAction {
        peer_uid: caller.uid,
        peer_name: caller.name(),
        op: "check".into(),
        kind: crate::wire::Changes::Repository.name(),
        args: serde_json::json!({
            "key": identity, "repo": repo, "access": access, "created_for": user,
        })
        .to_string(),
    });
    let created = creation::by_user(daemon, repo, user);
    let result = created.as_ref().map(|_| ()).map_err(|f| f.message.as_str());
    if let Err(e) = audit.finish(result) {
        tracing::error!(error = %crate::exit::one_line(e), "cannot record the admin audit row");
    }
    created
}

/// Refuses a write while the hook shims are not in place: git would run no hook, so the push
/// would be accepted with no decision and no record. The admin reads why in the log (once)
/// and in `forgectl status`.
fn hook_shims_in_place(daemon: &Daemon) -> Result<(), Failure> {
    disk::check_hook_shims(&daemon.config.hooks).map_err(Failure::internal)
}

/// Returns the folder of a registered repository: a link below the repos root (which would
/// serve another repository's content under this name) reads as no repository at all, and a
/// missing folder is an internal error.
fn folder(daemon: &Daemon, repo: &RepoName) -> Result<std::path::PathBuf, Failure> {
    match disk::resolve(&daemon.config.repos, repo) {
        Ok(path) => Ok(path),
        Err(e @ disk::Error::Link { .. }) => {
            tracing::warn!(repo = %repo, error = %e, "repository folder is reached through a symbolic link; denied");
            Err(Failure::denied())
        }
        Err(e) => Err(Failure::internal(format!(
            "repository '{repo}' is registered but its folder cannot be used: {e}"
        ))),
    }
}

/// Records the write session `id` in the store, open for the daemon's session lifetime, so
/// that the hooks of this push (and nothing else) can act under it. Reads need no session:
/// git runs no hooks for them.
fn issue(
    daemon: &Daemon,
    id: &str,
    user: &UserName,
    identity: &Identity,
    repo: &RepoName,
    access: Access,
) -> Result<(), Failure> {
    let issued = Timestamp::now();
    let lifetime = i64::try_from(daemon.session_lifetime.as_secs()).unwrap_or(i64::MAX);
    let expires = Timestamp::from_unix(issued.unix().saturating_add(lifetime))
        .ok_or_else(|| Failure::internal("a session expiry is past the times forge keeps"))?;
    daemon.store.issue_session(&SessionRecord {
        id: id.to_owned(),
        user: user.clone(),
        identity: identity.clone(),
        repo: repo.clone(),
        access,
        issued,
        expires,
    })?;
    Ok(())
}

/// `whoami`: the user behind an identity.
pub(super) fn whoami(daemon: &Daemon, identity: Identity) -> Handled {
    let user = owner(daemon, &identity)?.user;
    Ok(Response::Identity { user, identity })
}

/// `info`: the patterns the user behind an identity may create repositories from, and the
/// repositories they can read, as gitolite's `info` lists them.
pub(super) fn info(daemon: &Daemon, identity: Identity) -> Handled {
    let user = owner(daemon, &identity)?.user;
    let policy = daemon.policy().map_err(Failure::internal)?;
    let name = user.as_str();
    let mut repos: Vec<ReachableRepo> = policy
        .creatable_patterns(name)
        .into_iter()
        .map(|pattern| ReachableRepo {
            repo: pattern.to_owned(),
            read: false,
            write: false,
            create: true,
            description: String::new(),
        })
        .collect();
    for (repo, description, facts) in daemon.store.all_repo_facts()? {
        let state = RepoState::existing(&repo, facts.creator.as_deref(), &facts.roles);
        let read = decide::access(&policy, name, &state, Access::Read).is_granted();
        if !read {
            continue;
        }
        let write = decide::access(&policy, name, &state, Access::Write).is_granted();
        repos.push(ReachableRepo {
            repo,
            read,
            write,
            create: false,
            description,
        });
    }
    Ok(Response::Reachable { user, repos })
}

/// `key_lookup`: the one `authorized_keys` line for a key sshd was shown, found by its
/// fingerprint (an index, not a scan); no line for another account, an unknown key or an
/// expired one. Use is not recorded here: sshd asks before it has checked the signature.
pub(super) fn key_lookup(daemon: &Daemon, login: &str, key_type: &str, key: &str) -> Handled {
    if login != daemon.config.git_user {
        return Ok(Response::AuthorizedKeys { lines: Vec::new() });
    }
    let Ok(presented) = PublicKey::parse_authorized(&format!("{key_type} {key}")) else {
        tracing::info!(login = %crate::types::shown::Escaped(login), key_type = %crate::types::shown::Escaped(key_type), "presented key does not parse; no line");
        return Ok(Response::AuthorizedKeys { lines: Vec::new() });
    };
    let fingerprint = presented.fingerprint();
    let lines = match daemon.store.key_by_fingerprint(&fingerprint)? {
        Some((id, expires)) if keys::is_expired(expires, Timestamp::now()) => {
            let expired = expires.map(|at| at.to_string()).unwrap_or_default();
            tracing::info!(key = %id, %fingerprint, expired = %expired, "expired key; no line");
            Vec::new()
        }
        Some((id, expires)) => {
            tracing::info!(key = %id, %fingerprint, "key known; forced command given");
            vec![sshd_line::authorized_keys_line(
                &daemon.config.forge_shell,
                daemon.config.path_for_forced_command(),
                id,
                &presented,
                expires,
            )]
        }
        None => {
            tracing::info!(%fingerprint, "unknown key; no line");
            Vec::new()
        }
    };
    Ok(Response::AuthorizedKeys { lines })
}
