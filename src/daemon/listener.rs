//! The Unix socket: taking it from systemd (socket activation) or binding it safely, accepting
//! connections, and serving each connection's requests on its own thread.

use crate::daemon::error::Error;
use crate::daemon::handlers;
use crate::daemon::peer::Caller;
use crate::daemon::state::Daemon;
use crate::wire::{self, ErrorKind, Request, Response};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use std::io::{BufReader, ErrorKind as IoErrorKind};
use std::os::fd::AsFd;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The most connections served at once; more are answered "busy" and closed.
const MAX_CONNECTIONS: usize = 1024;

/// How long a connection may sit idle between requests.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// How long open connections get to finish at shutdown.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// How often the accept loop looks at the stop flag and runs periodic work.
const TICK: Duration = Duration::from_millis(250);

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
        let open = Arc::new(AtomicUsize::new(0));
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
                    Ok((stream, _)) => spawn_connection(stream, daemon, &open),
                    Err(e) if e.kind() == IoErrorKind::WouldBlock => break,
                    Err(e) => {
                        tracing::warn!(error = %e, "accepting a connection failed");
                        break;
                    }
                }
            }
            tick();
        }
        let deadline = Instant::now() + DRAIN_TIMEOUT;
        while open.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
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

/// Decrements the open-connection count when a connection thread ends, however it ends.
struct OpenGuard(Arc<AtomicUsize>);

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn spawn_connection(stream: UnixStream, daemon: &Arc<Daemon>, open: &Arc<AtomicUsize>) {
    let busy = open.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS;
    let guard = OpenGuard(Arc::clone(open));
    let daemon = Arc::clone(daemon);
    let spawned = std::thread::Builder::new()
        .name("connection".into())
        .spawn(move || {
            let _guard = guard;
            if busy {
                tracing::warn!(
                    limit = MAX_CONNECTIONS,
                    "too many connections; refusing one"
                );
                let _ = answer_error(&stream, ErrorKind::Busy, "forged is busy; try again", "");
                return;
            }
            serve_connection(stream, &daemon);
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start a connection thread");
    }
}

fn answer_error(
    stream: &UnixStream,
    kind: ErrorKind,
    message: &str,
    request: &str,
) -> Result<(), wire::Error> {
    let mut writer = stream;
    wire::write_message(
        &mut writer,
        &Response::Error {
            kind,
            message: message.to_owned(),
            request: request.to_owned(),
        },
    )
}

fn serve_connection(stream: UnixStream, daemon: &Daemon) {
    let caller = match Caller::of(&stream) {
        Ok(caller) => caller,
        Err(e) => {
            tracing::warn!(error = %e, "cannot identify a peer; closing");
            return;
        }
    };
    let span = tracing::info_span!("connection", peer_uid = caller.uid, peer_pid = caller.pid);
    let _entered = span.enter();
    if stream.set_nonblocking(false).is_err()
        || stream.set_read_timeout(Some(IDLE_TIMEOUT)).is_err()
        || stream.set_write_timeout(Some(IDLE_TIMEOUT)).is_err()
    {
        return;
    }
    let mut reader = BufReader::new(&stream);
    loop {
        let line = match wire::read_line(&mut reader, wire::MAX_REQUEST_BYTES) {
            Ok(Some(line)) => line,
            Ok(None) => return,
            Err(wire::Error::TooLong { max }) => {
                tracing::warn!(max, "request line too long; closing");
                let message = format!("request longer than {max} bytes");
                let _ = answer_error(&stream, ErrorKind::BadRequest, &message, "");
                return;
            }
            Err(e) => {
                tracing::debug!(error = %e, "connection ended");
                return;
            }
        };
        let id = match crate::types::random_id::fresh() {
            Ok(id) => id,
            Err(e) => {
                tracing::error!(error = %format!("{:#}", anyhow::Error::new(e)), "cannot name a request; refused");
                let message = "forged cannot draw random ids; see its log";
                let _ = answer_error(&stream, ErrorKind::Internal, message, "");
                continue;
            }
        };
        let response = match wire::parse_message::<Request>(&line) {
            Ok(request) => handlers::handle(daemon, &caller, request, &id),
            Err(e) => {
                tracing::warn!(request = %id, error = %crate::types::shown::Escaped(&e.to_string()), "malformed request");
                Response::Error {
                    kind: ErrorKind::BadRequest,
                    message: e.to_string(),
                    request: id,
                }
            }
        };
        let mut writer = &stream;
        if let Err(e) = wire::write_message(&mut writer, &response) {
            tracing::debug!(error = %e, "cannot write the answer");
            return;
        }
    }
}
