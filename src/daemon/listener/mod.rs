//! The Unix socket: taking it from systemd (socket activation) or binding it safely, accepting
//! connections, admitting each by the caps of its peer's account, and serving each admitted
//! one on a thread of its own.
//!
//! - [`admission`]: the connection caps per account, per role and in all.
//! - [`pool`]: the threads that serve connections, kept for the next one.
//! - [`connection`]: one connection's requests, each bounded in size by the caller's role and
//!   in time by a deadline.

mod admission;
mod connection;
mod pool;

use crate::daemon::error::Error;
use crate::daemon::peer::Caller;
use crate::daemon::state::Daemon;
use crate::daemon::throttle::{LOG_EVERY, Throttle};
use crate::wire::{ErrorKind, Role};
use admission::Admission;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use pool::Pool;
use std::io::ErrorKind as IoErrorKind;
use std::os::fd::AsFd;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How long open connections get to finish at shutdown.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// How often the accept loop looks at the stop flag and runs periodic work.
const TICK: Duration = Duration::from_millis(250);

/// How long the accept loop pauses after `accept` fails (out of file descriptors, say): the
/// pending connection keeps the socket readable, so without a pause the loop would spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

static BUSY: Throttle = Throttle::new(LOG_EVERY);
static ACCEPT_FAILED: Throttle = Throttle::new(LOG_EVERY);
static UNIDENTIFIED: Throttle = Throttle::new(LOG_EVERY);
static NO_THREAD: Throttle = Throttle::new(LOG_EVERY);

/// A listening socket; one forged bound itself removes its file when dropped.
pub(super) struct Listener {
    listener: UnixListener,
    path: PathBuf,
    /// Whether forged bound the socket, and so owns its file. A socket systemd passed belongs
    /// to the socket unit: systemd keeps listening while forged restarts, so its file stays.
    owns_file: bool,
}

impl Listener {
    /// Returns the socket systemd passed (`LISTEN_FDS`, with `LISTEN_PID` naming this process),
    /// else binds `path` as [`Listener::bind`] does.
    ///
    /// A passed socket must be one listening Unix stream socket on `path` itself, so clients
    /// that read the same forge.toml find it.
    pub(super) fn open(path: &Path) -> Result<Listener, Error> {
        match Listener::inherited(path)? {
            Some(listener) => Ok(listener),
            None => Listener::bind(path),
        }
    }

    fn inherited(path: &Path) -> Result<Option<Listener>, Error> {
        let mut passed = listenfd::ListenFd::from_env();
        match passed.len() {
            0 => return Ok(None),
            1 => {}
            count => return Err(Error::PassedSockets { count }),
        }
        let activation_error = Error::PassedSocket;
        let Some(listener) = passed.take_unix_listener(0).map_err(activation_error)? else {
            return Ok(None);
        };
        let address = listener.local_addr().map_err(activation_error)?;
        if address.as_pathname() != Some(path) {
            return Err(Error::PassedOtherSocket {
                passed: address.as_pathname().map_or_else(
                    || "an unnamed socket".to_owned(),
                    |p| p.display().to_string(),
                ),
                configured: path.to_owned(),
            });
        }
        listener.set_nonblocking(true).map_err(activation_error)?;
        Ok(Some(Listener {
            listener,
            path: path.to_owned(),
            owns_file: false,
        }))
    }

    /// Returns whether the socket came from systemd rather than from binding it here.
    pub(super) fn is_inherited(&self) -> bool {
        !self.owns_file
    }

    /// Binds `path`: a stale socket file (no one answers) is replaced, a live one is not stolen,
    /// and anything that is not a socket is left alone.
    pub(super) fn bind(path: &Path) -> Result<Listener, Error> {
        let listen_error = |source| Error::Listen {
            path: path.to_owned(),
            source,
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| Error::Folder {
                path: parent.to_owned(),
                source,
            })?;
        }
        match std::fs::symlink_metadata(path) {
            Ok(metadata) if !metadata.file_type().is_socket() => {
                return Err(Error::NotASocket {
                    path: path.to_owned(),
                });
            }
            Ok(_) => match UnixStream::connect(path) {
                Ok(_) => {
                    return Err(Error::AlreadyRunning {
                        path: path.to_owned(),
                    });
                }
                Err(_) => {
                    tracing::info!(socket = %path.display(), "replacing stale socket");
                    std::fs::remove_file(path).map_err(listen_error)?;
                }
            },
            Err(e) if e.kind() == IoErrorKind::NotFound => {}
            Err(e) => return Err(listen_error(e)),
        }
        let listener = UnixListener::bind(path).map_err(listen_error)?;
        // Who may ask what is decided per request from SO_PEERCRED, so anyone may connect.
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o666))
            .map_err(listen_error)?;
        listener.set_nonblocking(true).map_err(listen_error)?;
        Ok(Listener {
            listener,
            path: path.to_owned(),
            owns_file: true,
        })
    }

    /// Accepts connections until `stop` is set, calling `tick` between waits.
    pub(super) fn serve(&self, stop: &AtomicBool, daemon: &Arc<Daemon>, mut tick: impl FnMut()) {
        let nofile = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
            .map_or(1024, |(soft, _)| soft);
        let admission = Admission::new(admission::global_cap(nofile));
        let pool = Pool::new("connection");
        tracing::info!(
            nofile,
            connections = admission::global_cap(nofile),
            "connection limits"
        );
        while !stop.load(Ordering::Relaxed) {
            let mut fds = [PollFd::new(self.listener.as_fd(), PollFlags::POLLIN)];
            let timeout = PollTimeout::try_from(TICK).unwrap_or(PollTimeout::NONE);
            match poll(&mut fds, timeout) {
                Ok(0) | Err(nix::errno::Errno::EINTR) => {
                    tick();
                    continue;
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::error!(error = %e, "waiting for connections failed");
                    std::thread::sleep(TICK);
                    continue;
                }
            }
            loop {
                match self.listener.accept() {
                    Ok((stream, _)) => admit(stream, daemon, &admission, &pool),
                    Err(e) if e.kind() == IoErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == IoErrorKind::Interrupted => continue,
                    Err(e) => {
                        if let Some(left_out) = ACCEPT_FAILED.allow() {
                            tracing::error!(
                                error = %e,
                                open = admission.open(),
                                left_out,
                                "accepting a connection failed; pausing"
                            );
                        }
                        std::thread::sleep(ACCEPT_BACKOFF);
                        break;
                    }
                }
            }
            tick();
        }
        let deadline = Instant::now() + DRAIN_TIMEOUT;
        while admission.open() > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        if self.owns_file {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Admits `stream` by the caps of its peer's account and serves it on a thread of its own, or
/// answers "busy" and closes it; either way without waiting on the peer.
fn admit(stream: UnixStream, daemon: &Arc<Daemon>, admission: &Arc<Admission>, pool: &Pool) {
    let caller = match Caller::of(&stream) {
        Ok(caller) => caller,
        Err(e) => {
            if let Some(left_out) = UNIDENTIFIED.allow() {
                tracing::warn!(error = %e, left_out, "cannot identify a peer; closing");
            }
            return;
        }
    };
    let role = daemon.roles.role_of(&caller);
    let ticket = match admission.admit(caller.uid, role) {
        Ok(ticket) => ticket,
        Err(refusal) => {
            if let Some(left_out) = BUSY.allow() {
                tracing::warn!(
                    peer_uid = caller.uid,
                    role = role_name(role),
                    cap = refusal.cap_name(),
                    limit = refusal.cap(),
                    left_out,
                    "too many connections; refusing"
                );
            }
            refuse_busy(&stream);
            return;
        }
    };
    let daemon = Arc::clone(daemon);
    let spawned = pool.run(Box::new(move || {
        let _ticket = ticket;
        connection::serve(stream, caller, role, &daemon);
    }));
    if let Err(e) = spawned
        && let Some(left_out) = NO_THREAD.allow()
    {
        tracing::error!(error = %e, left_out, "cannot start a connection thread");
    }
}

/// Answers "busy" on a fresh connection without blocking (an empty socket buffer takes the
/// line at once) and closes it.
fn refuse_busy(stream: &UnixStream) {
    if stream.set_nonblocking(true).is_ok() {
        let _ = connection::answer_error(stream, ErrorKind::Busy, "forged is busy; try again", "");
    }
}

fn role_name(role: Option<Role>) -> &'static str {
    match role {
        None => "none",
        Some(Role::KeyLookup) => "key_lookup",
        Some(Role::Service) => "service",
        Some(Role::Admin) => "admin",
    }
}
