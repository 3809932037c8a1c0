//! Questions `forge-hook` asks: may these ref updates happen (pre-receive), and these happened
//! (post-receive).

use super::answer::{Failure, Handled};
use super::creation::state_of;
use super::denied;
use crate::daemon::peer::Caller;
use crate::daemon::state::Daemon;
use crate::policy::decide::{self, RefDecision, Refusal};
use crate::policy::update_facts;
use crate::policy::{Access, ObjectId, RefUpdate, UpdateKind};
use crate::store::{self, Pusher, RepoFacts};
use crate::types::identity::Identity;
use crate::types::keys::KeyId;
use crate::types::repo_name::RepoName;
use crate::types::user_name::UserName;
use crate::wire::{self, RefChange, RefVerdict, Response};

/// Who is pushing, as forged sees it: a user over SSH, or a local account.
enum Pushing {
    Remote { user: UserName, identity: Identity },
    Local { name: String },
}

impl Pushing {
    fn name(&self) -> &str {
        match self {
            Pushing::Remote { user, .. } => user.as_str(),
            Pushing::Local { name } => name,
        }
    }

    /// The key audit records name; none for a certificate session or a local push.
    fn key(&self) -> Option<KeyId> {
        match self {
            Pushing::Remote { identity, .. } => identity.key(),
            Pushing::Local { .. } => None,
        }
    }

    /// The name of the CA, for a certificate session whose CA is still registered.
    fn ca(&self, daemon: &Daemon) -> Option<String> {
        let Pushing::Remote {
            identity: Identity::Certificate { ca, user },
            ..
        } = self
        else {
            return None;
        };
        match daemon.store.certificate_ca(*ca, user) {
            Ok(name) => name.map(|name| name.to_string()),
            Err(e) => {
                tracing::warn!(error = %e, "cannot name the CA of a certificate push for the audit log");
                None
            }
        }
    }

    /// The identity for log lines: `key-17`, `cert-3:alice`, or nothing for a local push.
    fn identity(&self) -> String {
        match self {
            Pushing::Remote { identity, .. } => identity.to_string(),
            Pushing::Local { .. } => String::new(),
        }
    }
}

fn pushing(
    caller: &Caller,
    user: Option<UserName>,
    identity: Option<Identity>,
) -> Result<Pushing, Failure> {
    match (user, identity) {
        (Some(user), Some(identity)) => Ok(Pushing::Remote { user, identity }),
        (None, None) => Ok(Pushing::Local {
            name: format!("local:{}", caller.uid),
        }),
        _ => Err(Failure::refused(
            "a push names a user without a key, or a key without a user",
        )),
    }
}

/// Refuses a hook request that does not act under a session forged issued: a push over SSH
/// must quote a session that is still open and was issued for exactly this user, identity and
/// repository with write access; a local push carries none, and `record` of one is refused
/// unless `allow_local_push` is on (`check_refs` refuses it per ref, as before).
///
/// Anything running as the git account can send hook requests, so the `FORGE_*` values alone
/// prove nothing; the session, which only `check` makes, does.
fn authorize(
    daemon: &Daemon,
    pushing: &Pushing,
    session: Option<&str>,
    repo: &RepoName,
    recording: bool,
) -> Result<(), Failure> {
    match (pushing, session) {
        (Pushing::Local { .. }, None) if recording && !daemon.config.allow_local_push => {
            tracing::warn!(user = %pushing.name(), repo = %repo, "record of a local push while allow_local_push is off; refused");
            Err(Failure::refused(
                "pushes that bypass forge-shell are disabled; push over ssh, or set allow_local_push",
            ))
        }
        (Pushing::Local { .. }, None) => Ok(()),
        (Pushing::Local { .. }, Some(_)) => Err(Failure::refused(
            "a push names a session without a user and a key",
        )),
        (Pushing::Remote { .. }, None) => {
            tracing::warn!(user = %pushing.name(), key = %pushing.identity(), repo = %repo, "hook request without a session; refused");
            Err(session_refused())
        }
        (Pushing::Remote { user, identity }, Some(id)) => {
            let now = crate::types::timestamp::Timestamp::now().unix();
            let issued = daemon.store.open_session(id, now)?;
            let matches = issued.as_ref().is_some_and(|issued| {
                issued.user == *user
                    && issued.identity == *identity
                    && issued.repo == *repo
                    && issued.access >= Access::Write
            });
            if matches {
                return Ok(());
            }
            tracing::warn!(
                user = %user, key = %identity, repo = %repo, session = id,
                known = issued.is_some(),
                "hook request under a session that is unknown, expired or issued for another user, key or repository; refused"
            );
            Err(session_refused())
        }
    }
}

fn session_refused() -> Failure {
    Failure::refused(
        "this push's session is unknown, expired or not for this user, key and repository; push again over ssh",
    )
}

/// `check_refs`: decide every update of one push; if all are allowed, store them as pending.
pub(super) fn check_refs(
    daemon: &Daemon,
    caller: &Caller,
    session: Option<String>,
    user: Option<UserName>,
    identity: Option<Identity>,
    repo: RepoName,
    updates: Vec<RefUpdate>,
) -> Handled {
    if updates.len() > wire::MAX_UPDATES {
        return Err(Failure::refused(format!(
            "a push may update at most {} refs",
            wire::MAX_UPDATES
        )));
    }
    let pushing = pushing(caller, user, identity)?;
    authorize(daemon, &pushing, session.as_deref(), &repo, false)?;
    // In flight from here until post-receive records, unless this answer refuses the push.
    let flight = in_flight_key(caller, session.as_deref(), &repo);
    if let Err(closed) = daemon.gate.admit_push(&flight) {
        tracing::info!(user = %pushing.name(), repo = %repo, session = %flight, "push refused by the gate");
        return Err(super::maintenance::refusal(closed));
    }
    let answer = decide_refs(daemon, &pushing, session.as_deref(), repo, &updates);
    // git runs post-receive only after it moved a ref: a push of no update never lands.
    let accepted = matches!(&answer, Ok(Response::RefVerdicts { verdicts })
        if !verdicts.is_empty() && verdicts.iter().all(|v| v.allowed));
    if !accepted {
        daemon.gate.landed(&flight);
    }
    answer
}

/// Returns the name the gate counts a push in flight under: its session, or for a local push
/// (which has none) the account and repository, which its post-receive names too.
fn in_flight_key(caller: &Caller, session: Option<&str>, repo: &RepoName) -> String {
    match session {
        Some(session) => session.to_owned(),
        None => format!("local:{}:{repo}", caller.uid),
    }
}

/// Decides every update of one push, records the refused ones as denied attempts, and if all
/// are allowed, stores them as pending.
fn decide_refs(
    daemon: &Daemon,
    pushing: &Pushing,
    session: Option<&str>,
    repo: RepoName,
    updates: &[RefUpdate],
) -> Handled {
    let verdict = |update: &RefUpdate, decision: RefDecision| {
        let verdict = RefVerdict {
            ref_name: update.ref_name.clone(),
            allowed: decision.allowed,
            reason: decision.reason,
        };
        (verdict, decision.rule)
    };
    let (verdicts, rules): (Vec<RefVerdict>, Vec<String>) =
        match facts_or_refusal(daemon, pushing, &repo)? {
            Err(refusal) => updates
                .iter()
                .map(|update| verdict(update, RefDecision::from(&refusal)))
                .collect(),
            Ok(facts) => {
                let state = state_of(&repo, &facts);
                let policy = daemon.policy().map_err(Failure::internal)?;
                let pusher = match pushing {
                    Pushing::Remote { user, .. } => decide::Pusher::User(user.as_str()),
                    Pushing::Local { .. } => decide::Pusher::Local,
                };
                updates
                    .iter()
                    .map(|update| {
                        verdict(update, decide::ref_update(&policy, &state, pusher, update))
                    })
                    .collect()
            }
        };
    let ca = pushing.ca(daemon);
    for ((update, verdict), rule) in updates.iter().zip(&verdicts).zip(rules) {
        if !verdict.allowed {
            let identity = match pushing {
                Pushing::Remote { identity, .. } => Some(identity),
                Pushing::Local { .. } => None,
            };
            denied::record(
                daemon,
                denied::Attempt {
                    identity,
                    user: pushing.name(),
                    ca: ca.as_deref(),
                    repo: &repo,
                    access: format!("{} {}", update.kind, update.ref_name),
                    rule,
                },
            );
        }
        tracing::info!(
            user = %pushing.name(), key = %pushing.identity(), repo = %repo, ref_name = %update.ref_name,
            old = %update.old, new = %update.new, kind = %update.kind,
            allowed = verdict.allowed, rule = %crate::types::shown::Escaped(&verdict.reason), "ref update decided"
        );
    }
    // git refuses the whole push if pre-receive refuses any ref, so only a fully allowed push
    // leaves pending rows behind.
    if verdicts.iter().all(|verdict| verdict.allowed) && !updates.is_empty() {
        let pusher = Pusher {
            session,
            user: pushing.name(),
            key: pushing.key(),
            ca: ca.as_deref(),
            repo: &repo,
        };
        daemon
            .store
            .add_pending(pusher, &updates.iter().collect::<Vec<_>>())?;
    }
    Ok(Response::RefVerdicts { verdicts })
}

/// Returns the repository's facts, or the one reason that refuses every update of the push.
fn facts_or_refusal(
    daemon: &Daemon,
    pushing: &Pushing,
    repo: &RepoName,
) -> Result<Result<RepoFacts, Refusal>, Failure> {
    match pushing {
        Pushing::Local { .. } if daemon.config.allow_local_push => {
            Ok(Ok(daemon.store.repo_facts(repo)?.unwrap_or_default()))
        }
        Pushing::Local { .. } => Ok(Err(Refusal::LocalPushDisabled)),
        Pushing::Remote { user, identity } => {
            let owner = match super::shell::owner(daemon, identity) {
                Ok(owner) => owner,
                Err(failure) if failure.kind == crate::wire::ErrorKind::Denied => {
                    return Ok(Err(Refusal::NoLongerRegistered));
                }
                Err(failure) => return Err(failure),
            };
            if owner.user != *user {
                return Ok(Err(Refusal::NoLongerRegistered));
            }
            if let Some(ca) = &owner.ca {
                tracing::info!(user = %user, key = %identity, ca, repo = %repo, "push with a certificate");
            }
            Ok(daemon
                .store
                .repo_facts(repo)?
                .ok_or_else(|| Refusal::NoRepository {
                    repo: repo.to_string(),
                }))
        }
    }
}

/// `record`: confirm the updates git made, idempotently.
pub(super) fn record(
    daemon: &Daemon,
    caller: &Caller,
    session: Option<String>,
    user: Option<UserName>,
    identity: Option<Identity>,
    repo: RepoName,
    updates: Vec<RefChange>,
) -> Handled {
    let pushing = pushing(caller, user, identity)?;
    authorize(daemon, &pushing, session.as_deref(), &repo, true)?;
    let repo_name = repo.clone();
    let recorded = confirm(daemon, &pushing, session.as_deref(), repo, updates);
    // Landed whether or not the record was stored: git moved the refs either way, and the
    // reconciler confirms from the pending rows what this could not.
    daemon
        .gate
        .landed(&in_flight_key(caller, session.as_deref(), &repo_name));
    recorded
}

/// Confirms the updates git made.
fn confirm(
    daemon: &Daemon,
    pushing: &Pushing,
    session: Option<&str>,
    repo: RepoName,
    updates: Vec<RefChange>,
) -> Handled {
    let path = repo.to_path(&daemon.config.repos);
    let classify = |old: &ObjectId, new: &ObjectId| -> UpdateKind {
        match git2::Repository::open_bare(&path) {
            Ok(repository) => update_facts::classify(&repository, old, new),
            Err(_) => fallback_kind(old, new),
        }
    };
    let changes: Vec<store::RefChange> = updates
        .into_iter()
        .map(|change| store::RefChange {
            ref_name: change.ref_name,
            old: change.old,
            new: change.new,
        })
        .collect();
    let ca = pushing.ca(daemon);
    let pusher = Pusher {
        session,
        user: pushing.name(),
        key: pushing.key(),
        ca: ca.as_deref(),
        repo: &repo,
    };
    let confirmed = daemon.store.confirm(pusher, &changes, &classify)?;
    tracing::info!(user = %pushing.name(), key = %pushing.identity(), repo = %repo, confirmed, "push recorded");
    Ok(Response::Done)
}

fn fallback_kind(old: &ObjectId, new: &ObjectId) -> UpdateKind {
    if old.is_zero() {
        UpdateKind::Create
    } else if new.is_zero() {
        UpdateKind::Delete
    } else {
        UpdateKind::NonFastForward
    }
}
