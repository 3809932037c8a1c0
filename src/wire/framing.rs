//! Framing: one JSON object per line, every message carrying the protocol version `v`, every
//! line bounded in size; and the error of a line that cannot be read or written.

use crate::exit::{self, Classify, Code};
use crate::wire::request::Role;
use serde::Serialize;
use std::io::{BufRead, Write};

/// The protocol version this build speaks.
pub const PROTOCOL_VERSION: u32 = 1;

/// The longest request line `forged` reads from an account with no role or the keys role,
/// newline included.
///
/// A key lookup carries one key or certificate (a few KiB at most); an account with no role
/// may ask nothing, so its line only needs to be long enough to be answered.
pub const MAX_LOOKUP_REQUEST_BYTES: usize = 64 << 10;

/// The longest request line `forged` reads from the git service account, newline included.
///
/// forge-hook sends a large push as several `check_refs` requests that each fit (see
/// `shim::hook`), so this bounds a line, not a push.
pub const MAX_SERVICE_REQUEST_BYTES: usize = 4 << 20;

/// The longest request line `forged` reads from an admin, newline included (a whole policy
/// document or a gitolite import).
pub const MAX_ADMIN_REQUEST_BYTES: usize = 16 << 20;

/// The longest request line `forged` reads from anyone, newline included.
pub const MAX_REQUEST_BYTES: usize = MAX_ADMIN_REQUEST_BYTES;

/// The longest response line a client reads, newline included (a full `authorized_keys` listing
/// of a large site fits).
pub const MAX_RESPONSE_BYTES: usize = 512 << 20;

/// The most ref updates one `check_refs` or `record` request may carry.
pub const MAX_UPDATES: usize = 10_000;

/// Returns the longest request line `forged` reads from a caller with `role`.
///
/// forged knows the role from `SO_PEERCRED` before it reads a byte, so the memory one
/// connection can make it hold is bounded by its role's limit, not by the largest one.
pub fn max_request_bytes(role: Option<Role>) -> usize {
    match role {
        None | Some(Role::KeyLookup) => MAX_LOOKUP_REQUEST_BYTES,
        Some(Role::Service) => MAX_SERVICE_REQUEST_BYTES,
        Some(Role::Admin) => MAX_ADMIN_REQUEST_BYTES,
    }
}

/// Why a line could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The socket failed.
    #[error("socket i/o failed")]
    Io(#[from] std::io::Error),
    /// The peer closed the connection before a whole line.
    #[error("connection closed before a whole line arrived")]
    Closed,
    /// The line was longer than allowed.
    #[error("line longer than {max} bytes")]
    TooLong {
        /// The limit.
        max: usize,
    },
    /// The line is not the JSON expected.
    #[error("malformed message: {0}")]
    Malformed(#[source] serde_json::Error),
    /// The peer speaks another protocol version.
    #[error("protocol version {theirs} is not {ours}; upgrade forge on both ends")]
    VersionMismatch {
        /// Ours.
        ours: u32,
        /// Theirs.
        theirs: u64,
    },
}

/// Reads one line of at most `max` bytes; `Ok(None)` at a clean end of stream.
pub fn read_line<R: BufRead>(reader: &mut R, max: usize) -> Result<Option<Vec<u8>>, Error> {
    let mut line = Vec::new();
    let mut limited = std::io::Read::take(reader, max as u64 + 1);
    let read = limited.read_until(b'\n', &mut line)?;
    match (read, line.last()) {
        (0, _) => Ok(None),
        (_, Some(b'\n')) => {
            line.pop();
            Ok(Some(line))
        }
        _ if line.len() > max => Err(Error::TooLong { max }),
        _ => Err(Error::Closed),
    }
}

/// Writes `message` with the version field as one line, and flushes.
pub fn write_message(writer: &mut impl Write, message: &impl Serialize) -> Result<(), Error> {
    let mut value = serde_json::to_value(message).map_err(Error::Malformed)?;
    if let serde_json::Value::Object(map) = &mut value {
        map.insert("v".into(), PROTOCOL_VERSION.into());
    }
    let mut line = serde_json::to_vec(&value).map_err(Error::Malformed)?;
    line.push(b'\n');
    writer.write_all(&line)?;
    writer.flush()?;
    Ok(())
}

/// Returns the message in `line` after checking its protocol version.
pub fn parse_message<T: serde::de::DeserializeOwned>(line: &[u8]) -> Result<T, Error> {
    let value: serde_json::Value = serde_json::from_slice(line).map_err(Error::Malformed)?;
    match value.get("v").and_then(serde_json::Value::as_u64) {
        Some(v) if v == u64::from(PROTOCOL_VERSION) => {}
        Some(theirs) => {
            return Err(Error::VersionMismatch {
                ours: PROTOCOL_VERSION,
                theirs,
            });
        }
        None => {
            return Err(Error::Malformed(serde::de::Error::custom(
                "missing protocol version 'v'",
            )));
        }
    }
    serde_json::from_value(value).map_err(Error::Malformed)
}

impl Classify for Error {
    fn code(&self) -> Code {
        match self {
            Error::Io(e) => exit::io_code(e),
            Error::Closed => Code::Unavailable,
            Error::TooLong { .. } | Error::Malformed(_) | Error::VersionMismatch { .. } => {
                Code::Internal
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_admins_may_send_long_lines() {
        assert_eq!(max_request_bytes(None), 64 << 10);
        assert_eq!(max_request_bytes(Some(Role::KeyLookup)), 64 << 10);
        assert!(max_request_bytes(Some(Role::Service)) < max_request_bytes(Some(Role::Admin)));
        assert_eq!(max_request_bytes(Some(Role::Admin)), MAX_REQUEST_BYTES);
    }

    #[test]
    fn a_line_over_the_limit_is_refused_after_reading_at_most_the_limit() {
        let long = vec![b'a'; 1000];
        let mut reader = std::io::BufReader::new(&long[..]);
        assert!(matches!(
            read_line(&mut reader, 100),
            Err(Error::TooLong { max: 100 })
        ));
        let read = 1000 - std::io::Read::bytes(reader).count();
        assert!(read <= 100 + 1 + 8192, "read {read} bytes");
    }
}
