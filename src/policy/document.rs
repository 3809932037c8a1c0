//! A policy as data: the form it takes on the wire, in the database and (as TOML) in the file
//! admins edit, export and apply.
//!
//! ```toml
//! [groups]
//! "@devs" = ["alice", "bob"]
//!
//! [repo_groups]
//! "@team" = ["team/.*", "infra"]
//!
//! [[rule]]
//! repos = ["@team"]
//! perm = "RW+"           # -, C, R, RW, RW+, RWC, RWD, RW+CD ... as in gitolite
//! refs = ["main"]        # optional; a bare name means refs/heads/<name>, none means every ref
//! users = ["@devs"]
//!
//! [[option]]
//! repos = ["acme/widgets"]
//! name = "deny-rules"
//! value = "1"
//! ```
//!
//! Rules are tried in the order they are written; each (ref × user) pair of an entry takes the
//! next place, as gitolite numbers them.

use super::engine::{self, Parts, ROLES};
use super::rules::{self, Perm, Refex, RepoOption, RepoSpec, Rule, Source, Subject};
use crate::exit::{Classify, Code};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A policy: groups, ordered rules and options, each rule with its source.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    /// User groups, `@name` to members.
    pub user_groups: BTreeMap<String, Vec<String>>,
    /// Repository groups, `@name` to members.
    pub repo_groups: BTreeMap<String, Vec<String>>,
    /// Rules, in order.
    pub rules: Vec<RuleRow>,
    /// Options, in order.
    pub options: Vec<OptionRow>,
    /// Roles creators may hand out beyond READERS and WRITERS (capital letters).
    #[serde(default)]
    pub roles: Vec<String>,
}

/// One rule of a [`Document`]; rows sharing a `seq` came from one line naming several
/// repositories.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleRow {
    /// Its place in the order.
    pub seq: i64,
    /// The repository spec: a name, a pattern, `@group` or `@all`.
    pub repo: String,
    /// Who: a user, `@group`, `@all`, `@CREATOR`, `@READERS`, `@WRITERS`.
    pub who: String,
    /// The permission.
    pub perm: String,
    /// The refex, normalized (`refs/heads/main`, `refs/.*`, `VREF/NAME/docs/`).
    pub refex: String,
    /// Where it came from.
    pub source: String,
}

/// One option of a [`Document`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptionRow {
    /// Its place in the order.
    pub seq: i64,
    /// The repository spec.
    pub repo: String,
    /// The option's name.
    pub name: String,
    /// Its value.
    pub value: String,
    /// Where it came from.
    pub source: String,
}

/// Why a policy document is not valid.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The TOML does not parse or has unknown keys.
    #[error("{file} line {line}: {message}")]
    Toml {
        /// The file.
        file: String,
        /// The line.
        line: usize,
        /// What the TOML reader said.
        message: String,
    },
    /// A word of a rule or group is not valid.
    #[error("{source_text}: {reason}")]
    Word {
        /// Where.
        source_text: String,
        /// Why (shown in this error's own line, so not a separate cause).
        reason: rules::Error,
    },
    /// A group name does not start with `@`.
    #[error("group '{name}' must be written '@{name}'")]
    GroupName {
        /// The name.
        name: String,
    },
    /// A role name that is not 1 to 32 capital letters.
    #[error("role '{name}' must be 1 to 32 capital letters, like READERS")]
    RoleName {
        /// The name.
        name: String,
    },
    /// The groups do not make a policy.
    #[error(transparent)]
    Groups(#[from] engine::Error),
}

impl Document {
    /// Returns the engine's parts, after checking every word and that they build a policy.
    pub fn to_parts(&self) -> Result<Parts, Error> {
        let parts = self.parts()?;
        engine::Policy::build(parts.clone())?;
        Ok(parts)
    }

    /// Returns the policy the document makes, built once: what [`Document::to_parts`] then
    /// `Policy::build` make, with the same errors, without building it twice (issue #12).
    pub fn to_policy(&self) -> Result<engine::Policy, Error> {
        Ok(engine::Policy::build(self.parts()?)?)
    }

    /// Returns the engine's parts after checking every word; whether they build a policy is
    /// left to the caller.
    fn parts(&self) -> Result<Parts, Error> {
        for name in self.user_groups.keys().chain(self.repo_groups.keys()) {
            if !name.starts_with('@') || name == "@all" {
                return Err(Error::GroupName {
                    name: name.trim_start_matches('@').to_owned(),
                });
            }
        }
        let word = |source: &str| {
            let source_text = source.to_owned();
            move |reason| Error::Word {
                source_text: source_text.clone(),
                reason,
            }
        };
        for (name, members) in &self.user_groups {
            for member in members {
                Subject::parse(member).map_err(word(name))?;
            }
        }
        let rules = self
            .rules
            .iter()
            .map(|row| {
                Ok(Rule {
                    seq: row.seq,
                    repo: RepoSpec::parse(&row.repo).map_err(word(&row.source))?,
                    who: Subject::parse(&row.who).map_err(word(&row.source))?,
                    perm: Perm::parse(&row.perm).map_err(word(&row.source))?,
                    refex: Refex::parse(&row.refex).map_err(word(&row.source))?,
                    source: Source(row.source.clone()),
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        let options = self
            .options
            .iter()
            .map(|row| {
                Ok(RepoOption {
                    seq: row.seq,
                    repo: RepoSpec::parse(&row.repo).map_err(word(&row.source))?,
                    name: row.name.clone(),
                    value: row.value.clone(),
                    source: Source(row.source.clone()),
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        for role in &self.roles {
            if role.is_empty() || role.len() > 32 || !role.bytes().all(|b| b.is_ascii_uppercase()) {
                return Err(Error::RoleName { name: role.clone() });
            }
        }
        let parts = Parts {
            user_groups: self.user_groups.clone().into_iter().collect(),
            repo_groups: self.repo_groups.clone().into_iter().collect(),
            rules,
            options,
            roles: self.roles.clone(),
        };
        Ok(parts)
    }

    /// Returns the document in a TOML policy file named `file`.
    pub fn from_toml(text: &str, file: &str) -> Result<Document, Error> {
        let parsed: File = toml::from_str(text).map_err(|e| Error::Toml {
            file: file.to_owned(),
            line: e
                .span()
                .map_or(1, |span| text[..span.start].matches('\n').count() + 1),
            message: e.message().trim().to_owned(),
        })?;
        // Where each line ends, found once: counting the newlines before every entry again was
        // quadratic in the file's size (issue #12: 1,000 rules).
        let newlines: Vec<usize> = text.match_indices('\n').map(|(at, _)| at).collect();
        let line_of =
            |span: std::ops::Range<usize>| newlines.partition_point(|&at| at < span.start) + 1;
        let mut document = Document {
            user_groups: parsed.groups,
            repo_groups: parsed.repo_groups,
            roles: parsed.roles,
            ..Document::default()
        };
        document.roles.sort();
        document.roles.dedup();
        let roles: Vec<&str> = ROLES
            .iter()
            .copied()
            .chain(document.roles.iter().map(String::as_str))
            .collect();
        let mut seq = 0;
        for entry in parsed.rule {
            let source = entry
                .get_ref()
                .source
                .clone()
                .unwrap_or_else(|| format!("{file} line {}", line_of(entry.span())));
            let entry = entry.into_inner();
            let perm = Perm::parse(&entry.perm).map_err(|reason| Error::Word {
                source_text: source.clone(),
                reason,
            })?;
            let refs = if entry.refs.is_empty() {
                vec![String::new()]
            } else {
                entry.refs
            };
            for reference in &refs {
                let refex = Refex::parse(reference).map_err(|reason| Error::Word {
                    source_text: source.clone(),
                    reason,
                })?;
                for user in &entry.users {
                    let who =
                        Subject::parse_in_rule(user, &roles).map_err(|reason| Error::Word {
                            source_text: source.clone(),
                            reason,
                        })?;
                    seq += 1;
                    for repo in &entry.repos {
                        document.rules.push(RuleRow {
                            seq,
                            repo: repo.clone(),
                            who: who.as_str().to_owned(),
                            perm: perm.as_str().to_owned(),
                            refex: refex.as_str().to_owned(),
                            source: source.clone(),
                        });
                    }
                }
            }
        }
        for entry in parsed.option {
            let source = entry
                .get_ref()
                .source
                .clone()
                .unwrap_or_else(|| format!("{file} line {}", line_of(entry.span())));
            let entry = entry.into_inner();
            seq += 1;
            for repo in &entry.repos {
                document.options.push(OptionRow {
                    seq,
                    repo: repo.clone(),
                    name: entry.name.clone(),
                    value: entry.value.clone(),
                    source: source.clone(),
                });
            }
        }
        document.to_parts()?;
        Ok(document)
    }

    /// Returns the document as a TOML policy file that [`Document::from_toml`] reads back to
    /// the same rules in the same order.
    pub fn to_toml(&self) -> String {
        let mut text = String::from(
            "# forge policy: rules are tried in order, the first that matches decides.\n\
             # Edit, then: forgectl policy apply FILE --dry-run; forgectl policy apply FILE\n",
        );
        let quote = |s: &str| toml::Value::String(s.to_owned()).to_string();
        if !self.roles.is_empty() {
            let quoted: Vec<String> = self.roles.iter().map(|r| quote(r)).collect();
            text.push_str(&format!("roles = [{}]\n", quoted.join(", ")));
        }
        let list = |items: &[String]| {
            let quoted: Vec<String> = items.iter().map(|i| quote(i)).collect();
            format!("[{}]", quoted.join(", "))
        };
        for (title, groups) in [
            ("groups", &self.user_groups),
            ("repo_groups", &self.repo_groups),
        ] {
            if !groups.is_empty() {
                text.push_str(&format!("\n[{title}]\n"));
                for (name, members) in groups {
                    text.push_str(&format!("{} = {}\n", quote(name), list(members)));
                }
            }
        }
        // Rows sharing a seq came from one entry naming several repositories.
        for run in self.rules.chunk_by(|a, b| a.seq == b.seq) {
            let (first, repos) = (
                &run[0],
                run.iter().map(|r| r.repo.clone()).collect::<Vec<_>>(),
            );
            text.push_str(&format!(
                "\n[[rule]]\nrepos = {}\nperm = {}\nrefs = {}\nusers = {}\nsource = {}\n",
                list(&repos),
                quote(&first.perm),
                list(std::slice::from_ref(&first.refex)),
                list(std::slice::from_ref(&first.who)),
                quote(&first.source)
            ));
        }
        for run in self.options.chunk_by(|a, b| a.seq == b.seq) {
            let (first, repos) = (
                &run[0],
                run.iter().map(|r| r.repo.clone()).collect::<Vec<_>>(),
            );
            text.push_str(&format!(
                "\n[[option]]\nrepos = {}\nname = {}\nvalue = {}\nsource = {}\n",
                list(&repos),
                quote(&first.name),
                quote(&first.value),
                quote(&first.source)
            ));
        }
        text
    }

    /// Returns every plain user name the document names, with where: `group @devs` for a
    /// group's member, the rule's source (`policy.toml line 3`) for a rule's; each (name,
    /// where) once, in the document's order. `@` names are not users.
    pub fn named_users(&self) -> Vec<(String, String)> {
        let mut named: Vec<(String, String)> = Vec::new();
        let mut push = |name: &str, place: String| {
            if !name.starts_with('@') && !named.iter().any(|(n, p)| n == name && *p == place) {
                named.push((name.to_owned(), place));
            }
        };
        for (group, members) in &self.user_groups {
            for member in members {
                push(member, format!("group {group}"));
            }
        }
        for rule in &self.rules {
            push(&rule.who, rule.source.clone());
        }
        named
    }

    /// Returns the repository specs whose force-push rules (`RW+`, the level `forgectl grant
    /// ... admin` gives) reach a user of the forge in this policy but, in `new`, name only
    /// users that `is_user` does not know, each with those names: applying `new` would take
    /// that access from whoever holds it now and give it to no one, which is what a typo in
    /// the one admin's name does (#13). A spec that `new` gives no force-push rule at all is
    /// not counted: dropping one is a choice, not a typo.
    pub fn lockouts(
        &self,
        new: &Document,
        is_user: impl Fn(&str) -> bool,
    ) -> Vec<(String, Vec<String>)> {
        let mut found: Vec<(String, Vec<String>)> = Vec::new();
        for rule in new.rules.iter().filter(|rule| is_force(rule)) {
            if found.iter().any(|(repo, _)| *repo == rule.repo)
                || !self.force_reaches_someone(&rule.repo, &is_user)
                || new.force_reaches_someone(&rule.repo, &is_user)
            {
                continue;
            }
            let names = new
                .rules
                .iter()
                .filter(|r| r.repo == rule.repo && is_force(r))
                .flat_map(|r| new.members(&r.who))
                .fold(Vec::new(), |mut names, name| {
                    if !names.contains(&name) {
                        names.push(name);
                    }
                    names
                });
            found.push((rule.repo.clone(), names));
        }
        found
    }

    /// Returns whether a force-push rule on `repo` names a known user, a group holding one,
    /// `@all` or a role (`@CREATOR`, `@WRITERS`: held by whoever the repository gives it).
    fn force_reaches_someone(&self, repo: &str, is_user: &impl Fn(&str) -> bool) -> bool {
        self.rules
            .iter()
            .filter(|rule| rule.repo == repo && is_force(rule))
            .any(|rule| {
                let who = rule.who.as_str();
                let special = who == "@all"
                    || who
                        .strip_prefix('@')
                        .is_some_and(|name| name.bytes().all(|b| b.is_ascii_uppercase()));
                special || self.members(who).iter().any(|name| is_user(name))
            })
    }

    /// Returns the plain user names `who` stands for: itself, or a group's members, groups in
    /// groups followed to a bounded depth.
    fn members(&self, who: &str) -> Vec<String> {
        let mut names = Vec::new();
        let mut todo = vec![(who.to_owned(), 0)];
        while let Some((name, depth)) = todo.pop() {
            if !name.starts_with('@') {
                names.push(name);
            } else if depth < 8
                && let Some(members) = self.user_groups.get(&name)
            {
                todo.extend(members.iter().map(|m| (m.clone(), depth + 1)));
            }
        }
        names
    }

    /// Returns what replacing this policy with `new` would lose or change, as [`Document::diff`]
    /// lines, when this one holds anything (groups, rules, options or roles); empty when it is
    /// empty or nothing changes.
    ///
    /// An import replaces the policy whole: this is what it must not do unasked (#13).
    pub fn replaced_by(&self, new: &Document) -> Vec<String> {
        if *self == Document::default() {
            return Vec::new();
        }
        self.diff(new)
    }

    /// Returns what applying `new` over this document changes, one line each; empty when
    /// nothing changes (sources and numbering aside, order included).
    pub fn diff(&self, new: &Document) -> Vec<String> {
        let mut lines = Vec::new();
        if self.roles != new.roles {
            lines.push(format!(
                "~ roles = {} (was {})",
                new.roles.join(" "),
                self.roles.join(" ")
            ));
        }
        for (title, old_groups, new_groups) in [
            ("group", &self.user_groups, &new.user_groups),
            ("repo group", &self.repo_groups, &new.repo_groups),
        ] {
            for (name, members) in old_groups {
                match new_groups.get(name) {
                    None => lines.push(format!("- {title} {name} = {}", members.join(" "))),
                    Some(now) if now != members => lines.push(format!(
                        "~ {title} {name} = {} (was {})",
                        now.join(" "),
                        members.join(" ")
                    )),
                    Some(_) => {}
                }
            }
            for (name, members) in new_groups {
                if !old_groups.contains_key(name) {
                    lines.push(format!("+ {title} {name} = {}", members.join(" ")));
                }
            }
        }
        let rule_text = |row: &RuleRow| {
            format!(
                "rule {} {} = {} on {}",
                row.perm, row.refex, row.who, row.repo
            )
        };
        let option_text =
            |row: &OptionRow| format!("option {} = {} on {}", row.name, row.value, row.repo);
        diff_ordered(&mut lines, &self.rules, &new.rules, rule_text);
        diff_ordered(&mut lines, &self.options, &new.options, option_text);
        lines
    }
}

/// Returns whether a rule gives force push (`RW+`...), the `admin` level of a grant.
fn is_force(rule: &RuleRow) -> bool {
    rule.perm.starts_with("RW+")
}

/// Appends `- old` and `+ new` lines for two ordered lists that differ, by a longest common
/// subsequence so a moved or inserted rule shows as such.
fn diff_ordered<T>(lines: &mut Vec<String>, old: &[T], new: &[T], text: impl Fn(&T) -> String) {
    let old: Vec<String> = old.iter().map(&text).collect();
    let new: Vec<String> = new.iter().map(&text).collect();
    if old == new {
        return;
    }
    let (n, m) = (old.len(), new.len());
    let mut table = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            table[i][j] = if old[i] == new[j] {
                table[i + 1][j + 1] + 1
            } else {
                table[i + 1][j].max(table[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && old[i] == new[j] {
            i += 1;
            j += 1;
        } else if j < m && (i == n || table[i][j + 1] > table[i + 1][j]) {
            lines.push(format!("+ {} (at {})", new[j], j + 1));
            j += 1;
        } else {
            lines.push(format!("- {}", old[i]));
            i += 1;
        }
    }
}

/// The TOML file, as written by people.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    groups: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    repo_groups: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    rule: Vec<toml::Spanned<RuleEntry>>,
    #[serde(default)]
    option: Vec<toml::Spanned<OptionEntry>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleEntry {
    repos: Vec<String>,
    perm: String,
    #[serde(default)]
    refs: Vec<String>,
    users: Vec<String>,
    source: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OptionEntry {
    repos: Vec<String>,
    name: String,
    value: String,
    source: Option<String>,
}

impl Classify for Error {
    /// Every error here is input that cannot be used (policy documents): refused, nothing changed.
    fn code(&self) -> Code {
        Code::Refused
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
[groups]
"@devs" = ["alice", "bob"]

[repo_groups]
"@team" = ["team/.*", "infra"]

[[rule]]
repos = ["@team", "docs"]
perm = "RW+"
refs = ["main", "refs/tags/"]
users = ["@devs", "CREATOR"]

[[rule]]
repos = ["docs"]
perm = "R"
users = ["@all"]

[[option]]
repos = ["docs"]
name = "deny-rules"
value = "1"
"#;

    #[test]
    fn named_users_are_the_plain_names_of_groups_and_rules_with_where() {
        let text = "[groups]\n\"@devs\" = [\"alice\", \"@ops\"]\n\"@ops\" = [\"bob\"]\n\n\
                    [[rule]]\nrepos = [\"x\"]\nperm = \"RW\"\nusers = [\"carol\", \"@devs\", \"alice\"]\n";
        let document = Document::from_toml(text, "p.toml").unwrap();
        let expected: Vec<(String, String)> = [
            ("alice", "group @devs"),
            ("bob", "group @ops"),
            ("carol", "p.toml line 5"),
            ("alice", "p.toml line 5"),
        ]
        .iter()
        .map(|(n, w)| ((*n).to_owned(), (*w).to_owned()))
        .collect();
        let named = document.named_users();
        assert_eq!(named, expected);
    }

    #[test]
    fn a_force_push_grant_moved_to_only_unknown_names_is_a_lockout() {
        let policy = |admins: &str, extra: &str| {
            let text = format!(
                "[groups]\n\"@admins\" = [{admins}]\n\n[[rule]]\nrepos = [\"infra\"]\n\
                 perm = \"RW+\"\nusers = [\"@admins\"]\n{extra}"
            );
            Document::from_toml(&text, "p.toml").unwrap()
        };
        let known = |name: &str| ["alice", "bob"].contains(&name);
        let now = policy("\"alice\"", "");
        let lockouts = |new: &Document| now.lockouts(new, known);
        assert_eq!(
            lockouts(&policy("\"alcie\"", "")),
            [("infra".to_owned(), vec!["alcie".to_owned()])],
            "a typo in the one admin's name"
        );
        for (admins, extra, why) in [
            ("\"alice\"", "", "nothing changes"),
            ("\"bob\"", "", "another known admin"),
            ("\"alcie\", \"bob\"", "", "one of them is known"),
            (
                "\"alcie\"",
                "\n[[rule]]\nrepos = [\"infra\"]\nperm = \"RW+\"\nusers = [\"@WRITERS\"]\n",
                "a role holds it",
            ),
        ] {
            assert!(lockouts(&policy(admins, extra)).is_empty(), "{why}");
        }
        let dropped = Document::from_toml(
            "[[rule]]\nrepos = [\"infra\"]\nperm = \"RW\"\nusers = [\"alcie\"]\n",
            "p.toml",
        )
        .unwrap();
        assert!(
            lockouts(&dropped).is_empty(),
            "no force-push rule left is a choice, not a typo"
        );
        let nobody_before = policy("\"zed\"", "");
        assert!(
            nobody_before
                .lockouts(&policy("\"zod\"", ""), known)
                .is_empty(),
            "nobody known held it before, so nobody is locked out"
        );
    }

    #[test]
    fn entries_expand_into_numbered_rows_with_their_line() {
        let document = Document::from_toml(EXAMPLE, "policy.toml").unwrap();
        let rows: Vec<String> = document
            .rules
            .iter()
            .map(|r| format!("{} {} {} {} {}", r.seq, r.repo, r.perm, r.refex, r.who))
            .collect();
        assert_eq!(
            rows,
            [
                "1 @team RW+ refs/heads/main @devs",
                "1 docs RW+ refs/heads/main @devs",
                "2 @team RW+ refs/heads/main @CREATOR",
                "2 docs RW+ refs/heads/main @CREATOR",
                "3 @team RW+ refs/tags/ @devs",
                "3 docs RW+ refs/tags/ @devs",
                "4 @team RW+ refs/tags/ @CREATOR",
                "4 docs RW+ refs/tags/ @CREATOR",
                "5 docs R refs/.* @all",
            ]
        );
        assert_eq!(document.rules[0].source, "policy.toml line 8");
        assert_eq!(document.options[0].seq, 6);
    }

    #[test]
    fn export_then_apply_changes_nothing() {
        let document = Document::from_toml(EXAMPLE, "policy.toml").unwrap();
        let exported = document.to_toml();
        let again = Document::from_toml(&exported, "exported.toml").unwrap();
        assert_eq!(again, document, "{exported}");
        assert!(document.diff(&again).is_empty());
    }

    #[test]
    fn a_diff_names_added_removed_and_moved_rules() {
        let before = Document::from_toml(EXAMPLE, "a").unwrap();
        let after_text = EXAMPLE.replace("perm = \"R\"", "perm = \"RW\"");
        let after = Document::from_toml(&after_text, "b").unwrap();
        let diff = before.diff(&after);
        assert_eq!(
            diff,
            [
                "- rule R refs/.* = @all on docs",
                "+ rule RW refs/.* = @all on docs (at 9)"
            ]
        );
    }

    #[test]
    fn a_policy_may_define_roles_for_creators_to_hand_out() {
        let text = "roles = [\"OWNERS\"]\n\n[[rule]]\nrepos = [\"u/CREATOR/..*\"]\nperm = \"RW+\"\nusers = [\"OWNERS\"]\n";
        let document = Document::from_toml(text, "p.toml").unwrap();
        assert_eq!(document.rules[0].who, "@OWNERS");
        let again = Document::from_toml(&document.to_toml(), "again.toml").unwrap();
        assert_eq!(again, document);
        assert!(Document::from_toml("roles = [\"owners\"]\n", "p.toml").is_err());
    }

    #[test]
    fn mistakes_name_the_line_and_the_word() {
        let rows = [
            (
                "[[rule]]\nrepos = [\"x\"]\nperm = \"W\"\nusers = [\"a\"]\n",
                "line 1: 'W' is not a permission",
            ),
            (
                "[[rule]]\nrepos = [\"x\"]\nperm = \"R\"\nusers = [\"a b\"]\n",
                "'a b' is neither a user",
            ),
            (
                "[[rule]]\nrepos = [\"x;y\"]\nperm = \"R\"\nusers = [\"a\"]\n",
                "'x;y' is neither a repository",
            ),
            ("[[rule]]\nrepo = [\"x\"]\n", "line 2: unknown field `repo`"),
            (
                "[groups]\n\"@a\" = [\"@b\"]\n",
                "'@b', which is not a defined group",
            ),
            (
                "[groups]\ndevs = [\"a\"]\n",
                "group 'devs' must be written '@devs'",
            ),
        ];
        for (text, expected) in rows {
            let message = Document::from_toml(text, "p.toml").unwrap_err().to_string();
            assert!(message.contains(expected), "{text:?} gave {message:?}");
        }
    }
}
