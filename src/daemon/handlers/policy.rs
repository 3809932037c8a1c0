//! Policy questions and changes: explaining a decision, creating repositories from patterns,
//! the roles their creators hand out, and exporting, applying and importing the policy.

use super::answer::{Failure, Handled};
use super::{creation, creation::state_of};
use crate::daemon::state::Daemon;
use crate::policy::decide;
use crate::policy::document::{Document, RuleRow};
use crate::policy::{Need, RepoState};
use crate::types::identity::Identity;
use crate::types::keys::PublicKey;
use crate::types::repo_name::RepoName;
use crate::types::user_name::UserName;
use crate::wire::{Response, RoleChange};

/// `access`: the decision for `user`, `repo`, `need` and `reference`, as `gitolite access`
/// gives it (`C`, `D` and `M` count as `W`, `+` and `W` unless the repository's rules make them
/// count), with the rule that made it.
pub(super) fn access(
    daemon: &Daemon,
    user: UserName,
    repo: RepoName,
    need: &str,
    reference: Option<String>,
) -> Handled {
    if !daemon.store.has_user(&user)? {
        return Err(Failure::refused(format!("user '{user}' does not exist")));
    }
    let need = Need::parse(need).map_err(|e| Failure::refused(e.to_string()))?;
    let facts = daemon.store.repo_facts(&repo)?;
    let policy = daemon.policy().map_err(Failure::internal)?;
    let state = facts.as_ref().map_or_else(
        || RepoState::missing(repo.as_str()),
        |facts| state_of(&repo, facts),
    );
    let verdict = decide::explain(&policy, user.as_str(), &state, need, reference.as_deref());
    Ok(Response::Explained {
        allowed: verdict.allowed,
        line: verdict.gitolite_line(),
        reason: verdict.reason(),
    })
}

/// `create` (SSH): the user behind an identity creates a repository from a pattern they may
/// create in.
pub(super) fn create(daemon: &Daemon, identity: Identity, repo: RepoName) -> Handled {
    let user = super::shell::owner(daemon, &identity)?.user;
    creation::count_for(daemon, &user, &repo)?;
    creation::as_creator(daemon, &user, &repo)?;
    Ok(Response::Done)
}

/// `perms` (SSH): the creator of a repository lists or changes its roles.
pub(super) fn perms(
    daemon: &Daemon,
    identity: Identity,
    repo: RepoName,
    change: RoleChange,
) -> Handled {
    let user = super::shell::owner(daemon, &identity)?.user;
    let facts = daemon.store.repo_facts(&repo)?;
    if facts.as_ref().and_then(|f| f.creator.as_deref()) != Some(user.as_str()) {
        return Err(Failure::refused(format!(
            "repository '{repo}' does not exist, or {user} did not create it"
        )));
    }
    roles(daemon, repo, change)
}

/// `repo_perms` (admin), and the work of `perms`: list, add or remove a role.
pub(super) fn roles(daemon: &Daemon, repo: RepoName, change: RoleChange) -> Handled {
    match &change {
        RoleChange::List => {}
        RoleChange::Add { role, member } | RoleChange::Remove { role, member } => {
            let policy = daemon.policy().map_err(Failure::internal)?;
            if !policy.roles().contains(role) {
                return Err(Failure::refused(format!(
                    "'{role}' is not a role; use {}",
                    policy.roles().join(" or ")
                )));
            }
            crate::policy::Subject::parse(member).map_err(|e| Failure::refused(e.to_string()))?;
            let add = matches!(change, RoleChange::Add { .. });
            daemon.store.set_role(&repo, role, member, add)?;
            tracing::info!(repo = %repo, role = %crate::types::shown::Escaped(role), member = %crate::types::shown::Escaped(member), add, "role changed");
        }
    }
    let facts = daemon
        .store
        .repo_facts(&repo)?
        .ok_or_else(|| Failure::refused(format!("repository '{repo}' does not exist")))?;
    Ok(Response::Roles {
        creator: facts.creator,
        roles: facts.roles,
    })
}

/// `policy_export`: the stored policy.
pub(super) fn export(daemon: &Daemon) -> Handled {
    Ok(Response::Policy {
        document: daemon.store.policy_document()?,
    })
}

/// `policy_apply`: replace the policy in one transaction, or (dry run) say what would change.
pub(super) fn apply(daemon: &Daemon, document: Document, dry_run: bool) -> Handled {
    document
        .to_parts()
        .map_err(|e| Failure::refused(format!("the policy is not valid: {e}")))?;
    let current = daemon.store.policy_document()?;
    let lines = current.diff(&document);
    if dry_run || lines.is_empty() {
        return Ok(Response::Changes {
            lines,
            applied: false,
        });
    }
    daemon.store.replace_policy(&current, &document)?;
    tracing::info!(changes = lines.len(), "policy applied");
    Ok(Response::Changes {
        lines,
        applied: true,
    })
}

/// `prepend_rules`: put rules before every other rule.
pub(super) fn prepend(daemon: &Daemon, rules: Vec<RuleRow>) -> Handled {
    let mut document = daemon.store.policy_document()?;
    document.rules.splice(0..0, rules.iter().cloned());
    document
        .to_parts()
        .map_err(|e| Failure::refused(format!("the rules are not valid: {e}")))?;
    daemon.store.prepend_rules(&rules)?;
    Ok(Response::Changes {
        lines: rules
            .iter()
            .map(|r| format!("+ rule {} {} = {} on {}", r.perm, r.refex, r.who, r.repo))
            .collect(),
        applied: true,
    })
}

/// `import`: add missing users and keys, then replace the policy.
pub(super) fn import(
    daemon: &Daemon,
    users: Vec<UserName>,
    keys: Vec<(UserName, String)>,
    repos: Vec<RepoName>,
    document: Document,
    dry_run: bool,
) -> Handled {
    document
        .to_parts()
        .map_err(|e| Failure::refused(format!("the imported policy is not valid: {e}")))?;
    let parsed: Vec<(UserName, PublicKey)> = keys
        .into_iter()
        .map(|(user, text)| {
            PublicKey::parse_authorized(&text)
                .map(|key| (user.clone(), key))
                .map_err(|e| Failure::refused(format!("a key of '{user}': {e}")))
        })
        .collect::<Result<_, _>>()?;
    let current = daemon.store.policy_document()?;
    let mut lines = Vec::new();
    for user in &users {
        if !daemon.store.has_user(user)? {
            lines.push(format!("+ user {user}"));
        }
    }
    let known: Vec<String> = daemon
        .store
        .list_keys(None, None)?
        .into_iter()
        .map(|k| k.fingerprint.to_string())
        .collect();
    for (user, key) in &parsed {
        if !known.contains(&key.fingerprint().to_string()) {
            lines.push(format!("+ key {} for {user}", key.fingerprint()));
        }
    }
    let missing: Vec<&RepoName> = repos
        .iter()
        .map(|repo| Ok((repo, daemon.store.repo_facts(repo)?.is_none())))
        .collect::<Result<Vec<_>, Failure>>()?
        .into_iter()
        .filter_map(|(repo, missing)| missing.then_some(repo))
        .collect();
    lines.extend(missing.iter().map(|repo| format!("+ repository {repo}")));
    lines.extend(current.diff(&document));
    if dry_run {
        return Ok(Response::Changes {
            lines,
            applied: false,
        });
    }
    daemon.store.import(&users, &parsed, &current, &document)?;
    for repo in missing {
        creation::plain(daemon, repo, "", false)?;
    }
    tracing::info!(users = users.len(), changes = lines.len(), "import applied");
    Ok(Response::Changes {
        lines,
        applied: true,
    })
}
