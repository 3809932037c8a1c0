//! Serving one admitted connection: reading each request line within the limit of the caller's
//! role and before a deadline, answering it, and closing the connection when either is broken.

use crate::daemon::handlers;
use crate::daemon::peer::Caller;
use crate::daemon::state::Daemon;
use crate::daemon::throttle::{LOG_EVERY, Throttle};
use crate::wire::{self, ErrorKind, Request, Response, Role};
use std::io::{BufReader, ErrorKind as IoErrorKind, Read};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

/// How long a caller gets to send one whole request line, counted from when forged starts
/// waiting for it (the connection accepted, or the previous answer written). Every client asks
/// as soon as it connects, so a slow line is a client that holds a connection on purpose; a
/// trickle of bytes does not extend it.
pub(super) const REQUEST_DEADLINE: Duration = Duration::from_secs(5);

/// How long a caller gets to take an answer.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

static TOO_LONG: Throttle = Throttle::new(LOG_EVERY);
static TOO_SLOW: Throttle = Throttle::new(LOG_EVERY);
static MALFORMED: Throttle = Throttle::new(LOG_EVERY);

/// The stream, read with whatever is left of the current request's deadline.
struct Deadline<'s> {
    stream: &'s UnixStream,
    until: Instant,
}

impl Read for Deadline<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = self.until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(IoErrorKind::TimedOut.into());
        }
        self.stream.set_read_timeout(Some(left))?;
        match (&mut &*self.stream).read(buf) {
            Err(e) if e.kind() == IoErrorKind::WouldBlock => Err(IoErrorKind::TimedOut.into()),
            other => other,
        }
    }
}

/// Answers the requests of `caller`, whose role is `role`, on `stream` until it closes, sends
/// a line longer than its role may, or does not send a whole line within [`REQUEST_DEADLINE`].
pub(super) fn serve(stream: UnixStream, caller: Caller, role: Option<Role>, daemon: &Daemon) {
    let span = tracing::info_span!("connection", peer_uid = caller.uid, peer_pid = caller.pid);
    let _entered = span.enter();
    if stream.set_nonblocking(false).is_err()
        || stream.set_write_timeout(Some(WRITE_TIMEOUT)).is_err()
    {
        return;
    }
    let limit = wire::max_request_bytes(role);
    let mut reader = BufReader::new(Deadline {
        stream: &stream,
        until: Instant::now() + REQUEST_DEADLINE,
    });
    loop {
        reader.get_mut().until = Instant::now() + REQUEST_DEADLINE;
        let line = match wire::read_line(&mut reader, limit) {
            Ok(Some(line)) => line,
            Ok(None) => return,
            Err(wire::Error::TooLong { max }) => {
                if let Some(left_out) = TOO_LONG.allow() {
                    tracing::warn!(max, left_out, "request line too long; closing");
                }
                let message = format!("request longer than {max} bytes");
                let _ = answer_error(&stream, ErrorKind::BadRequest, &message, "");
                return;
            }
            Err(wire::Error::Io(e)) if e.kind() == IoErrorKind::TimedOut => {
                if let Some(left_out) = TOO_SLOW.allow() {
                    tracing::warn!(
                        deadline_secs = REQUEST_DEADLINE.as_secs(),
                        left_out,
                        "no whole request line in time; closing"
                    );
                }
                let message = format!(
                    "no whole request line within {} seconds; send each request at once",
                    REQUEST_DEADLINE.as_secs()
                );
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
                tracing::error!(error = %crate::exit::one_line(e), "cannot name a request; refused");
                let message = "forged cannot draw random ids; see its log";
                let _ = answer_error(&stream, ErrorKind::Internal, message, "");
                continue;
            }
        };
        let response = match wire::parse_message::<Request>(&line) {
            Ok(request) => handlers::handle(daemon, &caller, request, &id),
            Err(e) => {
                if let Some(left_out) = MALFORMED.allow() {
                    tracing::warn!(request = %id, error = %crate::types::shown::Escaped(&e.to_string()), left_out, "malformed request");
                }
                Response::Error {
                    kind: ErrorKind::BadRequest,
                    message: e.to_string(),
                    request: id,
                }
            }
        };
        drop(line);
        let mut writer = &stream;
        if let Err(e) = wire::write_message(&mut writer, &response) {
            tracing::debug!(error = %e, "cannot write the answer");
            return;
        }
    }
}

/// Writes one error answer on `stream`.
pub(super) fn answer_error(
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_trickle_does_not_extend_the_deadline() {
        let (ours, mut theirs) = UnixStream::pair().unwrap();
        let writer = std::thread::spawn(move || {
            for _ in 0..20 {
                if theirs.write_all(b"a").is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        let started = Instant::now();
        let mut reader = BufReader::new(Deadline {
            stream: &ours,
            until: started + Duration::from_millis(300),
        });
        match wire::read_line(&mut reader, 1024) {
            Err(wire::Error::Io(e)) => assert_eq!(e.kind(), IoErrorKind::TimedOut),
            other => panic!("unexpected {other:?}"),
        }
        assert!(started.elapsed() < Duration::from_millis(900));
        drop(reader);
        drop(ours);
        writer.join().unwrap();
    }

    #[test]
    fn a_whole_line_in_time_is_read() {
        let (ours, mut theirs) = UnixStream::pair().unwrap();
        theirs.write_all(b"{\"v\":1}\nrest").unwrap();
        let mut reader = BufReader::new(Deadline {
            stream: &ours,
            until: Instant::now() + Duration::from_secs(5),
        });
        assert_eq!(
            wire::read_line(&mut reader, 1024).unwrap().unwrap(),
            b"{\"v\":1}"
        );
    }
}
