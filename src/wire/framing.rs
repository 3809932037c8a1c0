//! Framing: one JSON object per line, every message carrying the protocol version `v`, every
//! line bounded in size; and the error of a line that cannot be read or written.

use crate::exit::{self, Classify, Code};
use serde::Serialize;
use std::io::{BufRead, Write};

/// The protocol version this build speaks.
pub const PROTOCOL_VERSION: u32 = 1;

/// The longest request line `forged` reads, newline included.
pub const MAX_REQUEST_BYTES: usize = 8 << 20;

/// The longest response line a client reads, newline included (a full `authorized_keys` listing
/// of a large site fits).
pub const MAX_RESPONSE_BYTES: usize = 512 << 20;

/// The most ref updates one `check_refs` or `record` request may carry.
pub const MAX_UPDATES: usize = 10_000;

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
