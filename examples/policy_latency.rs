//! Times the access decisions `forged` makes, at the scale issue #4 names: 10,000 users,
//! 10,000 repositories and 1,000 rules, in a real SQLite store. Target: p99 under 200 µs.
//!
//! `bench/policy-latency` runs it; `bench/README.md` says what it sets up and how to read the
//! figures. It prints figures and asserts nothing.
//!
//! Set-up, in a temporary folder removed at exit: a [`Store`] on an SQLite file holding the
//! users, the repositories (a quarter created from `users/CREATOR/..*` with a creator and some
//! roles), a few grants and public repositories, and a policy document of 1,000 rules applied
//! with `replace_policy`; then the policy built from `load_policy` as forged builds it.
//!
//! Then three kinds of decision, interleaved in an order shuffled with a fixed seed:
//!
//! - (a) the SSH-time check (`check` in `src/daemon/handlers/shell.rs`): `repo_facts` from the
//!   store, then `policy::decide::access` for read or write on any ref (or `^C` for a
//!   repository that does not exist);
//! - (b) the pre-receive decision on one ref update (`policy::decide::ref_update`, as
//!   `check_refs` in `src/daemon/handlers/hook.rs` calls it): `need_of`, `access` on the ref,
//!   then the path rules for each changed path;
//! - (c) `policy::decide::access` alone, in memory: (a) without the store.

use anyhow::Context;
use clap::Parser;
use forge::policy::decide::{self, Decision, Pusher};
use forge::policy::document::{Document, OptionRow, RuleRow};
use forge::policy::engine::Parts;
use forge::policy::{Access, ObjectId, Policy, RefName, RefUpdate, RepoState};
use forge::policy::{Refex, RepoSpec, UpdateKind, shortcuts};
use forge::store::{RepoFacts, Store};
use forge::types::repo_name::RepoName;
use forge::types::user_name::UserName;
use std::collections::{BTreeMap, BTreeSet};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Users in the store.
const USERS: usize = 10_000;
/// Teams, each with a user group `@team<t>` and repositories `team<t>/app<a>`.
const TEAMS: usize = 100;
/// Repositories per team.
const APPS_PER_TEAM: usize = 65;
/// Repositories `users/<creator>/p<i>`, created from the pattern `users/CREATOR/..*`.
const PERSONAL: usize = 2_500;
/// Repositories `lib/lib<k>` and `infra/svc<k>`, shared by everyone.
const LIBS: usize = 700;
const SERVICES: usize = 300;
/// User groups `@guild<g>` that cut across teams.
const GUILDS: usize = 40;
/// User groups `@org<o>`, each holding ten `@team` groups.
const ORGS: usize = TEAMS / 10;
/// Repository groups `@rg<k>`.
const REPO_GROUPS: usize = 30;
/// Rules in the policy document.
const RULES: usize = 1_000;
/// Grants made as `forgectl grant` makes them; they become rules after the document's.
const GRANTS: usize = 10;
/// Every this many shared repositories, one is public.
const PUBLIC_EVERY: usize = 100;
/// Decisions of each kind made before timing starts (caches, allocator, branch predictors).
const WARM_UP: usize = 1_000;
/// Object ids for ref updates: an existing commit, a new one, and git's "no object".
const OLD: &str = "1111111111111111111111111111111111111111";
const NEW: &str = "2222222222222222222222222222222222222222";
const ZERO: &str = "0000000000000000000000000000000000000000";
/// The refs a push updates, as a push would name them.
const REFS: &[&str] = &[
    "refs/heads/main",
    "refs/heads/main",
    "refs/heads/main",
    "refs/heads/dev/wip",
    "refs/heads/feature/login",
    "refs/heads/feature/search",
    "refs/heads/release/2.1",
    "refs/tags/v2.1.0",
    "refs/heads/topic",
];
/// The files a pushed commit may touch; `secrets/`, `deploy/prod/` and `docs/` have path rules.
const PATHS: &[&str] = &[
    "src/main.rs",
    "src/lib.rs",
    "src/store/mod.rs",
    "src/policy/engine.rs",
    "README.md",
    "CHANGELOG.md",
    "docs/guide.md",
    "docs/api/index.md",
    "tests/cli.rs",
    "tests/e2e.rs",
    "Cargo.toml",
    "Cargo.lock",
    ".gitignore",
    "secrets/token",
    "deploy/prod/values.yaml",
    "deploy/staging/values.yaml",
];

/// Time forged's policy decisions at 10k users, 10k repositories and 1k rules
#[derive(Parser)]
#[command(name = "policy_latency")]
struct Args {
    /// Decisions of each kind to time
    #[arg(long, default_value_t = 20_000, value_parser = clap::value_parser!(u32).range(1..))]
    runs: u32,
    /// Seed of every random choice: the same seed builds the same store and asks the same
    /// questions
    #[arg(long, default_value_t = 0x5eed)]
    seed: u64,
}

/// A xorshift64 generator: tiny, and the same sequence for the same seed on every machine.
struct Rng(u64);

impl Rng {
    /// Returns a generator seeded with `seed` (xorshift needs a state other than zero).
    fn new(seed: u64) -> Rng {
        Rng((seed ^ 0x9e37_79b9_7f4a_7c15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Returns a number in `0..n`.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Returns a number in `low..=high`.
    fn between(&mut self, low: usize, high: usize) -> usize {
        low + self.below(high - low + 1)
    }

    /// Returns true `percent` times in a hundred.
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// Returns `k` distinct numbers in `0..n`, in increasing order.
    fn sample(&mut self, n: usize, k: usize) -> Vec<usize> {
        let mut chosen = BTreeSet::new();
        while chosen.len() < k.min(n) {
            chosen.insert(self.below(n));
        }
        chosen.into_iter().collect()
    }

    /// Shuffles `items` in place (Fisher-Yates).
    fn shuffle<T>(&mut self, items: &mut [T]) {
        for last in (1..items.len()).rev() {
            items.swap(last, self.below(last + 1));
        }
    }
}

/// Returns the name of user number `index`.
fn user_name(index: usize) -> String {
    format!("u{index:05}")
}

/// Where a repository lives, which says who is likely to ask about it.
enum Home {
    /// `team<t>/app<a>`: the members of `@team<t>` work on it.
    Team(usize),
    /// `users/<creator>/p<i>`: its creator and the users given a role on it.
    Personal { creator: usize, members: Vec<usize> },
    /// `lib/...` and `infra/...`.
    Shared,
}

/// One repository of the store.
struct Repo {
    name: RepoName,
    home: Home,
    public: bool,
    /// Roles its creator handed out: `(role, user or @group)`.
    roles: Vec<(&'static str, String)>,
}

/// The users, groups and repositories of the bench: generated first, then written to the store
/// and used to ask questions that people would ask.
struct World {
    users: Vec<String>,
    teams: Vec<Vec<usize>>,
    guilds: Vec<Vec<usize>>,
    admins: Vec<usize>,
    auditors: Vec<usize>,
    interns: Vec<usize>,
    repos: Vec<Repo>,
}

impl World {
    /// Returns a world drawn from `rng`.
    fn generate(rng: &mut Rng) -> anyhow::Result<World> {
        let mut groups = |count: usize, low: usize, high: usize| -> Vec<Vec<usize>> {
            (0..count)
                .map(|_| {
                    let size = rng.between(low, high);
                    rng.sample(USERS, size)
                })
                .collect()
        };
        let teams = groups(TEAMS, 10, 150);
        let guilds = groups(GUILDS, 50, 500);
        let mut world = World {
            users: (0..USERS).map(user_name).collect(),
            teams,
            guilds,
            admins: rng.sample(USERS, 10),
            auditors: rng.sample(USERS, 20),
            interns: rng.sample(USERS, 200),
            repos: Vec::new(),
        };
        world.add_repos(rng)?;
        Ok(world)
    }

    /// Adds the team, personal and shared repositories.
    fn add_repos(&mut self, rng: &mut Rng) -> anyhow::Result<()> {
        for team in 0..TEAMS {
            for app in 0..APPS_PER_TEAM {
                self.add_repo(
                    &format!("team{team}/app{app}"),
                    Home::Team(team),
                    Vec::new(),
                )?;
            }
        }
        for index in 0..PERSONAL {
            let creator = rng.below(USERS);
            let (roles, members) = personal_roles(rng);
            let name = format!("users/{}/p{index}", user_name(creator));
            self.add_repo(&name, Home::Personal { creator, members }, roles)?;
        }
        let shared = (0..LIBS)
            .map(|k| format!("lib/lib{k}"))
            .chain((0..SERVICES).map(|k| format!("infra/svc{k}")));
        for (index, name) in shared.enumerate() {
            self.add_repo(&name, Home::Shared, Vec::new())?.public = index % PUBLIC_EVERY == 0;
        }
        Ok(())
    }

    /// Adds the repository `name`, private, and returns it.
    fn add_repo(
        &mut self,
        name: &str,
        home: Home,
        roles: Vec<(&'static str, String)>,
    ) -> anyhow::Result<&mut Repo> {
        let name = RepoName::parse(name).with_context(|| format!("repository name {name}"))?;
        self.repos.push(Repo {
            name,
            home,
            public: false,
            roles,
        });
        Ok(self.repos.last_mut().expect("a repository was just pushed"))
    }

    /// Returns a user who works on `repo`, or `stranger_percent` times in a hundred anyone.
    fn asker(&self, repo: &Repo, stranger_percent: u64, rng: &mut Rng) -> usize {
        if rng.chance(stranger_percent) {
            return rng.below(USERS);
        }
        match &repo.home {
            Home::Team(team) => *rng.pick(&self.teams[*team]),
            Home::Personal { creator, members } if members.is_empty() || rng.chance(50) => *creator,
            Home::Personal { members, .. } => *rng.pick(members),
            Home::Shared => {
                let guild = &self.guilds[rng.below(GUILDS)];
                *rng.pick(guild)
            }
        }
    }
}

/// Returns the roles a creator hands out on a personal repository (readers, writers and
/// maintainers, a role the policy defines; sometimes a whole guild as readers), and the users
/// named.
fn personal_roles(rng: &mut Rng) -> (Vec<(&'static str, String)>, Vec<usize>) {
    let mut given = Vec::new();
    for (role, percent) in [("READERS", 25), ("WRITERS", 20), ("MAINTAINERS", 10)] {
        if rng.chance(percent) {
            given.push((role, rng.below(USERS)));
        }
    }
    let mut roles: Vec<_> = given
        .iter()
        .map(|&(role, user)| (role, user_name(user)))
        .collect();
    if rng.chance(15) {
        roles.push(("READERS", format!("@guild{}", rng.below(GUILDS))));
    }
    (roles, given.into_iter().map(|(_, user)| user).collect())
}

/// The rules of a policy document, numbered in the order they are added.
#[derive(Default)]
struct Rules(Vec<RuleRow>);

impl Rules {
    /// Adds the rule `repo perm refex = who`, with the refex normalized as the store holds it.
    fn add(&mut self, repo: &str, perm: &str, refex: &str, who: &str) -> anyhow::Result<()> {
        let seq = self.0.len() as i64 + 1;
        self.0.push(RuleRow {
            seq,
            repo: repo.to_owned(),
            who: who.to_owned(),
            perm: perm.to_owned(),
            refex: Refex::parse(refex)?.as_str().to_owned(),
            source: format!("bench rule {seq}"),
        });
        Ok(())
    }
}

/// Returns the policy document: user and repository groups, [`RULES`] rules, two `deny-rules`
/// options and one role of its own.
fn document(world: &World, rng: &mut Rng) -> anyhow::Result<Document> {
    let mut rules = Rules::default();
    site_rules(&mut rules)?;
    for team in 0..TEAMS {
        team_rules(&mut rules, team)?;
    }
    for group in 0..REPO_GROUPS {
        let (repos, guild) = (format!("@rg{group}"), format!("@guild{group}"));
        rules.add(&repos, "RW+", "feature/", &guild)?;
        rules.add(&repos, "-", "release/", &guild)?;
        rules.add(&repos, "R", "", &format!("@team{group}"))?;
    }
    while rules.0.len() < RULES {
        named_repo_rule(&mut rules, world, rng)?;
    }
    let options = ["@locked", "@infra"]
        .iter()
        .enumerate()
        .map(|(index, repo)| OptionRow {
            seq: (RULES + 1 + index) as i64,
            repo: (*repo).to_owned(),
            name: "deny-rules".to_owned(),
            value: "1".to_owned(),
            source: "bench option".to_owned(),
        })
        .collect();
    Ok(Document {
        user_groups: user_groups(world),
        repo_groups: repo_groups(world, rng),
        rules: rules.0,
        options,
        roles: vec!["MAINTAINERS".to_owned()],
    })
}

/// Adds the rules for every repository: admins, auditors, creating personal repositories, and
/// the path rules (`VREF/NAME/...`).
fn site_rules(rules: &mut Rules) -> anyhow::Result<()> {
    rules.add("@all", "RW+CD", "", "@admins")?;
    rules.add("team[0-9]+/.*", "R", "", "@auditors")?;
    rules.add("team[0-9]+/.*", "-", "refs/tags/", "@interns")?;
    rules.add("team[0-9]+/.*", "-", "NAME/secrets/", "@all")?;
    rules.add("team[0-9]+/.*", "RW", "NAME/docs/", "@interns")?;
    rules.add("team[0-9]+/.*", "-", "NAME/", "@interns")?;
    rules.add("@infra", "-", "NAME/deploy/prod/", "@all")?;
    rules.add("@infra", "RW+", "", "@guild0")?;
    rules.add("@locked", "-", "", "@interns")?;
    rules.add("@locked", "R", "", "@all")?;
    rules.add("users/CREATOR/..*", "C", "", "@all")?;
    rules.add("users/CREATOR/..*", "RW+", "", "@CREATOR")?;
    rules.add("users/CREATOR/..*", "RW+", "", "@MAINTAINERS")?;
    rules.add("users/CREATOR/..*", "RW", "", "@WRITERS")?;
    rules.add("users/CREATOR/..*", "R", "", "@READERS")?;
    rules.add("users/CREATOR/..*", "R", "", "@auditors")
}

/// Adds a team's rules on its repositories: main protected from interns and force pushes,
/// free work on `dev/`, release branches, tags created by the team, feature branches for its
/// org, reads for a guild.
fn team_rules(rules: &mut Rules, team: usize) -> anyhow::Result<()> {
    let repos = format!("team{team}/.*");
    let members = format!("@team{team}");
    rules.add(&repos, "-", "main$", "@interns")?;
    rules.add(&repos, "RW+CD", "dev/", &members)?;
    rules.add(&repos, "RW", "main$", &members)?;
    rules.add(&repos, "RW", "release/", &members)?;
    rules.add(&repos, "RWC", "refs/tags/v[0-9]+", &members)?;
    rules.add(&repos, "RW+CD", "feature/", &format!("@org{}", team / 10))?;
    rules.add(&repos, "R", "", &format!("@guild{}", team % GUILDS))
}

/// Adds one rule on a single repository, named: a user's push rights, a guild's reads, or a
/// deny.
fn named_repo_rule(rules: &mut Rules, world: &World, rng: &mut Rng) -> anyhow::Result<()> {
    let repo = rng.pick(&world.repos).name.as_str().to_owned();
    let user = user_name(rng.below(USERS));
    match rng.below(10) {
        0..=4 => rules.add(&repo, "RW+", "", &user),
        5 | 6 => rules.add(&repo, "R", "", &format!("@guild{}", rng.below(GUILDS))),
        7 => rules.add(&repo, "-", "release/", &user),
        8 => rules.add(&repo, "RW", "main$", &user),
        _ => rules.add(&repo, "-", "", &user),
    }
}

/// Returns the user groups: teams, guilds, orgs (nested, of teams), and the special ones.
fn user_groups(world: &World) -> BTreeMap<String, Vec<String>> {
    let names = |members: &[usize]| members.iter().map(|&u| user_name(u)).collect();
    let mut groups = BTreeMap::new();
    for (team, members) in world.teams.iter().enumerate() {
        groups.insert(format!("@team{team}"), names(members));
    }
    for (guild, members) in world.guilds.iter().enumerate() {
        groups.insert(format!("@guild{guild}"), names(members));
    }
    for org in 0..ORGS {
        let teams = (org * 10..org * 10 + 10).map(|t| format!("@team{t}"));
        groups.insert(format!("@org{org}"), teams.collect());
    }
    groups.insert("@admins".to_owned(), names(&world.admins));
    groups.insert("@auditors".to_owned(), names(&world.auditors));
    groups.insert("@interns".to_owned(), names(&world.interns));
    groups
}

/// Returns the repository groups: `@rg<k>` (ten named repositories and a pattern), `@infra`
/// and `@locked`.
fn repo_groups(world: &World, rng: &mut Rng) -> BTreeMap<String, Vec<String>> {
    let mut named = |count: usize| -> Vec<String> {
        (0..count)
            .map(|_| rng.pick(&world.repos).name.as_str().to_owned())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    };
    let mut groups = BTreeMap::new();
    for group in 0..REPO_GROUPS {
        let mut members = named(10);
        members.push(format!("team{group}/app[0-9]*7"));
        groups.insert(format!("@rg{group}"), members);
    }
    groups.insert("@locked".to_owned(), named(20));
    groups.insert("@infra".to_owned(), vec!["infra/.*".to_owned()]);
    groups
}

/// Writes `world` and `document` to `store`, each change in its own transaction as forgectl
/// makes them.
fn populate(
    store: &Store,
    world: &World,
    document: &Document,
    rng: &mut Rng,
) -> anyhow::Result<()> {
    for user in &world.users {
        store.add_user(&UserName::parse(user)?)?;
    }
    for repo in &world.repos {
        let creator = match &repo.home {
            Home::Personal { creator, .. } => Some(user_name(*creator)),
            _ => None,
        };
        // forged makes the bare repository in this closure; the bench needs only the row.
        store.create_repo(
            &repo.name,
            "",
            repo.public,
            creator.as_deref(),
            Box::new(|| Ok(())),
        )?;
        for (role, member) in &repo.roles {
            store.set_role(&repo.name, role, member, true)?;
        }
    }
    let shared: Vec<&Repo> = world
        .repos
        .iter()
        .filter(|repo| matches!(repo.home, Home::Shared))
        .collect();
    for _ in 0..GRANTS {
        let user = UserName::parse(&user_name(rng.below(USERS)))?;
        store.grant(&rng.pick(&shared).name, &user, Access::Write)?;
    }
    store.replace_policy(&Document::default(), document)?;
    Ok(())
}

/// How long building the policy took, step by step.
struct BuildTimes {
    load: Duration,
    to_parts: Duration,
    build: Duration,
}

/// Returns the policy in `store`, built as forged builds it (`policy::shortcuts`): the
/// document, then the rules that grants and public repositories stand for, after it; each
/// step timed.
fn load_policy(store: &Store) -> anyhow::Result<(Policy, usize, BuildTimes)> {
    let start = Instant::now();
    let stored = store.load_policy()?;
    let load = start.elapsed();
    let document = shortcuts::with_shortcuts(&stored.document, &stored.grants, &stored.public);
    let rules = document.rules.len();
    let start = Instant::now();
    let parts: Parts = document.to_parts()?;
    let to_parts = start.elapsed();
    let start = Instant::now();
    let policy = Policy::build(parts)?;
    let build = start.elapsed();
    let times = BuildTimes {
        load,
        to_parts,
        build,
    };
    Ok((policy, rules, times))
}

/// Returns the state a decision needs about an existing repository, as forged makes it.
fn state_of<'a>(repo: &'a RepoName, facts: &'a RepoFacts) -> RepoState<'a> {
    RepoState::existing(repo.as_str(), facts.creator.as_deref(), &facts.roles)
}

/// Decides an SSH-time check as `check` in `src/daemon/handlers/shell.rs` does, up to the
/// decision: the repository's facts from the store, then [`decide::access`] (for a repository
/// that does not exist, whether it may be created; the bench stops before creating it).
fn ssh_check(
    store: &Store,
    policy: &Policy,
    repo: &RepoName,
    user: &str,
    access: Access,
) -> anyhow::Result<bool> {
    let decision = match store.repo_facts(repo)? {
        Some(facts) => decide::access(policy, user, &state_of(repo, &facts), access),
        None => decide::access(policy, user, &RepoState::missing(repo.as_str()), access),
    };
    Ok(matches!(
        decision,
        Decision::Granted(_) | Decision::Creatable(_)
    ))
}

/// Returns a ref update a push might propose: mostly fast-forwards of branches and new tags,
/// some branch creations, rewinds and deletes, touching one to six files.
fn ref_update(rng: &mut Rng) -> anyhow::Result<RefUpdate> {
    let name = *rng.pick(REFS);
    let ref_name = RefName::parse(name)?;
    let roll = rng.below(20);
    let (old, new, kind) = match roll {
        _ if ref_name.as_str().starts_with("refs/tags/") && roll < 16 => {
            (ZERO, NEW, UpdateKind::Create)
        }
        0..=13 => (OLD, NEW, UpdateKind::FastForward),
        14..=16 => (ZERO, NEW, UpdateKind::Create),
        17 | 18 => (OLD, NEW, UpdateKind::NonFastForward),
        _ => (OLD, ZERO, UpdateKind::Delete),
    };
    let count = rng.between(1, 6);
    let paths = (0..count).map(|_| (*rng.pick(PATHS)).to_owned()).collect();
    Ok(RefUpdate {
        ref_name,
        old: ObjectId::parse(old)?,
        new: ObjectId::parse(new)?,
        kind,
        paths: Some(paths),
        has_merges: rng.chance(10),
    })
}

/// The kinds of decision timed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    SshCheck,
    RefUpdate,
    InMemory,
}

impl Kind {
    const ALL: [Kind; 3] = [Kind::SshCheck, Kind::RefUpdate, Kind::InMemory];

    fn label(self) -> &'static str {
        match self {
            Kind::SshCheck => "(a) ssh check: repo_facts + access R/W",
            Kind::RefUpdate => "(b) pre-receive ref: need_of + access + paths",
            Kind::InMemory => "(c) access alone, in memory",
        }
    }
}

/// The durations of one kind of decision, and how many were allowed.
#[derive(Default)]
struct Samples {
    nanos: Vec<u64>,
    allowed: usize,
}

impl Samples {
    fn record(&mut self, elapsed: Duration, allowed: bool) {
        self.nanos.push(elapsed.as_nanos() as u64);
        self.allowed += usize::from(allowed);
    }

    /// Returns the `fraction` quantile in microseconds, by nearest rank; `nanos` is sorted.
    fn quantile(&self, fraction: f64) -> f64 {
        let rank = (fraction * self.nanos.len() as f64).ceil() as usize;
        self.nanos[rank.clamp(1, self.nanos.len()) - 1] as f64 / 1000.0
    }
}

/// Everything a decision is asked against.
struct Bench<'a> {
    store: &'a Store,
    policy: &'a Policy,
    world: &'a World,
}

impl Bench<'_> {
    /// Asks one question of `kind`, drawn from `rng`; returns how long the decision took (the
    /// drawing and, for (b) and (c), reading the repository's facts are not timed) and whether
    /// it was allowed.
    fn ask(&self, kind: Kind, rng: &mut Rng) -> anyhow::Result<(Duration, bool)> {
        let repo = rng.pick(&self.world.repos);
        // Pushes come mostly from people who work on the repository, reads more often from
        // anyone.
        let strangers = if kind == Kind::RefUpdate { 15 } else { 40 };
        let user = user_name(self.world.asker(repo, strangers, rng));
        let access = if rng.chance(50) {
            Access::Read
        } else {
            Access::Write
        };
        match kind {
            Kind::SshCheck => {
                let name = if rng.chance(5) {
                    missing_repo(&user, rng)?
                } else {
                    repo.name.clone()
                };
                let start = Instant::now();
                let allowed = black_box(ssh_check(self.store, self.policy, &name, &user, access)?);
                Ok((start.elapsed(), allowed))
            }
            Kind::RefUpdate => {
                let update = ref_update(rng)?;
                let facts = self.facts(&repo.name)?;
                let state = state_of(&repo.name, &facts);
                let start = Instant::now();
                let decision =
                    decide::ref_update(self.policy, &state, Pusher::User(&user), &update);
                let elapsed = start.elapsed();
                Ok((elapsed, black_box(decision).allowed))
            }
            Kind::InMemory => {
                let facts = self.facts(&repo.name)?;
                let state = state_of(&repo.name, &facts);
                let start = Instant::now();
                let decision = decide::access(self.policy, &user, &state, access);
                let elapsed = start.elapsed();
                Ok((elapsed, black_box(decision).is_granted()))
            }
        }
    }

    fn facts(&self, repo: &RepoName) -> anyhow::Result<RepoFacts> {
        self.store
            .repo_facts(repo)?
            .with_context(|| format!("repository {repo} is missing from the store"))
    }
}

/// Returns the name of a repository that does not exist: half of them the asking user may
/// create from `users/CREATOR/..*`, half nobody may.
fn missing_repo(user: &str, rng: &mut Rng) -> anyhow::Result<RepoName> {
    let name = if rng.chance(50) {
        format!("users/{user}/new{}", rng.below(1000))
    } else {
        format!("team{}/new{}", rng.below(TEAMS), rng.below(1000))
    };
    Ok(RepoName::parse(&name)?)
}

/// Times `runs` decisions of each kind (after [`WARM_UP`] of each, not kept), in an order
/// shuffled by `rng`.
fn measure(bench: &Bench<'_>, runs: usize, rng: &mut Rng) -> anyhow::Result<[Samples; 3]> {
    let per_kind = runs + WARM_UP;
    let mut schedule: Vec<Kind> = Kind::ALL
        .iter()
        .flat_map(|&kind| std::iter::repeat_n(kind, per_kind))
        .collect();
    rng.shuffle(&mut schedule);
    let mut samples: [Samples; 3] = Default::default();
    let mut seen = [0usize; 3];
    for kind in schedule {
        let index = kind as usize;
        let (elapsed, allowed) = bench.ask(kind, rng)?;
        seen[index] += 1;
        if seen[index] > WARM_UP {
            samples[index].record(elapsed, allowed);
        }
    }
    for kind_samples in &mut samples {
        kind_samples.nanos.sort_unstable();
    }
    Ok(samples)
}

/// Prints the sizes of what the decisions run against.
fn print_sizes(world: &World, document: &Document, rules: usize, database: u64) {
    let personal = world
        .repos
        .iter()
        .filter(|repo| matches!(repo.home, Home::Personal { .. }))
        .count();
    let roles: usize = world.repos.iter().map(|repo| repo.roles.len()).sum();
    let members: usize = document.user_groups.values().map(Vec::len).sum();
    let patterns = document
        .rules
        .iter()
        .map(|row| row.repo.as_str())
        .chain(document.repo_groups.values().flatten().map(String::as_str))
        .filter(|spec| RepoSpec::parse(spec).is_ok_and(|spec| spec.is_pattern()))
        .collect::<BTreeSet<_>>()
        .len();
    println!(
        "store: {} users, {} repositories ({personal} created from users/CREATOR/..*, {roles} roles), {:.1} MB",
        world.users.len(),
        world.repos.len(),
        database as f64 / 1e6
    );
    println!(
        "policy: {} document rules ({patterns} distinct patterns) + {} from grants and public repositories, \
         {} user groups ({members} members), {} repository groups, {} options",
        document.rules.len(),
        rules - document.rules.len(),
        document.user_groups.len(),
        document.repo_groups.len(),
        document.options.len()
    );
}

/// Prints the table of quantiles and the target.
fn print_figures(samples: &[Samples; 3], runs: usize, seed: u64) {
    println!(
        "\n{runs} decisions of each kind, interleaved (seed {seed:#x}), after {WARM_UP} of each to warm up; microseconds"
    );
    println!(
        "{:<48}{:>9}{:>9}{:>9}{:>9}{:>9}",
        "", "p50", "p90", "p99", "max", "allowed"
    );
    for kind in Kind::ALL {
        let kind_samples = &samples[kind as usize];
        let allowed = 100.0 * kind_samples.allowed as f64 / kind_samples.nanos.len() as f64;
        println!(
            "{:<48}{:>9.1}{:>9.1}{:>9.1}{:>9.1}{:>8.0}%",
            kind.label(),
            kind_samples.quantile(0.50),
            kind_samples.quantile(0.90),
            kind_samples.quantile(0.99),
            kind_samples.quantile(1.0),
            allowed
        );
    }
    println!("target: p99 under 200 us for (a) and (b)");
    let verdict = |kind: Kind| {
        if samples[kind as usize].quantile(0.99) < 200.0 {
            "met"
        } else {
            "missed"
        }
    };
    println!(
        "this run: (a) {}, (b) {}",
        verdict(Kind::SshCheck),
        verdict(Kind::RefUpdate)
    );
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut rng = Rng::new(args.seed);
    let folder = tempfile::tempdir().context("creating a temporary folder")?;
    let database = folder.path().join("forge.db");
    let store = Store::open(&database).context("opening the store")?;

    let start = Instant::now();
    let world = World::generate(&mut rng)?;
    let document = document(&world, &mut rng)?;
    populate(&store, &world, &document, &mut rng).context("filling the store")?;
    let (policy, rules, times) = load_policy(&store).context("building the policy")?;
    let size = std::fs::metadata(&database).map_or(0, |m| m.len());
    print_sizes(&world, &document, rules, size);
    println!(
        "set-up: {:.1} s, one transaction per change; then load_policy {:.1} ms, to_parts {:.1} ms \
         (it builds once to check), Policy::build {:.1} ms",
        start.elapsed().as_secs_f64(),
        times.load.as_secs_f64() * 1e3,
        times.to_parts.as_secs_f64() * 1e3,
        times.build.as_secs_f64() * 1e3
    );
    // What every change costs forged afterwards (a `forgectl grant`, say): the same build again,
    // with the regexes the first one compiled kept (issue #12).
    let (_, _, again) = load_policy(&store).context("building the policy again")?;
    println!(
        "rebuild, as after one change: load_policy {:.1} ms, to_parts {:.1} ms, Policy::build {:.1} ms",
        again.load.as_secs_f64() * 1e3,
        again.to_parts.as_secs_f64() * 1e3,
        again.build.as_secs_f64() * 1e3
    );

    let bench = Bench {
        store: &store,
        policy: &policy,
        world: &world,
    };
    let samples = measure(&bench, args.runs as usize, &mut rng)?;
    print_figures(&samples, args.runs as usize, args.seed);
    Ok(())
}
