//! Starting forged and serving until it is told to stop: opening the store and the policy,
//! reconciling what a crash left pending, then the listener beside the background workers.

use crate::config::Config;
use crate::daemon::error::Error;
use crate::daemon::peer::Roles;
use crate::daemon::state::{Daemon, Held, SESSION_LIFETIME, build_policy};
use crate::daemon::{listener, trust, workers};
use crate::store::Store;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// How often pending ref updates are reconciled while forged runs, and how old they must be.
const RECONCILE_EVERY: Duration = Duration::from_secs(60);

impl Daemon {
    /// Returns a daemon for `config`: the folders made, the database opened and migrated, the
    /// accounts of the git user and the admins resolved, pending updates reconciled.
    ///
    /// forged refuses to start as another account than `daemon_user`, or when the git account
    /// could read or write the database (see [`trust`]).
    pub fn open(config: Config) -> Result<Daemon, Error> {
        use std::os::unix::fs::DirBuilderExt;
        // The database's folder is forged's alone; the repos root's mode is the package's.
        let folders = [
            (config.database.parent(), 0o700),
            (Some(config.repos.as_path()), 0o777),
        ];
        for (folder, mode) in folders {
            let Some(folder) = folder else { continue };
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(mode)
                .create(folder)
                .map_err(|source| Error::Folder {
                    path: folder.to_owned(),
                    source,
                })?;
        }
        match trust::check(&config)? {
            trust::Setup::Separate => tracing::info!(
                user = %config.daemon_user, git_user = %config.git_user,
                "forged runs as its own account; the git account cannot touch the database"
            ),
            trust::Setup::Shared => tracing::warn!(
                user = %config.daemon_user,
                "forged runs as the git account (daemon_user = git_user): anything running as git can rewrite the database; the weaker setup, for tests and demos"
            ),
        }
        let store = Store::open(&config.database).map_err(|source| Error::Store {
            path: config.database.clone(),
            source,
        })?;
        let stored = store.load_policy().map_err(|source| Error::Store {
            path: config.database.clone(),
            source,
        })?;
        let maintenance = store.maintenance().map_err(|source| Error::Store {
            path: config.database.clone(),
            source,
        })?;
        if let Some(on) = &maintenance {
            tracing::warn!(since = %on.since, message = %crate::types::shown::Escaped(&on.message), "maintenance mode is on: pushes and changes are refused");
        }
        let held = Held {
            version: stored.version,
            policy: Arc::new(build_policy(&stored).map_err(Error::Policy)?),
        };
        let daemon = Daemon {
            roles: Roles::resolve(&config),
            config,
            store,
            started: Instant::now(),
            creations: crate::daemon::creations::Creations::default(),
            denials: crate::daemon::denials::Denials::default(),
            policy: RwLock::new(held),
            session_lifetime: SESSION_LIFETIME,
            gate: crate::daemon::gate::Gate::new(maintenance),
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
}

/// Returns the time now as the store counts it: whole seconds since the epoch.
fn store_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
