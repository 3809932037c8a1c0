//! The rule that a fingerprint names one thing: a user's key or a user CA, never both and
//! never twice. `keys.rs` and `cas.rs` both ask this module before they insert, so neither
//! has to know the other's table.

use super::Error;
use crate::types::keys::Fingerprint;
use rusqlite::{OptionalExtension, Transaction};

/// What a registered fingerprint belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Holder {
    /// A user's key: the user's name.
    User(String),
    /// A user CA: the CA's name.
    Ca(String),
}

/// Returns what holds `fingerprint`, if anything does.
pub(super) fn holder(
    transaction: &Transaction<'_>,
    fingerprint: &Fingerprint,
) -> Result<Option<Holder>, Error> {
    // Cached: a bulk import asks this once per key.
    let user: Option<String> = transaction
        .prepare_cached(
            "SELECT u.name FROM keys k JOIN users u ON u.id = k.user_id WHERE k.fingerprint = ?1",
        )?
        .query_row([fingerprint.as_str()], |row| row.get(0))
        .optional()?;
    if let Some(user) = user {
        return Ok(Some(Holder::User(user)));
    }
    let ca: Option<String> = transaction
        .prepare_cached("SELECT name FROM user_cas WHERE fingerprint = ?1")?
        .query_row([fingerprint.as_str()], |row| row.get(0))
        .optional()?;
    Ok(ca.map(Holder::Ca))
}

/// Returns why `fingerprint`, held by `holder`, cannot become a user's key.
pub(super) fn taken_for_key(fingerprint: &Fingerprint, holder: Holder) -> Error {
    Error::AlreadyExists {
        what: match holder {
            Holder::User(owner) => format!("key {fingerprint} (it belongs to '{owner}')"),
            Holder::Ca(ca) => {
                format!("key {fingerprint} (it is registered as user CA '{ca}')")
            }
        },
    }
}

/// Returns why `fingerprint`, held by `holder`, cannot become a user CA.
pub(super) fn taken_for_ca(fingerprint: &Fingerprint, holder: Holder) -> Error {
    Error::AlreadyExists {
        what: match holder {
            Holder::User(owner) => format!("key {fingerprint} (it is a key of user '{owner}')"),
            Holder::Ca(other) => format!("CA key {fingerprint} (registered as '{other}')"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use crate::types::certs::CaName;
    use crate::types::keys::{PublicKey, Title};
    use crate::types::user_name::UserName;

    const USER_KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILOm4cCUAGwNNSDlP/p2AYhNc4AWOBkwwQDZSn41f+N7 alice@laptop";
    const CA: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMAhFN8hDRErHeXcZHKD+s2cl3KlUSddK26x2fjV+/Fl corp-ca";
    const NOBODY: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKWdBCWIAVdUijgQgfx7slfgwTxC0SCaU8fqHAQdPlcM x";

    #[test]
    fn a_fingerprint_is_held_by_a_user_a_ca_or_nothing() {
        let store = Store::open_in_memory().unwrap();
        let alice = UserName::parse("alice").unwrap();
        store.add_user(&alice).unwrap();
        let user_key = PublicKey::parse_authorized(USER_KEY).unwrap();
        store
            .add_key(&alice, &user_key, &Title::from_comment(&user_key), None)
            .unwrap();
        let ca = PublicKey::parse_authorized(CA).unwrap();
        store.add_ca(&CaName::parse("corp").unwrap(), &ca).unwrap();
        let mut connection = store.lock();
        let transaction = connection.transaction().unwrap();
        let held = |line: &str| {
            let key = PublicKey::parse_authorized(line).unwrap();
            holder(&transaction, &key.fingerprint()).unwrap()
        };
        assert_eq!(held(USER_KEY), Some(Holder::User("alice".to_owned())));
        assert_eq!(held(CA), Some(Holder::Ca("corp".to_owned())));
        assert_eq!(held(NOBODY), None);
    }
}
