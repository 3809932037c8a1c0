//! The `FORGE_*` environment: what `forge-shell` tells the hooks it starts (who pushes, with
//! which identity, into which repository, under which session), and reading it back in
//! `forge-hook`. Both ends use this one module, so the contract cannot drift.

use crate::exit::{Classify, Code};
use crate::policy::decide::PushNeeds;
use crate::types::identity::Identity;
use crate::types::keys::KeyId;
use crate::types::repo_name::RepoName;
use crate::types::user_name::UserName;
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
/// Which facts of the push forged needs, as `check` answered ([`PushNeeds`]), set by
/// `forge-shell`: `none`, `paths`, `merges` or `paths,merges` ([`needs_value`]). Absent or
/// anything else, pre-receive computes every fact.
pub const ENV_NEEDS: &str = "FORGE_NEEDS";

/// Returns the value of [`ENV_NEEDS`] for `needs`.
pub fn needs_value(needs: PushNeeds) -> &'static str {
    match (needs.paths, needs.merges) {
        (false, false) => "none",
        (true, false) => "paths",
        (false, true) => "merges",
        (true, true) => "paths,merges",
    }
}

/// Returns the needs [`ENV_NEEDS`] says (`value`); [`PushNeeds::ALL`] when it is absent or
/// not one of the values [`needs_value`] writes, so that a doubt costs time, never a check.
pub fn needs_from(value: Option<&str>) -> PushNeeds {
    match value {
        Some("none") => PushNeeds {
            paths: false,
            merges: false,
        },
        Some("paths") => PushNeeds {
            paths: true,
            merges: false,
        },
        Some("merges") => PushNeeds {
            paths: false,
            merges: true,
        },
        _ => PushNeeds::ALL,
    }
}

/// Why the `FORGE_*` environment does not describe a push.
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
    /// Which facts of the push pre-receive must compute; all of them for a local push.
    pub needs: PushNeeds,
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
                needs: PushNeeds::ALL,
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
            needs: needs_from(var(ENV_NEEDS).as_deref()),
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

impl Classify for Error {
    /// Every error here is input that cannot be used (the push environment): refused, nothing changed.
    fn code(&self) -> Code {
        Code::Refused
    }
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
        (ENV_SESSION, "5f0c2d4e18a3f601b7d94e2a0c6f1b38"),
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
    fn the_needs_variable_says_which_facts_to_compute() {
        for needs in [
            PushNeeds::ALL,
            PushNeeds {
                paths: false,
                merges: false,
            },
            PushNeeds {
                paths: true,
                merges: false,
            },
            PushNeeds {
                paths: false,
                merges: true,
            },
        ] {
            let mut pairs = FULL.to_vec();
            pairs.push((ENV_NEEDS, needs_value(needs)));
            let push =
                PushEnv::from_env(env(&pairs), Path::new("/srv"), Path::new("/tmp")).unwrap();
            assert_eq!(push.needs, needs);
        }
    }

    #[test]
    fn absent_or_unknown_needs_mean_computing_every_fact() {
        let push = PushEnv::from_env(env(FULL), Path::new("/srv"), Path::new("/tmp")).unwrap();
        assert_eq!(push.needs, PushNeeds::ALL);
        for value in ["", "None", "paths,", "merges,paths", "nothing", " none"] {
            assert_eq!(needs_from(Some(value)), PushNeeds::ALL, "{value:?}");
        }
        let mut pairs = FULL.to_vec();
        pairs.push((ENV_NEEDS, "garbage"));
        let push = PushEnv::from_env(env(&pairs), Path::new("/srv"), Path::new("/tmp")).unwrap();
        assert_eq!(push.needs, PushNeeds::ALL);
    }

    #[test]
    fn a_local_push_is_named_by_its_folder() {
        let root = tempfile::tempdir().unwrap();
        let folder = root.path().canonicalize().unwrap().join("acme/widgets.git");
        let push = PushEnv::from_env(env(&[]), root.path(), &folder).unwrap();
        assert_eq!((push.user, push.repo.as_str()), (None, "acme/widgets"));
        assert_eq!(push.needs, PushNeeds::ALL);
        let outside = PushEnv::from_env(env(&[]), root.path(), Path::new("/elsewhere/x.git"));
        assert!(matches!(outside, Err(Error::OutsideRoot)));
    }
}
