//! Creating a repository, the one way every handler does it: in the store and on disk in one
//! step, either plainly (an admin's `repo create`, an import) or from a pattern with a creator
//! once policy allows it (a clone or push of a missing repository, `create`, `repo create
//! --creator`).

use super::answer::Failure;
use crate::daemon::disk;
use crate::daemon::state::Daemon;
use crate::exit::{Classify, Code};
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
    daemon
        .store
        .create_repo(
            repo,
            description,
            public,
            None,
            Box::new(|| disk::create_bare(&root, repo, &hooks).map_err(Into::into)),
        )
        .map_err(|e| match disk_refusal(&e) {
            Some(line) => Failure::refused(line),
            None => e.into(),
        })?;
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
    match from_pattern(daemon, repo, user) {
        Err(failure) if failure.kind == crate::wire::ErrorKind::Denied => Err(refused()),
        other => other.map(|_| ()),
    }
}

/// Creates `repo` from a pattern for `user`, once policy has allowed it, unless the limit on
/// their creations says no (see [`count_for`]). Returns the facts as [`from_pattern`] does.
pub(super) fn by_user(
    daemon: &Daemon,
    repo: &RepoName,
    user: &UserName,
) -> Result<RepoFacts, Failure> {
    count_for(daemon, user, repo)?;
    from_pattern(daemon, repo, user)
}

/// Counts a creation that `user` asks for (a clone, push or `create`, never an admin's), or
/// refuses it for now when they created
/// [`MAX_PER_WINDOW`](crate::daemon::creations::MAX_PER_WINDOW) repositories within the last
/// minute: a loop of `git ls-remote` must not make thousands of repositories (#11).
pub(super) fn count_for(daemon: &Daemon, user: &UserName, repo: &RepoName) -> Result<(), Failure> {
    let limit = crate::daemon::creations::MAX_PER_WINDOW;
    if daemon
        .creations
        .try_count(user.as_str(), std::time::Instant::now())
    {
        return Ok(());
    }
    tracing::warn!(user = %user, repo = %repo, limit, "too many repositories created lately; refused");
    Err(Failure::busy(format!(
        "{user} created {limit} repositories in the last minute; try again later"
    )))
}

/// Creates `repo` (on disk and in the store) with `creator`, once policy has allowed it;
/// returns its facts. A repository someone created meanwhile is taken as it is; one whose
/// name differs only in letter case is denied, as a missing repository is.
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
    let raced = match created {
        Ok(()) => {
            tracing::info!(repo = %repo, creator = %creator, "repository created from a pattern");
            false
        }
        Err(store::Error::AlreadyExists { .. }) => true,
        Err(e) => {
            return Err(match disk_refusal(&e) {
                // What is in the way on disk is the admin's to see, not the user's.
                Some(line) => {
                    tracing::warn!(repo = %repo, creator = %creator, error = %line, "cannot create from a pattern; denied");
                    Failure::denied()
                }
                None => e.into(),
            });
        }
    };
    match daemon.store.repo_facts(repo)? {
        Some(facts) => Ok(facts),
        // It exists, yet not under this name: a name that differs only in letter case.
        None if raced => {
            tracing::info!(repo = %repo, creator = %creator, "a repository whose name differs only in letter case exists; denied");
            Err(Failure::denied())
        }
        None => Err(Failure::internal(format!(
            "repository '{repo}' vanished while created"
        ))),
    }
}

/// Returns the state policy decides on for an existing repository.
pub(super) fn state_of<'a>(repo: &'a RepoName, facts: &'a RepoFacts) -> RepoState<'a> {
    RepoState::existing(repo.as_str(), facts.creator.as_deref(), &facts.roles)
}

/// Returns the line of a creation the disk refused (a folder in the way, a link beneath the
/// repos root): the admin's input to fix, not a bug, so it is a refusal (exit 1).
fn disk_refusal(error: &store::Error) -> Option<String> {
    let store::Error::Outside { what, source } = error else {
        return None;
    };
    let disk = source.downcast_ref::<disk::Error>()?;
    (disk.code() == Code::Refused).then(|| format!("{what}: {disk}"))
}
