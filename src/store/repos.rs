//! The `repos` and `grants` tables: repositories, and who may do what with them.

use super::users::user_id;
use super::{Error, Store, now, parse_stored, stored_instant, unique_as_exists};
use crate::policy::Access;
use crate::types::repo_name::RepoName;
use crate::types::timestamp::Timestamp;
use crate::types::user_name::UserName;
use rusqlite::{OptionalExtension, Transaction, params};

/// Work done on disk inside a repository transaction; an error rolls the transaction back.
pub type DiskWork<'a> =
    Box<dyn FnOnce() -> Result<(), Box<dyn std::error::Error + Send + Sync>> + 'a>;

/// A repository, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoRecord {
    /// The name.
    pub name: RepoName,
    /// What it holds.
    pub description: String,
    /// Whether every registered user may read it.
    pub public: bool,
    /// When it was created.
    pub created: Timestamp,
    /// Who was granted what, by user.
    pub grants: Vec<GrantRecord>,
}

/// One grant on a repository, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantRecord {
    /// The user.
    pub user: UserName,
    /// The access granted.
    pub access: Access,
}

/// Returns the id of `repo`, or [`Error::NotFound`].
pub(super) fn repo_id(transaction: &Transaction<'_>, repo: &RepoName) -> Result<i64, Error> {
    transaction
        .query_row(
            "SELECT id FROM repos WHERE name = ?1",
            [repo.as_str()],
            |row| row.get(0),
        )
        .optional()?
        .ok_or_else(|| Error::NotFound {
            what: format!("repository '{repo}'"),
        })
}

fn parse_access(text: String) -> Result<Access, Error> {
    parse_stored("access level", text, Access::parse)
}

impl Store {
    /// Creates a repository, running `on_disk` (which makes its folder) inside the transaction.
    ///
    /// A name that differs from an existing one only in letter case already exists: two such
    /// repositories would collide on a case-insensitive file system and confuse people anyway.
    pub fn create_repo(
        &self,
        repo: &RepoName,
        description: &str,
        public: bool,
        creator: Option<&str>,
        on_disk: DiskWork<'_>,
    ) -> Result<(), Error> {
        let mut connection = self.lock();
        let transaction = connection.transaction()?;
        let existing: Option<String> = transaction
            .query_row(
                "SELECT name FROM repos WHERE name_folded = ?1",
                [repo.folded()],
                |row| row.get(0),
            )
            .optional()?;
        if let Some(existing) = existing {
            return Err(Error::AlreadyExists {
                what: if existing == repo.as_str() {
                    format!("repository '{repo}'")
                } else {
                    format!("repository '{existing}' (names may not differ only in letter case)")
                },
            });
        }
        transaction
            .execute(
                "INSERT INTO repos (name, name_folded, description, public, created_at, creator) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    repo.as_str(),
                    repo.folded(),
                    description,
                    public,
                    now(),
                    creator
                ],
            )
            .map_err(|e| unique_as_exists(e, || format!("repository '{repo}'")))?;
        on_disk().map_err(|source| Error::Outside {
            what: format!("cannot create the folder of repository '{repo}'"),
            source,
        })?;
        if public {
            super::policy_version::bump(&transaction)?;
        }
        super::admin_audit::commit(transaction)?;
        Ok(())
    }

    /// Removes a repository and its grants, running `on_disk` (which moves its folder aside)
    /// inside the transaction.
    pub fn remove_repo(&self, repo: &RepoName, on_disk: DiskWork<'_>) -> Result<(), Error> {
        let mut connection = self.lock();
        let transaction = connection.transaction()?;
        let id = repo_id(&transaction, repo)?;
        transaction.execute("DELETE FROM repos WHERE id = ?1", [id])?;
        on_disk().map_err(|source| Error::Outside {
            what: format!("cannot move the folder of repository '{repo}' aside"),
            source,
        })?;
        super::policy_version::bump(&transaction)?;
        super::admin_audit::commit(transaction)?;
        Ok(())
    }

    /// Returns the name of every repository, in order.
    pub fn repo_names(&self) -> Result<Vec<RepoName>, Error> {
        let connection = self.lock();
        let mut statement = connection.prepare("SELECT name FROM repos ORDER BY name")?;
        let rows = statement.query_map([], |row| row.get::<_, String>(0))?;
        rows.map(|name| parse_stored("repository name", name?, RepoName::parse))
            .collect()
    }

    /// Returns every repository with its grants, by name.
    pub fn list_repos(&self) -> Result<Vec<RepoRecord>, Error> {
        let connection = self.lock();
        let mut repos_statement = connection
            .prepare("SELECT id, name, description, public, created_at FROM repos ORDER BY name")?;
        let mut grants_statement = connection.prepare(
            "SELECT u.name, g.access FROM grants g JOIN users u ON u.id = g.user_id \
             WHERE g.repo_id = ?1 ORDER BY u.name",
        )?;
        let rows = repos_statement.query_map([], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get(2)?,
                row.get(3)?,
                row.get::<_, i64>(4)?,
            ))
        })?;
        let mut repos = Vec::new();
        for row in rows {
            let (id, name, description, public, created) = row?;
            let grants = grants_statement
                .query_map([id], |row| Ok((row.get::<_, String>(0)?, row.get(1)?)))?
                .map(|grant| {
                    let (user, access) = grant?;
                    Ok(GrantRecord {
                        user: parse_stored("user name", user, UserName::parse)?,
                        access: parse_access(access)?,
                    })
                })
                .collect::<Result<_, Error>>()?;
            repos.push(RepoRecord {
                name: parse_stored("repository name", name, RepoName::parse)?,
                description,
                public,
                created: stored_instant("repository creation", created)?,
                grants,
            });
        }
        Ok(repos)
    }

    /// Gives `user` exactly `access` on `repo`, replacing any earlier grant.
    pub fn grant(&self, repo: &RepoName, user: &UserName, access: Access) -> Result<(), Error> {
        let mut connection = self.lock();
        let transaction = connection.transaction()?;
        let repo_id = repo_id(&transaction, repo)?;
        let user_id = user_id(&transaction, user)?;
        transaction.execute(
            "INSERT INTO grants (repo_id, user_id, access) VALUES (?1, ?2, ?3) \
             ON CONFLICT (repo_id, user_id) DO UPDATE SET access = excluded.access",
            params![repo_id, user_id, access.as_str()],
        )?;
        super::policy_version::bump(&transaction)?;
        super::admin_audit::commit(transaction)?;
        Ok(())
    }

    /// Takes away the grant of `user` on `repo`.
    pub fn revoke(&self, repo: &RepoName, user: &UserName) -> Result<(), Error> {
        let mut connection = self.lock();
        let transaction = connection.transaction()?;
        let repo_id = repo_id(&transaction, repo)?;
        let user_id = user_id(&transaction, user)?;
        let removed = transaction.execute(
            "DELETE FROM grants WHERE repo_id = ?1 AND user_id = ?2",
            [repo_id, user_id],
        )?;
        if removed == 0 {
            return Err(Error::NotFound {
                what: format!("a grant for '{user}' on '{repo}'"),
            });
        }
        super::policy_version::bump(&transaction)?;
        super::admin_audit::commit(transaction)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo(text: &str) -> RepoName {
        RepoName::parse(text).unwrap()
    }

    fn user(text: &str) -> UserName {
        UserName::parse(text).unwrap()
    }

    fn nothing_on_disk<'a>() -> DiskWork<'a> {
        Box::new(|| Ok(()))
    }

    fn store_with_alice_and_widgets() -> Store {
        let store = Store::open_in_memory().unwrap();
        store.add_user(&user("alice")).unwrap();
        store
            .create_repo(&repo("acme/widgets"), "", false, None, nothing_on_disk())
            .unwrap();
        store
    }

    #[test]
    fn names_differing_only_in_case_collide() {
        let store = store_with_alice_and_widgets();
        let error = store
            .create_repo(&repo("Acme/Widgets"), "", false, None, nothing_on_disk())
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "repository 'acme/widgets' (names may not differ only in letter case) already exists"
        );
    }

    #[test]
    fn failing_disk_work_rolls_the_repository_back() {
        let store = Store::open_in_memory().unwrap();
        let error = store
            .create_repo(
                &repo("broken"),
                "",
                false,
                None,
                Box::new(|| Err("disk full".into())),
            )
            .unwrap_err();
        assert!(matches!(error, Error::Outside { .. }));
        assert!(store.list_repos().unwrap().is_empty());
    }

    #[test]
    fn grants_replace_and_revoke() {
        let store = store_with_alice_and_widgets();
        let (alice, widgets) = (user("alice"), repo("acme/widgets"));
        store.grant(&widgets, &alice, Access::Read).unwrap();
        store.grant(&widgets, &alice, Access::Write).unwrap();
        let grants = store.load_policy().unwrap().grants;
        assert_eq!(
            grants,
            [("acme/widgets".to_owned(), "alice".to_owned(), Access::Write)]
        );
        store.revoke(&widgets, &alice).unwrap();
        assert!(matches!(
            store.revoke(&widgets, &alice),
            Err(Error::NotFound { .. })
        ));
    }

    #[test]
    fn removing_a_user_removes_their_grants() {
        let store = store_with_alice_and_widgets();
        store
            .grant(&repo("acme/widgets"), &user("alice"), Access::Write)
            .unwrap();
        store.remove_user(&user("alice")).unwrap();
        assert!(store.list_repos().unwrap()[0].grants.is_empty());
    }
}
