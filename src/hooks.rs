//! What `forge-hook` does inside a push: the `FORGE_*` environment contract between
//! `forge-shell` and the hooks, classifying ref updates, and the pre- and post-receive steps.
//!
//! pre-receive sends every update of the push to forged in one `check_refs` request; forged
//! decides each one and stores the accepted ones as pending under the session. post-receive
//! reports what git actually did with one `record` request, which confirms them. If forged dies
//! in between, it reconciles the pending rows against the real refs when it starts again.

use crate::client::{self, Client};
use crate::config::Config;
use crate::exit::Code;
use crate::identity::Identity;
use crate::keys::KeyId;
use crate::policy::refs::ProposedUpdate;
use crate::policy::{ObjectId, RefUpdate, UpdateKind};
use crate::repo_name::RepoName;
use crate::user_name::UserName;
use crate::wire::RefChange;
use std::io::BufRead;
use std::path::Path;

/// The pushing user's name, set by `forge-shell`.
pub const ENV_USER: &str = "FORGE_USER";
/// The identity the user logged in with, as the forced command names it (`key-17`,
/// `cert-3:alice`), set by `forge-shell`.
pub const ENV_IDENTITY: &str = "FORGE_IDENTITY";
/// The id of the key the user logged in with, set by `forge-shell` for a key session only
/// (a certificate session has no key). Read when [`ENV_IDENTITY`] is absent, as in a push
/// served by a forge-shell from before certificates.
pub const ENV_KEY_ID: &str = "FORGE_KEY_ID";
/// The repository name, set by `forge-shell`.
pub const ENV_REPO: &str = "FORGE_REPO";
/// The session id forged handed out at `check`, set by `forge-shell`.
pub const ENV_SESSION: &str = "FORGE_SESSION";
/// The `forge-hook` binary the hook shims run, set by `forge-shell`.
pub const ENV_HOOK: &str = "FORGE_HOOK";

/// The most update lines one push may carry.
pub const MAX_UPDATES: usize = 10_000;

/// The most changed paths one update reports for path rules; with more, forged refuses the
/// update if any path rule applies to the pusher.
pub const MAX_PATHS: usize = 10_000;

/// The most commits walked to look for merges; a longer walk counts as holding one.
const MAX_MERGE_WALK: usize = 100_000;

/// Why a hook failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A `FORGE_*` variable holds something `forge-shell` never writes.
    #[error("{name} is not valid")]
    BadEnvironment {
        /// The variable.
        name: &'static str,
    },
    /// A push without `FORGE_REPO` into a folder outside the repos root.
    #[error("this repository is not under forge's repos root")]
    OutsideRoot,
    /// git handed the hook a line it does not understand.
    #[error("git sent a bad ref update line")]
    BadInput(#[source] crate::policy::refs::Error),
    /// More than [`MAX_UPDATES`] updates.
    #[error("a push may update at most {max} refs")]
    TooManyUpdates {
        /// The limit.
        max: usize,
    },
    /// Reading the hook's input failed.
    #[error("cannot read the ref updates from git")]
    Read(#[source] std::io::Error),
    /// The repository could not be opened to classify an update.
    #[error("cannot open the repository to classify updates")]
    Repository(#[source] git2::Error),
    /// forged could not be asked.
    #[error("asking forged failed")]
    Service(#[source] client::Error),
    /// post-receive could not report the updates git made; forged reconciles them later.
    #[error("recording the push failed")]
    NotRecorded(#[source] client::Error),
    /// forged refused some updates; one line per refused ref.
    #[error("{}", refusals.join("; "))]
    Refused {
        /// `<ref>: <reason>` for each refused update.
        refusals: Vec<String>,
    },
}

impl Error {
    /// Returns the exit code this error calls for.
    pub fn code(&self) -> Code {
        match self {
            Error::Service(e) | Error::NotRecorded(e) => crate::exit::client_code(e),
            Error::Refused { .. } | Error::TooManyUpdates { .. } => Code::Refused,
            _ => Code::Internal,
        }
    }

    /// Returns the line the pushing user sees (git prefixes it with `remote:`).
    pub fn user_line(&self) -> String {
        match self {
            Error::Service(e) => format!("push refused: {}", crate::exit::client_user_line(e)),
            Error::NotRecorded(_) => "this push was accepted but not yet recorded; \
                 forge records it by itself once its service is back, nothing to do"
                .into(),
            Error::Refused { refusals } => refusals.join("\nforge: "),
            Error::TooManyUpdates { .. } => self.to_string(),
            _ => format!("push refused: {self}; tell your admin"),
        }
    }
}

/// Who is pushing where, as the `FORGE_*` environment says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushEnv {
    /// The pushing user; `None` for a push that did not come through `forge-shell`.
    pub user: Option<UserName>,
    /// The identity the user logged in with.
    pub identity: Option<Identity>,
    /// The repository pushed to.
    pub repo: RepoName,
    /// The session id forged handed out at `check`.
    pub session: Option<String>,
}

impl PushEnv {
    /// Returns the push described by `var` (the process environment, in production).
    ///
    /// Without `FORGE_USER` the push is local: the repository is named by the hook's working
    /// folder (git runs hooks in the repository folder) relative to the repos root, and forged
    /// decides whether local pushes are allowed.
    pub fn from_env(
        var: impl Fn(&str) -> Option<String>,
        repos_root: &Path,
        cwd: &Path,
    ) -> Result<PushEnv, Error> {
        let Some(user) = var(ENV_USER) else {
            return Ok(PushEnv {
                user: None,
                identity: None,
                repo: repo_from_folder(repos_root, cwd)?,
                session: None,
            });
        };
        let bad = |name| Error::BadEnvironment { name };
        let user = UserName::parse(&user).map_err(|_| bad(ENV_USER))?;
        let identity = match var(ENV_IDENTITY) {
            Some(text) => Identity::parse_arg(&text).map_err(|_| bad(ENV_IDENTITY))?,
            None => var(ENV_KEY_ID)
                .and_then(|id| id.parse::<i64>().ok())
                .filter(|id| *id > 0)
                .map(|id| Identity::Key(KeyId::new(id)))
                .ok_or(bad(ENV_KEY_ID))?,
        };
        let repo = var(ENV_REPO)
            .and_then(|name| RepoName::parse(&name).ok())
            .ok_or(bad(ENV_REPO))?;
        let session = var(ENV_SESSION)
            .filter(|s| {
                !s.is_empty()
                    && s.len() <= 64
                    && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            })
            .ok_or(bad(ENV_SESSION))?;
        Ok(PushEnv {
            user: Some(user),
            identity: Some(identity),
            repo,
            session: Some(session),
        })
    }
}

fn repo_from_folder(repos_root: &Path, cwd: &Path) -> Result<RepoName, Error> {
    let root = repos_root
        .canonicalize()
        .unwrap_or_else(|_| repos_root.to_owned());
    let relative = cwd.strip_prefix(&root).map_err(|_| Error::OutsideRoot)?;
    let name = relative
        .to_str()
        .and_then(|name| name.strip_suffix(".git"))
        .ok_or(Error::OutsideRoot)?;
    RepoName::parse(name).map_err(|_| Error::OutsideRoot)
}

/// Returns the update lines git writes on a hook's stdin.
pub fn read_updates(input: impl BufRead) -> Result<Vec<ProposedUpdate>, Error> {
    let mut updates = Vec::new();
    for line in input.lines() {
        let line = line.map_err(Error::Read)?;
        if updates.len() == MAX_UPDATES {
            return Err(Error::TooManyUpdates { max: MAX_UPDATES });
        }
        updates.push(ProposedUpdate::parse_line(&line).map_err(Error::BadInput)?);
    }
    Ok(updates)
}

/// Returns what kind of update `old -> new` is in `repo`.
///
/// In pre-receive, `repo` must be opened from the environment git provides, so the pushed
/// objects in the quarantine folder are visible. Anything that is not a commit on both sides
/// (an annotated tag moved, say) counts as a non-fast-forward: the safe side for policy.
pub fn classify(repo: &git2::Repository, old: &ObjectId, new: &ObjectId) -> UpdateKind {
    if old.is_zero() {
        return UpdateKind::Create;
    }
    if new.is_zero() {
        return UpdateKind::Delete;
    }
    let commit = |id: &ObjectId| {
        git2::Oid::from_str(id.as_str())
            .and_then(|oid| repo.find_object(oid, None))
            .and_then(|object| object.peel_to_commit())
            .map(|commit| commit.id())
    };
    match (commit(old), commit(new)) {
        (Ok(old), Ok(new)) if old == new => UpdateKind::FastForward,
        (Ok(old), Ok(new)) if repo.graph_descendant_of(new, old).unwrap_or(false) => {
            UpdateKind::FastForward
        }
        _ => UpdateKind::NonFastForward,
    }
}

/// Returns the files that differ between the trees of `old` and `new` (every file of the
/// tree on a create or a delete), as gitolite's path rules see them; `None` when there are
/// more than [`MAX_PATHS`] or the trees cannot be read.
pub fn changed_paths(
    repo: &git2::Repository,
    old: &ObjectId,
    new: &ObjectId,
) -> Option<Vec<String>> {
    let tree = |id: &ObjectId| -> Result<Option<git2::Tree<'_>>, git2::Error> {
        if id.is_zero() {
            return Ok(None);
        }
        let object = repo.find_object(git2::Oid::from_str(id.as_str())?, None)?;
        Ok(Some(object.peel_to_tree()?))
    };
    let (old_tree, new_tree) = (tree(old).ok()?, tree(new).ok()?);
    let diff = repo
        .diff_tree_to_tree(old_tree.as_ref(), new_tree.as_ref(), None)
        .ok()?;
    let mut paths = Vec::new();
    for delta in diff.deltas() {
        for file in [delta.old_file(), delta.new_file()] {
            if let Some(path) = file.path().and_then(|p| p.to_str())
                && paths.last().is_none_or(|last: &String| last != path)
            {
                paths.push(path.to_owned());
            }
        }
        if paths.len() > MAX_PATHS {
            return None;
        }
    }
    paths.dedup();
    Some(paths)
}

/// Returns whether the commits `new` brings over `old` include a merge (for a repository whose
/// rules check merges); a create or a delete brings none, as in gitolite.
pub fn has_merges(repo: &git2::Repository, old: &ObjectId, new: &ObjectId) -> bool {
    if old.is_zero() || new.is_zero() {
        return false;
    }
    let walk = || -> Result<bool, git2::Error> {
        let mut walk = repo.revwalk()?;
        walk.push(git2::Oid::from_str(new.as_str())?)?;
        // A rewind's old tip may be unrelated; hiding it is still right.
        let _ = walk.hide(git2::Oid::from_str(old.as_str())?);
        for (seen, oid) in walk.enumerate() {
            if seen >= MAX_MERGE_WALK || repo.find_commit(oid?)?.parent_count() > 1 {
                return Ok(true);
            }
        }
        Ok(false)
    };
    walk().unwrap_or(true)
}

/// Runs pre-receive: classifies `updates`, asks forged, and refuses the push if any update is
/// refused.
pub fn pre_receive(
    client: &Client,
    push: &PushEnv,
    repo: &git2::Repository,
    updates: Vec<ProposedUpdate>,
) -> Result<(), Error> {
    let classified = updates
        .into_iter()
        .map(|update| RefUpdate {
            kind: classify(repo, &update.old, &update.new),
            paths: changed_paths(repo, &update.old, &update.new),
            has_merges: has_merges(repo, &update.old, &update.new),
            ref_name: update.ref_name,
            old: update.old,
            new: update.new,
        })
        .collect();
    let verdicts = client
        .check_refs(push, classified)
        .map_err(Error::Service)?;
    let refusals: Vec<String> = verdicts
        .into_iter()
        .filter(|verdict| !verdict.allowed)
        .map(|verdict| format!("{}: {}", verdict.ref_name, verdict.reason))
        .collect();
    if refusals.is_empty() {
        Ok(())
    } else {
        Err(Error::Refused { refusals })
    }
}

/// Runs post-receive: reports the updates git made.
pub fn post_receive(
    client: &Client,
    push: &PushEnv,
    updates: Vec<ProposedUpdate>,
) -> Result<(), Error> {
    let changes = updates
        .into_iter()
        .map(|update| RefChange {
            ref_name: update.ref_name,
            old: update.old,
            new: update.new,
        })
        .collect();
    client.record(push, changes).map_err(Error::NotRecorded)
}

/// Returns the client hooks use to reach the forged named in `config`.
pub fn client(config: &Config) -> Client {
    Client::new(&config.socket, client::SHIM_TIMEOUT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    const FULL: &[(&str, &str)] = &[
        (ENV_USER, "alice"),
        (ENV_KEY_ID, "17"),
        (ENV_REPO, "acme/widgets"),
        (ENV_SESSION, "18a3f0c2d4e5f601"),
    ];

    #[test]
    fn a_push_through_forge_shell_names_user_key_repo_and_session() {
        let push = PushEnv::from_env(env(FULL), Path::new("/srv"), Path::new("/tmp")).unwrap();
        assert_eq!(push.user.unwrap().as_str(), "alice");
        assert_eq!(push.identity, Some(Identity::Key(KeyId::new(17))));
        assert_eq!(push.repo.as_str(), "acme/widgets");
    }

    #[test]
    fn the_identity_variable_names_a_key_or_a_certificate() {
        let mut pairs = FULL.to_vec();
        pairs.push((ENV_IDENTITY, "cert-3:alice"));
        let push = PushEnv::from_env(env(&pairs), Path::new("/srv"), Path::new("/tmp")).unwrap();
        assert_eq!(
            push.identity.map(|identity| identity.to_string()),
            Some("cert-3:alice".to_owned())
        );
        pairs.retain(|(k, _)| *k != ENV_KEY_ID);
        let push = PushEnv::from_env(env(&pairs), Path::new("/srv"), Path::new("/tmp")).unwrap();
        assert_eq!(push.identity.unwrap().key(), None);
    }

    #[test]
    fn a_malformed_forge_variable_is_refused() {
        for (name, value) in [
            (ENV_KEY_ID, "-1"),
            (ENV_KEY_ID, "x"),
            (ENV_IDENTITY, "cert-3"),
            (ENV_IDENTITY, "17"),
            (ENV_REPO, "../etc"),
            (ENV_SESSION, "a b"),
            (ENV_USER, "al ice"),
        ] {
            let mut pairs = FULL.to_vec();
            pairs.retain(|(k, _)| *k != name);
            pairs.push((name, value));
            let result = PushEnv::from_env(env(&pairs), Path::new("/srv"), Path::new("/tmp"));
            assert!(
                matches!(result, Err(Error::BadEnvironment { .. })),
                "{name}={value}"
            );
        }
    }

    #[test]
    fn a_local_push_is_named_by_its_folder() {
        let root = tempfile::tempdir().unwrap();
        let folder = root.path().canonicalize().unwrap().join("acme/widgets.git");
        let push = PushEnv::from_env(env(&[]), root.path(), &folder).unwrap();
        assert_eq!((push.user, push.repo.as_str()), (None, "acme/widgets"));
        let outside = PushEnv::from_env(env(&[]), root.path(), Path::new("/elsewhere/x.git"));
        assert!(matches!(outside, Err(Error::OutsideRoot)));
    }

    #[test]
    fn update_lines_are_read_until_the_end() {
        let zero = "0".repeat(40);
        let one = "1".repeat(40);
        let input = format!("{zero} {one} refs/heads/main\n{one} {zero} refs/heads/old\n");
        let updates = read_updates(input.as_bytes()).unwrap();
        assert_eq!(updates.len(), 2);
        assert!(read_updates("garbage\n".as_bytes()).is_err());
    }

    #[test]
    fn updates_are_classified_by_ancestry() {
        let dir = tempfile::tempdir().unwrap();
        let repo = git2::Repository::init_bare(dir.path()).unwrap();
        let signature = git2::Signature::now("t", "t@example.com").unwrap();
        let tree = repo
            .find_tree(repo.treebuilder(None).unwrap().write().unwrap())
            .unwrap();
        let first = repo
            .commit(None, &signature, &signature, "1", &tree, &[])
            .unwrap();
        let parent = repo.find_commit(first).unwrap();
        let second = repo
            .commit(None, &signature, &signature, "2", &tree, &[&parent])
            .unwrap();
        let other = repo
            .commit(None, &signature, &signature, "x", &tree, &[])
            .unwrap();
        let id = |oid: git2::Oid| ObjectId::parse(&oid.to_string()).unwrap();
        let zero = ObjectId::parse(&"0".repeat(40)).unwrap();
        let missing = ObjectId::parse(&"9".repeat(40)).unwrap();
        let rows = [
            (zero.clone(), id(first), UpdateKind::Create),
            (id(first), zero.clone(), UpdateKind::Delete),
            (id(first), id(second), UpdateKind::FastForward),
            (id(second), id(first), UpdateKind::NonFastForward),
            (id(second), id(other), UpdateKind::NonFastForward),
            (missing, id(first), UpdateKind::NonFastForward),
        ];
        for (old, new, kind) in rows {
            assert_eq!(classify(&repo, &old, &new), kind, "{old} -> {new}");
        }
    }
}
