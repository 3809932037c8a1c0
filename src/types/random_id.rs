//! Request and session ids: 128 random bits from the operating system, as 32 lowercase hex
//! digits.
//!
//! Random rather than counted, so that forgeds on several hosts sharing one database never
//! hand out the same session (the audit log is unique on session and ref) and a restart never
//! repeats one. 32 hex digits fit what the hooks accept as `FORGE_SESSION` (at most 64 of
//! `[A-Za-z0-9-]`).

use std::fmt::Write;

/// The operating system could not give random bytes.
#[derive(Debug, thiserror::Error)]
#[error("cannot draw a random id from the operating system")]
pub struct Error(#[source] getrandom::Error);

/// Returns a fresh id: 128 random bits from the operating system, as 32 lowercase hex digits.
pub fn fresh() -> Result<String, Error> {
    let mut bytes = [0u8; 16];
    getrandom::getrandom(&mut bytes).map_err(Error)?;
    let mut id = String::with_capacity(32);
    for byte in bytes {
        write!(id, "{byte:02x}").expect("writing to a String cannot fail");
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_32_lowercase_hex_digits() {
        let id = fresh().unwrap();
        assert_eq!(id.len(), 32, "{id}");
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
            "{id}"
        );
    }

    #[test]
    fn ids_are_accepted_as_a_hook_session() {
        let id = fresh().unwrap();
        assert!(id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    }

    #[test]
    fn ids_do_not_repeat() {
        let ids: std::collections::HashSet<String> = (0..1000).map(|_| fresh().unwrap()).collect();
        assert_eq!(ids.len(), 1000);
    }
}
