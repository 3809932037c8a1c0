//! The `policy_*` tables (groups, rules, options), and what policy needs to know about each
//! repository: its creator and the roles the creator handed out.

use super::fingerprints::Holder;
use super::{Error, Store, parse_stored};
use crate::policy::Access;
use crate::policy::document::{Document, OptionRow, RuleRow};
use crate::types::repo_name::RepoName;
use rusqlite::{OptionalExtension, Transaction, params};

/// Everything the daemon builds its policy from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredPolicy {
    /// Groups, rules and options, as applied or imported.
    pub document: Document,
    /// Grants made with `forgectl grant`: `(repository, user, access)`.
    pub grants: Vec<(String, String, Access)>,
    /// Repositories every registered user may read.
    pub public: Vec<String>,
    /// The policy version all of this was read at.
    pub version: i64,
}

/// What policy needs to know about one repository.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RepoFacts {
    /// Who created it from a pattern.
    pub creator: Option<String>,
    /// The roles the creator handed out: `(role, member)`, sorted.
    pub roles: Vec<(String, String)>,
}

fn write_document(transaction: &Transaction<'_>, document: &Document) -> Result<(), Error> {
    transaction.execute_batch(
        "DELETE FROM policy_groups; DELETE FROM policy_rules; DELETE FROM policy_options; \
         DELETE FROM policy_roles;",
    )?;
    for role in &document.roles {
        transaction.execute(
            "INSERT INTO policy_roles (name) VALUES (?1) ON CONFLICT DO NOTHING",
            [role],
        )?;
    }
    {
        let mut group = transaction.prepare(
            "INSERT INTO policy_groups (kind, name, position, member) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for (kind, groups) in [
            ("user", &document.user_groups),
            ("repo", &document.repo_groups),
        ] {
            for (name, members) in groups {
                for (position, member) in members.iter().enumerate() {
                    group.execute(params![kind, name, position as i64, member])?;
                }
            }
        }
    }
    insert_rows(transaction, &document.rules, &document.options)
}

fn insert_rows(
    transaction: &Transaction<'_>,
    rules: &[RuleRow],
    options: &[OptionRow],
) -> Result<(), Error> {
    let mut rule = transaction.prepare(
        "INSERT INTO policy_rules (seq, repo, who, perm, refex, source) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for row in rules {
        rule.execute(params![
            row.seq, row.repo, row.who, row.perm, row.refex, row.source
        ])?;
    }
    let mut option = transaction.prepare(
        "INSERT INTO policy_options (seq, repo, name, value, source) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for row in options {
        option.execute(params![row.seq, row.repo, row.name, row.value, row.source])?;
    }
    Ok(())
}

fn read_document(transaction: &Transaction<'_>) -> Result<Document, Error> {
    let mut document = Document::default();
    let mut groups = transaction
        .prepare("SELECT kind, name, member FROM policy_groups ORDER BY kind, name, position")?;
    let rows = groups.query_map([], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, String>(2)?,
        ))
    })?;
    for row in rows {
        let (kind, name, member) = row?;
        let groups = if kind == "user" {
            &mut document.user_groups
        } else {
            &mut document.repo_groups
        };
        groups.entry(name).or_default().push(member);
    }
    let mut roles = transaction.prepare("SELECT name FROM policy_roles ORDER BY name")?;
    document.roles = roles
        .query_map([], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    let mut rules = transaction
        .prepare("SELECT seq, repo, who, perm, refex, source FROM policy_rules ORDER BY seq, id")?;
    document.rules = rules
        .query_map([], |row| {
            Ok(RuleRow {
                seq: row.get(0)?,
                repo: row.get(1)?,
                who: row.get(2)?,
                perm: row.get(3)?,
                refex: row.get(4)?,
                source: row.get(5)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    let mut options = transaction
        .prepare("SELECT seq, repo, name, value, source FROM policy_options ORDER BY seq, id")?;
    document.options = options
        .query_map([], |row| {
            Ok(OptionRow {
                seq: row.get(0)?,
                repo: row.get(1)?,
                name: row.get(2)?,
                value: row.get(3)?,
                source: row.get(4)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(document)
}

impl Store {
    /// Returns everything the policy is built from, read in one transaction.
    pub fn load_policy(&self) -> Result<StoredPolicy, Error> {
        let mut connection = self.lock();
        let transaction = connection.transaction()?;
        let document = read_document(&transaction)?;
        let grants = {
            let mut statement = transaction.prepare(
                "SELECT r.name, u.name, g.access FROM grants g \
                 JOIN repos r ON r.id = g.repo_id JOIN users u ON u.id = g.user_id \
                 ORDER BY r.name, u.name",
            )?;
            let rows = statement.query_map([], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                ))
            })?;
            rows.map(|row| {
                let (repo, user, access) = row?;
                Ok((
                    repo,
                    user,
                    parse_stored("access level", access, Access::parse)?,
                ))
            })
            .collect::<Result<Vec<_>, Error>>()?
        };
        let public = {
            let mut statement =
                transaction.prepare("SELECT name FROM repos WHERE public = 1 ORDER BY name")?;
            let rows = statement.query_map([], |row| row.get::<_, String>(0))?;
            rows.collect::<Result<Vec<_>, _>>()?
        };
        let version = super::policy_version::read(&transaction)?;
        Ok(StoredPolicy {
            document,
            grants,
            public,
            version,
        })
    }

    /// Returns the stored document (groups, rules, options).
    pub fn policy_document(&self) -> Result<Document, Error> {
        let mut connection = self.lock();
        let transaction = connection.transaction()?;
        read_document(&transaction)
    }

    /// Replaces the whole document in one transaction, if it still is `expected` (so two admins
    /// applying at once cannot silently undo each other).
    pub fn replace_policy(&self, expected: &Document, document: &Document) -> Result<(), Error> {
        let mut connection = self.lock();
        let transaction = connection.transaction()?;
        if read_document(&transaction)? != *expected {
            return Err(Error::AlreadyExists {
                what: "a newer policy (someone changed it meanwhile; run the command again)"
                    .to_owned(),
            });
        }
        write_document(&transaction, document)?;
        super::policy_version::bump(&transaction)?;
        super::admin_audit::commit(transaction)?;
        Ok(())
    }

    /// Puts `rules` (numbered from 1) before every stored rule, so they decide first.
    pub fn prepend_rules(&self, rules: &[RuleRow]) -> Result<(), Error> {
        let mut connection = self.lock();
        let transaction = connection.transaction()?;
        let first: i64 = transaction.query_row(
            "SELECT coalesce(min(seq), 1) FROM policy_rules",
            [],
            |row| row.get(0),
        )?;
        let count = rules.iter().map(|r| r.seq).max().unwrap_or(0);
        let shifted: Vec<RuleRow> = rules
            .iter()
            .map(|row| RuleRow {
                seq: first - count - 1 + row.seq,
                ..row.clone()
            })
            .collect();
        insert_rows(&transaction, &shifted, &[])?;
        super::policy_version::bump(&transaction)?;
        super::admin_audit::commit(transaction)?;
        Ok(())
    }

    /// Adds the `users` and `keys` that are missing and replaces the policy, in one transaction.
    /// A key registered to someone else refuses the whole import.
    pub fn import(
        &self,
        users: &[crate::types::user_name::UserName],
        keys: &[(
            crate::types::user_name::UserName,
            crate::types::keys::PublicKey,
        )],
        expected: &Document,
        document: &Document,
    ) -> Result<(), Error> {
        let mut connection = self.lock();
        let transaction = connection.transaction()?;
        if read_document(&transaction)? != *expected {
            return Err(Error::AlreadyExists {
                what: "a newer policy (someone changed it meanwhile; run the import again)"
                    .to_owned(),
            });
        }
        let now = super::now();
        for user in users {
            transaction.execute(
                "INSERT INTO users (name, created_at) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                params![user.as_str(), now],
            )?;
        }
        for (user, key) in keys {
            let fingerprint = key.fingerprint();
            match super::fingerprints::holder(&transaction, &fingerprint)? {
                Some(Holder::User(owner)) if owner == user.as_str() => continue,
                Some(Holder::User(owner)) => {
                    return Err(Error::AlreadyExists {
                        what: format!("key {fingerprint} of '{user}' (it belongs to '{owner}')"),
                    });
                }
                // A CA's fingerprint is refused by insert_key, in the words of `key add`.
                Some(Holder::Ca(_)) | None => {
                    let title = crate::types::keys::Title::from_comment(key);
                    super::keys::insert_key(&transaction, user, key, &title, None)?;
                }
            }
        }
        write_document(&transaction, document)?;
        super::policy_version::bump(&transaction)?;
        super::admin_audit::commit(transaction)?;
        Ok(())
    }

    /// Returns what policy needs to know about `repo`, or `None` when it does not exist.
    pub fn repo_facts(&self, repo: &RepoName) -> Result<Option<RepoFacts>, Error> {
        let connection = self.lock();
        let found: Option<(i64, Option<String>)> = connection
            .query_row(
                "SELECT id, creator FROM repos WHERE name = ?1",
                [repo.as_str()],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        let Some((id, creator)) = found else {
            return Ok(None);
        };
        let mut statement = connection.prepare(
            "SELECT role, member FROM repo_roles WHERE repo_id = ?1 ORDER BY role, member",
        )?;
        let roles = statement
            .query_map([id], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<Result<_, _>>()?;
        Ok(Some(RepoFacts { creator, roles }))
    }

    /// Returns every repository with its facts, by name (for `info`).
    pub fn all_repo_facts(&self) -> Result<Vec<(String, String, RepoFacts)>, Error> {
        let connection = self.lock();
        let mut roles_statement = connection
            .prepare("SELECT repo_id, role, member FROM repo_roles ORDER BY role, member")?;
        let mut roles: std::collections::HashMap<i64, Vec<(String, String)>> = Default::default();
        for row in roles_statement.query_map([], |row| {
            Ok((row.get::<_, i64>(0)?, row.get(1)?, row.get(2)?))
        })? {
            let (id, role, member) = row?;
            roles.entry(id).or_default().push((role, member));
        }
        let mut statement =
            connection.prepare("SELECT id, name, description, creator FROM repos ORDER BY name")?;
        let rows = statement.query_map([], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, Option<String>>(3)?,
            ))
        })?;
        rows.map(|row| {
            let (id, name, description, creator) = row?;
            Ok((
                name,
                description,
                RepoFacts {
                    creator,
                    roles: roles.remove(&id).unwrap_or_default(),
                },
            ))
        })
        .collect()
    }

    /// Adds (or with `add` false, removes) `member` in `role` on `repo`.
    pub fn set_role(
        &self,
        repo: &RepoName,
        role: &str,
        member: &str,
        add: bool,
    ) -> Result<(), Error> {
        let mut connection = self.lock();
        let transaction = connection.transaction()?;
        let id = super::repos::repo_id(&transaction, repo)?;
        let changed = if add {
            transaction.execute(
                "INSERT INTO repo_roles (repo_id, role, member) VALUES (?1, ?2, ?3) \
                 ON CONFLICT DO NOTHING",
                params![id, role, member],
            )?
        } else {
            transaction.execute(
                "DELETE FROM repo_roles WHERE repo_id = ?1 AND role = ?2 AND member = ?3",
                params![id, role, member],
            )?
        };
        if changed == 0 {
            return Err(if add {
                Error::AlreadyExists {
                    what: format!("role {role} for '{member}' on '{repo}'"),
                }
            } else {
                Error::NotFound {
                    what: format!("role {role} for '{member}' on '{repo}'"),
                }
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
    use crate::store::repos::DiskWork;

    fn nothing<'a>() -> DiskWork<'a> {
        Box::new(|| Ok(()))
    }

    const POLICY: &str = "[groups]\n\"@devs\" = [\"alice\", \"bob\"]\n\n[[rule]]\nrepos = [\"team/.*\"]\nperm = \"RW+\"\nusers = [\"@devs\"]\n";

    #[test]
    fn a_replaced_policy_reads_back_the_same() {
        let store = Store::open_in_memory().unwrap();
        let document = Document::from_toml(POLICY, "p.toml").unwrap();
        store
            .replace_policy(&Document::default(), &document)
            .unwrap();
        assert_eq!(store.policy_document().unwrap(), document);
        let stale = store.replace_policy(&Document::default(), &document);
        assert!(matches!(stale, Err(Error::AlreadyExists { .. })));
    }

    #[test]
    fn prepended_rules_come_first() {
        let store = Store::open_in_memory().unwrap();
        let document = Document::from_toml(POLICY, "p.toml").unwrap();
        store
            .replace_policy(&Document::default(), &document)
            .unwrap();
        let protect = RuleRow {
            seq: 1,
            repo: "team/app".into(),
            who: "@all".into(),
            perm: "-".into(),
            refex: "refs/heads/main$".into(),
            source: "forgectl protect".into(),
        };
        store.prepend_rules(&[protect]).unwrap();
        let rules = store.policy_document().unwrap().rules;
        assert_eq!(rules[0].source, "forgectl protect");
        assert!(rules[0].seq < rules[1].seq);
    }

    #[test]
    fn roles_are_added_listed_and_removed() {
        let store = Store::open_in_memory().unwrap();
        let repo = RepoName::parse("pub/alice/x").unwrap();
        store
            .create_repo(&repo, "", false, Some("alice"), nothing())
            .unwrap();
        store.set_role(&repo, "READERS", "carol", true).unwrap();
        assert!(store.set_role(&repo, "READERS", "carol", true).is_err());
        let facts = store.repo_facts(&repo).unwrap().unwrap();
        assert_eq!(facts.creator.as_deref(), Some("alice"));
        assert_eq!(facts.roles, [("READERS".to_owned(), "carol".to_owned())]);
        store.set_role(&repo, "READERS", "carol", false).unwrap();
        assert!(store.repo_facts(&repo).unwrap().unwrap().roles.is_empty());
        assert_eq!(
            store.repo_facts(&RepoName::parse("nope").unwrap()).unwrap(),
            None
        );
    }
}
