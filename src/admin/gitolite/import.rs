//! Turning a gitolite installation into what forge imports: a policy document with gitolite's
//! order and sources, the users every rule and group names, their keys, and the plain
//! repositories; and, loudly, everything that cannot be carried over.

use super::keydir::Keydir;
use super::{Conf, KNOWN_OPTIONS};
use crate::policy::document::{Document, OptionRow, RuleRow};
use crate::types::keys::PublicKey;
use crate::types::repo_name::RepoName;
use crate::types::user_name::UserName;

/// What an import brings in.
#[derive(Debug, Default)]
pub struct Import {
    /// Groups, rules and options, in gitolite's order and with its sequence numbers.
    pub document: Document,
    /// Every user the conf or the keydir names.
    pub users: Vec<UserName>,
    /// Each user's keys.
    pub keys: Vec<(UserName, PublicKey)>,
    /// The plain repositories gitolite would create.
    pub repos: Vec<RepoName>,
    /// What cannot be carried over: the import fails with any of these unless partial.
    pub problems: Vec<String>,
    /// What gitolite itself warns about.
    pub warnings: Vec<String>,
}

/// Returns the import of `conf` and its `keydir`.
///
/// Rules of unsupported VREFs and unknown options are left out (and listed in
/// [`Import::problems`]), keeping every other rule's place; so are names forge cannot hold
/// (forge's user and repository names are stricter than gitolite's).
pub fn prepare(conf: &Conf, keydir: Option<&Keydir>) -> Import {
    let mut import = Import::default();
    import
        .problems
        .extend(conf.unsupported.iter().map(ToString::to_string));
    import
        .warnings
        .extend(conf.warnings.iter().map(ToString::to_string));
    let roles: Vec<String> = conf
        .rules
        .iter()
        .filter_map(|rule| rule.user.strip_prefix('@'))
        .filter(|name| name.bytes().all(|b| b.is_ascii_uppercase()) && *name != "CREATOR")
        .filter(|name| !["READERS", "WRITERS"].contains(name))
        .map(str::to_owned)
        .collect();
    import.document.roles = roles;
    import.document.roles.sort();
    import.document.roles.dedup();
    for group in &conf.user_groups {
        import
            .document
            .user_groups
            .insert(group.name.clone(), group.members.iter().cloned().collect());
    }
    for group in &conf.repo_groups {
        import
            .document
            .repo_groups
            .insert(group.name.clone(), group.members.iter().cloned().collect());
    }
    for rule in &conf.rules {
        if rule.refex.starts_with("VREF/") && !rule.refex.starts_with("VREF/NAME/") {
            continue;
        }
        import.document.rules.push(RuleRow {
            seq: i64::from(rule.seq),
            repo: rule.repo.clone(),
            who: rule.user.clone(),
            perm: rule.perm.clone(),
            refex: rule.refex.clone(),
            source: rule.source.to_string(),
        });
    }
    for option in &conf.options {
        if !KNOWN_OPTIONS.contains(&option.name.as_str()) {
            continue;
        }
        import.document.options.push(OptionRow {
            seq: i64::from(option.seq),
            repo: option.repo.clone(),
            name: option.name.clone(),
            value: option.value.clone(),
            source: option.source.to_string(),
        });
    }
    let keyed = keydir
        .into_iter()
        .flat_map(|k| k.keys.iter().map(|key| key.user.to_string()));
    let mut names: Vec<String> = conf
        .user_names()
        .into_iter()
        .map(str::to_owned)
        .chain(keyed)
        .collect();
    names.sort();
    names.dedup();
    for name in names {
        match UserName::parse(&name) {
            Ok(user) => import.users.push(user),
            Err(e) => import
                .problems
                .push(format!("user '{name}' cannot be a forge user: {e}")),
        }
    }
    if let Some(keydir) = keydir {
        import.keys.extend(
            keydir
                .keys
                .iter()
                .map(|key| (key.user.clone(), key.key.clone())),
        );
        import.problems.extend(
            keydir
                .errors
                .iter()
                .map(|finding| format!("{}: {}", finding.path.display(), finding.issue)),
        );
        import.warnings.extend(
            keydir
                .warnings
                .iter()
                .map(|finding| format!("{}: {}", finding.path.display(), finding.issue)),
        );
    }
    for repo in &conf.repos {
        match RepoName::parse(repo) {
            Ok(name) => import.repos.push(name),
            Err(e) => import.problems.push(format!(
                "repository '{repo}' cannot be a forge repository: {e}"
            )),
        }
    }
    if let Err(e) = import.document.to_parts() {
        import
            .problems
            .push(format!("the imported rules do not make a policy: {e}"));
    }
    import
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::gitolite::{Settings, parse_text};
    use std::path::Path;

    fn import(text: &str) -> Import {
        let conf = parse_text(text, Path::new("gitolite.conf"), &Settings::default()).unwrap();
        prepare(&conf, None)
    }

    #[test]
    fn rules_keep_gitolites_order_numbers_and_sources() {
        let import = import("@devs = alice bob\nrepo foo\n    RW+ = @devs\n    - master = carol\n");
        let rows: Vec<String> = import
            .document
            .rules
            .iter()
            .map(|r| {
                format!(
                    "{} {} {} {} {} {}",
                    r.seq, r.repo, r.perm, r.refex, r.who, r.source
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                "1 foo RW+ refs/.* @devs gitolite.conf:3",
                "2 foo - refs/heads/master carol gitolite.conf:4"
            ]
        );
        let users: Vec<&str> = import.users.iter().map(UserName::as_str).collect();
        assert_eq!(users, ["alice", "bob", "carol"]);
        assert_eq!(import.repos[0].as_str(), "foo");
        assert!(import.problems.is_empty(), "{:?}", import.problems);
    }

    #[test]
    fn what_forge_cannot_carry_over_is_listed_and_left_out() {
        let import = import(
            "repo foo\n    RW+ = alice\n    - VREF/COUNT/5 = alice\n    option mirror.master = x\n    RW = bob@corp.com\n",
        );
        assert!(
            import.problems.iter().any(|p| p.contains("VREF/COUNT/5")),
            "{:?}",
            import.problems
        );
        assert!(
            import.problems.iter().any(|p| p.contains("mirror.master")),
            "{:?}",
            import.problems
        );
        assert!(
            import
                .problems
                .iter()
                .any(|p| p.contains("'bob@corp.com' cannot be a forge user")),
            "{:?}",
            import.problems
        );
        assert!(
            import
                .document
                .rules
                .iter()
                .all(|r| !r.refex.starts_with("VREF/COUNT"))
        );
    }
}
