//! The `users` table.

use super::{Error, Store, now, stored_instant, unique_as_exists};
use crate::types::timestamp::Timestamp;
use crate::types::user_name::UserName;
use rusqlite::{OptionalExtension, Transaction, params};

/// Returns the id of `user`, or [`Error::NotFound`].
pub(super) fn user_id(transaction: &Transaction<'_>, user: &UserName) -> Result<i64, Error> {
    transaction
        .query_row(
            "SELECT id FROM users WHERE name = ?1",
            [user.as_str()],
            |row| row.get(0),
        )
        .optional()?
        .ok_or_else(|| Error::NotFound {
            what: format!("user '{user}'"),
        })
}

/// A user, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// The name.
    pub name: UserName,
    /// How many keys the user has.
    pub keys: u32,
    /// When the user was added.
    pub created: Timestamp,
}

impl Store {
    /// Adds a user.
    pub fn add_user(&self, user: &UserName) -> Result<(), Error> {
        let mut connection = self.lock();
        let transaction = connection.transaction()?;
        transaction
            .execute(
                "INSERT INTO users (name, created_at) VALUES (?1, ?2)",
                params![user.as_str(), now()],
            )
            .map_err(|e| unique_as_exists(e, || format!("user '{user}'")))?;
        super::admin_audit::commit(transaction)?;
        Ok(())
    }

    /// Returns every user with the number of keys they have, by name.
    pub fn list_users(&self) -> Result<Vec<UserRecord>, Error> {
        let connection = self.lock();
        let mut statement = connection.prepare(
            "SELECT u.name, (SELECT count(*) FROM keys k WHERE k.user_id = u.id), u.created_at \
             FROM users u ORDER BY u.name",
        )?;
        let rows = statement.query_map([], |row| {
            Ok((row.get::<_, String>(0)?, row.get(1)?, row.get(2)?))
        })?;
        rows.map(|row| {
            let (name, keys, created) = row?;
            Ok(UserRecord {
                name: super::parse_stored("user name", name, UserName::parse)?,
                keys,
                created: stored_instant("user creation", created)?,
            })
        })
        .collect()
    }

    /// Removes a user with their keys and grants; their audit history stays.
    pub fn remove_user(&self, user: &UserName) -> Result<(), Error> {
        let mut connection = self.lock();
        let transaction = connection.transaction()?;
        let removed = transaction.execute("DELETE FROM users WHERE name = ?1", [user.as_str()])?;
        if removed == 0 {
            return Err(Error::NotFound {
                what: format!("user '{user}'"),
            });
        }
        // Their grants went with them, and grants are rules.
        super::policy_version::bump(&transaction)?;
        super::admin_audit::commit(transaction)?;
        Ok(())
    }

    /// Returns whether the user exists.
    pub fn has_user(&self, user: &UserName) -> Result<bool, Error> {
        let connection = self.lock();
        let found = connection
            .query_row(
                "SELECT 1 FROM users WHERE name = ?1",
                [user.as_str()],
                |_| Ok(()),
            )
            .optional()?;
        Ok(found.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(text: &str) -> UserName {
        UserName::parse(text).unwrap()
    }

    #[test]
    fn users_are_added_listed_and_removed() {
        let store = Store::open_in_memory().unwrap();
        store.add_user(&name("bob")).unwrap();
        store.add_user(&name("alice")).unwrap();
        let names: Vec<_> = store
            .list_users()
            .unwrap()
            .into_iter()
            .map(|u| u.name.to_string())
            .collect();
        assert_eq!(names, ["alice", "bob"]);
        store.remove_user(&name("bob")).unwrap();
        assert!(!store.has_user(&name("bob")).unwrap());
        assert!(store.has_user(&name("alice")).unwrap());
    }

    #[test]
    fn a_second_user_of_the_same_name_already_exists() {
        let store = Store::open_in_memory().unwrap();
        store.add_user(&name("alice")).unwrap();
        let error = store.add_user(&name("alice")).unwrap_err();
        assert_eq!(error.to_string(), "user 'alice' already exists");
    }

    #[test]
    fn removing_a_missing_user_is_not_found() {
        let store = Store::open_in_memory().unwrap();
        assert!(matches!(
            store.remove_user(&name("ghost")),
            Err(Error::NotFound { .. })
        ));
    }
}
