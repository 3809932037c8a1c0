//! gitolite's `Conf.pm::parse` and `Conf/Store.pm`: turning the sugared lines into groups,
//! rules and options, with gitolite's checks, warnings and sequence numbers.

use super::explode::{Exploded, Line, check_subconf_name};
use super::names::{is_reponame, is_repopatt, is_unsafe_value, is_username};
use super::sugar::{RULE, sugar};
use super::{
    Conf, Error, Feature, Group, KNOWN_OPTIONS, RepoOption, Rule, Settings, Source, Unsupported,
    Warning, WarningKind,
};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::LazyLock;

/// `/^config (.+) = ?(.*)/`.
static CONFIG: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r"^config (.+) = ?(.*)").expect("the config regex is valid")
});

/// `s/^['"](.*)["']$/$1/`: one pair of quotes around a config value.
static QUOTED: LazyLock<regex::Regex> =
    LazyLock::new(|| regex::Regex::new(r#"^['"](.*)["']$"#).expect("the quote regex is valid"));

/// The prefix the `option` sugar gives option names.
const OPTION_PREFIX: &str = "gitolite-options.";

/// Compiles exploded lines into a [`Conf`].
pub(crate) fn compile(exploded: Exploded, settings: &Settings) -> Result<Conf, Error> {
    let Exploded {
        lines,
        warnings,
        unsupported,
    } = exploded;
    let mut store = Store {
        settings,
        conf: Conf {
            warnings,
            unsupported,
            ..Conf::default()
        },
        groups: HashMap::new(),
        group_order: Vec::new(),
        repolist: Vec::new(),
        seq: 0,
        user_group_refs: Names::default(),
        repo_group_refs: Names::default(),
        ref_groups: HashSet::new(),
        good_regexes: HashSet::new(),
        first_seen: HashMap::new(),
        ruled: BTreeSet::new(),
        configured: BTreeSet::new(),
    };
    for line in sugar(lines, settings) {
        store.parse(&line)?;
    }
    store.finish()
}

/// A group as it is being built.
#[derive(Debug)]
struct GroupState {
    members: BTreeSet<String>,
    source: Source,
}

/// gitolite's `Store.pm` state.
#[derive(Debug)]
struct Store<'a> {
    settings: &'a Settings,
    conf: Conf,
    /// `%groups`, in order of definition.
    groups: HashMap<String, GroupState>,
    group_order: Vec<String>,
    /// `@repolist`: the repos of the last `repo` line.
    repolist: Vec<String>,
    /// `$nextseq`.
    seq: u32,
    /// Groups named in rule user lists (roles, `@CREATOR` and `@all` aside).
    user_group_refs: Names,
    /// Groups named on `repo` lines (`@all` aside).
    repo_group_refs: Names,
    /// Groups named in rule ref lists.
    ref_groups: HashSet<String>,
    /// The regexes already known to compile.
    good_regexes: HashSet<String>,
    /// Where each repo name and group member was first written, for errors found at the end.
    first_seen: HashMap<String, Source>,
    /// Repos that carry a rule, and those that carry an option (`%repos`, `%configs` keys).
    ruled: BTreeSet<String>,
    configured: BTreeSet<String>,
}

impl Store<'_> {
    fn parse(&mut self, line: &Line) -> Result<(), Error> {
        let text = line.text.as_str();
        let at = &line.source;
        if let Some((lhs, rhs)) = group_line(text) {
            let rhs: Vec<&str> = rhs.split(' ').filter(|w| !w.is_empty()).collect();
            self.add_to_group(lhs, &rhs, at)
        } else if let Some(list) = text.strip_prefix("repo ") {
            self.set_repolist(list, at)
        } else if let Some(caps) = RULE.captures(text) {
            let refs = caps.get(2).map_or("", |m| m.as_str());
            self.add_rules(&caps[1], refs, &caps[3], at)
        } else if let Some(caps) = CONFIG.captures(text) {
            self.add_config(&caps[1], &caps[2], at)
        } else if let Some(name) = subconf_line(text) {
            check_subconf_name(name, at)?;
            self.unsupported(
                Feature::Subconf {
                    name: name.to_owned(),
                    file: String::new(),
                },
                at,
            );
            Ok(())
        } else {
            self.warn(
                at,
                WarningKind::SyntaxError {
                    line: text.to_owned(),
                },
            );
            Ok(())
        }
    }

    /// `@group = member ...`.
    fn add_to_group(&mut self, lhs: &str, rhs: &[&str], at: &Source) -> Result<(), Error> {
        if !is_reponame(lhs) {
            return Err(Error::BadGroup {
                at: at.clone(),
                group: lhs.to_owned(),
            });
        }
        if let Some(bad) = rhs.iter().find(|m| !is_repopatt(m)) {
            return Err(Error::BadExpansion {
                at: at.clone(),
                member: bad.to_string(),
            });
        }
        let members = self.expand_list(rhs, at)?;
        for member in &members {
            self.first_seen
                .entry(member.clone())
                .or_insert_with(|| at.clone());
        }
        match self.groups.get_mut(lhs) {
            Some(group) => group.members.extend(members),
            None => {
                self.group_order.push(lhs.to_owned());
                self.groups.insert(
                    lhs.to_owned(),
                    GroupState {
                        members: members.into_iter().collect(),
                        source: at.clone(),
                    },
                );
            }
        }
        Ok(())
    }

    /// gitolite's `expand_list`: a `@group` (other than `@all`) becomes its members of now.
    fn expand_list(&self, items: &[&str], at: &Source) -> Result<Vec<String>, Error> {
        let mut out = Vec::new();
        for &item in items {
            if item.starts_with('@') && item != "@all" {
                let group = self.groups.get(item).ok_or_else(|| Error::UndefinedGroup {
                    at: at.clone(),
                    group: item.to_owned(),
                })?;
                out.extend(group.members.iter().cloned());
            } else {
                out.push(item.to_owned());
            }
        }
        Ok(out)
    }

    /// `repo name ...`.
    fn set_repolist(&mut self, list: &str, at: &Source) -> Result<(), Error> {
        self.repolist.clear();
        for name in list.split(' ').filter(|w| !w.is_empty()) {
            let name = match name.strip_suffix(".git") {
                Some(stripped) => {
                    self.warn(
                        at,
                        WarningKind::GitExtension {
                            repo: stripped.to_owned(),
                        },
                    );
                    stripped
                }
                None => name,
            };
            if !is_repopatt(name) {
                return Err(Error::BadRepo {
                    at: at.clone(),
                    repo: name.to_owned(),
                });
            }
            if name.starts_with('@') {
                if name != "@all" {
                    self.repo_group_refs.insert(name);
                }
            } else if !is_reponame(name) {
                self.check_regex(format!("^{name}$"))
                    .map_err(|source| Error::RepoRegex {
                        at: at.clone(),
                        pattern: name.to_owned(),
                        source,
                    })?;
            }
            self.first_seen
                .entry(name.to_owned())
                .or_insert_with(|| at.clone());
            self.repolist.push(name.to_owned());
        }
        Ok(())
    }

    /// A rule line: one rule per (ref x user), refs outside.
    fn add_rules(&mut self, perm: &str, refs: &str, users: &str, at: &Source) -> Result<(), Error> {
        // parse_refs
        let refs: Vec<&str> = refs.split(' ').filter(|w| !w.is_empty()).collect();
        for r in refs.iter().filter(|r| r.starts_with('@') && **r != "@all") {
            self.ref_groups.insert(r.to_string());
        }
        let mut refs = self.expand_list(&refs, at)?;
        if refs.is_empty() {
            refs.push("refs/.*".to_owned());
        }
        let refs: Vec<String> = refs
            .into_iter()
            .map(|r| {
                if r.starts_with("refs/") || r.starts_with("VREF/") {
                    r
                } else {
                    format!("refs/heads/{r}")
                }
            })
            .collect();
        // parse_users
        let users: Vec<&str> = users.split(' ').filter(|w| !w.is_empty()).collect();
        if let Some(bad) = users.iter().find(|u| !is_username(u)) {
            return Err(Error::BadUser {
                at: at.clone(),
                user: bad.to_string(),
            });
        }
        if self.repolist.is_empty() {
            self.warn(at, WarningKind::RuleOutsideRepo);
        }
        for refex in &refs {
            if refex.starts_with("VREF/") && !refex.starts_with("VREF/NAME/") {
                self.unsupported(
                    Feature::Vref {
                        refex: refex.clone(),
                    },
                    at,
                );
            }
            for &user in &users {
                self.add_rule(perm, refex, user, at)?;
            }
        }
        Ok(())
    }

    /// gitolite's `add_rule`.
    fn add_rule(&mut self, perm: &str, refex: &str, user: &str, at: &Source) -> Result<(), Error> {
        if perm == "R" && refex != "refs/.*" {
            self.warn(
                at,
                WarningKind::RefOnReadRule {
                    refex: refex.to_owned(),
                },
            );
        }
        if user.starts_with('@') && !self.groups.contains_key(user) && !self.is_special(user) {
            self.warn(
                at,
                WarningKind::UndeclaredGroup {
                    group: user.to_owned(),
                },
            );
        }
        if !is_repopatt(refex) {
            return Err(Error::BadRef {
                at: at.clone(),
                refex: refex.to_owned(),
            });
        }
        self.check_regex(format!("^{refex}"))
            .map_err(|source| Error::RefRegex {
                at: at.clone(),
                refex: refex.to_owned(),
                source,
            })?;
        if user.starts_with('@') && !self.is_special(user) {
            self.user_group_refs.insert(user);
        }
        self.seq += 1;
        for repo in &self.repolist {
            self.ruled.insert(repo.clone());
            self.conf.rules.push(Rule {
                seq: self.seq,
                repo: repo.clone(),
                user: user.to_owned(),
                perm: perm.to_owned(),
                refex: refex.to_owned(),
                source: at.clone(),
            });
        }
        Ok(())
    }

    /// Compiles `regex` as forge will, once per distinct regex, for the error only.
    fn check_regex(&mut self, regex: String) -> Result<(), Box<regex::Error>> {
        if !self.good_regexes.contains(&regex) {
            regex::Regex::new(&regex).map_err(Box::new)?;
            self.good_regexes.insert(regex);
        }
        Ok(())
    }

    /// `@all`, `@CREATOR` and the roles, which need no definition.
    fn is_special(&self, user: &str) -> bool {
        let name = user.trim_start_matches('@');
        name == "all" || name == "CREATOR" || self.settings.roles.contains(name)
    }

    /// `config key = value`, which the sugar also makes of `option`, `desc`, `owner` and
    /// `category` lines.
    fn add_config(&mut self, key: &str, value: &str, at: &Source) -> Result<(), Error> {
        let value = match QUOTED.captures(value) {
            Some(caps) => caps[1].to_owned(),
            None => value.to_owned(),
        };
        self.seq += 1;
        let Some(name) = key.strip_prefix(OPTION_PREFIX) else {
            // gitolite's default rc refuses every other key (`GIT_CONFIG_KEYS` is empty).
            self.unsupported(
                Feature::Config {
                    key: key.to_owned(),
                },
                at,
            );
            return Ok(());
        };
        if is_unsafe_value(&value) {
            return Err(Error::BadConfigValue {
                at: at.clone(),
                value,
            });
        }
        if !KNOWN_OPTIONS.contains(&name) {
            self.unsupported(
                Feature::Option {
                    name: name.to_owned(),
                },
                at,
            );
        }
        for repo in &self.repolist {
            self.configured.insert(repo.clone());
            self.conf.options.push(RepoOption {
                seq: self.seq,
                repo: repo.clone(),
                name: name.to_owned(),
                value: value.clone(),
                source: at.clone(),
            });
        }
        Ok(())
    }

    fn warn(&mut self, at: &Source, kind: WarningKind) {
        self.conf.warnings.push(Warning {
            source: at.clone(),
            kind,
        });
    }

    fn unsupported(&mut self, what: Feature, at: &Source) {
        self.conf.unsupported.push(Unsupported {
            what,
            source: at.clone(),
        });
    }

    /// gitolite's `new_repos` and the `sanity` check its triggers run on each new repo, then
    /// the groups of the model.
    fn finish(mut self) -> Result<Conf, Error> {
        let mut repos: BTreeSet<String> = self
            .ruled
            .iter()
            .chain(&self.configured)
            .filter(|r| is_reponame(r) && !r.starts_with('@'))
            .cloned()
            .collect();
        for group in self
            .ruled
            .iter()
            .filter(|r| r.starts_with('@') && *r != "@all")
        {
            if let Some(state) = self.groups.get(group) {
                repos.extend(state.members.iter().cloned());
            }
        }
        repos.retain(|r| is_reponame(r) && !r.starts_with('@') && !r.contains("EXTCMD/"));
        for repo in &repos {
            if let Some(problem) = repo_path_problem(repo) {
                return Err(Error::BadRepoPath {
                    at: self.first_seen.get(repo).cloned().unwrap_or_else(nowhere),
                    repo: repo.clone(),
                    problem,
                });
            }
        }
        let pattern_members: Vec<String> = self
            .repo_group_refs
            .order
            .iter()
            .filter_map(|group| self.groups.get(group))
            .flat_map(|group| group.members.iter())
            .filter(|member| is_pattern_member(member))
            .cloned()
            .collect();
        for member in pattern_members {
            let at = self
                .first_seen
                .get(&member)
                .cloned()
                .unwrap_or_else(nowhere);
            self.check_regex(format!("^{member}$"))
                .map_err(|source| Error::RepoRegex {
                    at,
                    pattern: member.clone(),
                    source,
                })?;
        }
        self.conf.repos = repos.into_iter().collect();
        self.conf.repo_groups = self.groups_named(|_| false, &self.repo_group_refs);
        // A user group: named in a rule's user list, or defined and named nowhere else (a
        // gl-perms file may name it).
        self.conf.user_groups = self.groups_named(
            |g| !(self.repo_group_refs.contains(g) || self.ref_groups.contains(g)),
            &self.user_group_refs,
        );
        Ok(self.conf)
    }

    /// Returns the groups that are `named`, or defined and `also`: defined ones in definition
    /// order, then undefined ones (with no members) in the order they were named. `@all` is
    /// never a group.
    fn groups_named(&self, also: impl Fn(&str) -> bool, named: &Names) -> Vec<Group> {
        let defined = self
            .group_order
            .iter()
            .filter(|g| named.contains(g) || also(g))
            .filter_map(|name| {
                let state = self.groups.get(name)?;
                Some(Group {
                    name: name.clone(),
                    members: state.members.clone(),
                    source: Some(state.source.clone()),
                })
            });
        let undefined = named
            .order
            .iter()
            .filter(|g| !self.groups.contains_key(*g))
            .map(|name| Group {
                name: name.clone(),
                members: BTreeSet::new(),
                source: None,
            });
        defined
            .chain(undefined)
            .filter(|g| g.name != "@all")
            .collect()
    }
}

/// The source of a name whose line was not recorded (which does not happen).
fn nowhere() -> Source {
    Source {
        file: Default::default(),
        line: 0,
    }
}

/// `/^(@\S+) = (.*)/`.
fn group_line(text: &str) -> Option<(&str, &str)> {
    let (lhs, rhs) = text.split_once(" = ")?;
    (lhs.starts_with('@') && lhs.len() > 1 && !lhs.contains(' ')).then_some((lhs, rhs))
}

/// `/^subconf (\S+)$/`.
fn subconf_line(text: &str) -> Option<&str> {
    text.strip_prefix("subconf ")
        .filter(|name| !name.is_empty() && !name.contains(' '))
}

/// Returns whether a group member is matched as a pattern: gitolite's `%patterns{groups}`.
fn is_pattern_member(member: &str) -> bool {
    !is_reponame(member)
}

/// gitolite's `sanity` on a plain repo it creates: the problem, in gitolite's words.
fn repo_path_problem(repo: &str) -> Option<&'static str> {
    if repo.ends_with('/') {
        Some("ends with a '/'")
    } else if repo.contains("..") {
        Some("contains '..'")
    } else if repo.contains(".git/") {
        Some("contains '.git/'")
    } else if repo.ends_with(".git") {
        Some("ends with '.git'")
    } else {
        None
    }
}

/// Names in the order first seen, without repeats.
#[derive(Debug, Default)]
struct Names {
    order: Vec<String>,
    set: HashSet<String>,
}

impl Names {
    fn insert(&mut self, name: &str) {
        if self.set.insert(name.to_owned()) {
            self.order.push(name.to_owned());
        }
    }

    fn contains(&self, name: &str) -> bool {
        self.set.contains(name)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{parse_file, parse_text};
    use super::*;
    use std::path::Path;

    const FILE: &str = "/nonexistent/gitolite.conf";

    fn parse(text: &str) -> Result<Conf, Error> {
        parse_text(text, Path::new(FILE), &Settings::default())
    }

    /// The rules as `seq repo user perm refex line` lines.
    fn rules(conf: &Conf) -> Vec<String> {
        conf.rules
            .iter()
            .map(|r| {
                let line = r.source.line;
                format!(
                    "{} {} {} {} {} @{line}",
                    r.seq, r.repo, r.user, r.perm, r.refex
                )
            })
            .collect()
    }

    fn options(conf: &Conf) -> Vec<String> {
        conf.options
            .iter()
            .map(|o| format!("{} {} {}={}", o.seq, o.repo, o.name, o.value))
            .collect()
    }

    fn warnings(conf: &Conf) -> Vec<String> {
        conf.warnings
            .iter()
            .map(|w| format!("{}: {}", w.source.line, w.kind))
            .collect()
    }

    fn groups(groups: &[Group]) -> Vec<String> {
        groups
            .iter()
            .map(|g| {
                let members: Vec<&str> = g.members.iter().map(String::as_str).collect();
                format!("{} = {}", g.name, members.join(" "))
            })
            .collect()
    }

    const ADMIN: &str = "repo gitolite-admin\n    RW+ = admin\n";

    #[test]
    fn scenario_a_gets_gitolites_sequence_numbers_and_snapshot_groups() {
        let text = format!(
            "{ADMIN}@devs = alice bob\n@all_devs = @devs carol\n@devs = dave\nrepo foo\n    \
             RW+ = alice\n    RW  master dev/ = bob\n    -   master = carol\n    RW  = carol\n    \
             R   = @all\nrepo bar baz\n    RW = @all_devs\nrepo @all\n    R = daemon\n"
        );
        let conf = parse(&text).unwrap();
        assert_eq!(
            rules(&conf),
            [
                "1 gitolite-admin admin RW+ refs/.* @2",
                "2 foo alice RW+ refs/.* @7",
                "3 foo bob RW refs/heads/master @8",
                "4 foo bob RW refs/heads/dev/ @8",
                "5 foo carol - refs/heads/master @9",
                "6 foo carol RW refs/.* @10",
                "7 foo @all R refs/.* @11",
                "8 bar @all_devs RW refs/.* @13",
                "8 baz @all_devs RW refs/.* @13",
                "9 @all daemon R refs/.* @15",
            ]
        );
        assert_eq!(
            groups(&conf.user_groups),
            ["@devs = alice bob dave", "@all_devs = alice bob carol"]
        );
        assert!(conf.repo_groups.is_empty());
        assert_eq!(conf.repos, ["bar", "baz", "foo", "gitolite-admin"]);
        assert!(conf.warnings.is_empty(), "{:?}", conf.warnings);
        assert!(conf.unsupported.is_empty());
        let users: Vec<&str> = conf.user_names().into_iter().collect();
        assert_eq!(users, ["admin", "alice", "bob", "carol", "daemon", "dave"]);
    }

    #[test]
    fn scenario_c_options_take_the_seq_after_their_rule() {
        let text = format!(
            "{ADMIN}repo cc\n    RWC = cu\n    RW+ = pu\n    RW  = wu\nrepo dd\n    RW+D = du\n    \
             RW+  = pu\nrepo mm\n    RW+M = mu\n    RW+  = pu\nrepo none\n    RW+ = pu\n    RW  = wu\n\
             repo scope\n    RW+ = a\nrepo scope\n    RWD = b\n"
        );
        let conf = parse(&text).unwrap();
        assert_eq!(
            options(&conf),
            [
                "3 cc CREATE_IS_C=1",
                "7 dd DELETE_IS_D=1",
                "10 mm MERGE_CHECK=1",
                "16 scope DELETE_IS_D=1",
            ]
        );
        let seqs: Vec<(u32, &str)> = conf
            .rules
            .iter()
            .map(|r| (r.seq, r.user.as_str()))
            .collect();
        assert_eq!(
            seqs,
            [
                (1, "admin"),
                (2, "cu"),
                (4, "pu"),
                (5, "wu"),
                (6, "du"),
                (8, "pu"),
                (9, "mu"),
                (11, "pu"),
                (12, "pu"),
                (13, "wu"),
                (14, "a"),
                (15, "b"),
            ]
        );
        // The option line is where the rule that caused it is.
        assert_eq!(conf.options[0].source.line, 4);
    }

    #[test]
    fn rules_take_one_seq_per_ref_and_user_refs_outside() {
        let conf = parse("@r = x y\nrepo a b\nRW master @r = u1 u2\n").unwrap();
        assert_eq!(
            rules(&conf),
            [
                "1 a u1 RW refs/heads/master @3",
                "1 b u1 RW refs/heads/master @3",
                "2 a u2 RW refs/heads/master @3",
                "2 b u2 RW refs/heads/master @3",
                "3 a u1 RW refs/heads/x @3",
                "3 b u1 RW refs/heads/x @3",
                "4 a u2 RW refs/heads/x @3",
                "4 b u2 RW refs/heads/x @3",
                "5 a u1 RW refs/heads/y @3",
                "5 b u1 RW refs/heads/y @3",
                "6 a u2 RW refs/heads/y @3",
                "6 b u2 RW refs/heads/y @3",
            ]
        );
        // A ref group is not a user group.
        assert!(conf.user_groups.is_empty(), "{:?}", conf.user_groups);
    }

    #[test]
    fn rules_before_any_repo_line_are_dropped_but_use_up_a_seq() {
        let conf = parse("RW = x y\nrepo foo\nRW = a\n").unwrap();
        assert_eq!(rules(&conf), ["3 foo a RW refs/.* @3"]);
        assert_eq!(warnings(&conf), ["1: rule before any 'repo' line ignored"]);
    }

    #[test]
    fn rule_lines_parse_perms_refs_and_users() {
        // (line after "repo r", the rules as "perm refex user")
        let rows: &[(&str, &[&str])] = &[
            ("RW+ = alice", &["RW+ refs/.* alice"]),
            ("RW=alice", &["RW refs/.* alice"]),
            ("RWDC = x", &["RWDC refs/.* x"]),
            ("RW+DCM = x", &["RW+DCM refs/.* x"]),
            ("RWCD = x", &["RWCD refs/.* x"]),
            ("C = x", &["C refs/.* x"]),
            ("- refs/tags/ = x", &["- refs/tags/ x"]),
            ("RW refs/tags/v[0-9] = t", &["RW refs/tags/v[0-9] t"]),
            ("RW master$ = e", &["RW refs/heads/master$ e"]),
            (
                "RW refs/heads/(foo|bar)$ = a",
                &["RW refs/heads/(foo|bar)$ a"],
            ),
            (
                "RW personal/USER/ = @all",
                &["RW refs/heads/personal/USER/ @all"],
            ),
            ("- NAME/secret/ = bob", &["- VREF/NAME/secret/ bob"]),
            ("RW NAME/docs/ = bob", &["RW VREF/NAME/docs/ bob"]),
            ("- VREF/NAME/x = bob", &["- VREF/NAME/x bob"]),
            ("RW+ = CREATOR", &["RW+ refs/.* @CREATOR"]),
            ("RW = WRITERS", &["RW refs/.* @WRITERS"]),
            ("R = READERS", &["R refs/.* @READERS"]),
            ("R = OWNERS", &["R refs/.* OWNERS"]),
            (
                "RW = alice@example.com a+b",
                &["RW refs/.* alice@example.com", "RW refs/.* a+b"],
            ),
        ];
        for (line, expected) in rows {
            let conf = parse(&format!("repo r\n{line}\n")).unwrap();
            let got: Vec<String> = conf
                .rules
                .iter()
                .map(|r| format!("{} {} {}", r.perm, r.refex, r.user))
                .collect();
            assert_eq!(got, *expected, "{line}");
        }
    }

    #[test]
    fn nested_groups_are_snapshots_and_groups_grow() {
        let conf = parse(
            "@inner = a\n@outer = @inner b\n@inner = c\n@all_g = @all\nrepo r\nRW = @outer @inner @all_g\n",
        )
        .unwrap();
        assert_eq!(
            groups(&conf.user_groups),
            ["@inner = a c", "@outer = a b", "@all_g = @all"]
        );
        let users: Vec<&str> = conf.user_names().into_iter().collect();
        assert_eq!(users, ["a", "b", "c"]);
    }

    #[test]
    fn groups_are_sorted_into_user_and_repo_groups_by_use() {
        let conf = parse(
            "@devs = alice\n@repos = r1 team/.*\n@refs = master dev\n@unused = zed\n\
             @both = bob r2\nrepo @repos @both @later_repos\nRW @refs = @devs @later @both\n\
             @later = carol\n",
        )
        .unwrap();
        assert_eq!(
            groups(&conf.user_groups),
            [
                "@devs = alice",
                "@unused = zed",
                "@both = bob r2",
                "@later = carol"
            ]
        );
        assert_eq!(
            groups(&conf.repo_groups),
            ["@repos = r1 team/.*", "@both = bob r2", "@later_repos = "]
        );
        assert_eq!(conf.repo_groups[2].source, None);
        assert_eq!(conf.repos, ["bob", "r1", "r2"]);
        // gitolite warns once per (ref x user) pair.
        assert_eq!(
            warnings(&conf),
            [
                "7: possible undeclared group '@later'",
                "7: possible undeclared group '@later'"
            ]
        );
    }

    #[test]
    fn patterns_and_plain_names_are_told_apart() {
        let conf = parse("repo pub/CREATOR/..* ab.+ cd.* plain\nRW = u\n").unwrap();
        assert_eq!(conf.repos, ["ab.+", "plain"]);
        let repos: Vec<&str> = conf.rules.iter().map(|r| r.repo.as_str()).collect();
        assert_eq!(repos, ["pub/CREATOR/..*", "ab.+", "cd.*", "plain"]);
    }

    #[test]
    fn what_gitolite_refuses_is_an_error_naming_the_line() {
        // Section 7c's FATAL rows, and forge's regex checks: (conf, line, message).
        let rows: &[(&str, u32, &str)] = &[
            ("@a = @nothere", 1, "undefined group '@nothere'"),
            ("@a-* = x", 1, "bad group '@a-*'"),
            ("@a = x;y", 1, "bad expansion 'x;y'"),
            ("repo foo\nRW = bad*user", 2, "bad username 'bad*user'"),
            ("repo foo\nRW @x = u", 2, "undefined group '@x'"),
            ("repo foo;bar", 1, "bad reponame 'foo;bar'"),
            (
                "repo foo\nRW ma;ster = x",
                2,
                "bad ref 'refs/heads/ma;ster'",
            ),
            ("repo foo\nRW a=b = x", 2, "bad ref 'refs/heads/='"),
            ("repo foo/\nRW = x", 1, "'foo/' ends with a '/'"),
            ("repo a/../b\nRW = x", 1, "'a/../b' contains '..'"),
            ("repo a.git/b\nRW = x", 1, "'a.git/b' contains '.git/'"),
            ("repo foo.git.git\nRW = x", 1, "'foo.git' ends with '.git'"),
            (
                "repo foo/\noption deny-rules = 1",
                1,
                "'foo/' ends with a '/'",
            ),
            ("@g = ok bad/\nrepo @g\nRW = x", 1, "'bad/' ends with a '/'"),
            (
                "include nothere.conf",
                1,
                "invalid include/subconf file/glob 'nothere.conf'",
            ),
            ("repo foo\noption x = a;b", 2, "bad config value 'a;b'"),
            (
                "repo foo\noption x = \"$HOME\"",
                2,
                "bad config value '$HOME'",
            ),
            ("subconf ;", 1, "bad subconf ';'"),
        ];
        for (text, line, message) in rows {
            let error = parse(text).map(|c| c.rules).unwrap_err();
            assert_eq!(
                error.to_string(),
                format!("{FILE}:{line}: {message}"),
                "{text}"
            );
        }
    }

    #[test]
    fn regexes_forge_cannot_compile_are_errors() {
        let rows: &[(&str, u32, &str)] = &[
            ("repo foo[\nRW = x", 1, "repo pattern 'foo['"),
            ("@g = x(\nrepo @g\nRW = x", 1, "repo pattern 'x('"),
            ("repo foo\nRW refs/heads/[ = x", 2, "ref 'refs/heads/['"),
            ("repo foo\nRW (a)\\1 = x", 2, "ref 'refs/heads/(a)\\1'"),
        ];
        for (text, line, start) in rows {
            let error = parse(text).map(|c| c.rules).unwrap_err().to_string();
            let prefix = format!("{FILE}:{line}: {start} is not a regex forge can use: ");
            assert!(error.starts_with(&prefix), "{text}: {error}");
        }
        // What is not a pattern is never compiled: a plain name, a group used only for users.
        assert!(parse("@g = x(\nrepo r\nRW = @g").is_ok());
    }

    #[test]
    fn what_gitolite_only_warns_about_is_a_warning() {
        // Section 7c's WARNING and "ok" rows: (conf, warnings as "line: message").
        let rows: &[(&str, &[&str])] = &[
            ("repo foo\nW = x", &["2: syntax error, ignoring: 'W = x'"]),
            (
                "repo foo\nRWMC = x",
                &["2: syntax error, ignoring: 'RWMC = x'"],
            ),
            (
                "repo foo\nRWX = x",
                &["2: syntax error, ignoring: 'RWX = x'"],
            ),
            ("repo foo\nRWDC = x\nRW+DCM = x", &[]),
            (
                "repo foo\nR master = x",
                &["2: doesn't make sense to supply a ref ('refs/heads/master') for 'R' rule"],
            ),
            (
                "repo foo.git\nRW = x",
                &["1: explicit '.git' extension ignored for foo.git"],
            ),
            ("RW = x", &["1: rule before any 'repo' line ignored"]),
            ("@e =", &["1: syntax error, ignoring: '@e ='"]),
            (
                "repo foo\nRW = @nosuch",
                &["2: possible undeclared group '@nosuch'"],
            ),
            ("repo foo\nRW = @all @CREATOR @READERS WRITERS", &[]),
            ("repo foo\nRW = ", &["2: syntax error, ignoring: 'RW ='"]),
            ("repo foo\nRW", &["2: syntax error, ignoring: 'RW'"]),
            ("repo", &["1: syntax error, ignoring: 'repo'"]),
            (
                "repo foo\noption x =",
                &["2: syntax error, ignoring: 'option x ='"],
            ),
            (
                "=begin other",
                &["1: syntax error, ignoring: '= begin other'"],
            ),
            (
                "include \"nothere.conf\"",
                &["1: included file not found: 'nothere.conf'"],
            ),
            (
                "repo foo\n=begin testconf\nthis is skipped\n=end\nRW = x",
                &[],
            ),
        ];
        for (text, expected) in rows {
            let conf = parse(text).unwrap();
            assert_eq!(warnings(&conf), *expected, "{text}");
        }
    }

    #[test]
    fn dropped_lines_leave_the_rest_alone() {
        let conf = parse("repo foo\nW = x\nRW = @e\n@e =\nRW = y\n").unwrap();
        assert_eq!(
            rules(&conf),
            ["1 foo @e RW refs/.* @3", "2 foo y RW refs/.* @5"]
        );
    }

    #[test]
    fn a_bare_repo_line_keeps_the_previous_repo_list() {
        let conf = parse("repo foo\nrepo\nRW = x\n").unwrap();
        assert_eq!(rules(&conf), ["1 foo x RW refs/.* @3"]);
    }

    #[test]
    fn features_forge_lacks_are_listed_as_unsupported() {
        let rows: &[(&str, &str)] = &[
            (
                "repo foo\nconfig core.foo = bar",
                "git config 'core.foo' is not supported",
            ),
            (
                "repo foo\ndesc = \"hello\"",
                "git config 'gitweb.description' is not supported",
            ),
            (
                "repo foo\nowner = bob",
                "git config 'gitweb.owner' is not supported",
            ),
            (
                "repo foo\noption foo.bar = baz",
                "option 'foo.bar' is not supported",
            ),
            (
                "repo foo\nRW VREF/COUNT/5 = x",
                "'VREF/COUNT/5' is not supported: forge implements only VREF/NAME",
            ),
            (
                "subconf x",
                "subconf 'x' () is not supported; its rules were not read",
            ),
        ];
        for (text, message) in rows {
            let conf = parse(text).unwrap();
            let got: Vec<String> = conf
                .unsupported
                .iter()
                .map(|u| u.what.to_string())
                .collect();
            assert_eq!(got, [message.to_string()], "{text}");
        }
        // Known options are not listed; all options are kept, quotes stripped.
        let conf = parse(
            "repo foo\noption deny-rules = 1\nconfig gitolite-options.DELETE_IS_D = '1'\n\
             option foo.bar = \"baz qux\"\nconfig core.x = 1\nRW = u",
        )
        .unwrap();
        assert_eq!(
            options(&conf),
            [
                "1 foo deny-rules=1",
                "2 foo DELETE_IS_D=1",
                "3 foo foo.bar=baz qux"
            ]
        );
        assert_eq!(rules(&conf), ["5 foo u RW refs/.* @6"]);
        assert_eq!(conf.unsupported.len(), 2);
    }

    #[test]
    fn includes_are_spliced_in_with_their_own_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, text).unwrap();
            path
        };
        write("repos/b.conf", "repo b\nRW = @devs\n");
        write("repos/a.conf", "repo a\nRWC = @devs\n");
        write("groups.conf", "@devs = alice\n");
        let main = write(
            "gitolite.conf",
            "include \"groups.conf\"\ninclude \"repos/*.conf\"\nrepo a\nRW = late\n",
        );
        let conf = parse_file(&main, &Settings::default()).unwrap();
        let got: Vec<String> = conf
            .rules
            .iter()
            .map(|r| {
                let file = r.source.file.strip_prefix(dir.path()).unwrap().display();
                format!("{} {} {} {file}:{}", r.seq, r.repo, r.user, r.source.line)
            })
            .collect();
        assert_eq!(
            got,
            [
                "1 a @devs repos/a.conf:2",
                "3 b @devs repos/b.conf:2",
                "4 a late gitolite.conf:4",
            ]
        );
        assert_eq!(options(&conf), ["2 a CREATE_IS_C=1"]);
        assert_eq!(groups(&conf.user_groups), ["@devs = alice"]);
        assert_eq!(
            conf.user_groups[0].source.as_ref().map(|s| s.file.clone()),
            Some(dir.path().join("groups.conf"))
        );
    }
}
