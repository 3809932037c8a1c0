//! The `keys` table: public keys, their owners and fingerprints.

use super::{Error, Store, now, parse_stored, rfc3339};
use crate::keys::{Fingerprint, KeyId, PublicKey};
use crate::user_name::UserName;
use crate::wire::KeyInfo;
use rusqlite::{OptionalExtension, Row, Transaction, params};

const KEY_COLUMNS: &str = concat!(
    "k.id, u.name, k.algorithm, k.fingerprint, k.comment, ",
    rfc3339!("k.created_at")
);

fn key_info(row: &Row<'_>) -> rusqlite::Result<(i64, String, String, String, String, String)> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
    ))
}

fn to_key_info(
    (id, user, algorithm, fingerprint, comment, created): (
        i64,
        String,
        String,
        String,
        String,
        String,
    ),
) -> Result<KeyInfo, Error> {
    Ok(KeyInfo {
        id: KeyId::new(id),
        user: parse_stored("user name", user, UserName::parse)?,
        algorithm,
        fingerprint: parse_stored("fingerprint", fingerprint, Fingerprint::parse)?,
        comment,
        created,
    })
}

/// Returns the owner of the key with `fingerprint`, if it is registered.
pub(super) fn owner_of(
    transaction: &Transaction<'_>,
    fingerprint: &Fingerprint,
) -> Result<Option<String>, Error> {
    Ok(transaction
        .query_row(
            "SELECT u.name FROM keys k JOIN users u ON u.id = k.user_id WHERE k.fingerprint = ?1",
            [fingerprint.as_str()],
            |row| row.get(0),
        )
        .optional()?)
}

/// Adds `key` to `user` (who must exist) and returns the new key's id; a key registered as a
/// user CA is refused.
pub(super) fn insert_key(
    transaction: &Transaction<'_>,
    user: &UserName,
    key: &PublicKey,
) -> Result<i64, Error> {
    let user_id = super::repos::user_id(transaction, user)?;
    if let Some(ca) = super::cas::ca_with_fingerprint(transaction, &key.fingerprint())? {
        return Err(Error::AlreadyExists {
            what: format!(
                "key {} (it is registered as user CA '{ca}')",
                key.fingerprint()
            ),
        });
    }
    transaction.execute(
        "INSERT INTO keys (user_id, algorithm, blob, fingerprint, comment, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            user_id,
            key.algorithm(),
            key.blob(),
            key.fingerprint().as_str(),
            key.comment(),
            now()
        ],
    )?;
    Ok(transaction.last_insert_rowid())
}

impl Store {
    /// Adds `key` to `user` and returns it as listed.
    ///
    /// A key belongs to one user: one already registered to anyone is refused, found by its
    /// fingerprint, not its text.
    pub fn add_key(&self, user: &UserName, key: &PublicKey) -> Result<KeyInfo, Error> {
        let mut connection = self.lock();
        let transaction = connection.transaction()?;
        let fingerprint = key.fingerprint();
        if let Some(owner) = owner_of(&transaction, &fingerprint)? {
            return Err(Error::AlreadyExists {
                what: format!("key {fingerprint} (it belongs to '{owner}')"),
            });
        }
        let id = insert_key(&transaction, user, key)?;
        let info = transaction.query_row(
            &format!(
                "SELECT {KEY_COLUMNS} FROM keys k JOIN users u ON u.id = k.user_id WHERE k.id = ?1"
            ),
            [id],
            key_info,
        )?;
        transaction.commit()?;
        to_key_info(info)
    }

    /// Returns the keys of `user`, or of everyone, by user then age.
    pub fn list_keys(&self, user: Option<&UserName>) -> Result<Vec<KeyInfo>, Error> {
        let connection = self.lock();
        if let Some(user) = user {
            let exists = connection
                .query_row(
                    "SELECT 1 FROM users WHERE name = ?1",
                    [user.as_str()],
                    |_| Ok(()),
                )
                .optional()?;
            if exists.is_none() {
                return Err(Error::NotFound {
                    what: format!("user '{user}'"),
                });
            }
        }
        let mut statement = connection.prepare(&format!(
            "SELECT {KEY_COLUMNS} FROM keys k JOIN users u ON u.id = k.user_id \
             WHERE ?1 IS NULL OR u.name = ?1 ORDER BY u.name, k.id"
        ))?;
        let rows = statement.query_map([user.map(UserName::as_str)], key_info)?;
        rows.map(|row| to_key_info(row?)).collect()
    }

    /// Removes the key with `fingerprint` and returns it as it was listed.
    pub fn remove_key(&self, fingerprint: &Fingerprint) -> Result<KeyInfo, Error> {
        let mut connection = self.lock();
        let transaction = connection.transaction()?;
        let info = transaction
            .query_row(
                &format!(
                    "SELECT {KEY_COLUMNS} FROM keys k JOIN users u ON u.id = k.user_id \
                     WHERE k.fingerprint = ?1"
                ),
                [fingerprint.as_str()],
                key_info,
            )
            .optional()?
            .ok_or_else(|| Error::NotFound {
                what: format!("key {fingerprint}"),
            })?;
        transaction.execute("DELETE FROM keys WHERE id = ?1", [info.0])?;
        transaction.commit()?;
        to_key_info(info)
    }

    /// Returns the id of the key with `fingerprint`, if it is registered (an index lookup).
    pub fn key_id_by_fingerprint(&self, fingerprint: &Fingerprint) -> Result<Option<KeyId>, Error> {
        let connection = self.lock();
        let id: Option<i64> = connection
            .query_row(
                "SELECT id FROM keys WHERE fingerprint = ?1",
                [fingerprint.as_str()],
                |row| row.get(0),
            )
            .optional()?;
        Ok(id.map(KeyId::new))
    }

    /// Returns the owner of key `id`, if the key exists.
    pub fn key_owner(&self, id: KeyId) -> Result<Option<UserName>, Error> {
        let connection = self.lock();
        let owner: Option<String> = connection
            .query_row(
                "SELECT u.name FROM keys k JOIN users u ON u.id = k.user_id WHERE k.id = ?1",
                [id.get()],
                |row| row.get(0),
            )
            .optional()?;
        owner
            .map(|name| parse_stored("user name", name, UserName::parse))
            .transpose()
    }

    /// Returns every key with its id, oldest first, for `authorized_keys`.
    pub fn all_keys(&self) -> Result<Vec<(KeyId, PublicKey)>, Error> {
        let connection = self.lock();
        let mut statement =
            connection.prepare("SELECT id, algorithm, blob, comment FROM keys ORDER BY id")?;
        let rows = statement.query_map([], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, Vec<u8>>(2)?,
                row.get::<_, String>(3)?,
            ))
        })?;
        rows.map(|row| {
            let (id, algorithm, blob, comment) = row?;
            let key = PublicKey::from_stored(&algorithm, &blob, &comment).map_err(|_| {
                Error::Corrupt {
                    what: "public key",
                    value: format!("key-{id}"),
                }
            })?;
            Ok((KeyId::new(id), key))
        })
        .collect()
    }
}
