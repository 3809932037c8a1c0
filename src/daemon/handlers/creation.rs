//! Creating a repository, the one way every handler does it: in the store and on disk in one
//! step, either plainly (an admin's `repo create`, an import) or from a pattern with a creator
//! once policy allows it (a clone or push of a missing repository, `create`, `repo create
//! --creator`).

use super::answer::Failure;
use crate::daemon::disk;
use crate::daemon::state::Daemon;
use crate::policy::RepoState;
use crate::policy::decide;
use crate::store::{self, RepoFacts};
use crate::types::repo_name::RepoName;
use crate::types::user_name::UserName;

/// Creates the plain repository `repo` (no creator) with `description`, public or not.
pub(super) fn plain(
    daemon: &Daemon,
    repo: &RepoName,
    description: &str,
    public: bool,
) -> Result<(), Failure> {
    let root = daemon.config.repos.clone();
    let path = repo.to_path(&root);
    let hooks = daemon.config.hooks.clone();
    daemon.store.create_repo(
        repo,
        description,
        public,
        None,
        Box::new(|| disk::create_bare(&root, repo, &hooks).map_err(Into::into)),
    )?;
    tracing::info!(repo = %repo, public, path = %path.display(), "repository created");
    Ok(())
}

/// Creates `repo` from a pattern with `user` as its creator, if the policy lets them; refuses
/// an existing repository with the same words as a forbidden one.
pub(super) fn as_creator(daemon: &Daemon, user: &UserName, repo: &RepoName) -> Result<(), Failure> {
    let refused = || {
        Failure::refused(format!(
            "repository '{repo}' already exists, or {user} may not create it"
        ))
    };
    if daemon.store.repo_facts(repo)?.is_some() {
        return Err(refused());
    }
    let policy = daemon.policy().map_err(Failure::internal)?;
    let verdict = decide::create(&policy, user.as_str(), repo.as_str());
    if !verdict.allowed {
        tracing::info!(user = %user, repo = %repo, rule = %verdict.reason(), "repository creation denied");
        return Err(refused());
    }
    from_pattern(daemon, repo, user)?;
    Ok(())
}

/// Creates `repo` (on disk and in the store) with `creator`, once policy has allowed it;
/// returns its facts. A repository someone created meanwhile is taken as it is.
pub(super) fn from_pattern(
    daemon: &Daemon,
    repo: &RepoName,
    creator: &UserName,
) -> Result<RepoFacts, Failure> {
    let root = daemon.config.repos.clone();
    let hooks = daemon.config.hooks.clone();
    let created = daemon.store.create_repo(
        repo,
        "",
        false,
        Some(creator.as_str()),
        Box::new(|| disk::create_bare(&root, repo, &hooks).map_err(Into::into)),
    );
    match created {
        Ok(()) => {
            tracing::info!(repo = %repo, creator = %creator, "repository created from a pattern")
        }
        Err(store::Error::AlreadyExists { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    daemon
        .store
        .repo_facts(repo)?
        .ok_or_else(|| Failure::internal(format!("repository '{repo}' vanished while created")))
}

/// Returns the state policy decides on for an existing repository.
pub(super) fn state_of<'a>(repo: &'a RepoName, facts: &'a RepoFacts) -> RepoState<'a> {
    RepoState::existing(repo.as_str(), facts.creator.as_deref(), &facts.roles)
}
