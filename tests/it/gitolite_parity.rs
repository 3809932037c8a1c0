//! Parity with gitolite itself (issue 4): Debian's gitolite3 and forge get the same confs, the
//! same wild repositories (same creators, same roles), and then every question of the cross
//! product users x repositories x permissions x refs; forge's answer (allowed or not, and the
//! line `gitolite access` prints) must be gitolite's, word for word, for every one of them.
//!
//! The questions go to gitolite in batches (`gitolite access % % PERM REF`, one run per permission,
//! ref and `GL_USER`), and a sample again one by one, to compare exit codes too. `GL_USER` (the
//! would-be creator of a missing repository) is left unset for every question, and set, for
//! missing repositories, to each user their names hold, with fewer refs. On forge's side
//! the conf goes through the importer (`gitolite::parse_file`, `import::prepare`) into a
//! [`Policy`], asked as `forgectl access` asks it: `C`, `D` and `M` count as `W`, `+` and `W`
//! unless the repository's options make them count, as gitolite's CLI does.
//!
//! A mismatch does not stop the run: every one is listed with its conf, then the test fails.

use crate::common;

use common::gitolite::Gitolite;
use forge::admin::gitolite::{self, Settings, import};
use forge::policy::{Need, Op, Policy, RepoState};
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Every permission `gitolite access` takes.
const PERMS: [&str; 7] = ["R", "W", "+", "C", "D", "M", "^C"];

/// The refs every conf is asked about, besides `any`.
const REFS: &[&str] = &[
    "refs/heads/master",
    "refs/heads/master2",
    "refs/heads/dev/x",
    "refs/heads/feature",
    "refs/tags/v1",
    "refs/tags/x",
    "VREF/NAME/secret/a",
    "VREF/NAME/docs/a",
    "VREF/NAME/src/b",
];

/// The refs asked about missing repositories with `GL_USER` set, besides `any`: for a missing
/// repository the would-be creator only decides which patterns hold it, so fewer refs do (and
/// each `GL_USER` costs a gitolite run per permission and ref).
const CREATOR_REFS: &[&str] = &[
    "refs/heads/master",
    "refs/heads/dev/x",
    "refs/tags/v1",
    "VREF/NAME/secret/a",
    "VREF/NAME/docs/a",
];

/// Someone no conf names.
const STRANGER: &str = "mallory";

/// A wild repository to create before asking: its creator, and the roles the creator hands out.
#[derive(Debug, Clone)]
struct Wild {
    name: String,
    creator: String,
    roles: Vec<(String, String)>,
}

fn wild(name: &str, creator: &str, roles: &[(&str, &str)]) -> Wild {
    Wild {
        name: name.to_owned(),
        creator: creator.to_owned(),
        roles: roles
            .iter()
            .map(|(role, member)| ((*role).to_owned(), (*member).to_owned()))
            .collect(),
    }
}

/// One conf and what is asked about it.
struct Scenario {
    name: String,
    /// The conf after gitolite's admin repo lines.
    conf: String,
    /// Wild repositories to create.
    wild: Vec<Wild>,
    /// Whether a wild repository (or role) gitolite refuses is skipped, and said so, rather
    /// than a broken scenario: for generated confs, where rules may forbid it.
    may_skip_wild: bool,
    /// Names that do not exist: names matching each pattern, and a plain one.
    missing: Vec<String>,
    /// Refs asked about besides `any` and [`REFS`].
    refs: Vec<String>,
}

impl Scenario {
    fn new(name: &str, conf: &str) -> Scenario {
        Scenario {
            name: name.to_owned(),
            conf: conf.to_owned(),
            wild: Vec::new(),
            may_skip_wild: false,
            missing: vec!["nosuch".to_owned()],
            refs: Vec::new(),
        }
    }

    fn wild(mut self, wild: Vec<Wild>) -> Scenario {
        self.wild = wild;
        self
    }

    fn may_skip_wild(mut self) -> Scenario {
        self.may_skip_wild = true;
        self
    }

    fn missing(mut self, names: &[&str]) -> Scenario {
        self.missing.extend(names.iter().map(|n| (*n).to_owned()));
        self
    }

    fn refs(mut self, refs: &[&str]) -> Scenario {
        self.refs.extend(refs.iter().map(|r| (*r).to_owned()));
        self
    }
}

/// A repository as both sides know it.
#[derive(Debug, Clone)]
struct Repo {
    name: String,
    exists: bool,
    creator: Option<String>,
    roles: Vec<(String, String)>,
}

/// One question: `GL_USER=gl_user gitolite access repo user perm ref`.
#[derive(Debug, Clone)]
struct Question<'a> {
    gl_user: Option<&'a str>,
    repo: &'a Repo,
    user: &'a str,
    perm: &'a str,
    reference: Option<&'a str>,
}

impl Question<'_> {
    fn render(&self) -> String {
        let facts = match (&self.repo.exists, &self.repo.creator) {
            (false, _) => "missing".to_owned(),
            (true, None) => "exists".to_owned(),
            (true, Some(creator)) => {
                format!("wild, creator {creator}, roles {:?}", self.repo.roles)
            }
        };
        format!(
            "GL_USER={} gitolite access {} {} {} {}   [{facts}]",
            self.gl_user.unwrap_or("(unset)"),
            self.repo.name,
            self.user,
            self.perm,
            self.reference.unwrap_or("any"),
        )
    }
}

/// An answer: allowed (exit 0), and the line printed.
type Answer = (bool, String);

/// Returns forge's answer to `question`, asked as `forgectl access` asks the policy.
fn forge_answer(policy: &Policy, question: &Question<'_>) -> Answer {
    let repo = question.repo;
    let need = Need::parse(question.perm).expect("a permission gitolite takes");
    let creator = if repo.exists {
        repo.creator.as_deref()
    } else {
        question.gl_user
    };
    let on = |option| policy.is_on(&repo.name, creator, option);
    let need = match need.op {
        Op::CreateRef if !on("CREATE_IS_C") => Need::of(Op::Write),
        Op::DeleteRef if !on("DELETE_IS_D") => Need::of(Op::Rewind),
        Op::Merge if !on("MERGE_CHECK") => Need::of(Op::Write),
        _ => need,
    };
    let state = RepoState {
        name: &repo.name,
        exists: repo.exists,
        creator: repo.creator.as_deref(),
        roles: &repo.roles,
    };
    let verdict = policy.access(
        &state,
        question.user,
        need,
        question.reference,
        question.gl_user,
    );
    (verdict.allowed, verdict.gitolite_line())
}

/// Returns the policy forge imports from the conf gitolite compiled, and the users it names.
fn forge_policy(real: &Gitolite) -> (Policy, BTreeSet<String>) {
    let conf = gitolite::parse_file(&real.conf_file(), &Settings::default())
        .unwrap_or_else(|e| panic!("forge cannot parse the conf: {e}"));
    let imported = import::prepare(&conf, None);
    assert!(
        imported.problems.is_empty(),
        "forge cannot import all of the conf: {:?}",
        imported.problems
    );
    let parts = imported
        .document
        .to_parts()
        .expect("an imported document makes parts");
    let policy = Policy::build(parts).expect("imported parts make a policy");
    let users = conf.user_names().into_iter().map(str::to_owned).collect();
    (policy, users)
}

/// A small deterministic generator (xorshift64), so a failing run can be repeated.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// Returns `count` distinct items, in the order picked.
    fn distinct<'a, T: PartialEq>(&mut self, items: &'a [T], count: usize) -> Vec<&'a T> {
        let mut chosen: Vec<&T> = Vec::new();
        while chosen.len() < count.min(items.len()) {
            let item = self.pick(items);
            if !chosen.contains(&item) {
                chosen.push(item);
            }
        }
        chosen
    }
}

/// What one scenario came to.
struct Report {
    name: String,
    compared: usize,
    singly: usize,
    /// What could not be set up, in a generated conf.
    notes: Vec<String>,
    elapsed: Duration,
    /// The rendered failure, if any answer differed.
    failure: Option<String>,
}

/// Sets up gitolite and forge with `scenario`, asks both everything, and reports.
fn run(scenario: &Scenario) -> Report {
    let started = Instant::now();
    let real = Gitolite::with_conf(&scenario.conf);
    let mut notes = Vec::new();
    let mut created = Vec::new();
    for wild in &scenario.wild {
        let (may, line) = real.access(&wild.name, &wild.creator, "^C", "", Some(&wild.creator));
        if !may {
            let note = format!("{} not created (gitolite: {line})", wild.name);
            assert!(scenario.may_skip_wild, "conf '{}': {note}", scenario.name);
            notes.push(note);
            continue;
        }
        real.create_wild(&wild.name, &wild.creator);
        let mut roles = Vec::new();
        for (role, member) in &wild.roles {
            let outcome = real.run(
                &["perms", &wild.name, "+", role, member],
                Some(&wild.creator),
                None,
            );
            if outcome.code == Some(0) {
                roles.push((role.clone(), member.clone()));
            } else {
                let why = outcome.stderr.lines().next().unwrap_or("").to_owned();
                let note = format!("{} not given {role} {member} (gitolite: {why})", wild.name);
                assert!(scenario.may_skip_wild, "conf '{}': {note}", scenario.name);
                notes.push(note);
            }
        }
        created.push(Wild {
            roles,
            ..wild.clone()
        });
    }

    let (policy, conf_users) = forge_policy(&real);
    let mut users: BTreeSet<String> = conf_users;
    let listed = real.ok(&["list-users"], None, None);
    users.extend(
        listed
            .stdout
            .lines()
            .filter(|u| !u.starts_with('@'))
            .map(str::to_owned),
    );
    for wild in &created {
        users.insert(wild.creator.clone());
        users.extend(
            wild.roles
                .iter()
                .map(|(_, member)| member.clone())
                .filter(|m| !m.starts_with('@')),
        );
    }
    assert!(!users.contains(STRANGER), "the stranger is in the conf");
    users.insert(STRANGER.to_owned());
    let users: Vec<String> = users.into_iter().collect();

    let on_disk = real.ok(&["list-phy-repos"], None, None);
    let mut repos: Vec<Repo> = on_disk
        .stdout
        .lines()
        .map(|name| {
            let wild = created.iter().find(|w| w.name == name);
            Repo {
                name: name.to_owned(),
                exists: true,
                creator: wild.map(|w| w.creator.clone()),
                roles: wild.map(|w| w.roles.clone()).unwrap_or_default(),
            }
        })
        .collect();
    for wild in &created {
        assert!(
            repos.iter().any(|r| r.name == wild.name),
            "{} was created but is not on disk",
            wild.name
        );
    }
    for name in &scenario.missing {
        assert!(
            !repos.iter().any(|r| &r.name == name),
            "{name} is meant to be missing but exists"
        );
        repos.push(Repo {
            name: name.clone(),
            exists: false,
            creator: None,
            roles: Vec::new(),
        });
    }

    // GL_USER only matters for missing repositories, whose would-be creator it is: ask about
    // them with it unset and as each user their names hold (the daemon asks as the user).
    let mut gl_users: Vec<Option<&str>> = vec![None];
    for user in &users {
        let named = scenario.missing.iter().any(|name| {
            name.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .any(|word| word == user)
        });
        if named {
            gl_users.push(Some(user));
        }
    }
    let all_refs: Vec<Option<&str>> = std::iter::once(None)
        .chain(REFS.iter().copied().map(Some))
        .chain(scenario.refs.iter().map(|r| Some(r.as_str())))
        .collect();
    let creator_refs: Vec<Option<&str>> = std::iter::once(None)
        .chain(CREATOR_REFS.iter().copied().map(Some))
        .collect();

    let mut compared = 0;
    let mut mismatches = Vec::new();
    let mut asked: Vec<(Question<'_>, Answer)> = Vec::new();
    for &gl_user in &gl_users {
        let batch_repos: Vec<&Repo> = repos
            .iter()
            .filter(|r| gl_user.is_none() || !r.exists)
            .collect();
        let pairs: Vec<(&str, &str)> = batch_repos
            .iter()
            .flat_map(|r| users.iter().map(|u| (r.name.as_str(), u.as_str())))
            .collect();
        let people: Vec<(&Repo, &str)> = batch_repos
            .iter()
            .flat_map(|r| users.iter().map(move |u| (*r, u.as_str())))
            .collect();
        let refs = if gl_user.is_none() {
            &all_refs
        } else {
            &creator_refs
        };
        for perm in PERMS {
            for &reference in refs {
                let answers = real.access_batch(perm, reference.unwrap_or(""), &pairs, gl_user);
                for ((repo, user), theirs) in people.iter().zip(answers) {
                    let question = Question {
                        gl_user,
                        repo,
                        user,
                        perm,
                        reference,
                    };
                    let theirs = (!theirs.contains("DENIED"), theirs);
                    let ours = forge_answer(&policy, &question);
                    compared += 1;
                    if ours != theirs {
                        mismatches.push(mismatch(&question, &theirs, &ours));
                    }
                    asked.push((question, theirs));
                }
            }
        }
    }

    // The batch mode prints no exit codes: ask a sample again one at a time.
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15 ^ scenario.name.len() as u64);
    let mut singly = 0;
    for _ in 0..12 {
        let (question, batch) = &asked[rng.below(asked.len())];
        let alone = real.access(
            &question.repo.name,
            question.user,
            question.perm,
            question.reference.unwrap_or(""),
            question.gl_user,
        );
        singly += 1;
        if &alone != batch {
            mismatches.push(format!(
                "{}\n    gitolite alone: exit {} {:?}\n    gitolite batch: exit {} {:?}",
                question.render(),
                if alone.0 { 0 } else { 1 },
                alone.1,
                if batch.0 { 0 } else { 1 },
                batch.1
            ));
        }
        let ours = forge_answer(&policy, question);
        if ours != alone {
            mismatches.push(mismatch(question, &alone, &ours));
        }
    }

    let failure = (!mismatches.is_empty()).then(|| {
        let mut text = String::new();
        let _ = writeln!(
            text,
            "=== conf '{}': {} of {compared} answers differ",
            scenario.name,
            mismatches.len()
        );
        let _ = writeln!(
            text,
            "--- gitolite.conf (after the admin repo)\n{}",
            scenario.conf
        );
        let _ = writeln!(text, "--- wild repos: {created:?}");
        for note in &notes {
            let _ = writeln!(text, "--- {note}");
        }
        for line in &mismatches {
            let _ = writeln!(text, "{line}");
        }
        text
    });
    Report {
        name: scenario.name.clone(),
        compared,
        singly,
        notes,
        elapsed: started.elapsed(),
        failure,
    }
}

fn mismatch(question: &Question<'_>, theirs: &Answer, ours: &Answer) -> String {
    let exit = |allowed: bool| if allowed { 0 } else { 1 };
    format!(
        "{}\n    gitolite: exit {} {:?}\n    forge:    exit {} {:?}",
        question.render(),
        exit(theirs.0),
        theirs.1,
        exit(ours.0),
        ours.1
    )
}

/// Groups: nested (snapshots), incremental, used before they are defined, holding `@all`;
/// repo groups, `repo @all` first and last.
fn groups() -> Scenario {
    Scenario::new(
        "groups",
        "@devs = alice bob
@staff = @devs carol
@devs = dave
@everyone = @all
@code = bar baz
repo @all
    R = auditor
repo foo
    RW+ = @devs
    RW master = @staff
    R = @everyone
    RW = @late
repo @code foo
    RW dev/ = @ops
    R = @all
@code = qux
@ops = erin @devs
repo bar
    RW+ = @staff
    - = @devs
    RW = dave
repo baz
    - master = @staff
    RW+ = @all
@late = frank
repo @all
    RW+ refs/heads/audit/ = auditor
    - refs/tags/ = erin
    RW refs/tags/ = @ops
",
    )
    .missing(&["quux"])
    .refs(&["refs/heads/audit/1"])
}

/// Patterns, `CREATOR` in patterns and in rules, roles handed out to users, groups and `@all`,
/// plain repos matching patterns, a repo group of patterns with options of its own.
fn creators() -> Scenario {
    Scenario::new(
        "creators",
        "@devs = alice bob
@qa = quinn
repo pub/CREATOR/..*
    C   = @devs
    RW+ = CREATOR
    -   refs/tags/ = WRITERS
    RW  = WRITERS
    R   = READERS
    RW refs/tags/ = @qa
repo team/..*
    C   = carol @devs
    RW+ = CREATOR
    RW  = WRITERS @qa
    R   = READERS
repo team/fixed
    RW+ = dave
    R = CREATOR
repo CREATOR/[a-z]+
    C = @all
    RW+CD = CREATOR
    R = READERS
repo alice/plain
    RW = alice
    R = @all
@wildgroup = team/..* CREATOR/[a-z]+
repo @wildgroup
    option deny-rules = 1
    - refs/tags/ = auditor
    R = auditor
",
    )
    .wild(vec![
        wild(
            "pub/alice/one",
            "alice",
            &[("READERS", "carol"), ("WRITERS", "bob"), ("READERS", "@qa")],
        ),
        wild("pub/bob/two", "bob", &[("READERS", "@all")]),
        wild("team/proj", "carol", &[("WRITERS", "@devs")]),
        wild("alice/tools", "alice", &[("READERS", "erin")]),
        wild("bob/tools", "bob", &[]),
    ])
    .missing(&[
        "pub/alice/new",
        "pub/carol/new",
        "team/new",
        "bob/new",
        "bob/new1",
    ])
}

/// Refexes: prefixes, `$`, alternation (and Perl's precedence for a top-level `|`), character
/// classes, tags, ref groups, `/USER/` (with a user whose name holds a regex metacharacter).
fn refexes() -> Scenario {
    Scenario::new(
        "refexes",
        "@rel = release/ hotfix/
@people = j.doe
repo rx
    RW refs/tags/v[0-9] = tagger
    RW master$ = exact
    RW refs/heads/(foo|bar)$ = alt
    RW master|dev = quirk
    RW refs/heads/personal/USER/ = @all
    RW+ @rel = releaser
    RW+ refs/tags/ = releaser
    RW dev/ = dever
    R = @all
repo rx2
    - personal/USER/ = alice
    RW+ master = alice
    RW = bob
    R refs/tags/ = carol
    RW+ refs/heads/x[0-9]+$ = alice
    RW+ refs/.*/v = @people
",
    )
    .refs(&[
        "refs/heads/foo",
        "refs/heads/foobar",
        "refs/heads/bar",
        "refs/heads/devel",
        "refs/tags/devel",
        "refs/heads/release/1",
        "refs/heads/hotfix/2",
        "refs/heads/personal/alice/x",
        "refs/heads/personal/j.doe/x",
        "refs/heads/personal/jxdoe/x",
        "refs/heads/x12",
        "refs/heads/x12y",
        "refs/tags/v",
    ])
}

/// Deny rules: their order, at the SSH-time check (`any`) and for a ref, with and without
/// `option deny-rules` (set on a repo, a pattern, through `config`, and set back to 0).
fn denials() -> Scenario {
    Scenario::new(
        "denials",
        "@devs = alice bob
repo @all
    - refs/heads/frozen = @devs
repo dr
    option deny-rules = 1
    - = bad
    R = @all
repo dr2
    option deny-rules = 1
    - refs/tags/ = x
    RW = x
repo nodr
    - = bad
    RW = @all
repo ord
    RW+ = @all
    - = bad
repo ord2
    - master = @devs
    RW+ = @devs
    - dev/ = alice
    RW = carol
repo dp/..*
    option deny-rules = 1
    C = @all
    - refs/tags/ = @devs
    RW+ = @all
repo cfg
    config gitolite-options.deny-rules = 1
    - master = carol
    RW = carol
repo late
    option deny-rules = 1
repo late
    option deny-rules = 0
    - = bad
    R = @all
repo @all
    - = evil
    R = evil
",
    )
    .wild(vec![wild("dp/one", "carol", &[])])
    .missing(&["dp/new"])
    .refs(&["refs/heads/frozen"])
}

/// Rewind, create and delete: every RW mix, the options they turn on per repo (whoever the
/// rule is for, through a pattern too), a plain `C`, merges.
fn create_delete() -> Scenario {
    Scenario::new(
        "create and delete",
        "repo cc
    RWC = cu
    RW+ = pu
    RW  = wu
repo dd
    RW+D = du
    RW+  = pu
repo mm
    RW+M = mu
    RW+  = pu
    RWCDM = cdm
repo none
    RW+ = pu
    RW  = wu
    C = pu
repo scope
    RW+ = a
repo scope
    RWD = b
repo full
    RW+CD = seed
    RW+ refs/tags/ = tagu
    RWC dev/ = devu
    RW+DC = dcu
    RW+DCM = mu
repo wild/..*
    C = alice
    RW+ = CREATOR
    RW = WRITERS
repo wild/c.*
    RWC = CREATOR
repo m.*
    RWD refs/heads/tmp/ = janitor
",
    )
    .wild(vec![
        wild("wild/cx", "alice", &[("WRITERS", "wu")]),
        wild("wild/plain", "alice", &[("WRITERS", "wu")]),
    ])
    .missing(&["wild/cnew", "wild/new", "mnew"])
    .refs(&["refs/heads/tmp/x"])
}

/// `VREF/NAME` rules: deny and allow, their order against the ref's need, the `NAME/` sugar,
/// with `deny-rules`, on wild repos and on missing ones.
fn vrefs() -> Scenario {
    Scenario::new(
        "vrefs",
        "repo vr
    RW+ = alice bob
    - VREF/NAME/secret/ = bob
    RW  NAME/docs/ = bob
    - NAME/ = bob
repo vr2
    option deny-rules = 1
    - VREF/NAME/secret/ = @all
    RW+ = carol
    RW NAME/ = carol
repo vr3
    - NAME/secret/ = dave
    RW+ = dave
    RW+ NAME/docs/ = erin
    RW = erin
    - NAME/ = erin
repo vw/..*
    C = alice bob
    RW+ = CREATOR
    - NAME/secret/ = bob
    RW+ NAME/ = WRITERS
",
    )
    .wild(vec![wild("vw/one", "alice", &[("WRITERS", "bob")])])
    .missing(&["vw/new"])
    .refs(&["VREF/NAME/a", "VREF/NAME/secretive"])
}

/// A conf of about 40 rules over 10 users and 8 repos and patterns, from a seeded generator.
fn generated(seed: u64) -> Scenario {
    const USERS: [&str; 10] = [
        "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
    ];
    const SPECS: [&str; 8] = [
        "gen1",
        "gen2",
        "gen3",
        "gen[0-9]",
        "team/..*",
        "w/CREATOR/..*",
        "@rg",
        "@all",
    ];
    const PERMS: [&str; 15] = [
        "R", "RW", "RW", "RW+", "RWC", "RWD", "RW+C", "RW+D", "RWCD", "RW+CD", "RWM", "RW+DM", "-",
        "-", "C",
    ];
    const REFEXES: [&str; 12] = [
        "master",
        "master$",
        "dev/",
        "refs/tags/",
        "refs/tags/v[0-9]",
        "personal/USER/",
        "(foo|bar)$",
        "NAME/secret/",
        "VREF/NAME/docs/",
        "refs/heads/release",
        "refs/heads/",
        "NAME/",
    ];
    let subjects: Vec<&str> = USERS
        .iter()
        .copied()
        .chain([
            "@g0", "@g1", "@g2", "@all", "CREATOR", "READERS", "WRITERS", "@g0",
        ])
        .collect();
    let mut rng = XorShift(seed);
    let mut conf = String::new();
    let users = |rng: &mut XorShift, n: usize| {
        rng.distinct(&USERS, n)
            .into_iter()
            .copied()
            .collect::<Vec<_>>()
            .join(" ")
    };
    let _ = writeln!(conf, "@g0 = {}", users(&mut rng, 2));
    let _ = writeln!(conf, "@g1 = @g0 {}", users(&mut rng, 2));
    let _ = writeln!(conf, "@g0 = {}", users(&mut rng, 1));
    let _ = writeln!(conf, "@g2 = {} @all", users(&mut rng, 1));
    let _ = writeln!(conf, "@rg = gen1 team/..*");
    let fixed_at = rng.below(40);
    for i in 0..40 {
        if i == fixed_at {
            // So that wild repos can be created and given roles.
            conf.push_str("repo w/CREATOR/..* team/..*\n    C = @all\n");
            conf.push_str("    RW = WRITERS\n    R = READERS\n");
        }
        if i % 4 == 0 || i == fixed_at {
            let count = 1 + rng.below(2);
            let specs: Vec<&str> = rng.distinct(&SPECS, count).into_iter().copied().collect();
            let _ = writeln!(conf, "repo {}", specs.join(" "));
        }
        if rng.below(12) == 0 {
            let _ = writeln!(conf, "    option deny-rules = {}", rng.below(2));
        }
        let perm = *rng.pick(&PERMS);
        let refs: Vec<&str> = match rng.below(5) {
            0 | 1 => Vec::new(),
            2 => vec![*rng.pick(&REFEXES)],
            _ => rng.distinct(&REFEXES, 2).into_iter().copied().collect(),
        };
        let count = 1 + rng.below(2);
        let who: Vec<&str> = rng
            .distinct(&subjects, count)
            .into_iter()
            .copied()
            .collect();
        let refs = if refs.is_empty() {
            String::new()
        } else {
            format!(" {}", refs.join(" "))
        };
        let _ = writeln!(conf, "    {perm}{refs} = {}", who.join(" "));
    }
    Scenario::new(&format!("generated, seed {seed:#x}"), &conf)
        .wild(vec![
            wild(
                "w/alice/one",
                "alice",
                &[("READERS", "dave"), ("WRITERS", "@g0"), ("READERS", "@all")],
            ),
            wild("w/bob/two", "bob", &[("WRITERS", "carol")]),
            wild(
                "team/proj",
                "carol",
                &[("READERS", "@g1"), ("WRITERS", "erin")],
            ),
        ])
        .may_skip_wild()
        .missing(&["team/new", "w/alice/new", "w/bob/new", "gen7", "gen1x"])
        .refs(&[
            "refs/heads/personal/alice/x",
            "refs/heads/foo",
            "refs/heads/release/1",
            "refs/tags/v2",
            "VREF/NAME/secret/b",
        ])
}

/// The generator's seed: `FORGE_PARITY_SEED` (decimal or 0x-hex) to explore others.
fn seed() -> u64 {
    let Ok(text) = std::env::var("FORGE_PARITY_SEED") else {
        return 0x5eed_f0a9_e001;
    };
    let parsed = match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse(),
    };
    parsed.unwrap_or_else(|e| panic!("FORGE_PARITY_SEED={text:?} is not a number: {e}"))
}

#[test]
fn forge_answers_every_access_question_as_gitolite_does() {
    let scenarios = [
        generated(seed()),
        creators(),
        groups(),
        refexes(),
        denials(),
        create_delete(),
        vrefs(),
    ];
    let started = Instant::now();
    let next = Mutex::new(0usize);
    let reports = Mutex::new(Vec::new());
    // A gitolite run spends part of its time starting processes, not on a core: one worker
    // more than there are cores keeps them busy.
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get()) + 1;
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let index = {
                        let mut next = next.lock().unwrap();
                        *next += 1;
                        *next - 1
                    };
                    let Some(scenario) = scenarios.get(index) else {
                        break;
                    };
                    let report = run(scenario);
                    reports.lock().unwrap().push(report);
                }
            });
        }
    });
    let reports = reports.into_inner().unwrap();
    let mut failures = String::new();
    let mut total = 0;
    let mut singly = 0;
    for report in &reports {
        println!(
            "conf '{}': {} combinations compared (and {} asked again singly) in {:.1?}{}",
            report.name,
            report.compared,
            report.singly,
            report.elapsed,
            if report.failure.is_some() {
                ", with mismatches"
            } else {
                ", all equal"
            }
        );
        for note in &report.notes {
            println!("    {note}");
        }
        total += report.compared;
        singly += report.singly;
        if let Some(failure) = &report.failure {
            failures.push_str(failure);
        }
    }
    println!(
        "{total} combinations compared with gitolite access ({singly} also singly) over {} confs in {:.1?}",
        reports.len(),
        started.elapsed()
    );
    assert!(
        failures.is_empty(),
        "forge and gitolite answer differently\n{failures}"
    );
}
