//! The evaluator: gitolite's `access()` over forge's rules, and what each ref update needs.
//!
//! A [`Policy`] is built once from groups, rules and options (whenever an admin changes them)
//! and then answers every question from memory. The algorithm is gitolite's, step by step, so a
//! site that moves from gitolite keeps every decision:
//!
//! 1. A repository that does not exist needs `^C` first (creating it from a pattern), with the
//!    asking user as its would-be creator; `^C` on an existing repository is denied "by
//!    existence".
//! 2. The rules that apply are those whose repository spec holds the repository (its name,
//!    `@all`, a matching pattern, a group holding either) and whose subject holds the user
//!    (the name, `@all`, the user's groups, and for an existing repository `@CREATOR` and the
//!    roles its creator handed out). They are tried in `seq` order.
//! 3. Without a ref (the SSH-time check, gitolite's `any`), deny rules are skipped unless the
//!    repository's `deny-rules` option is on, and every allow rule matches whatever its refex.
//!    With a ref, a rule whose refex does not match is skipped; a deny rule that matches denies.
//! 4. The first rule whose permission grants the need allows. Nothing matching denies ("by
//!    fallthru"). For a virtual ref (`VREF/NAME/...`) falling through allows.
//!
//! One step is forge's own, not gitolite's: for a ref outside `refs/heads/` and `refs/tags/`
//! (`refs/replace/<id>`, `refs/notes/commits`, ...), an allow rule counts only if its refex
//! names that ref's namespace literally, that is begins with `refs/<namespace>/` (`refs/replace/`,
//! `refs/notes/.*`). The blanket `refs/.*` of a rule without refs (and so of every grant), and
//! regexes such as `refs/(replace|notes)/`, name none: a writer of every branch may not plant a
//! replace ref that makes `main` read as other content. Deny rules still deny as they match.
//! When only such uncounted rules would have allowed, the verdict is "by namespace"
//! ([`By::Namespace`]).

use super::refs::{RefUpdate, UpdateKind, namespace_outside_branches_and_tags};
use super::rules::{Need, Op, RepoOption, RepoSpec, Rule, Subject};
use crate::exit::{Classify, Code};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;

/// The roles a wild repository's creator may always hand out, besides `CREATOR` itself; a
/// policy may define more ([`Parts::roles`]).
pub const ROLES: &[&str] = &["READERS", "WRITERS"];

/// Why a set of groups and rules does not make a policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A group names itself, directly or through others.
    #[error("group '{group}' contains itself")]
    GroupCycle {
        /// The group.
        group: String,
    },
    /// A group member names a group that is not defined.
    #[error("group '{group}' names '{member}', which is not a defined group")]
    UndefinedGroup {
        /// The group.
        group: String,
        /// The member.
        member: String,
    },
    /// The patterns, together, are too big to match in one pass.
    #[error("the repository patterns are too many to match together: {reason}")]
    TooManyPatterns {
        /// What the regex engine said.
        reason: String,
    },
    /// A group member is not valid.
    #[error("group '{group}': {source}")]
    BadMember {
        /// The group.
        group: String,
        /// Why.
        #[source]
        source: super::rules::Error,
    },
}

/// A repository, as a decision needs to know it.
#[derive(Debug, Clone, Copy)]
pub struct RepoState<'a> {
    /// Its name.
    pub name: &'a str,
    /// Whether it exists; a missing one may be created from a pattern.
    pub exists: bool,
    /// Who created it from a pattern (gitolite's `gl-creator`), if anyone.
    pub creator: Option<&'a str>,
    /// The roles its creator handed out: `(role, user or @group)`.
    pub roles: &'a [(String, String)],
}

/// What decided a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By<'p> {
    /// This rule.
    Rule(&'p Rule),
    /// No rule matched.
    Fallthru,
    /// `^C` was asked for a repository that exists.
    Existence,
    /// The ref is outside `refs/heads/` and `refs/tags/`, and the only rules that would have
    /// allowed it do not name its namespace (see the module doc).
    Namespace,
}

/// The answer to one access question, with everything needed to explain it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict<'p> {
    /// Whether it is allowed.
    pub allowed: bool,
    /// What was needed.
    pub need: Need,
    /// What decided it.
    pub by: By<'p>,
    /// The repository asked about.
    pub repo: String,
    /// The user asked about.
    pub user: String,
    /// The ref asked about; `None` for any ref.
    pub reference: Option<String>,
}

impl Verdict<'_> {
    /// Returns the answer as `gitolite access` prints it: the matching refex when allowed,
    /// else `<need> <ref|any> <repo> <user> DENIED by <refex|fallthru|existence>` (and for a
    /// virtual ref that fell through, `... allowed by fallthru`).
    pub fn gitolite_line(&self) -> String {
        let by = match self.by {
            By::Rule(rule) if self.allowed => {
                return rule
                    .refex
                    .as_str()
                    .replacen("/USER/", &format!("/{}/", self.user), 1);
            }
            By::Rule(rule) => {
                rule.refex
                    .as_str()
                    .replacen("/USER/", &format!("/{}/", self.user), 1)
            }
            By::Fallthru => "fallthru".to_owned(),
            By::Existence => "existence".to_owned(),
            By::Namespace => "namespace".to_owned(),
        };
        let reference = self
            .reference
            .as_deref()
            .map(|r| {
                r.chars()
                    .map(|c| {
                        if c.is_ascii_alphanumeric() || "-._@/+ :,".contains(c) {
                            c
                        } else {
                            '.'
                        }
                    })
                    .collect::<String>()
            })
            .unwrap_or_else(|| "any".to_owned());
        let outcome = if self.allowed { "allowed" } else { "DENIED" };
        format!(
            "{} {reference} {} {} {outcome} by {by}",
            self.need, self.repo, self.user
        )
    }

    /// Returns the reason in words, for a refused push or `forgectl access --explain`.
    ///
    /// A rule is shown by its text and where it came from (`policy.toml line 9`, `forgectl
    /// grant`, `gitolite.conf line 3`), never by its internal number, which means nothing to
    /// a person (#13).
    pub fn reason(&self) -> String {
        match self.by {
            By::Rule(rule) => format!(
                "{} by rule '{} {} = {}' on '{}' ({})",
                if self.allowed { "allowed" } else { "denied" },
                rule.perm,
                rule.refex.as_str(),
                rule.who,
                rule.repo,
                rule.source
            ),
            By::Fallthru if self.allowed => "allowed: no rule about this path".to_owned(),
            By::Fallthru => format!(
                "denied: no rule lets {} {} ({})",
                self.user,
                self.need.describe(),
                self.need
            ),
            By::Existence => format!("denied: repository '{}' already exists", self.repo),
            By::Namespace => format!(
                "denied: refs outside refs/heads/ and refs/tags/ need a rule naming them ({}); \
                 ask an admin",
                self.reference
                    .as_deref()
                    .and_then(namespace_outside_branches_and_tags)
                    .unwrap_or("refs/")
            ),
        }
    }
}

impl Verdict<'_> {
    /// Returns what decided, named by where it came from rather than by the rule's internal
    /// number (which a rule a grant stands for has too, and which says nothing to a reader):
    /// `'RW+ refs/.* = @devs' on 'acme/widgets' (policy.toml line 3)`, or the reason no rule
    /// allowed it.
    pub fn origin(&self) -> String {
        match self.by {
            By::Rule(rule) => format!(
                "'{} {} = {}' on '{}' ({})",
                rule.perm,
                rule.refex.as_str(),
                rule.who,
                rule.repo,
                rule.source
            ),
            _ => self.reason(),
        }
    }
}

impl fmt::Display for Verdict<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason())
    }
}

/// Groups, rules and options, as built by [`Policy::build`].
#[derive(Debug, Clone, Default)]
pub struct Parts {
    /// User groups: `@name` and members (user names, `@all` or other `@groups`).
    pub user_groups: Vec<(String, Vec<String>)>,
    /// Repository groups: `@name` and members (names, patterns or other `@groups`).
    pub repo_groups: Vec<(String, Vec<String>)>,
    /// Rules, in any order; `seq` orders them.
    pub rules: Vec<Rule>,
    /// Options, in any order; `seq` orders them.
    pub options: Vec<RepoOption>,
    /// Roles beyond [`ROLES`] that creators may hand out (gitolite's rc `ROLES`).
    pub roles: Vec<String>,
}

/// A policy ready to answer questions.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    rules: Vec<Rule>,
    options: Vec<RepoOption>,
    /// For each user name (or `@all`), the user groups holding it.
    groups_of_user: HashMap<String, Vec<String>>,
    /// Each repository group with its members, flattened.
    repo_groups: Vec<(String, Vec<RepoSpec>)>,
    /// Rule positions by the text of their repository spec.
    rules_by_repo: HashMap<String, Vec<usize>>,
    /// Option positions by the text of their repository spec.
    options_by_repo: HashMap<String, Vec<usize>>,
    /// Every distinct pattern used by rules, options or repository groups.
    patterns: Vec<RepoSpec>,
    /// `patterns`, anchored, in one set: a name is matched against all of them in one pass.
    pattern_set: regex::RegexSet,
    /// For each pattern (by position in `patterns`), the repository groups holding it.
    groups_of_pattern: Vec<Vec<usize>>,
    /// For each repository name named in a group, the groups holding it.
    groups_of_name: HashMap<String, Vec<usize>>,
    /// Whether any repository spec mentions `CREATOR`.
    uses_creator: bool,
    /// The roles creators may hand out.
    roles: Vec<String>,
}

/// Returns each group with its members, nested groups expanded (`@all` is kept as a member:
/// being in a group that holds `@all` does not put every user in it, as in gitolite).
fn flatten(groups: &[(String, Vec<String>)]) -> Result<BTreeMap<String, BTreeSet<String>>, Error> {
    let mut defined: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (name, members) in groups {
        defined
            .entry(name.as_str())
            .or_default()
            .extend(members.iter().map(String::as_str));
    }
    fn expand<'a>(
        name: &'a str,
        defined: &BTreeMap<&'a str, Vec<&'a str>>,
        stack: &mut Vec<&'a str>,
        out: &mut BTreeSet<String>,
    ) -> Result<(), Error> {
        if stack.contains(&name) {
            return Err(Error::GroupCycle {
                group: name.to_owned(),
            });
        }
        stack.push(name);
        for &member in defined.get(name).into_iter().flatten() {
            if member.starts_with('@') && member != "@all" {
                if !defined.contains_key(member) {
                    return Err(Error::UndefinedGroup {
                        group: name.to_owned(),
                        member: member.to_owned(),
                    });
                }
                expand(member, defined, stack, out)?;
            } else {
                out.insert(member.to_owned());
            }
        }
        stack.pop();
        Ok(())
    }
    let mut flat = BTreeMap::new();
    for &name in defined.keys() {
        let mut members = BTreeSet::new();
        expand(name, &defined, &mut Vec::new(), &mut members)?;
        flat.insert(name.to_owned(), members);
    }
    Ok(flat)
}

impl Policy {
    /// Returns the policy made of `parts`: groups flattened, rules and options ordered, and the
    /// options that rules imply (a rule `RW..C` makes creating a ref need `C` on its
    /// repositories, `..D` makes deleting need `D`, `..M` checks merges) added, as gitolite adds
    /// them.
    pub fn build(parts: Parts) -> Result<Policy, Error> {
        let user_groups = flatten(&parts.user_groups)?;
        let mut groups_of_user: HashMap<String, Vec<String>> = HashMap::new();
        for (group, members) in &user_groups {
            for member in members {
                groups_of_user
                    .entry(member.clone())
                    .or_default()
                    .push(group.clone());
            }
        }
        let repo_groups: Vec<(String, Vec<RepoSpec>)> = flatten(&parts.repo_groups)?
            .into_iter()
            .map(|(group, members)| {
                let specs = members
                    .iter()
                    .map(|member| RepoSpec::parse(member))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|source| Error::BadMember {
                        group: group.clone(),
                        source,
                    })?;
                Ok((group, specs))
            })
            .collect::<Result<_, Error>>()?;

        let mut rules = parts.rules;
        rules.sort_by_key(|rule| rule.seq);
        let mut options = parts.options;
        for rule in &rules {
            let implied = [
                ("CREATE_IS_C", rule.perm.implies_create_is_c()),
                ("DELETE_IS_D", rule.perm.implies_delete_is_d()),
                ("MERGE_CHECK", rule.perm.implies_merge_check()),
            ];
            for (name, implied) in implied {
                if implied {
                    options.push(RepoOption {
                        seq: rule.seq,
                        repo: rule.repo.clone(),
                        name: name.to_owned(),
                        value: "1".to_owned(),
                        source: rule.source.clone(),
                    });
                }
            }
        }
        options.sort_by_key(|option| option.seq);

        let mut rules_by_repo: HashMap<String, Vec<usize>> = HashMap::new();
        let mut patterns: Vec<RepoSpec> = Vec::new();
        let mut note_pattern = |spec: &RepoSpec| {
            if spec.is_pattern() && !patterns.contains(spec) {
                patterns.push(spec.clone());
            }
        };
        for (index, rule) in rules.iter().enumerate() {
            rules_by_repo
                .entry(rule.repo.as_str().to_owned())
                .or_default()
                .push(index);
            note_pattern(&rule.repo);
        }
        let mut options_by_repo: HashMap<String, Vec<usize>> = HashMap::new();
        for (index, option) in options.iter().enumerate() {
            options_by_repo
                .entry(option.repo.as_str().to_owned())
                .or_default()
                .push(index);
            note_pattern(&option.repo);
        }
        for (_, members) in &repo_groups {
            members.iter().for_each(&mut note_pattern);
        }
        let uses_creator = patterns.iter().any(|p| p.as_str().contains("CREATOR"))
            || repo_groups
                .iter()
                .any(|(_, members)| members.iter().any(|m| m.as_str().contains("CREATOR")));
        // Each pattern's own regex (`^text$`, as gitolite anchors it), so the set matches exactly
        // what the patterns match one by one.
        let pattern_set = regex::RegexSet::new(patterns.iter().filter_map(|p| match p {
            RepoSpec::Pattern { regex, .. } => Some(regex.as_str()),
            _ => None,
        }))
        .map_err(|e| Error::TooManyPatterns {
            reason: e.to_string(),
        })?;
        let mut groups_of_pattern = vec![Vec::new(); patterns.len()];
        let mut groups_of_name: HashMap<String, Vec<usize>> = HashMap::new();
        for (group, (_, members)) in repo_groups.iter().enumerate() {
            for member in members {
                match member {
                    RepoSpec::Name(name) => {
                        groups_of_name.entry(name.clone()).or_default().push(group)
                    }
                    RepoSpec::Pattern { .. } => {
                        if let Some(index) = patterns.iter().position(|p| p == member) {
                            groups_of_pattern[index].push(group);
                        }
                    }
                    RepoSpec::Group(_) | RepoSpec::All => {}
                }
            }
        }
        let mut roles: Vec<String> = ROLES.iter().map(|r| (*r).to_owned()).collect();
        roles.extend(
            parts
                .roles
                .iter()
                .filter(|r| !ROLES.contains(&r.as_str()))
                .cloned(),
        );
        Ok(Policy {
            roles,
            rules,
            options,
            groups_of_user,
            repo_groups,
            rules_by_repo,
            options_by_repo,
            patterns,
            pattern_set,
            groups_of_pattern,
            groups_of_name,
            uses_creator,
        })
    }

    /// Returns the roles creators may hand out.
    pub fn roles(&self) -> &[String] {
        &self.roles
    }

    /// Returns every rule, in order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Returns the user groups holding `user`.
    pub fn groups_of(&self, user: &str) -> &[String] {
        self.groups_of_user.get(user).map_or(&[], Vec::as_slice)
    }

    /// Returns the repository specs that hold `repo`: its name, `@all`, the patterns matching it
    /// (with `creator` standing for `CREATOR`), and the groups holding any of those.
    fn repo_memberships(&self, repo: &str, creator: Option<&str>) -> HashSet<String> {
        let generic = creator
            .filter(|_| self.uses_creator)
            .and_then(|creator| generic_name(repo, creator));
        let names: Vec<&str> = std::iter::once(repo).chain(generic.as_deref()).collect();
        let mut members: HashSet<String> = names.iter().map(|name| (*name).to_owned()).collect();
        members.insert("@all".to_owned());
        let mut groups: Vec<usize> = Vec::new();
        for name in &names {
            for index in self.pattern_set.matches(name).iter() {
                members.insert(self.patterns[index].as_str().to_owned());
                groups.extend(&self.groups_of_pattern[index]);
            }
            groups.extend(self.groups_of_name.get(*name).into_iter().flatten());
        }
        for group in groups {
            members.insert(self.repo_groups[group].0.clone());
        }
        members
    }

    /// Returns the subjects that hold `user` on `repo`.
    fn user_memberships(&self, repo: &RepoState<'_>, user: &str) -> HashSet<String> {
        let mut members: HashSet<String> = [user.to_owned(), "@all".to_owned()].into();
        members.extend(self.groups_of(user).iter().cloned());
        if repo.exists {
            for (role, member) in repo.roles {
                // gitolite counts @all among every user's memberships when it reads roles.
                let holds =
                    member == user || member == "@all" || self.groups_of(user).contains(member);
                if holds && self.roles.contains(role) {
                    members.insert(format!("@{role}"));
                }
            }
            if repo.creator == Some(user) {
                members.insert("@CREATOR".to_owned());
            }
        }
        members
    }

    /// Returns the rules that apply to `user` on `repo`, in order.
    fn rules_for(&self, repo: &RepoState<'_>, user: &str, creator: Option<&str>) -> Vec<&Rule> {
        self.rules_in(&self.repo_memberships(repo.name, creator), repo, user)
    }

    fn rules_in(&self, held: &HashSet<String>, repo: &RepoState<'_>, user: &str) -> Vec<&Rule> {
        let subjects = self.user_memberships(repo, user);
        let mut positions: Vec<usize> = held
            .iter()
            .filter_map(|spec| self.rules_by_repo.get(spec))
            .flatten()
            .copied()
            .filter(|&index| subject_holds(&subjects, &self.rules[index].who))
            .collect();
        positions.sort_unstable();
        positions.dedup();
        positions
            .into_iter()
            .map(|index| &self.rules[index])
            .collect()
    }

    /// Returns the value of option `name` for `repo`: the last one set wins.
    pub fn option(&self, repo: &str, creator: Option<&str>, name: &str) -> Option<&str> {
        self.option_in(&self.repo_memberships(repo, creator), name)
    }

    fn option_in(&self, held: &HashSet<String>, name: &str) -> Option<&str> {
        let mut positions: Vec<usize> = held
            .iter()
            .filter_map(|spec| self.options_by_repo.get(spec))
            .flatten()
            .copied()
            .filter(|&index| self.options[index].name == name)
            .collect();
        positions.sort_unstable();
        positions
            .last()
            .map(|&index| self.options[index].value.as_str())
    }

    /// Returns whether option `name` is on for `repo` (set, and neither empty nor `0`).
    pub fn is_on(&self, repo: &str, creator: Option<&str>, name: &str) -> bool {
        self.option(repo, creator, name)
            .is_some_and(|value| !value.is_empty() && value != "0")
    }

    /// Answers whether `user` may have `need` on `repo`, for `reference` (`None`: any ref).
    ///
    /// For a repository that does not exist, `would_be_creator` stands for `CREATOR` in
    /// patterns (gitolite takes it from `GL_USER`); forge passes the asking user.
    pub fn access(
        &self,
        repo: &RepoState<'_>,
        user: &str,
        need: Need,
        reference: Option<&str>,
        would_be_creator: Option<&str>,
    ) -> Verdict<'_> {
        let verdict = |allowed, by| Verdict {
            allowed,
            need,
            by,
            repo: repo.name.to_owned(),
            user: user.to_owned(),
            reference: reference.map(ToOwned::to_owned),
        };
        if need.op != Op::CreateRepo && !repo.exists {
            let create = self.access(
                repo,
                user,
                Need::of(Op::CreateRepo),
                reference,
                would_be_creator,
            );
            // As gitolite: a denial, or a virtual ref falling through, is the answer itself.
            if !create.allowed || create.by == By::Fallthru {
                return Verdict { need, ..create };
            }
        }
        if need.op == Op::CreateRepo && repo.exists {
            return verdict(false, By::Existence);
        }
        let creator = if repo.exists {
            repo.creator
        } else {
            would_be_creator
        };
        let held = self.repo_memberships(repo.name, creator);
        let deny_rules = self
            .option_in(&held, "deny-rules")
            .is_some_and(|value| !value.is_empty() && value != "0");
        let namespace = reference.and_then(namespace_outside_branches_and_tags);
        let mut unnamed = false;
        for rule in self.rules_in(&held, repo, user) {
            let is_deny = rule.perm.is_deny();
            match reference {
                None if is_deny && !deny_rules => continue,
                Some(reference) if !rule.refex.matches(reference, user) => continue,
                _ => {}
            }
            if is_deny {
                return verdict(false, By::Rule(rule));
            }
            if need.is_granted_by(&rule.perm) {
                if namespace.is_some_and(|namespace| !rule.refex.names(namespace)) {
                    unnamed = true;
                    continue;
                }
                return verdict(true, By::Rule(rule));
            }
        }
        if unnamed {
            return verdict(false, By::Namespace);
        }
        let is_vref = reference.is_some_and(|r| r.starts_with("VREF/"));
        verdict(is_vref, By::Fallthru)
    }

    /// Returns what `update` needs on `repo`, as gitolite's update hook computes it: `W` for a
    /// create or a fast-forward, `+` for a rewind, a delete or any move of an existing tag; `C`
    /// and `D` instead when the repository's rules make create and delete need them; and `M`
    /// added when merges are checked and the pushed commits hold one.
    pub fn need_of(&self, repo: &RepoState<'_>, update: &RefUpdate, has_merges: bool) -> Need {
        let mut op = Op::Write;
        if update.ref_name.as_str().contains("refs/tags/") && !update.old.is_zero() {
            op = Op::Rewind;
        }
        if matches!(update.kind, UpdateKind::NonFastForward | UpdateKind::Delete) {
            op = Op::Rewind;
        }
        if update.new.is_zero() && self.is_on(repo.name, repo.creator, "DELETE_IS_D") {
            op = Op::DeleteRef;
        }
        if update.old.is_zero() && self.is_on(repo.name, repo.creator, "CREATE_IS_C") {
            op = Op::CreateRef;
        }
        let merge = has_merges
            && !update.old.is_zero()
            && !update.new.is_zero()
            && self.is_on(repo.name, repo.creator, "MERGE_CHECK");
        Need { op, merge }
    }

    /// Returns the virtual refs (`VREF/...` refexes) among the rules that apply to `user` on
    /// `repo`, in order, each once.
    pub fn vrefs(&self, repo: &RepoState<'_>, user: &str) -> Vec<&str> {
        let mut seen = Vec::new();
        for rule in self.rules_for(repo, user, repo.creator) {
            if rule.refex.is_vref() && !seen.contains(&rule.refex.as_str()) {
                seen.push(rule.refex.as_str());
            }
        }
        seen
    }

    /// Returns the patterns `user` may create repositories from (gitolite's `C` in `info`).
    pub fn creatable_patterns(&self, user: &str) -> Vec<&str> {
        let mut creatable = Vec::new();
        for pattern in &self.patterns {
            let state = RepoState {
                name: pattern.as_str(),
                exists: false,
                creator: None,
                roles: &[],
            };
            let verdict = self.access(&state, user, Need::of(Op::CreateRepo), None, Some(user));
            if verdict.allowed && !creatable.contains(&pattern.as_str()) {
                creatable.push(pattern.as_str());
            }
        }
        creatable
    }
}

/// Returns whether `subject` is among `subjects` (a user's memberships).
fn subject_holds(subjects: &HashSet<String>, subject: &Subject) -> bool {
    subjects.contains(subject.as_str())
}

/// Returns `repo` with the first whole-word occurrence of `creator` replaced by `CREATOR`, or
/// `None` if it has none (gitolite's `generic_name`).
fn generic_name(repo: &str, creator: &str) -> Option<String> {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut start = 0;
    while let Some(found) = repo[start..].find(creator) {
        let at = start + found;
        let end = at + creator.len();
        let before_ok = repo[..at].chars().next_back().is_none_or(|c| !is_word(c))
            || !creator.chars().next().is_some_and(is_word);
        let after_ok = repo[end..].chars().next().is_none_or(|c| !is_word(c))
            || !creator.chars().next_back().is_some_and(is_word);
        if before_ok && after_ok && !creator.is_empty() {
            return Some(format!("{}CREATOR{}", &repo[..at], &repo[end..]));
        }
        start = at + creator.len().max(1);
        if start > repo.len() {
            break;
        }
    }
    None
}

impl Classify for Error {
    /// Every error here is input that cannot be used (policies): refused, nothing changed.
    fn code(&self) -> Code {
        Code::Refused
    }
}

#[cfg(test)]
#[path = "engine_tests.rs"]
mod tests;
