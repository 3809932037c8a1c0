//! The `keys` table: public keys, their owners and fingerprints.

use super::fingerprints::{self, Holder};
use super::{Error, Store, now, parse_stored, stored_instant, stored_time};
use crate::types::keys::{Fingerprint, KeyId, KeyRef, PublicKey, Title};
use crate::types::timestamp::Timestamp;
use crate::types::user_name::UserName;
use rusqlite::{OptionalExtension, Row, Transaction, params};

const KEY_COLUMNS: &str = "k.id, u.name, k.algorithm, k.fingerprint, k.comment, k.title, \
                           k.created_at, k.expires_at, k.last_used_at";

/// A row of [`KEY_COLUMNS`], before its values are checked.
struct KeyRow {
    id: i64,
    user: String,
    algorithm: String,
    fingerprint: String,
    comment: String,
    title: String,
    created: i64,
    expires: Option<i64>,
    last_used: Option<i64>,
}

fn key_info(row: &Row<'_>) -> rusqlite::Result<KeyRow> {
    Ok(KeyRow {
        id: row.get(0)?,
        user: row.get(1)?,
        algorithm: row.get(2)?,
        fingerprint: row.get(3)?,
        comment: row.get(4)?,
        title: row.get(5)?,
        created: row.get(6)?,
        expires: row.get(7)?,
        last_used: row.get(8)?,
    })
}

/// A key, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord {
    /// The key id that its forced command carries.
    pub id: KeyId,
    /// The owner.
    pub user: UserName,
    /// The key type, such as `ssh-ed25519`.
    pub algorithm: String,
    /// The SHA256 fingerprint.
    pub fingerprint: Fingerprint,
    /// The comment given with the key.
    pub comment: String,
    /// The key's title.
    pub title: String,
    /// When the key was added.
    pub created: Timestamp,
    /// When the key stops working; `None` for never.
    pub expires: Option<Timestamp>,
    /// When the key was last used, to [`LAST_USE_GRANULARITY_SECONDS`]; `None` for never.
    pub last_used: Option<Timestamp>,
}

fn to_key_record(row: KeyRow) -> Result<KeyRecord, Error> {
    Ok(KeyRecord {
        id: KeyId::new(row.id),
        user: parse_stored("user name", row.user, UserName::parse)?,
        algorithm: row.algorithm,
        fingerprint: parse_stored("fingerprint", row.fingerprint, Fingerprint::parse)?,
        comment: row.comment,
        title: row.title,
        created: stored_instant("key creation", row.created)?,
        expires: stored_time("key expiry", row.expires)?,
        last_used: stored_time("key last use", row.last_used)?,
    })
}

/// What forge-shell's questions need to know of a key: whose it is, until when it works and
/// when its use was last recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyUse {
    /// The key's owner.
    pub user: UserName,
    /// When the key stops working; `None` for never.
    pub expires: Option<Timestamp>,
    /// When its last use was recorded; `None` for never.
    pub last_used: Option<Timestamp>,
}

impl KeyUse {
    /// Returns whether a use at `now` should be written down: none is recorded yet, or the
    /// last one is [`LAST_USE_GRANULARITY_SECONDS`] old. Deciding this from the row already
    /// read keeps most requests free of any write.
    pub fn is_use_due(&self, now: Timestamp) -> bool {
        self.last_used
            .is_none_or(|last| last.unix() <= now.unix() - LAST_USE_GRANULARITY_SECONDS)
    }
}

/// How long after a recorded use another use is not written down, in seconds.
///
/// A clone or push asks forged several times; one write a minute per key keeps that cheap.
pub const LAST_USE_GRANULARITY_SECONDS: i64 = 60;

/// Adds `key` to `user` (who must exist), with its title and expiry, and returns the new
/// key's id; a key registered as a user CA is refused.
pub(super) fn insert_key(
    transaction: &Transaction<'_>,
    user: &UserName,
    key: &PublicKey,
    title: &Title,
    expires: Option<Timestamp>,
) -> Result<i64, Error> {
    let user_id = super::users::user_id(transaction, user)?;
    insert_key_of(transaction, user_id, key, title, expires)
}

/// Adds `key` to the user with row id `user_id`, as [`insert_key`] does.
fn insert_key_of(
    transaction: &Transaction<'_>,
    user_id: i64,
    key: &PublicKey,
    title: &Title,
    expires: Option<Timestamp>,
) -> Result<i64, Error> {
    let fingerprint = key.fingerprint();
    if let Some(holder) = fingerprints::holder(transaction, &fingerprint)? {
        return Err(fingerprints::taken_for_key(&fingerprint, holder));
    }
    // RETURNING, not last_insert_rowid(): both SQLite and PostgreSQL say the new id this way.
    let mut insert = transaction.prepare_cached(
        "INSERT INTO keys (user_id, algorithm, blob, fingerprint, comment, title, expires_at, \
         created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id",
    )?;
    let id = insert.query_row(
        params![
            user_id,
            key.algorithm(),
            key.blob(),
            key.fingerprint().as_str(),
            key.comment(),
            title.as_str(),
            expires.map(Timestamp::unix),
            now()
        ],
        |row| row.get(0),
    )?;
    Ok(id)
}

impl Store {
    /// Adds `users`, then `keys` with their owners, in one transaction, and returns how many
    /// keys it added.
    ///
    /// This fills a large site at once (the `keys_lookup` bench does): one [`Store::add_key`]
    /// per key is a transaction, and a full `fsync`, each. Each key gets its comment as its
    /// title and no expiry. An owner must be among `users` or exist already. A user that
    /// exists, or a key whose fingerprint is held already (by a user or a CA), refuses the
    /// whole lot.
    pub fn add_users_and_keys(
        &self,
        users: &[UserName],
        keys: impl IntoIterator<Item = (UserName, PublicKey)>,
    ) -> Result<u64, Error> {
        let mut connection = self.lock();
        let transaction = connection.transaction()?;
        let now = now();
        let mut user_ids = std::collections::HashMap::with_capacity(users.len());
        {
            let mut insert = transaction
                .prepare("INSERT INTO users (name, created_at) VALUES (?1, ?2) RETURNING id")?;
            for user in users {
                let id: i64 = insert
                    .query_row(params![user.as_str(), now], |row| row.get(0))
                    .map_err(|e| super::unique_as_exists(e, || format!("user '{user}'")))?;
                user_ids.insert(user.clone(), id);
            }
        }
        let mut added = 0;
        for (user, key) in keys {
            let user_id = match user_ids.get(&user) {
                Some(id) => *id,
                None => {
                    let id = super::users::user_id(&transaction, &user)?;
                    user_ids.insert(user, id);
                    id
                }
            };
            insert_key_of(
                &transaction,
                user_id,
                &key,
                &Title::from_comment(&key),
                None,
            )?;
            added += 1;
        }
        super::admin_audit::commit(transaction)?;
        Ok(added)
    }

    /// Returns the public key with id `id`, if it is registered (a primary-key lookup).
    pub fn public_key(&self, id: KeyId) -> Result<Option<PublicKey>, Error> {
        let connection = self.lock();
        let found: Option<(String, Vec<u8>, String)> = connection
            .prepare_cached("SELECT algorithm, blob, comment FROM keys WHERE id = ?1")?
            .query_row([id.get()], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?))
            })
            .optional()?;
        found
            .map(|(algorithm, blob, comment)| {
                PublicKey::from_stored(&algorithm, &blob, &comment).map_err(|_| Error::Corrupt {
                    what: "public key",
                    value: format!("key-{}", id.get()),
                })
            })
            .transpose()
    }

    /// Adds `key` to `user` with a title and an expiry (`None`: never) and returns it as listed.
    ///
    /// A key belongs to one user: one already registered to anyone is refused, found by its
    /// fingerprint, not its text. Whether the expiry is in the future is the caller's check.
    pub fn add_key(
        &self,
        user: &UserName,
        key: &PublicKey,
        title: &Title,
        expires: Option<Timestamp>,
    ) -> Result<KeyRecord, Error> {
        let mut connection = self.lock();
        let transaction = connection.transaction()?;
        // An owner is refused before a missing user is: the key is the admin's mistake.
        let fingerprint = key.fingerprint();
        if let Some(owner @ Holder::User(_)) = fingerprints::holder(&transaction, &fingerprint)? {
            return Err(fingerprints::taken_for_key(&fingerprint, owner));
        }
        let id = insert_key(&transaction, user, key, title, expires)?;
        let info = transaction.query_row(
            &format!(
                "SELECT {KEY_COLUMNS} FROM keys k JOIN users u ON u.id = k.user_id WHERE k.id = ?1"
            ),
            [id],
            key_info,
        )?;
        super::admin_audit::commit(transaction)?;
        to_key_record(info)
    }

    /// Returns the keys of `user`, or of everyone, by user then age.
    ///
    /// With `unused_since`, only the keys not used since that instant: last used before it, or
    /// never used and added before it.
    pub fn list_keys(
        &self,
        user: Option<&UserName>,
        unused_since: Option<Timestamp>,
    ) -> Result<Vec<KeyRecord>, Error> {
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
             WHERE (?1 IS NULL OR u.name = ?1) \
             AND (?2 IS NULL OR coalesce(k.last_used_at, k.created_at) < ?2) \
             ORDER BY u.name, k.id"
        ))?;
        let rows = statement.query_map(
            params![
                user.map(UserName::as_str),
                unused_since.map(Timestamp::unix)
            ],
            key_info,
        )?;
        rows.map(|row| to_key_record(row?)).collect()
    }

    /// Removes the key named by its id or fingerprint and returns it as it was listed.
    pub fn remove_key(&self, key: &KeyRef) -> Result<KeyRecord, Error> {
        let (id, fingerprint) = match key {
            KeyRef::Id(id) => (Some(id.get()), None),
            KeyRef::Fingerprint(fingerprint) => (None, Some(fingerprint.as_str())),
        };
        let mut connection = self.lock();
        let transaction = connection.transaction()?;
        let info = transaction
            .query_row(
                &format!(
                    "SELECT {KEY_COLUMNS} FROM keys k JOIN users u ON u.id = k.user_id \
                     WHERE k.id = ?1 OR k.fingerprint = ?2"
                ),
                params![id, fingerprint],
                key_info,
            )
            .optional()?
            .ok_or_else(|| Error::NotFound {
                what: format!("key {key}"),
            })?;
        transaction.execute("DELETE FROM keys WHERE id = ?1", [info.id])?;
        super::admin_audit::commit(transaction)?;
        to_key_record(info)
    }

    /// Returns the id and expiry of the key with `fingerprint`, if it is registered (an index
    /// lookup).
    pub fn key_by_fingerprint(
        &self,
        fingerprint: &Fingerprint,
    ) -> Result<Option<(KeyId, Option<Timestamp>)>, Error> {
        let connection = self.lock();
        let found: Option<(i64, Option<i64>)> = connection
            .query_row(
                "SELECT id, expires_at FROM keys WHERE fingerprint = ?1",
                [fingerprint.as_str()],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        found
            .map(|(id, expires)| Ok((KeyId::new(id), stored_time("key expiry", expires)?)))
            .transpose()
    }

    /// Returns the owner and expiry of key `id`, if the key exists.
    pub fn key_use(&self, id: KeyId) -> Result<Option<KeyUse>, Error> {
        let connection = self.lock();
        let found: Option<(String, Option<i64>, Option<i64>)> = connection
            .query_row(
                "SELECT u.name, k.expires_at, k.last_used_at FROM keys k \
                 JOIN users u ON u.id = k.user_id WHERE k.id = ?1",
                [id.get()],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .optional()?;
        found
            .map(|(user, expires, last_used)| {
                Ok(KeyUse {
                    user: parse_stored("user name", user, UserName::parse)?,
                    expires: stored_time("key expiry", expires)?,
                    last_used: stored_time("key last use", last_used)?,
                })
            })
            .transpose()
    }

    /// Records that key `id` was used at `now`, unless a use less than
    /// [`LAST_USE_GRANULARITY_SECONDS`] earlier is already recorded; returns whether it wrote.
    ///
    /// Not flushed: a last use is a hint, which a power cut may take back.
    pub fn record_key_use(&self, id: KeyId, now: Timestamp) -> Result<bool, Error> {
        let connection = self.lock_unflushed();
        let changed = connection.execute(
            "UPDATE keys SET last_used_at = ?2 \
             WHERE id = ?1 AND (last_used_at IS NULL OR last_used_at <= ?2 - ?3)",
            params![id.get(), now.unix(), LAST_USE_GRANULARITY_SECONDS],
        )?;
        Ok(changed > 0)
    }

    /// Returns every key that still works at `now` with its id and expiry, oldest first, for
    /// `authorized_keys`.
    pub fn all_keys(
        &self,
        now: Timestamp,
    ) -> Result<Vec<(KeyId, PublicKey, Option<Timestamp>)>, Error> {
        let connection = self.lock();
        let mut statement = connection.prepare(
            "SELECT id, algorithm, blob, comment, expires_at FROM keys \
             WHERE expires_at IS NULL OR expires_at > ?1 ORDER BY id",
        )?;
        let rows = statement.query_map([now.unix()], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, Vec<u8>>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, Option<i64>>(4)?,
            ))
        })?;
        rows.map(|row| {
            let (id, algorithm, blob, comment, expires) = row?;
            let key = PublicKey::from_stored(&algorithm, &blob, &comment).map_err(|_| {
                Error::Corrupt {
                    what: "public key",
                    value: format!("key-{id}"),
                }
            })?;
            Ok((KeyId::new(id), key, stored_time("key expiry", expires)?))
        })
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::keys::is_expired;

    const ED25519: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKWdBCWIAVdUijgQgfx7slfgwTxC0SCaU8fqHAQdPlcM alice@laptop";
    const OTHER: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBm3tpFUfZl6L3P7EVVAxzKoJLfEEnGiXZEm0JOjVvSF";
    const THIRD: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE5Lr8/ZkhA7gAd/J8vG1tqfr1hqVgD1tC1hCq7ny6aa";

    fn at(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap()
    }

    /// A store with user alice holding one key (never expiring) and returns its id.
    fn store_with_alice() -> (Store, UserName) {
        let store = Store::open_in_memory().unwrap();
        let alice = UserName::parse("alice").unwrap();
        store.add_user(&alice).unwrap();
        (store, alice)
    }

    fn add(store: &Store, user: &UserName, text: &str, expires: Option<Timestamp>) -> KeyRecord {
        let key = PublicKey::parse_authorized(text).unwrap();
        store
            .add_key(user, &key, &Title::from_comment(&key), expires)
            .unwrap()
    }

    /// Sets a key's creation time, as if it had been added then.
    fn set_created(store: &Store, id: KeyId, when: Timestamp) {
        store
            .lock()
            .execute(
                "UPDATE keys SET created_at = ?2 WHERE id = ?1",
                params![id.get(), when.unix()],
            )
            .unwrap();
    }

    #[test]
    fn a_key_is_listed_with_its_title_expiry_and_no_use_yet() {
        let (store, alice) = store_with_alice();
        let expires = at("2100-01-01");
        let key = PublicKey::parse_authorized(ED25519).unwrap();
        let added = store
            .add_key(
                &alice,
                &key,
                &Title::parse("work laptop").unwrap(),
                Some(expires),
            )
            .unwrap();
        assert_eq!(added.title, "work laptop");
        assert_eq!(added.comment, "alice@laptop");
        assert_eq!(added.expires, Some(expires));
        assert_eq!(added.last_used, None);
        let untitled = add(&store, &alice, OTHER, None);
        assert_eq!((untitled.title.as_str(), untitled.expires), ("", None));
        assert_eq!(store.list_keys(None, None).unwrap(), [added, untitled]);
    }

    #[test]
    fn a_bulk_fill_adds_users_and_keys_at_once_or_not_at_all() {
        let store = Store::open_in_memory().unwrap();
        let (bob, carol) = (
            UserName::parse("bob").unwrap(),
            UserName::parse("carol").unwrap(),
        );
        let key = |text: &str| PublicKey::parse_authorized(text).unwrap();
        let added = store
            .add_users_and_keys(
                &[bob.clone(), carol.clone()],
                [(carol.clone(), key(ED25519)), (bob.clone(), key(OTHER))],
            )
            .unwrap();
        assert_eq!(added, 2);
        let listed = store.list_keys(None, None).unwrap();
        assert_eq!(
            listed
                .iter()
                .map(|k| (k.id, k.user.as_str(), k.title.as_str()))
                .collect::<Vec<_>>(),
            [
                (KeyId::new(2), "bob", ""),
                (KeyId::new(1), "carol", "alice@laptop")
            ]
        );
        let found = store.public_key(KeyId::new(1)).unwrap().unwrap();
        assert_eq!(found.fingerprint(), key(ED25519).fingerprint());
        assert_eq!(store.public_key(KeyId::new(3)).unwrap(), None);

        // A key held already refuses the whole lot, the new user with it.
        let dave = UserName::parse("dave").unwrap();
        let error = store
            .add_users_and_keys(
                std::slice::from_ref(&dave),
                [(dave.clone(), key(THIRD)), (dave.clone(), key(OTHER))],
            )
            .unwrap_err();
        assert!(error.to_string().contains("it belongs to 'bob'"), "{error}");
        assert!(!store.has_user(&dave).unwrap());
        assert_eq!(store.list_keys(None, None).unwrap().len(), 2);
    }

    #[test]
    fn expired_keys_are_left_out_of_authorized_keys_but_still_found() {
        let (store, alice) = store_with_alice();
        let soon = add(&store, &alice, ED25519, Some(at("2030-01-01")));
        let never = add(&store, &alice, OTHER, None);
        let ids = |now: &str| -> Vec<(KeyId, Option<Timestamp>)> {
            store
                .all_keys(at(now))
                .unwrap()
                .into_iter()
                .map(|(id, _, expires)| (id, expires))
                .collect()
        };
        assert_eq!(
            ids("2029-12-31T23:59:59Z"),
            [(soon.id, Some(at("2030-01-01"))), (never.id, None)]
        );
        assert_eq!(ids("2030-01-01T00:00:00Z"), [(never.id, None)]);

        // The lookups still find it: the handlers decide, and log why.
        let found = store.key_by_fingerprint(&soon.fingerprint).unwrap();
        assert_eq!(found, Some((soon.id, Some(at("2030-01-01")))));
        let used = store.key_use(soon.id).unwrap().unwrap();
        assert_eq!((used.user, used.expires), (alice, Some(at("2030-01-01"))));
        assert!(!is_expired(used.expires, at("2029-12-31T23:59:59Z")));
        assert!(is_expired(used.expires, at("2030-01-01T00:00:00Z")));
        assert!(!is_expired(None, at("9999-12-30")));
        assert_eq!(store.key_use(KeyId::new(99)).unwrap(), None);
    }

    #[test]
    fn last_use_is_written_at_most_once_a_minute() {
        let (store, alice) = store_with_alice();
        let key = add(&store, &alice, ED25519, None);
        let other = add(&store, &alice, OTHER, None);
        let first = at("2030-01-01T10:00:00Z");
        let last_used = |id: KeyId| {
            store
                .list_keys(None, None)
                .unwrap()
                .into_iter()
                .find(|k| k.id == id)
                .unwrap()
                .last_used
        };
        assert!(store.key_use(key.id).unwrap().unwrap().is_use_due(first));
        assert!(store.record_key_use(key.id, first).unwrap());
        let recorded = store.key_use(key.id).unwrap().unwrap();
        assert_eq!(recorded.last_used, Some(first));
        assert_eq!(last_used(key.id), Some(first));
        let within = at("2030-01-01T10:00:59Z");
        assert!(!recorded.is_use_due(within));
        assert!(!store.record_key_use(key.id, within).unwrap());
        assert_eq!(last_used(key.id), Some(first), "not written again");
        let minute_on = at("2030-01-01T10:01:00Z");
        assert!(recorded.is_use_due(minute_on));
        assert!(store.record_key_use(key.id, minute_on).unwrap());
        assert_eq!(last_used(key.id), Some(minute_on));
        assert_eq!(last_used(other.id), None, "only that key");
        assert!(!store.record_key_use(KeyId::new(99), first).unwrap());
    }

    #[test]
    fn unused_since_finds_keys_last_used_or_added_before_the_date() {
        let (store, alice) = store_with_alice();
        let bob = UserName::parse("bob").unwrap();
        store.add_user(&bob).unwrap();
        let stale = add(&store, &alice, ED25519, None);
        let fresh = add(&store, &alice, OTHER, None);
        let never_old = add(&store, &bob, THIRD, None);
        for info in [&stale, &fresh, &never_old] {
            set_created(&store, info.id, at("2029-01-01"));
        }
        store.record_key_use(stale.id, at("2029-06-01")).unwrap();
        store.record_key_use(fresh.id, at("2030-02-01")).unwrap();
        let ids = |user: Option<&UserName>, since: &str| -> Vec<KeyId> {
            store
                .list_keys(user, Some(at(since)))
                .unwrap()
                .into_iter()
                .map(|k| k.id)
                .collect()
        };
        assert_eq!(ids(None, "2030-01-01"), [stale.id, never_old.id]);
        assert_eq!(ids(Some(&alice), "2030-01-01"), [stale.id]);
        assert_eq!(ids(None, "2029-03-01"), [never_old.id]);
        // A key never used but added after the date is not stale yet.
        assert_eq!(ids(None, "2028-12-31"), Vec::<KeyId>::new());
        assert_eq!(ids(None, "2031-01-01"), [stale.id, fresh.id, never_old.id]);
    }
}
