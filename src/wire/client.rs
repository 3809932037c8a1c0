//! The client side of the wire protocol: connect to `forged` (with a timeout and one brief
//! retry), ask one question, read one answer.

use crate::exit::{self, Classify, Code};
use crate::policy::Access;
use crate::policy::decide::PushNeeds;
use crate::types::identity::Identity;
use crate::types::repo_name::RepoName;
use crate::types::user_name::UserName;
use crate::wire::{self, ErrorKind, ReachableRepo, Request, Response};
use std::io::{BufReader, ErrorKind as IoErrorKind};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long the shims wait for `forged` before failing closed.
pub const SHIM_TIMEOUT: Duration = Duration::from_secs(10);

/// How long `forgectl` waits for `forged` (some admin requests write many rows).
pub const ADMIN_TIMEOUT: Duration = Duration::from_secs(120);

/// The pause before the one retry of a refused connection (forged restarting under systemd).
const RETRY_PAUSE: Duration = Duration::from_millis(300);

/// Why a question to `forged` got no usable answer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No socket file at the path: forged (or its systemd socket unit) is not running, or the
    /// configured path is wrong.
    #[error(
        "cannot reach forged at {}: no socket there; start it with 'systemctl start forged.socket' (or run forged), or check 'socket' in the config",
        socket.display()
    )]
    NoSocket {
        /// The socket path.
        socket: PathBuf,
    },
    /// The socket file is there but nothing listens on it: forged stopped or crashed and left it.
    #[error(
        "cannot reach forged at {}: nothing listens on the socket (forged stopped or crashed); start it with 'systemctl start forged.socket' (or run forged), and see 'journalctl -u forged'",
        socket.display()
    )]
    NotListening {
        /// The socket path.
        socket: PathBuf,
    },
    /// The socket could not be reached for another reason.
    #[error("cannot reach forged at {}", socket.display())]
    Unreachable {
        /// The socket path.
        socket: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The socket exists but this account may not connect to it.
    #[error("cannot reach forged at {}: permission denied; run as root or as a forge admin", socket.display())]
    NoPermission {
        /// The socket path.
        socket: PathBuf,
    },
    /// forged did not answer in time.
    #[error("forged did not answer within {} seconds", timeout.as_secs())]
    TimedOut {
        /// The time waited.
        timeout: Duration,
    },
    /// The exchange broke off or was not valid protocol.
    #[error("talking to forged failed")]
    Protocol(#[source] wire::Error),
    /// forged answered with an error.
    #[error("{message}")]
    Answer {
        /// What kind of error.
        kind: ErrorKind,
        /// forged's one-line message.
        message: String,
        /// The request id under which forged logged details.
        request: String,
    },
    /// forged answered with something that does not fit the question.
    #[error("forged gave an unexpected answer to '{op}'")]
    Unexpected {
        /// The op asked.
        op: &'static str,
    },
}

impl Error {
    /// Returns whether the error means forged could not answer now (down, busy or too slow).
    pub fn is_unavailable(&self) -> bool {
        self.code() == Code::Unavailable
    }
}

impl Classify for Error {
    fn code(&self) -> Code {
        match self {
            Error::NoSocket { .. }
            | Error::NotListening { .. }
            | Error::Unreachable { .. }
            | Error::TimedOut { .. } => Code::Unavailable,
            Error::NoPermission { .. } => Code::Refused,
            Error::Answer { kind, .. } => match kind {
                ErrorKind::Refused | ErrorKind::Denied | ErrorKind::Forbidden => Code::Refused,
                ErrorKind::Busy | ErrorKind::Maintenance => Code::Unavailable,
                ErrorKind::BadRequest | ErrorKind::Internal => Code::Internal,
            },
            // A connection that drops or is reset before the answer is a forged that died or
            // restarted: try again. Anything else that breaks the exchange is a bug.
            Error::Protocol(e) if e.code() == Code::Unavailable => Code::Unavailable,
            Error::Protocol(_) | Error::Unexpected { .. } => Code::Internal,
        }
    }

    fn remote_line(&self) -> String {
        match (self.code(), self) {
            // The admin's message, for everyone: forged checked it is one line; escaped anyway.
            (
                _,
                Error::Answer {
                    kind: ErrorKind::Maintenance,
                    message,
                    ..
                },
            ) => crate::types::shown::escaped(message),
            (Code::Unavailable, _) => exit::UNAVAILABLE_LINE.into(),
            // forged's refusals are written for the one who asked: they name no path and no
            // other user's data.
            (Code::Refused, Error::Answer { message, .. }) => message.clone(),
            (_, Error::Answer { request, .. }) if !request.is_empty() => {
                format!("internal error; tell your admin and quote ref {request}")
            }
            _ => exit::INTERNAL_LINE.into(),
        }
    }
}

/// A connection-per-question client of `forged`.
#[derive(Debug, Clone)]
pub struct Client {
    socket: PathBuf,
    timeout: Duration,
}

/// What `check` answers when access is granted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The key's owner.
    pub user: UserName,
    /// The repository, as forge spells it.
    pub repo: RepoName,
    /// The repository's folder.
    pub path: PathBuf,
    /// The session id the hooks quote back.
    pub session: String,
    /// Which facts of a push pre-receive must send.
    pub needs: PushNeeds,
}

impl Client {
    /// Returns a client of the forged listening on `socket`, waiting at most `timeout`.
    pub fn new(socket: &Path, timeout: Duration) -> Client {
        Client {
            socket: socket.to_owned(),
            timeout,
        }
    }

    /// Asks one question and returns the answer; an error answer becomes [`Error::Answer`].
    pub fn call(&self, request: &Request) -> Result<Response, Error> {
        let stream = self.connect()?;
        stream
            .set_read_timeout(Some(self.timeout))
            .and_then(|()| stream.set_write_timeout(Some(self.timeout)))
            .map_err(|e| Error::Protocol(e.into()))?;
        let mut writer = &stream;
        wire::write_message(&mut writer, request).map_err(|e| self.classify(e))?;
        let mut reader = BufReader::new(&stream);
        let line = wire::read_line(&mut reader, wire::MAX_RESPONSE_BYTES)
            .map_err(|e| self.classify(e))?
            .ok_or(Error::Protocol(wire::Error::Closed))?;
        match wire::parse_message(&line).map_err(Error::Protocol)? {
            Response::Error {
                kind,
                message,
                request,
            } => Err(Error::Answer {
                kind,
                message,
                request,
            }),
            response => Ok(response),
        }
    }

    fn connect(&self) -> Result<UnixStream, Error> {
        match UnixStream::connect(&self.socket) {
            Ok(stream) => Ok(stream),
            Err(e) if e.kind() == IoErrorKind::PermissionDenied => Err(Error::NoPermission {
                socket: self.socket.clone(),
            }),
            Err(e)
                if matches!(
                    e.kind(),
                    IoErrorKind::ConnectionRefused | IoErrorKind::NotFound
                ) =>
            {
                std::thread::sleep(RETRY_PAUSE);
                UnixStream::connect(&self.socket).map_err(|source| {
                    let socket = self.socket.clone();
                    match source.kind() {
                        IoErrorKind::NotFound => Error::NoSocket { socket },
                        IoErrorKind::ConnectionRefused => Error::NotListening { socket },
                        IoErrorKind::PermissionDenied => Error::NoPermission { socket },
                        _ => Error::Unreachable { socket, source },
                    }
                })
            }
            Err(source) => Err(Error::Unreachable {
                socket: self.socket.clone(),
                source,
            }),
        }
    }

    fn classify(&self, error: wire::Error) -> Error {
        match &error {
            wire::Error::Io(io)
                if matches!(io.kind(), IoErrorKind::WouldBlock | IoErrorKind::TimedOut) =>
            {
                Error::TimedOut {
                    timeout: self.timeout,
                }
            }
            _ => Error::Protocol(error),
        }
    }

    /// Asks whether the user behind `identity` may have `access` to `repo`; `Ok(None)` means
    /// denied (or no such repository, which reads the same).
    pub fn check(
        &self,
        identity: &Identity,
        repo: &RepoName,
        access: Access,
    ) -> Result<Option<Grant>, Error> {
        let request = Request::Check {
            identity: identity.clone(),
            repo: repo.clone(),
            access,
        };
        match self.call(&request) {
            Ok(Response::Granted {
                user,
                repo,
                path,
                session,
                needs,
            }) => Ok(Some(Grant {
                user,
                repo,
                path,
                session,
                needs,
            })),
            Err(Error::Answer {
                kind: ErrorKind::Denied,
                ..
            }) => Ok(None),
            Ok(_) => Err(Error::Unexpected { op: request.op() }),
            Err(e) => Err(e),
        }
    }

    /// Asks who is behind `identity`; `Ok(None)` for an unknown or removed key, or a
    /// certificate whose CA or user was removed.
    pub fn whoami(&self, identity: &Identity) -> Result<Option<UserName>, Error> {
        let identity = identity.clone();
        match self.call(&Request::Whoami { identity }) {
            Ok(Response::Identity { user, .. }) => Ok(Some(user)),
            Err(Error::Answer {
                kind: ErrorKind::Denied,
                ..
            }) => Ok(None),
            Ok(_) => Err(Error::Unexpected { op: "whoami" }),
            Err(e) => Err(e),
        }
    }

    /// Asks which repositories the user behind `identity` can reach; `Ok(None)` for an
    /// unknown identity.
    pub fn info(
        &self,
        identity: &Identity,
    ) -> Result<Option<(UserName, Vec<ReachableRepo>)>, Error> {
        let identity = identity.clone();
        match self.call(&Request::Info { identity }) {
            Ok(Response::Reachable { user, repos }) => Ok(Some((user, repos))),
            Err(Error::Answer {
                kind: ErrorKind::Denied,
                ..
            }) => Ok(None),
            Ok(_) => Err(Error::Unexpected { op: "info" }),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(kind: ErrorKind, request: &str) -> Error {
        Error::Answer {
            kind,
            message: "database error: disk I/O error at /var/lib/forge/forge.db".into(),
            request: request.into(),
        }
    }

    #[test]
    fn down_busy_or_dropped_is_try_again_and_names_no_socket_to_users() {
        let unreachable = Error::Unreachable {
            socket: PathBuf::from("/run/forge/forged.sock"),
            source: std::io::Error::from(IoErrorKind::NotFound),
        };
        let timed_out = Error::TimedOut {
            timeout: SHIM_TIMEOUT,
        };
        let busy = answer(ErrorKind::Busy, "");
        let dropped = Error::Protocol(wire::Error::Closed);
        let reset = Error::Protocol(wire::Error::Io(IoErrorKind::ConnectionReset.into()));
        let socket = PathBuf::from("/run/forge/forged.sock");
        let no_socket = Error::NoSocket {
            socket: socket.clone(),
        };
        let not_listening = Error::NotListening { socket };
        for error in [
            unreachable,
            timed_out,
            busy,
            dropped,
            reset,
            no_socket,
            not_listening,
        ] {
            assert_eq!(error.code(), Code::Unavailable, "{error}");
            assert!(error.is_unavailable());
            assert_eq!(error.remote_line(), exit::UNAVAILABLE_LINE);
        }
    }

    #[test]
    fn refusals_exit_1_and_bugs_exit_70_quoting_the_request() {
        for kind in [ErrorKind::Refused, ErrorKind::Denied, ErrorKind::Forbidden] {
            assert_eq!(answer(kind, "").code(), Code::Refused);
        }
        let refused = Error::Answer {
            kind: ErrorKind::Refused,
            message: "this push's session is not open; push again".into(),
            request: "7f3a".into(),
        };
        assert_eq!(
            refused.remote_line(),
            "this push's session is not open; push again",
            "a refusal says why, not 'internal error'"
        );
        let no_permission = Error::NoPermission {
            socket: PathBuf::from("/run/forge/forged.sock"),
        };
        assert_eq!(no_permission.code(), Code::Refused);
        let internal = answer(ErrorKind::Internal, "7f3a");
        assert_eq!(internal.code(), Code::Internal);
        assert_eq!(
            internal.remote_line(),
            "internal error; tell your admin and quote ref 7f3a"
        );
        assert_eq!(answer(ErrorKind::BadRequest, "").code(), Code::Internal);
        assert_eq!(Error::Unexpected { op: "check" }.code(), Code::Internal);
    }
}
