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
use crate::types::shown::shown;
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
            if add {
                known_member(daemon, member)?;
            }
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

/// Refuses to hand a role to a user or `@group` that does not exist (#13): a role given to a
/// name nobody holds yet would go to whoever is later added under it, and the one who typed it
/// meant someone else. Taking a role away needs no such check.
fn known_member(daemon: &Daemon, member: &str) -> Result<(), Failure> {
    let known = match member.strip_prefix('@') {
        Some(_) => {
            member == "@all"
                || daemon
                    .store
                    .policy_document()?
                    .user_groups
                    .contains_key(member)
        }
        None => match UserName::parse(member) {
            Ok(user) => daemon.store.has_user(&user)?,
            Err(_) => false,
        },
    };
    if known {
        return Ok(());
    }
    Err(Failure::refused(format!(
        "'{}' is not a user or a group of this forge; check the name",
        shown(member)
    )))
}

/// `policy_export`: the stored policy.
pub(super) fn export(daemon: &Daemon) -> Handled {
    Ok(Response::Policy {
        document: daemon.store.policy_document()?,
    })
}

/// `policy_apply`: replace the policy in one transaction, or (dry run) say what would change.
///
/// A user name the policy names that is not a user of the forge gets a warning (the user may
/// be added later); a change that would give a repository's force-push access (`RW+`) only
/// to such names, taking it from the users who hold it now, is refused, dry run or not (#13).
pub(super) fn apply(daemon: &Daemon, document: Document, dry_run: bool) -> Handled {
    document
        .to_parts()
        .map_err(|e| Failure::refused(format!("the policy is not valid: {e}")))?;
    let current = daemon.store.policy_document()?;
    let lines = current.diff(&document);
    let users: std::collections::BTreeSet<String> = daemon
        .store
        .list_users()?
        .into_iter()
        .map(|user| user.name.to_string())
        .collect();
    let is_user = |name: &str| users.contains(name);
    if !lines.is_empty()
        && let Some((repo, names)) = current.lockouts(&document, is_user).into_iter().next()
    {
        return Err(Failure::refused(format!(
            "the policy gives force push (RW+) on '{}' only to {}, not users of this forge, and takes it from those who hold it now; nothing was changed: fix the name, or add the user first with 'forgectl user add'",
            shown(&repo),
            names
                .iter()
                .map(|name| format!("'{}'", shown(name)))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let warnings = unknown_users(&document, is_user);
    if dry_run || lines.is_empty() {
        return Ok(Response::Changes {
            lines,
            applied: false,
            warnings,
        });
    }
    daemon.store.replace_policy(&current, &document)?;
    tracing::info!(
        changes = lines.len(),
        unknown_users = warnings.len(),
        "policy applied"
    );
    Ok(Response::Changes {
        lines,
        applied: true,
        warnings,
    })
}

/// Returns a line for each user name `document` names that `is_user` does not know, saying
/// where it is.
fn unknown_users(document: &Document, is_user: impl Fn(&str) -> bool) -> Vec<String> {
    document
        .named_users()
        .into_iter()
        .filter(|(name, _)| !is_user(name))
        .map(|(name, place)| {
            format!(
                "'{}' ({}) is not a user of this forge; add it with 'forgectl user add', or fix the name",
                shown(&name),
                shown(&place)
            )
        })
        .collect()
}

/// `prepend_rules`: put rules before every other rule, replacing the stored rules of the same
/// source (a protection given again replaces the one before, #11). The repositories and the
/// users and `@groups` the rules name must exist.
pub(super) fn prepend(daemon: &Daemon, rules: Vec<RuleRow>) -> Handled {
    let current = daemon.store.policy_document()?;
    for rule in &rules {
        known_names(daemon, &current, rule)?;
    }
    let mut document = without_sources(&current, &rules);
    let first = document.rules.iter().map(|r| r.seq).min().unwrap_or(1);
    let count = rules.iter().map(|r| r.seq).max().unwrap_or(0);
    let shifted = rules.iter().map(|row| RuleRow {
        seq: first - count - 1 + row.seq,
        ..row.clone()
    });
    document.rules.splice(0..0, shifted);
    replaced(daemon, &current, &document)
}

/// `unprotect`: remove the rules of the protection of `branch` (or the tags) of `repo`.
pub(super) fn unprotect(daemon: &Daemon, repo: &RepoName, branch: Option<&str>) -> Handled {
    let source = crate::policy::shortcuts::protection_source(repo.as_str(), branch);
    let current = daemon.store.policy_document()?;
    let mut document = current.clone();
    document.rules.retain(|rule| rule.source != source);
    if document.rules.len() == current.rules.len() {
        let what = branch.map_or_else(|| "its tags".to_owned(), |b| format!("branch '{b}'"));
        return Err(Failure::refused(format!(
            "repository '{repo}' has no protection of {what}; see 'forgectl policy export'"
        )));
    }
    replaced(daemon, &current, &document)
}

/// Returns `document` without the rules whose source is one of `rules`'.
fn without_sources(document: &Document, rules: &[RuleRow]) -> Document {
    let mut kept = document.clone();
    kept.rules
        .retain(|stored| !rules.iter().any(|rule| rule.source == stored.source));
    kept
}

/// Refuses a rule that names a repository, a user or a `@group` that does not exist; patterns,
/// `@all` and the creator's and roles' names (`@CREATOR`, `@READERS`) are not names.
fn known_names(daemon: &Daemon, current: &Document, rule: &RuleRow) -> Result<(), Failure> {
    if let Ok(repo) = RepoName::parse(&rule.repo)
        && daemon.store.repo_facts(&repo)?.is_none()
    {
        return Err(Failure::refused(format!(
            "repository '{repo}' does not exist; create it first"
        )));
    }
    let who = rule.who.as_str();
    let is_special = |name: &str| name == "all" || name.bytes().all(|b| b.is_ascii_uppercase());
    let known = if let Some(name) = who.strip_prefix('@') {
        is_special(name) || current.user_groups.contains_key(who)
    } else {
        match UserName::parse(who) {
            Ok(user) => daemon.store.has_user(&user)?,
            Err(_) => false,
        }
    };
    if !known {
        return Err(Failure::refused(format!(
            "'{}' is not a user or a group of the policy; add it first",
            crate::types::shown::shown(who)
        )));
    }
    Ok(())
}

/// Replaces the policy `current` with `document`, after checking it, and says what changed.
fn replaced(daemon: &Daemon, current: &Document, document: &Document) -> Handled {
    document
        .to_parts()
        .map_err(|e| Failure::refused(format!("the rules are not valid: {e}")))?;
    let lines = current.diff(document);
    if !lines.is_empty() {
        daemon.store.replace_policy(current, document)?;
        tracing::info!(changes = lines.len(), "policy rules replaced");
    }
    Ok(Response::Changes {
        lines,
        applied: true,
        warnings: Vec::new(),
    })
}

/// How an import may treat the policy the forge holds.
#[derive(Debug, Clone, Copy)]
pub(super) struct Replace {
    /// Only say what would change.
    pub(super) dry_run: bool,
    /// Replace a policy that holds anything (else such an import is refused).
    pub(super) replace: bool,
}

/// `import`: add missing users and keys, then replace the policy; a policy the forge holds
/// already is replaced only when asked (#13).
pub(super) fn import(
    daemon: &Daemon,
    users: Vec<UserName>,
    keys: Vec<(UserName, String)>,
    repos: Vec<RepoName>,
    document: Document,
    Replace { dry_run, replace }: Replace,
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
    let replaced = current.replaced_by(&document).len();
    if replaced > 0 && !replace && !dry_run {
        return Err(Failure::refused(format!(
            "the forge holds a policy already, and the import would replace it ({replaced} change(s)); nothing was changed: see them with --dry-run, then pass --replace"
        )));
    }
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
            warnings: Vec::new(),
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
        warnings: Vec::new(),
    })
}
