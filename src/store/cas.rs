//! The `user_cas` and `principals` tables: the CAs whose user certificates forge trusts, and
//! the principals that log in as another user than the one of their name.

use super::fingerprints;
use super::{Error, Store, now, parse_stored, stored_instant, unique_as_exists};
use crate::types::certs::{CaId, CaName, Principal};
use crate::types::keys::{Fingerprint, PublicKey};
use crate::types::timestamp::Timestamp;
use crate::types::user_name::UserName;
use rusqlite::{OptionalExtension, Row, params};

const CA_COLUMNS: &str = "id, name, algorithm, fingerprint, comment, created_at";

type CaRow = (i64, String, String, String, String, i64);

/// A user CA, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaRecord {
    /// The id that certificate sessions carry.
    pub id: CaId,
    /// The name the admin gave it.
    pub name: CaName,
    /// The key type, such as `ssh-ed25519`.
    pub algorithm: String,
    /// The SHA256 fingerprint of its public key.
    pub fingerprint: Fingerprint,
    /// The comment given with the key.
    pub comment: String,
    /// When the CA was added.
    pub created: Timestamp,
}

/// A principal mapped to a user, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalRecord {
    /// The certificate principal.
    pub principal: Principal,
    /// The user it logs in as.
    pub user: UserName,
    /// When the mapping was made.
    pub created: Timestamp,
}

fn ca_row(row: &Row<'_>) -> rusqlite::Result<CaRow> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
    ))
}

fn to_ca_record(
    (id, name, algorithm, fingerprint, comment, created): CaRow,
) -> Result<CaRecord, Error> {
    Ok(CaRecord {
        id: CaId::new(id),
        name: parse_stored("CA name", name, CaName::parse)?,
        algorithm,
        fingerprint: parse_stored("fingerprint", fingerprint, Fingerprint::parse)?,
        comment,
        created: stored_instant("CA creation", created)?,
    })
}

impl Store {
    /// Registers `key` as the user CA `name` and returns it as listed.
    ///
    /// A key already registered as a user's key or as another CA is refused, found by its
    /// fingerprint; so is a second CA of the same name.
    pub fn add_ca(&self, name: &CaName, key: &PublicKey) -> Result<CaRecord, Error> {
        let mut connection = self.lock();
        let transaction = connection.transaction()?;
        let fingerprint = key.fingerprint();
        if let Some(holder) = fingerprints::holder(&transaction, &fingerprint)? {
            return Err(fingerprints::taken_for_ca(&fingerprint, holder));
        }
        let id: i64 = transaction
            .query_row(
                "INSERT INTO user_cas (name, algorithm, blob, fingerprint, comment, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
                params![
                    name.as_str(),
                    key.algorithm(),
                    key.blob(),
                    fingerprint.as_str(),
                    key.comment(),
                    now()
                ],
                |row| row.get(0),
            )
            .map_err(|e| unique_as_exists(e, || format!("CA '{name}'")))?;
        let row = transaction.query_row(
            &format!("SELECT {CA_COLUMNS} FROM user_cas WHERE id = ?1"),
            [id],
            ca_row,
        )?;
        super::admin_audit::commit(transaction)?;
        to_ca_record(row)
    }

    /// Returns every registered user CA, by name.
    pub fn list_cas(&self) -> Result<Vec<CaRecord>, Error> {
        let connection = self.lock();
        let mut statement =
            connection.prepare(&format!("SELECT {CA_COLUMNS} FROM user_cas ORDER BY name"))?;
        let rows = statement.query_map([], ca_row)?;
        rows.map(|row| to_ca_record(row?)).collect()
    }

    /// Removes the user CA `name` and returns it as it was listed; its certificates are refused
    /// from then on.
    pub fn remove_ca(&self, name: &CaName) -> Result<CaRecord, Error> {
        let mut connection = self.lock();
        let transaction = connection.transaction()?;
        let row = transaction
            .query_row(
                &format!("SELECT {CA_COLUMNS} FROM user_cas WHERE name = ?1"),
                [name.as_str()],
                ca_row,
            )
            .optional()?
            .ok_or_else(|| Error::NotFound {
                what: format!("CA '{name}'"),
            })?;
        transaction.execute("DELETE FROM user_cas WHERE id = ?1", [row.0])?;
        super::admin_audit::commit(transaction)?;
        to_ca_record(row)
    }

    /// Returns the id and name of the CA whose key has `fingerprint` (an index lookup).
    pub fn ca_by_fingerprint(
        &self,
        fingerprint: &Fingerprint,
    ) -> Result<Option<(CaId, CaName)>, Error> {
        let connection = self.lock();
        let found: Option<(i64, String)> = connection
            .query_row(
                "SELECT id, name FROM user_cas WHERE fingerprint = ?1",
                [fingerprint.as_str()],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        found
            .map(|(id, name)| Ok((CaId::new(id), parse_stored("CA name", name, CaName::parse)?)))
            .transpose()
    }

    /// Returns the name of CA `ca` if both it and `user` still exist: a certificate session is
    /// good for exactly as long as that.
    pub fn certificate_ca(&self, ca: CaId, user: &UserName) -> Result<Option<CaName>, Error> {
        let connection = self.lock();
        let name: Option<String> = connection
            .query_row(
                "SELECT c.name FROM user_cas c, users u WHERE c.id = ?1 AND u.name = ?2",
                params![ca.get(), user.as_str()],
                |row| row.get(0),
            )
            .optional()?;
        name.map(|name| parse_stored("CA name", name, CaName::parse))
            .transpose()
    }

    /// Maps `principal` to `user`, who must exist; a principal already mapped is refused.
    pub fn map_principal(&self, principal: &Principal, user: &UserName) -> Result<(), Error> {
        let mut connection = self.lock();
        let transaction = connection.transaction()?;
        let user_id = super::users::user_id(&transaction, user)?;
        let mapped: Option<String> = transaction
            .query_row(
                "SELECT u.name FROM principals p JOIN users u ON u.id = p.user_id \
                 WHERE p.principal = ?1",
                [principal.as_str()],
                |row| row.get(0),
            )
            .optional()?;
        if let Some(mapped) = mapped {
            return Err(Error::AlreadyExists {
                what: format!("a mapping of principal '{principal}' (to '{mapped}')"),
            });
        }
        transaction.execute(
            "INSERT INTO principals (principal, user_id, created_at) VALUES (?1, ?2, ?3)",
            params![principal.as_str(), user_id, now()],
        )?;
        super::admin_audit::commit(transaction)?;
        Ok(())
    }

    /// Removes the mapping of `principal` and returns the user it mapped to.
    pub fn unmap_principal(&self, principal: &Principal) -> Result<UserName, Error> {
        let mut connection = self.lock();
        let transaction = connection.transaction()?;
        let user: String = transaction
            .query_row(
                "SELECT u.name FROM principals p JOIN users u ON u.id = p.user_id \
                 WHERE p.principal = ?1",
                [principal.as_str()],
                |row| row.get(0),
            )
            .optional()?
            .ok_or_else(|| Error::NotFound {
                what: format!("a mapping of principal '{principal}'"),
            })?;
        transaction.execute(
            "DELETE FROM principals WHERE principal = ?1",
            [principal.as_str()],
        )?;
        super::admin_audit::commit(transaction)?;
        parse_stored("user name", user, UserName::parse)
    }

    /// Returns every principal mapping, by principal.
    pub fn list_principals(&self) -> Result<Vec<PrincipalRecord>, Error> {
        let connection = self.lock();
        let mut statement = connection.prepare(
            "SELECT p.principal, u.name, p.created_at \
             FROM principals p JOIN users u ON u.id = p.user_id ORDER BY p.principal",
        )?;
        let rows = statement.query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, i64>(2)?,
            ))
        })?;
        rows.map(|row| {
            let (principal, user, created) = row?;
            Ok(PrincipalRecord {
                principal: parse_stored("principal", principal, Principal::parse)?,
                user: parse_stored("user name", user, UserName::parse)?,
                created: stored_instant("principal mapping creation", created)?,
            })
        })
        .collect()
    }

    /// Returns the user each principal logs in as, in the order given: the mapped user if a
    /// mapping exists, else the user of that exact name. Principals of neither kind are left
    /// out.
    pub fn users_for_principals(
        &self,
        principals: &[Principal],
    ) -> Result<Vec<(Principal, UserName)>, Error> {
        let mut connection = self.lock();
        let transaction = connection.transaction()?;
        let mut resolved = Vec::new();
        for principal in principals {
            let user: Option<String> = transaction
                .query_row(
                    "SELECT COALESCE( \
                         (SELECT u.name FROM principals p JOIN users u ON u.id = p.user_id \
                          WHERE p.principal = ?1), \
                         (SELECT name FROM users WHERE name = ?1))",
                    [principal.as_str()],
                    |row| row.get(0),
                )
                .optional()?
                .flatten();
            if let Some(user) = user {
                resolved.push((
                    principal.clone(),
                    parse_stored("user name", user, UserName::parse)?,
                ));
            }
        }
        super::admin_audit::commit(transaction)?;
        Ok(resolved)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::keys::Title;

    const CA: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMAhFN8hDRErHeXcZHKD+s2cl3KlUSddK26x2fjV+/Fl corp-ca";
    const CA_FP: &str = "SHA256:ma9pi2jzF53gn4fskSJeiXsJz4o/jMhotisuRHcyu9M";
    const USER_KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILOm4cCUAGwNNSDlP/p2AYhNc4AWOBkwwQDZSn41f+N7 alice@laptop";

    fn user(name: &str) -> UserName {
        UserName::parse(name).unwrap()
    }

    fn ca_name(name: &str) -> CaName {
        CaName::parse(name).unwrap()
    }

    fn principal(text: &str) -> Principal {
        Principal::parse(text).unwrap()
    }

    fn key(line: &str) -> PublicKey {
        PublicKey::parse_authorized(line).unwrap()
    }

    #[test]
    fn cas_are_added_listed_found_and_removed() {
        let store = Store::open_in_memory().unwrap();
        let added = store.add_ca(&ca_name("corp"), &key(CA)).unwrap();
        assert_eq!(added.fingerprint.as_str(), CA_FP);
        assert_eq!(added.comment, "corp-ca");
        assert_eq!(store.list_cas().unwrap(), std::slice::from_ref(&added));
        let fingerprint = Fingerprint::parse(CA_FP).unwrap();
        assert_eq!(
            store.ca_by_fingerprint(&fingerprint).unwrap(),
            Some((added.id, ca_name("corp")))
        );
        let removed = store.remove_ca(&ca_name("corp")).unwrap();
        assert_eq!(removed, added);
        assert_eq!(store.ca_by_fingerprint(&fingerprint).unwrap(), None);
        assert!(matches!(
            store.remove_ca(&ca_name("corp")),
            Err(Error::NotFound { .. })
        ));
        // Ids are never reused.
        let again = store.add_ca(&ca_name("corp"), &key(CA)).unwrap();
        assert!(again.id > added.id);
    }

    #[test]
    fn a_ca_key_is_not_a_user_key_and_the_other_way_round() {
        let store = Store::open_in_memory().unwrap();
        store.add_user(&user("alice")).unwrap();
        let user_key = key(USER_KEY);
        store
            .add_key(
                &user("alice"),
                &user_key,
                &Title::from_comment(&user_key),
                None,
            )
            .unwrap();
        let error = store.add_ca(&ca_name("corp"), &key(USER_KEY)).unwrap_err();
        assert!(
            error.to_string().contains("it is a key of user 'alice'"),
            "{error}"
        );
        store.add_ca(&ca_name("corp"), &key(CA)).unwrap();
        let ca_key = key(CA);
        let error = store
            .add_key(&user("alice"), &ca_key, &Title::from_comment(&ca_key), None)
            .unwrap_err();
        assert!(
            error.to_string().contains("registered as user CA 'corp'"),
            "{error}"
        );
        let error = store.add_ca(&ca_name("other"), &key(CA)).unwrap_err();
        assert!(
            error.to_string().contains("registered as 'corp'"),
            "{error}"
        );
        assert_eq!(store.list_cas().unwrap().len(), 1);
    }

    #[test]
    fn a_second_ca_of_the_same_name_already_exists() {
        let store = Store::open_in_memory().unwrap();
        store.add_ca(&ca_name("corp"), &key(CA)).unwrap();
        store.add_user(&user("alice")).unwrap();
        let other =
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKWdBCWIAVdUijgQgfx7slfgwTxC0SCaU8fqHAQdPlcM x";
        let error = store.add_ca(&ca_name("corp"), &key(other)).unwrap_err();
        assert_eq!(error.to_string(), "CA 'corp' already exists");
    }

    #[test]
    fn a_certificate_session_lasts_as_long_as_its_ca_and_user() {
        let store = Store::open_in_memory().unwrap();
        store.add_user(&user("alice")).unwrap();
        let ca = store.add_ca(&ca_name("corp"), &key(CA)).unwrap().id;
        assert_eq!(
            store.certificate_ca(ca, &user("alice")).unwrap(),
            Some(ca_name("corp"))
        );
        assert_eq!(store.certificate_ca(ca, &user("bob")).unwrap(), None);
        assert_eq!(
            store
                .certificate_ca(CaId::new(ca.get() + 1), &user("alice"))
                .unwrap(),
            None
        );
        store.remove_user(&user("alice")).unwrap();
        assert_eq!(store.certificate_ca(ca, &user("alice")).unwrap(), None);
        store.add_user(&user("alice")).unwrap();
        store.remove_ca(&ca_name("corp")).unwrap();
        assert_eq!(store.certificate_ca(ca, &user("alice")).unwrap(), None);
    }

    #[test]
    fn principals_resolve_to_their_mapping_else_to_the_user_of_their_name() {
        let store = Store::open_in_memory().unwrap();
        for name in ["alice", "bob", "carol"] {
            store.add_user(&user(name)).unwrap();
        }
        store
            .map_principal(&principal("ops-alice"), &user("bob"))
            .unwrap();
        // A mapping wins over a user of the same name.
        store
            .map_principal(&principal("carol"), &user("alice"))
            .unwrap();
        let asked: Vec<Principal> = ["alice", "ops-alice", "nobody", "carol", "al ice@x"]
            .iter()
            .filter_map(|p| Principal::parse(p).ok())
            .collect();
        let resolved = store.users_for_principals(&asked).unwrap();
        assert_eq!(
            resolved,
            [
                (principal("alice"), user("alice")),
                (principal("ops-alice"), user("bob")),
                (principal("carol"), user("alice")),
            ]
        );
        // A principal that is no valid user name resolves only through a mapping.
        store
            .map_principal(&principal("alice@CORP.EXAMPLE"), &user("carol"))
            .unwrap();
        assert_eq!(
            store
                .users_for_principals(&[principal("alice@CORP.EXAMPLE")])
                .unwrap(),
            [(principal("alice@CORP.EXAMPLE"), user("carol"))]
        );
        // Removing the user removes the mappings to them.
        store.remove_user(&user("bob")).unwrap();
        assert_eq!(
            store
                .users_for_principals(&[principal("ops-alice")])
                .unwrap(),
            []
        );
    }

    #[test]
    fn principal_mappings_are_listed_refused_twice_and_removed() {
        let store = Store::open_in_memory().unwrap();
        store.add_user(&user("bob")).unwrap();
        assert!(matches!(
            store.map_principal(&principal("ops-alice"), &user("ghost")),
            Err(Error::NotFound { .. })
        ));
        store
            .map_principal(&principal("ops-alice"), &user("bob"))
            .unwrap();
        let error = store
            .map_principal(&principal("ops-alice"), &user("bob"))
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "a mapping of principal 'ops-alice' (to 'bob') already exists"
        );
        let listed = store.list_principals().unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(
            (listed[0].principal.as_str(), listed[0].user.as_str()),
            ("ops-alice", "bob")
        );
        assert_eq!(
            store.unmap_principal(&principal("ops-alice")).unwrap(),
            user("bob")
        );
        assert!(matches!(
            store.unmap_principal(&principal("ops-alice")),
            Err(Error::NotFound { .. })
        ));
        assert!(store.list_principals().unwrap().is_empty());
    }
}
