//! The evaluator against decisions verified with Debian's gitolite3 3.6.12 (`gitolite access`).
//! Each conf below is one of the verified scenarios, written as rules.

use super::*;
use crate::policy::refs::{ObjectId, RefName};
use crate::policy::rules::{Perm, Refex, Source};

/// Builds parts the way gitolite numbers them: one seq per (ref × user) of a rule line.
#[derive(Default)]
struct Conf {
    seq: i64,
    parts: Parts,
}

impl Conf {
    fn group(&mut self, name: &str, members: &str) -> &mut Self {
        let members = members.split_whitespace().map(str::to_owned).collect();
        self.parts.user_groups.push((name.to_owned(), members));
        self
    }

    fn rule(&mut self, repos: &str, perm: &str, refs: &str, users: &str) -> &mut Self {
        let refs: Vec<&str> = if refs.is_empty() {
            vec![""]
        } else {
            refs.split_whitespace().collect()
        };
        for refex in refs {
            for user in users.split_whitespace() {
                self.seq += 1;
                for repo in repos.split_whitespace() {
                    self.parts.rules.push(Rule {
                        seq: self.seq,
                        repo: RepoSpec::parse(repo).unwrap(),
                        who: Subject::parse_in_rule(user, ROLES).unwrap(),
                        perm: Perm::parse(perm).unwrap(),
                        refex: Refex::parse(refex).unwrap(),
                        source: Source(format!("test rule {}", self.seq)),
                    });
                }
            }
        }
        self
    }

    fn option(&mut self, repos: &str, name: &str, value: &str) -> &mut Self {
        self.seq += 1;
        for repo in repos.split_whitespace() {
            self.parts.options.push(RepoOption {
                seq: self.seq,
                repo: RepoSpec::parse(repo).unwrap(),
                name: name.to_owned(),
                value: value.to_owned(),
                source: Source("test".into()),
            });
        }
        self
    }

    fn build(&self) -> Policy {
        Policy::build(self.parts.clone()).unwrap()
    }
}

fn existing(name: &str) -> RepoState<'_> {
    RepoState {
        name,
        exists: true,
        creator: None,
        roles: &[],
    }
}

/// Asks like `gitolite access REPO USER PERM [REF]` for an existing plain repository and
/// returns gitolite's printed line.
fn ask(policy: &Policy, repo: &str, user: &str, need: &str, reference: Option<&str>) -> String {
    let full = reference.map(|r| {
        if r.starts_with("refs/") || r.starts_with("VREF/") {
            r.to_owned()
        } else {
            format!("refs/heads/{r}")
        }
    });
    let verdict = policy.access(
        &existing(repo),
        user,
        Need::parse(need).unwrap(),
        full.as_deref(),
        None,
    );
    verdict.gitolite_line()
}

fn conf_a() -> Policy {
    let mut conf = Conf::default();
    conf.group("@devs", "alice bob")
        .group("@all_devs", "alice bob carol")
        .group("@devs", "dave")
        .rule("foo", "RW+", "", "alice")
        .rule("foo", "RW", "master dev/", "bob")
        .rule("foo", "-", "master", "carol")
        .rule("foo", "RW", "", "carol")
        .rule("foo", "R", "", "@all")
        .rule("bar baz", "RW", "", "@all_devs")
        .rule("@all", "R", "", "daemon");
    conf.build()
}

#[test]
fn conf_a_matches_gitolite() {
    let policy = conf_a();
    let rows = [
        ("foo", "alice", "+", None, "refs/.*"),
        (
            "foo",
            "bob",
            "+",
            Some("master"),
            "+ refs/heads/master foo bob DENIED by fallthru",
        ),
        ("foo", "bob", "W", Some("master"), "refs/heads/master"),
        ("foo", "bob", "W", Some("master2"), "refs/heads/master"),
        ("foo", "bob", "W", Some("dev/x"), "refs/heads/dev/"),
        (
            "foo",
            "bob",
            "W",
            Some("devx"),
            "W refs/heads/devx foo bob DENIED by fallthru",
        ),
        (
            "foo",
            "bob",
            "W",
            Some("refs/tags/v1"),
            "W refs/tags/v1 foo bob DENIED by fallthru",
        ),
        (
            "foo",
            "carol",
            "W",
            Some("master"),
            "W refs/heads/master foo carol DENIED by refs/heads/master",
        ),
        ("foo", "carol", "W", None, "refs/.*"),
        ("foo", "carol", "W", Some("other"), "refs/.*"),
        ("foo", "eve", "R", None, "refs/.*"),
        ("foo", "eve", "W", None, "W any foo eve DENIED by fallthru"),
        ("bar", "carol", "W", None, "refs/.*"),
        ("baz", "alice", "W", None, "refs/.*"),
        (
            "bar",
            "dave",
            "W",
            None,
            "W any bar dave DENIED by fallthru",
        ),
        ("foo", "daemon", "R", None, "refs/.*"),
    ];
    for (repo, user, need, reference, expected) in rows {
        assert_eq!(
            ask(&policy, repo, user, need, reference),
            expected,
            "{repo} {user} {need} {reference:?}"
        );
    }
}

#[test]
fn a_missing_plain_repository_is_denied_like_gitolite() {
    let policy = conf_a();
    let missing = RepoState {
        name: "nosuch",
        exists: false,
        creator: None,
        roles: &[],
    };
    let verdict = policy.access(&missing, "daemon", Need::of(Op::Read), None, Some("daemon"));
    assert_eq!(
        verdict.gitolite_line(),
        "R any nosuch daemon DENIED by fallthru"
    );
}

#[test]
fn deny_rules_and_their_option_match_gitolite() {
    let mut conf = Conf::default();
    conf.option("dr", "deny-rules", "1")
        .rule("dr", "-", "", "bad")
        .rule("dr", "R", "", "@all")
        .option("dr2", "deny-rules", "1")
        .rule("dr2", "-", "refs/tags/", "x")
        .rule("dr2", "RW", "", "x")
        .rule("nodr", "-", "", "bad")
        .rule("nodr", "R", "", "@all")
        .rule("ord", "RW+", "", "@all")
        .rule("ord", "-", "", "bad");
    let policy = conf.build();
    let rows = [
        ("dr", "bad", "R", None, "R any dr bad DENIED by refs/.*"),
        ("dr", "good", "R", None, "refs/.*"),
        ("dr2", "x", "W", None, "W any dr2 x DENIED by refs/tags/"),
        ("dr2", "x", "W", Some("master"), "refs/.*"),
        (
            "dr2",
            "x",
            "W",
            Some("refs/tags/v1"),
            "W refs/tags/v1 dr2 x DENIED by refs/tags/",
        ),
        ("nodr", "bad", "R", None, "refs/.*"),
        (
            "nodr",
            "bad",
            "W",
            Some("master"),
            "W refs/heads/master nodr bad DENIED by refs/.*",
        ),
        (
            "nodr",
            "bad",
            "R",
            Some("master"),
            "R refs/heads/master nodr bad DENIED by refs/.*",
        ),
        ("ord", "bad", "W", Some("master"), "refs/.*"),
    ];
    for (repo, user, need, reference, expected) in rows {
        assert_eq!(
            ask(&policy, repo, user, need, reference),
            expected,
            "{repo} {user} {need} {reference:?}"
        );
    }
}

fn conf_c() -> Policy {
    let mut conf = Conf::default();
    conf.rule("cc", "RWC", "", "cu")
        .rule("cc", "RW+", "", "pu")
        .rule("cc", "RW", "", "wu")
        .rule("dd", "RW+D", "", "du")
        .rule("dd", "RW+", "", "pu")
        .rule("mm", "RW+M", "", "mu")
        .rule("mm", "RW+", "", "pu")
        .rule("none", "RW+", "", "pu")
        .rule("none", "RW", "", "wu")
        .rule("scope", "RW+", "", "a")
        .rule("scope", "RWD", "", "b");
    conf.build()
}

/// `gitolite access` turns C into W, D into + and M into W unless the repository's rules
/// make them count.
fn adjusted(policy: &Policy, repo: &str, need: &str) -> String {
    match need {
        "C" if !policy.is_on(repo, None, "CREATE_IS_C") => "W".into(),
        "D" if !policy.is_on(repo, None, "DELETE_IS_D") => "+".into(),
        "M" if !policy.is_on(repo, None, "MERGE_CHECK") => "W".into(),
        _ => need.into(),
    }
}

#[test]
fn create_delete_and_merge_needs_follow_the_repositorys_rules() {
    let policy = conf_c();
    let rows = [
        ("cc", "cu", "C", Some("master"), "refs/.*"),
        (
            "cc",
            "pu",
            "C",
            Some("master"),
            "C refs/heads/master cc pu DENIED by fallthru",
        ),
        ("cc", "pu", "+", Some("master"), "refs/.*"),
        ("cc", "wu", "W", Some("master"), "refs/.*"),
        ("none", "wu", "C", Some("master"), "refs/.*"),
        (
            "none",
            "wu",
            "D",
            Some("master"),
            "+ refs/heads/master none wu DENIED by fallthru",
        ),
        ("none", "pu", "D", Some("master"), "refs/.*"),
        (
            "dd",
            "pu",
            "D",
            Some("master"),
            "D refs/heads/master dd pu DENIED by fallthru",
        ),
        ("dd", "du", "D", Some("master"), "refs/.*"),
        ("dd", "du", "+", Some("master"), "refs/.*"),
        ("mm", "pu", "M", None, "M any mm pu DENIED by fallthru"),
        ("mm", "mu", "M", None, "refs/.*"),
        ("none", "wu", "M", None, "refs/.*"),
        (
            "scope",
            "a",
            "D",
            Some("master"),
            "D refs/heads/master scope a DENIED by fallthru",
        ),
        ("scope", "a", "+", Some("master"), "refs/.*"),
        ("scope", "b", "D", Some("master"), "refs/.*"),
        (
            "scope",
            "b",
            "+",
            Some("master"),
            "+ refs/heads/master scope b DENIED by fallthru",
        ),
    ];
    for (repo, user, need, reference, expected) in rows {
        let need = adjusted(&policy, repo, need);
        assert_eq!(
            ask(&policy, repo, user, &need, reference),
            expected,
            "{repo} {user} {need} {reference:?}"
        );
    }
}

#[test]
fn refexes_match_as_gitolite_matches_them() {
    let mut conf = Conf::default();
    conf.rule("rx", "RW", "refs/tags/v[0-9]", "tagger")
        .rule("rx", "RW", "master$", "exact")
        .rule("rx", "RW", "refs/heads/(foo|bar)$", "alt")
        .rule("rx", "RW", "refs/heads/personal/USER/", "@all")
        .rule("rx", "R", "", "@all");
    let policy = conf.build();
    let rows = [
        ("tagger", "W", "refs/tags/v1", "refs/tags/v[0-9]"),
        (
            "tagger",
            "W",
            "v1",
            "W refs/heads/v1 rx tagger DENIED by fallthru",
        ),
        ("exact", "W", "master", "refs/heads/master$"),
        (
            "exact",
            "W",
            "master2",
            "W refs/heads/master2 rx exact DENIED by fallthru",
        ),
        (
            "alt",
            "W",
            "foobar",
            "W refs/heads/foobar rx alt DENIED by fallthru",
        ),
        ("alt", "W", "bar", "refs/heads/(foo|bar)$"),
        (
            "joe",
            "W",
            "refs/heads/personal/joe/x",
            "refs/heads/personal/joe/",
        ),
        (
            "joe",
            "W",
            "refs/heads/personal/bob/x",
            "W refs/heads/personal/bob/x rx joe DENIED by fallthru",
        ),
        ("joe", "R", "refs/heads/zzz", "refs/.*"),
        (
            "joe",
            "W",
            "refs/heads/zzz",
            "W refs/heads/zzz rx joe DENIED by fallthru",
        ),
    ];
    for (user, need, reference, expected) in rows {
        assert_eq!(
            ask(&policy, "rx", user, need, Some(reference)),
            expected,
            "{user} {need} {reference}"
        );
    }
}

fn conf_e() -> Policy {
    let mut conf = Conf::default();
    conf.group("@devs", "alice bob")
        .rule("pub/CREATOR/..*", "C", "", "@devs")
        .rule("pub/CREATOR/..*", "RW+", "", "CREATOR")
        .rule("pub/CREATOR/..*", "RW", "", "WRITERS")
        .rule("pub/CREATOR/..*", "R", "", "READERS")
        .rule("plain/..*", "C", "", "alice")
        .rule("plain/..*", "RW", "", "bob");
    conf.build()
}

#[test]
fn wild_repositories_follow_creator_and_roles() {
    let policy = conf_e();
    let missing = |name| RepoState {
        name,
        exists: false,
        creator: None,
        roles: &[],
    };
    let create = Need::of(Op::CreateRepo);
    let line = |state: &RepoState<'_>, user: &str, need: Need, gl_user: Option<&str>| {
        policy
            .access(state, user, need, None, gl_user)
            .gitolite_line()
    };
    let alice_x = missing("pub/alice/x");
    assert_eq!(line(&alice_x, "alice", create, Some("alice")), "refs/.*");
    assert_eq!(
        line(&alice_x, "alice", create, None),
        "^C any pub/alice/x alice DENIED by fallthru"
    );
    assert_eq!(
        line(&missing("pub/bob/x"), "alice", create, Some("alice")),
        "^C any pub/bob/x alice DENIED by fallthru"
    );
    assert_eq!(line(&alice_x, "bob", create, Some("alice")), "refs/.*");
    assert_eq!(
        line(&alice_x, "alice", Need::of(Op::Write), Some("alice")),
        "W any pub/alice/x alice DENIED by fallthru"
    );
    assert_eq!(
        line(&alice_x, "alice", Need::of(Op::Read), Some("alice")),
        "R any pub/alice/x alice DENIED by fallthru"
    );
    assert_eq!(
        line(&missing("plain/x"), "bob", Need::of(Op::Write), Some("bob")),
        "W any plain/x bob DENIED by fallthru"
    );
    assert_eq!(line(&missing("plain/x"), "alice", create, None), "refs/.*");

    let roles = [
        ("READERS".to_owned(), "carol".to_owned()),
        ("WRITERS".to_owned(), "bob".to_owned()),
    ];
    let created = RepoState {
        name: "pub/alice/x",
        exists: true,
        creator: Some("alice"),
        roles: &roles,
    };
    let rewind = Need::of(Op::Rewind);
    assert_eq!(line(&created, "alice", rewind, None), "refs/.*");
    assert_eq!(
        line(&created, "alice", create, Some("alice")),
        "^C any pub/alice/x alice DENIED by existence"
    );
    assert_eq!(line(&created, "carol", Need::of(Op::Read), None), "refs/.*");
    assert_eq!(
        line(&created, "carol", Need::of(Op::Write), None),
        "W any pub/alice/x carol DENIED by fallthru"
    );
    assert_eq!(line(&created, "bob", Need::of(Op::Write), None), "refs/.*");
    assert_eq!(
        line(&created, "bob", rewind, None),
        "+ any pub/alice/x bob DENIED by fallthru"
    );
    assert_eq!(
        line(&created, "eve", Need::of(Op::Read), None),
        "R any pub/alice/x eve DENIED by fallthru"
    );
    assert_eq!(
        policy.creatable_patterns("alice"),
        ["pub/CREATOR/..*", "plain/..*"]
    );
    assert_eq!(policy.creatable_patterns("bob"), ["pub/CREATOR/..*"]);
}

#[test]
fn path_rules_deny_first_and_fall_through_to_allow() {
    let mut conf = Conf::default();
    conf.rule("vr", "RW+", "", "alice bob")
        .rule("vr", "-", "VREF/NAME/secret/", "bob")
        .rule("vr", "RW", "NAME/docs/", "bob")
        .rule("vr", "-", "NAME/", "bob");
    let policy = conf.build();
    let rows = [
        (
            "bob",
            "W",
            "VREF/NAME/secret/a",
            "W VREF/NAME/secret/a vr bob DENIED by VREF/NAME/secret/",
        ),
        ("bob", "W", "VREF/NAME/docs/a", "VREF/NAME/docs/"),
        (
            "bob",
            "W",
            "VREF/NAME/src/a",
            "W VREF/NAME/src/a vr bob DENIED by VREF/NAME/",
        ),
        (
            "alice",
            "W",
            "VREF/NAME/secret/a",
            "W VREF/NAME/secret/a vr alice allowed by fallthru",
        ),
        (
            "bob",
            "+",
            "VREF/NAME/docs/a",
            "+ VREF/NAME/docs/a vr bob DENIED by VREF/NAME/",
        ),
        ("bob", "W", "master", "refs/.*"),
    ];
    for (user, need, reference, expected) in rows {
        assert_eq!(
            ask(&policy, "vr", user, need, Some(reference)),
            expected,
            "{user} {need} {reference}"
        );
    }
    assert_eq!(
        policy.vrefs(&existing("vr"), "bob"),
        ["VREF/NAME/secret/", "VREF/NAME/docs/", "VREF/NAME/"]
    );
    assert!(policy.vrefs(&existing("vr"), "alice").is_empty());
}

#[test]
fn groups_patterns_and_the_creator_word_match_gitolite() {
    let mut conf = Conf::default();
    conf.group("@g", "@all")
        .rule("foo", "RW", "", "@g")
        .rule("foo", "RW", "", "CREATOR")
        .rule("f.*", "RW", "", "fpat")
        .rule("ab.+", "RW", "", "u");
    let policy = conf.build();
    assert_eq!(
        ask(&policy, "foo", "anyone", "W", None),
        "W any foo anyone DENIED by fallthru"
    );
    assert_eq!(ask(&policy, "foo", "@all", "W", None), "refs/.*");
    assert_eq!(
        ask(&policy, "foo", "CREATOR", "W", None),
        "W any foo CREATOR DENIED by fallthru"
    );
    assert_eq!(ask(&policy, "foo", "fpat", "W", None), "refs/.*");
    assert_eq!(ask(&policy, "ab.+", "u", "W", None), "refs/.*");
    assert_eq!(
        ask(&policy, "abx", "u", "W", None),
        "W any abx u DENIED by fallthru"
    );
}

#[test]
fn nested_groups_and_repo_groups_apply() {
    let mut conf = Conf::default();
    conf.group("@leads", "alice").group("@devs", "@leads bob");
    conf.parts
        .repo_groups
        .push(("@team".into(), vec!["team/.*".into(), "infra".into()]));
    conf.rule("@team", "RW", "", "@devs");
    let policy = conf.build();
    assert_eq!(ask(&policy, "team/app", "alice", "W", None), "refs/.*");
    assert_eq!(ask(&policy, "infra", "bob", "W", None), "refs/.*");
    assert_eq!(
        ask(&policy, "other", "bob", "W", None),
        "W any other bob DENIED by fallthru"
    );
}

#[test]
fn group_cycles_and_undefined_groups_are_refused() {
    let mut cycle = Conf::default();
    cycle.group("@a", "@b").group("@b", "@a");
    assert!(matches!(
        Policy::build(cycle.parts.clone()),
        Err(Error::GroupCycle { .. })
    ));
    let mut undefined = Conf::default();
    undefined.group("@a", "@nothere");
    assert!(matches!(
        Policy::build(undefined.parts.clone()),
        Err(Error::UndefinedGroup { .. })
    ));
}

fn update(reference: &str, old: &str, new: &str, kind: UpdateKind) -> RefUpdate {
    let id = |c: &str| ObjectId::parse(&c.repeat(40)).unwrap();
    RefUpdate {
        ref_name: RefName::parse(reference).unwrap(),
        old: id(old),
        new: id(new),
        kind,
        paths: None,
        has_merges: false,
    }
}

#[test]
fn updates_need_what_gitolites_update_hook_asks() {
    let policy = conf_c();
    use UpdateKind::*;
    let rows = [
        ("none", update("refs/heads/n", "0", "1", Create), "W"),
        ("none", update("refs/heads/m", "1", "2", FastForward), "W"),
        (
            "none",
            update("refs/heads/m", "1", "2", NonFastForward),
            "+",
        ),
        ("none", update("refs/heads/m", "1", "0", Delete), "+"),
        ("none", update("refs/tags/v1", "1", "2", FastForward), "+"),
        ("none", update("refs/tags/v1", "0", "2", Create), "W"),
        ("cc", update("refs/heads/n", "0", "1", Create), "C"),
        ("dd", update("refs/heads/m", "1", "0", Delete), "D"),
        ("dd", update("refs/heads/m", "1", "2", NonFastForward), "+"),
    ];
    for (repo, update, need) in rows {
        assert_eq!(
            policy
                .need_of(&existing(repo), &update, false)
                .as_gitolite(),
            need,
            "{repo} {update:?}"
        );
    }
    let merge = update("refs/heads/m", "1", "2", FastForward);
    assert_eq!(
        policy.need_of(&existing("mm"), &merge, true).as_gitolite(),
        "WM"
    );
    assert_eq!(
        policy
            .need_of(&existing("none"), &merge, true)
            .as_gitolite(),
        "W"
    );
}

#[test]
fn generic_names_replace_the_creators_first_whole_word() {
    assert_eq!(
        generic_name("pub/alice/x", "alice").as_deref(),
        Some("pub/CREATOR/x")
    );
    assert_eq!(
        generic_name("pub/alicex/alice", "alice").as_deref(),
        Some("pub/alicex/CREATOR")
    );
    assert_eq!(generic_name("pub/bob/x", "alice"), None);
}

#[test]
fn refs_outside_branches_and_tags_need_a_rule_naming_their_namespace() {
    let mut conf = Conf::default();
    conf.rule("foo", "-", "refs/notes/private", "alice")
        .rule("foo", "RW+", "", "alice bob")
        .rule("foo", "RW+", "refs/notes/", "alice")
        .rule("foo", "RW+", "refs/(replace|notes)/", "bob");
    let policy = conf.build();
    let rows = [
        ("alice", "refs/heads/main", "refs/.*"),
        ("alice", "refs/tags/v1", "refs/.*"),
        ("alice", "refs/notes/commits", "refs/notes/"),
        (
            "alice",
            "refs/notes/private",
            "W refs/notes/private foo alice DENIED by refs/notes/private",
        ),
        (
            "alice",
            "refs/replace/1111",
            "W refs/replace/1111 foo alice DENIED by namespace",
        ),
        (
            "bob",
            "refs/notes/commits",
            "W refs/notes/commits foo bob DENIED by namespace",
        ),
        (
            "carol",
            "refs/replace/1111",
            "W refs/replace/1111 foo carol DENIED by fallthru",
        ),
    ];
    for (user, reference, line) in rows {
        assert_eq!(
            ask(&policy, "foo", user, "W", Some(reference)),
            line,
            "{user} {reference}"
        );
    }
    let verdict = policy.access(
        &existing("foo"),
        "alice",
        Need::parse("W").unwrap(),
        Some("refs/replace/1111"),
        None,
    );
    assert_eq!(
        verdict.reason(),
        "denied: refs outside refs/heads/ and refs/tags/ need a rule naming them \
         (refs/replace/); ask an admin"
    );
    let any = policy.access(
        &existing("foo"),
        "bob",
        Need::parse("W").unwrap(),
        None,
        None,
    );
    assert!(any.allowed, "the SSH-time check names no ref");
}
