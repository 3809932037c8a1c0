//! What every request handler and worker of forged shares: the configuration, the store, the
//! roles of the accounts, and the policy in force, rebuilt when the store's policy version moves.

use crate::config::Config;
use crate::daemon::peer::Roles;
use crate::policy::Policy;
use crate::store::{self, Store};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

/// How long a write session that `check` hands out stays open: long enough for a big push to
/// upload and for post-receive to report it. A push still running after that is confirmed by
/// the reconciler from its pending rows.
pub(in crate::daemon) const SESSION_LIFETIME: Duration = Duration::from_secs(60 * 60);

/// Everything a request handler may use.
pub struct Daemon {
    pub(in crate::daemon) config: Config,
    pub(in crate::daemon) store: Store,
    pub(in crate::daemon) roles: Roles,
    pub(in crate::daemon) started: Instant,
    /// Repositories created from patterns lately, per user, for the limit on them.
    pub(in crate::daemon) creations: crate::daemon::creations::Creations,
    /// The rate limit of recorded denied attempts.
    pub(in crate::daemon) denials: crate::daemon::denials::Denials,
    pub(in crate::daemon) policy: RwLock<Held>,
    /// How long a write session stays open; [`SESSION_LIFETIME`] but in tests.
    pub(in crate::daemon) session_lifetime: Duration,
    /// Maintenance mode, a backup's pause and the pushes in flight.
    pub(in crate::daemon) gate: crate::daemon::gate::Gate,
}

/// The policy forged decides with, and the store's policy version it was built at.
pub(in crate::daemon) struct Held {
    pub(in crate::daemon) version: i64,
    pub(in crate::daemon) policy: Arc<Policy>,
}

impl Daemon {
    /// Returns the policy in force, rebuilt first if the store's policy version is newer than
    /// the one it was built at (a change by this forged, another one, or any other writer).
    ///
    /// Costs one read of one row by its primary key per call; the rebuild happens once per
    /// change. A store that cannot be read, or a stored policy that does not build, is an
    /// error: forged does not decide with a policy it knows to be stale.
    pub(in crate::daemon) fn policy(&self) -> Result<Arc<Policy>, String> {
        let stored_version = self.store.policy_version().map_err(crate::exit::one_line)?;
        {
            let held = self.policy.read().unwrap_or_else(PoisonError::into_inner);
            if held.version >= stored_version {
                return Ok(Arc::clone(&held.policy));
            }
        }
        let stored = self.store.load_policy().map_err(crate::exit::one_line)?;
        let policy = Arc::new(build_policy(&stored).map_err(crate::exit::one_line)?);
        let mut held = self.policy.write().unwrap_or_else(PoisonError::into_inner);
        // Another request may have rebuilt meanwhile, from a version newer still.
        if stored.version > held.version {
            tracing::info!(from = held.version, to = stored.version, "policy rebuilt");
            *held = Held {
                version: stored.version,
                policy: Arc::clone(&policy),
            };
        }
        Ok(Arc::clone(&held.policy))
    }

    /// Returns the configuration forged runs with.
    pub fn config(&self) -> &Config {
        &self.config
    }
}

/// Returns the policy `stored` describes: its document, then the rules grants and public
/// flags stand for.
pub(in crate::daemon) fn build_policy(
    stored: &store::StoredPolicy,
) -> Result<Policy, crate::policy::document::Error> {
    crate::policy::shortcuts::build(&stored.document, &stored.grants, &stored.public)
}

#[cfg(test)]
impl Daemon {
    /// Returns a daemon for handler tests: the store in memory (same migrations and pragmas as
    /// a file), repositories under `repos`, the hook shims of this source tree, and `roles`
    /// instead of accounts resolved from this machine.
    pub(crate) fn in_memory(repos: &std::path::Path, roles: Roles) -> Daemon {
        let config = Config {
            repos: repos.to_owned(),
            hooks: std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("hooks"),
            ..Config::default()
        };
        let store = Store::open_in_memory().expect("an in-memory store opens and migrates");
        let stored = store.load_policy().expect("a new store has a policy");
        let policy = build_policy(&stored).expect("the empty policy builds");
        Daemon {
            config,
            store,
            roles,
            started: Instant::now(),
            creations: crate::daemon::creations::Creations::default(),
            denials: crate::daemon::denials::Denials::default(),
            policy: RwLock::new(Held {
                version: stored.version,
                policy: Arc::new(policy),
            }),
            session_lifetime: SESSION_LIFETIME,
            gate: crate::daemon::gate::Gate::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::daemon::handlers;
    use crate::daemon::peer::Caller;
    use crate::policy::Access;
    use crate::types::repo_name::RepoName;
    use crate::types::user_name::UserName;
    use crate::wire::{Request, Response};
    use std::path::PathBuf;

    /// Returns a forged on a database in `dir`, and the database's path.
    fn daemon(dir: &std::path::Path) -> (Daemon, PathBuf) {
        let database = dir.join("forge.db");
        let config = Config {
            database: database.clone(),
            repos: dir.join("repos"),
            socket: dir.join("forged.sock"),
            // One account for all, as the tests run: no ownership checks.
            daemon_user: Config::default().git_user,
            ..Config::default()
        };
        (Daemon::open(config).unwrap(), database)
    }

    /// Asks `daemon`, as root, whether `user` may read `repo`.
    fn may_read(daemon: &Daemon, user: &str, repo: &str) -> bool {
        let root = Caller {
            uid: 0,
            gid: 0,
            pid: 1,
        };
        let request = Request::Access {
            user: UserName::parse(user).unwrap(),
            repo: RepoName::parse(repo).unwrap(),
            need: "R".to_owned(),
            reference: None,
        };
        match handlers::handle(daemon, &root, request, "test") {
            Response::Explained { allowed, .. } => allowed,
            other => panic!("unexpected answer {other:?}"),
        }
    }

    #[test]
    fn a_change_by_another_writer_decides_the_next_request() {
        let dir = tempfile::tempdir().unwrap();
        let (daemon, database) = daemon(dir.path());
        let alice = UserName::parse("alice").unwrap();
        let widgets = RepoName::parse("acme/widgets").unwrap();
        let other = Store::open(&database).unwrap();
        other.add_user(&alice).unwrap();
        other
            .create_repo(&widgets, "", false, None, Box::new(|| Ok(())))
            .unwrap();
        assert!(!may_read(&daemon, "alice", "acme/widgets"));

        other.grant(&widgets, &alice, Access::Read).unwrap();
        assert!(may_read(&daemon, "alice", "acme/widgets"));

        other.revoke(&widgets, &alice).unwrap();
        assert!(!may_read(&daemon, "alice", "acme/widgets"));
    }

    #[test]
    fn an_unchanged_policy_is_not_rebuilt() {
        let dir = tempfile::tempdir().unwrap();
        let (daemon, _) = daemon(dir.path());
        let first = daemon.policy().unwrap();
        let second = daemon.policy().unwrap();
        assert!(Arc::ptr_eq(&first, &second));
    }
}
