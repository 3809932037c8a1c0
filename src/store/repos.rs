//! The `repos` and `grants` tables: repositories, and who may do what with them.

use super::{Error, Store, now, parse_stored, rfc3339, unique_as_exists};
use crate::policy::{Access, Standing};
use crate::repo_name::RepoName;
use crate::user_name::UserName;
use crate::wire::{GrantInfo, ReachableRepo, RepoInfo};
use rusqlite::{OptionalExtension, Transaction, params};

/// Work done on disk inside a repository transaction; an error rolls the transaction back.
pub type DiskWork<'a> =
    Box<dyn FnOnce() -> Result<(), Box<dyn std::error::Error + Send + Sync>> + 'a>;

fn repo_id(transaction: &Transaction<'_>, repo: &RepoName) -> Result<i64, Error> {
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

fn user_id(transaction: &Transaction<'_>, user: &UserName) -> Result<i64, Error> {
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
                "INSERT INTO repos (name, name_folded, description, public, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![repo.as_str(), repo.folded(), description, public, now()],
            )
            .map_err(|e| unique_as_exists(e, || format!("repository '{repo}'")))?;
        on_disk().map_err(|source| Error::Outside {
            what: format!("cannot create the folder of repository '{repo}'"),
            source,
        })?;
        transaction.commit()?;
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
        transaction.commit()?;
        Ok(())
    }

    /// Returns every repository with its grants, by name.
    pub fn list_repos(&self) -> Result<Vec<RepoInfo>, Error> {
        let connection = self.lock();
        let mut repos_statement = connection.prepare(concat!(
            "SELECT id, name, description, public, ",
            rfc3339!("created_at"),
            " FROM repos ORDER BY name"
        ))?;
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
                row.get(4)?,
            ))
        })?;
        let mut repos = Vec::new();
        for row in rows {
            let (id, name, description, public, created) = row?;
            let grants = grants_statement
                .query_map([id], |row| Ok((row.get::<_, String>(0)?, row.get(1)?)))?
                .map(|grant| {
                    let (user, access) = grant?;
                    Ok(GrantInfo {
                        user: parse_stored("user name", user, UserName::parse)?,
                        access: parse_access(access)?,
                    })
                })
                .collect::<Result<_, Error>>()?;
            repos.push(RepoInfo {
                name: parse_stored("repository name", name, RepoName::parse)?,
                description,
                public,
                created,
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
        transaction.commit()?;
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
        transaction.commit()?;
        Ok(())
    }

    /// Returns what policy needs to know about `user` and `repo`, or `None` when the
    /// repository does not exist.
    pub fn standing(&self, user: &UserName, repo: &RepoName) -> Result<Option<Standing>, Error> {
        let connection = self.lock();
        let row: Option<(bool, Option<String>)> = connection
            .query_row(
                "SELECT r.public, (SELECT g.access FROM grants g JOIN users u ON u.id = g.user_id \
                                   WHERE g.repo_id = r.id AND u.name = ?2) \
                 FROM repos r WHERE r.name = ?1",
                [repo.as_str(), user.as_str()],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        row.map(|(is_public, grant)| {
            Ok(Standing {
                grant: grant.map(parse_access).transpose()?,
                is_public,
            })
        })
        .transpose()
    }

    /// Returns the repositories `user` can read, with their access, by name.
    pub fn reachable(&self, user: &UserName) -> Result<Vec<ReachableRepo>, Error> {
        let connection = self.lock();
        let mut statement = connection.prepare(
            "SELECT r.name, r.description, g.access, r.public FROM repos r \
             LEFT JOIN grants g ON g.repo_id = r.id \
                 AND g.user_id = (SELECT id FROM users WHERE name = ?1) \
             WHERE g.access IS NOT NULL OR r.public = 1 ORDER BY r.name",
        )?;
        let rows = statement.query_map([user.as_str()], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, Option<String>>(2)?,
            ))
        })?;
        rows.map(|row| {
            let (name, description, grant) = row?;
            Ok(ReachableRepo {
                repo: parse_stored("repository name", name, RepoName::parse)?,
                access: grant.map(parse_access).transpose()?.unwrap_or(Access::Read),
                description,
            })
        })
        .collect()
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
            .create_repo(&repo("acme/widgets"), "", false, nothing_on_disk())
            .unwrap();
        store
    }

    #[test]
    fn names_differing_only_in_case_collide() {
        let store = store_with_alice_and_widgets();
        let error = store
            .create_repo(&repo("Acme/Widgets"), "", false, nothing_on_disk())
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
        assert_eq!(
            store.standing(&alice, &widgets).unwrap(),
            Some(Standing {
                grant: None,
                is_public: false
            })
        );
        store.grant(&widgets, &alice, Access::Read).unwrap();
        store.grant(&widgets, &alice, Access::Write).unwrap();
        let standing = store.standing(&alice, &widgets).unwrap().unwrap();
        assert_eq!(standing.grant, Some(Access::Write));
        store.revoke(&widgets, &alice).unwrap();
        assert!(matches!(
            store.revoke(&widgets, &alice),
            Err(Error::NotFound { .. })
        ));
    }

    #[test]
    fn a_missing_repository_has_no_standing() {
        let store = store_with_alice_and_widgets();
        assert_eq!(store.standing(&user("alice"), &repo("nope")).unwrap(), None);
    }

    #[test]
    fn reachable_lists_grants_and_public_repositories() {
        let store = store_with_alice_and_widgets();
        store
            .create_repo(&repo("docs"), "the docs", true, nothing_on_disk())
            .unwrap();
        store
            .create_repo(&repo("secret"), "", false, nothing_on_disk())
            .unwrap();
        store
            .grant(&repo("acme/widgets"), &user("alice"), Access::Write)
            .unwrap();
        let reachable: Vec<_> = store
            .reachable(&user("alice"))
            .unwrap()
            .into_iter()
            .map(|r| (r.repo.to_string(), r.access))
            .collect();
        assert_eq!(
            reachable,
            [
                ("acme/widgets".to_owned(), Access::Write),
                ("docs".to_owned(), Access::Read)
            ]
        );
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
