//! `forged`: the single source of truth. It listens on a Unix socket, identifies each peer by
//! `SO_PEERCRED`, answers one request per line, and keeps all state in the [`Store`].
//!
//! Crash-only: every acknowledged change is committed before the answer is written, and at
//! start-up (and then every minute) pending ref updates are reconciled against the real refs.

mod disk;
mod handlers;
mod listener;
mod peer;
mod workers;

use crate::config::Config;
use crate::exit::{self, Classify, Code};
use crate::policy::Policy;
use crate::store::{self, Store};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

pub use peer::{Caller, Roles};

/// How often pending ref updates are reconciled while forged runs, and how old they must be.
const RECONCILE_EVERY: Duration = Duration::from_secs(60);

/// Why forged cannot serve.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database cannot be opened or migrated.
    #[error("cannot open the database {}", path.display())]
    Store {
        /// The database file.
        path: PathBuf,
        /// Why.
        #[source]
        source: store::Error,
    },
    /// A folder forged needs cannot be made.
    #[error("cannot create {}", path.display())]
    Folder {
        /// The folder.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Another forged answers on the socket.
    #[error("another forged is already listening on {}; stop it first", path.display())]
    AlreadyRunning {
        /// The socket.
        path: PathBuf,
    },
    /// The socket path holds something that is not a socket.
    #[error("{} exists and is not a socket; remove it or set 'socket' in forge.toml", path.display())]
    NotASocket {
        /// The path.
        path: PathBuf,
    },
    /// The socket cannot be bound or served.
    #[error("cannot listen on {}", path.display())]
    Listen {
        /// The socket.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// systemd passed more than the one socket forged listens on.
    #[error("systemd passed {count} sockets; forged listens on exactly one (check forged.socket)")]
    PassedSockets {
        /// How many.
        count: usize,
    },
    /// The socket systemd passed is not a listening Unix stream socket.
    #[error(
        "the socket systemd passed is not a Unix stream socket; check ListenStream= in forged.socket"
    )]
    PassedSocket(#[source] std::io::Error),
    /// The socket systemd passed is not the one forge.toml names, so clients would miss it.
    #[error(
        "systemd passed a socket on {passed} but forge.toml says socket = {}; make forged.socket and forge.toml agree",
        configured.display()
    )]
    PassedOtherSocket {
        /// Where the passed socket listens.
        passed: String,
        /// The socket forge.toml names.
        configured: PathBuf,
    },
    /// The stored policy does not build (it was valid when stored; a newer forge wrote it?).
    #[error("the stored policy is not valid")]
    Policy(#[source] crate::policy::document::Error),
    /// Signal handlers cannot be installed.
    #[error("cannot install signal handlers")]
    Signals(#[source] std::io::Error),
    /// A thread of forged's own cannot be started.
    #[error("cannot start a thread")]
    Thread(#[source] std::io::Error),
}

/// Everything a request handler may use.
pub struct Daemon {
    config: Config,
    store: Store,
    roles: Roles,
    started: Instant,
    policy: RwLock<Held>,
}

/// The policy forged decides with, and the store's policy version it was built at.
struct Held {
    version: i64,
    policy: Arc<Policy>,
}

impl Daemon {
    /// Returns a daemon for `config`: the folders made, the database opened and migrated, the
    /// accounts of the git user and the admins resolved, pending updates reconciled.
    pub fn open(config: Config) -> Result<Daemon, Error> {
        for folder in [config.database.parent(), Some(config.repos.as_path())]
            .into_iter()
            .flatten()
        {
            std::fs::create_dir_all(folder).map_err(|source| Error::Folder {
                path: folder.to_owned(),
                source,
            })?;
        }
        let store = Store::open(&config.database).map_err(|source| Error::Store {
            path: config.database.clone(),
            source,
        })?;
        let stored = store.load_policy().map_err(|source| Error::Store {
            path: config.database.clone(),
            source,
        })?;
        let held = Held {
            version: stored.version,
            policy: Arc::new(build_policy(&stored).map_err(Error::Policy)?),
        };
        let daemon = Daemon {
            roles: Roles::resolve(&config),
            config,
            store,
            started: Instant::now(),
            policy: RwLock::new(held),
        };
        workers::reconcile::run(&daemon, i64::MAX);
        Ok(daemon)
    }

    /// Serves until SIGTERM or SIGINT, then stops accepting, lets open connections finish
    /// briefly, and removes the socket, unless systemd passed it (socket activation), in which
    /// case the socket and its file stay with systemd.
    pub fn serve(self) -> Result<(), Error> {
        let stop = Arc::new(AtomicBool::new(false));
        for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
            signal_hook::flag::register(signal, Arc::clone(&stop)).map_err(Error::Signals)?;
        }
        let listener = listener::Listener::open(&self.config.socket)?;
        tracing::info!(
            socket = %self.config.socket.display(),
            activated = listener.is_inherited(),
            database = %self.config.database.display(),
            repos = %self.config.repos.display(),
            version = env!("CARGO_PKG_VERSION"),
            "forged listening"
        );
        let daemon = Arc::new(self);
        let aligning = Arc::clone(&daemon);
        std::thread::Builder::new()
            .name("settings".into())
            .spawn(move || workers::settings::align_all(&aligning))
            .map_err(Error::Thread)?;
        let periodic = Arc::clone(&daemon);
        let mut last_reconcile = Instant::now();
        listener.serve(&stop, &daemon, move || {
            if last_reconcile.elapsed() >= RECONCILE_EVERY {
                let cutoff = store_now() - RECONCILE_EVERY.as_secs() as i64;
                workers::reconcile::run(&periodic, cutoff);
                last_reconcile = Instant::now();
            }
        });
        tracing::info!("forged stopped");
        Ok(())
    }

    /// Returns the policy in force, rebuilt first if the store's policy version is newer than
    /// the one it was built at (a change by this forged, another one, or any other writer).
    ///
    /// Costs one read of one row by its primary key per call; the rebuild happens once per
    /// change. A store that cannot be read, or a stored policy that does not build, is an
    /// error: forged does not decide with a policy it knows to be stale.
    fn policy(&self) -> Result<Arc<Policy>, String> {
        let stored_version = self.store.policy_version().map_err(store_message)?;
        {
            let held = self.policy.read().unwrap_or_else(PoisonError::into_inner);
            if held.version >= stored_version {
                return Ok(Arc::clone(&held.policy));
            }
        }
        let stored = self.store.load_policy().map_err(store_message)?;
        let policy =
            Arc::new(build_policy(&stored).map_err(|e| format!("{:#}", anyhow::Error::new(e)))?);
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
fn build_policy(stored: &store::StoredPolicy) -> Result<Policy, crate::policy::document::Error> {
    crate::policy::shortcuts::build(&stored.document, &stored.grants, &stored.public)
}

/// Returns a store error as one line with its causes, for the log and an internal error.
fn store_message(error: store::Error) -> String {
    format!("{:#}", anyhow::Error::new(error))
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
            policy: RwLock::new(Held {
                version: stored.version,
                policy: Arc::new(policy),
            }),
        }
    }
}

fn store_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

impl Classify for Error {
    fn code(&self) -> Code {
        match self {
            Error::Store { source, .. } => source.code(),
            Error::Folder { source, .. } | Error::Listen { source, .. } => exit::io_code(source),
            Error::AlreadyRunning { .. }
            | Error::NotASocket { .. }
            | Error::PassedSockets { .. }
            | Error::PassedSocket(_)
            | Error::PassedOtherSocket { .. } => Code::Refused,
            Error::Policy(_) | Error::Signals(_) | Error::Thread(_) => Code::Internal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Access;
    use crate::types::repo_name::RepoName;
    use crate::types::user_name::UserName;
    use crate::wire::{Request, Response};

    /// Returns a forged on a database in `dir`, and the database's path.
    fn daemon(dir: &std::path::Path) -> (Daemon, PathBuf) {
        let database = dir.join("forge.db");
        let config = Config {
            database: database.clone(),
            repos: dir.join("repos"),
            socket: dir.join("forged.sock"),
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
