//! The two halves of `bench/keys-lookup` that need Rust: filling a forge database with a large
//! site's keys, and timing `forge-keys` the way sshd runs it. `bench/README.md` says what the
//! bench sets up and how to read the figures. It prints figures and asserts nothing.
//!
//! - `fill`: creates the database with [`Store::open`] (so the schema is forge's own, migrations
//!   and all), then adds the users and keys in one transaction with
//!   [`Store::add_users_and_keys`]. One `forgectl key add` per key would take an hour at a
//!   million keys: every change is its own transaction with a full `fsync`. Every generated key
//!   still goes through [`PublicKey::from_stored`], the check forged applies when it reads keys
//!   back, and the one real key (whose private half the bench logs in with) sits in the middle
//!   of the id order, so it is in the middle of the `authorized_keys` file that
//!   `forgectl keys sync` writes. This file holds no SQL: the store is the only place that does.
//! - `time`: runs the real `forge-keys` binary for keys drawn from the database, as sshd runs an
//!   `AuthorizedKeysCommand` (a new process each time, one question to forged), and times each
//!   run from spawn to exit; one run in ten asks for a key nobody has. As a baseline from the same
//!   run it also times `forge-keys --version`: the same process start without the question.

use anyhow::{Context, bail};
use clap::Parser;
use forge::store::Store;
use forge::types::keys::{KeyId, PublicKey};
use forge::types::user_name::UserName;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The SSH wire name of the generated keys.
const ED25519: &str = "ssh-ed25519";
/// Runs of each kind made before timing starts (page cache, forged's statement cache).
const WARM_UP: usize = 50;
/// One run in this many asks for an unknown key.
const UNKNOWN_EVERY: usize = 10;

#[derive(Debug, Parser)]
enum Args {
    /// Create DATABASE with USERS users holding KEYS ed25519 keys between them
    Fill {
        #[arg(long)]
        database: PathBuf,
        #[arg(long, default_value_t = 100_000)]
        users: usize,
        #[arg(long, default_value_t = 1_000_000)]
        keys: usize,
        /// A real public key (`.pub`), given to USER in the middle of the key order
        #[arg(long)]
        real_key: PathBuf,
        #[arg(long, default_value = "bench")]
        real_user: String,
        #[arg(long, default_value_t = 0x5eed)]
        seed: u64,
    },
    /// Time RUNS runs of FORGE_KEYS for LOGIN with keys drawn from DATABASE
    Time {
        #[arg(long)]
        database: PathBuf,
        #[arg(long)]
        forge_keys: PathBuf,
        #[arg(long)]
        config: PathBuf,
        #[arg(long)]
        login: String,
        #[arg(long, default_value_t = 5_000)]
        runs: usize,
        #[arg(long, default_value_t = 0x5eed)]
        seed: u64,
    },
}

/// xorshift64*: the same seed gives the same keys and the same questions.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// A well-formed ed25519 public key with random key bytes.
    fn ed25519_key(&mut self) -> PublicKey {
        let mut blob = Vec::with_capacity(51);
        blob.extend_from_slice(&(ED25519.len() as u32).to_be_bytes());
        blob.extend_from_slice(ED25519.as_bytes());
        blob.extend_from_slice(&32u32.to_be_bytes());
        for _ in 0..4 {
            blob.extend_from_slice(&self.next().to_le_bytes());
        }
        PublicKey::from_stored(ED25519, &blob, "")
            .expect("a well-formed ed25519 blob of 32 key bytes is accepted")
    }
}

fn main() -> anyhow::Result<()> {
    match Args::parse() {
        Args::Fill {
            database,
            users,
            keys,
            real_key,
            real_user,
            seed,
        } => fill(&database, users, keys, &real_key, &real_user, seed),
        Args::Time {
            database,
            forge_keys,
            config,
            login,
            runs,
            seed,
        } => time(&database, &forge_keys, &config, &login, runs, seed),
    }
}

fn fill(
    database: &Path,
    users: usize,
    keys: usize,
    real_key: &PathBuf,
    real_user: &str,
    seed: u64,
) -> anyhow::Result<()> {
    if users == 0 || keys < 2 {
        bail!("give at least one user and two keys");
    }
    let text = std::fs::read_to_string(real_key)
        .with_context(|| format!("cannot read {}", real_key.display()))?;
    let real = PublicKey::parse_authorized(&text)?;
    let store = Store::open(database).context("cannot create the database")?;

    let started = Instant::now();
    let mut names = (0..users)
        .map(|n| UserName::parse(&format!("user{n:06}")))
        .collect::<Result<Vec<_>, _>>()?;
    let real_user = UserName::parse(real_user)?;
    names.push(real_user.clone());
    let mut random = Random(seed | 1);
    let mut real = Some(real);
    // Generated as they are stored: a million keys held at once would be a lot of memory.
    let owned = (0..keys - 1).flat_map(|n| {
        let real = (n == keys / 2)
            .then(|| real.take())
            .flatten()
            .map(|key| (real_user.clone(), key));
        real.into_iter()
            .chain([(names[n % users].clone(), random.ed25519_key())])
    });
    store.add_users_and_keys(&names, owned)?;
    println!(
        "filled {} with {users} users and {keys} keys in {:.1} s (the real key, of '{real_user}', is key {})",
        database.display(),
        started.elapsed().as_secs_f64(),
        keys / 2 + 1
    );
    Ok(())
}

/// One `forge-keys` question: the key's type and base64, and whether forge knows it.
struct Question {
    key_type: String,
    base64: String,
    known: bool,
}

fn time(
    database: &Path,
    forge_keys: &PathBuf,
    config: &PathBuf,
    login: &str,
    runs: usize,
    seed: u64,
) -> anyhow::Result<()> {
    let store = Store::open(database).context("cannot open the database")?;
    // `fill` numbers the keys 1 to their count, so a random id below the count is a known key.
    let keys = store.counts()?.keys;
    let mut random = Random(seed.rotate_left(17) | 1);
    let mut questions = Vec::with_capacity(runs + WARM_UP);
    while questions.len() < runs + WARM_UP {
        let (key, known) = if questions.len() % UNKNOWN_EVERY == UNKNOWN_EVERY - 1 {
            (random.ed25519_key(), false)
        } else {
            let id = KeyId::new(1 + random.below(keys as usize) as i64);
            let Some(key) = store.public_key(id)? else {
                continue;
            };
            (key, true)
        };
        let openssh = key.to_openssh();
        let (key_type, base64) = openssh.split_once(' ').expect("type, then base64");
        questions.push(Question {
            key_type: key_type.to_owned(),
            base64: base64.to_owned(),
            known,
        });
    }

    let ask = |question: &Question| -> anyhow::Result<Duration> {
        let started = Instant::now();
        let output = Command::new(forge_keys)
            .arg("--config")
            .arg(config)
            .args([login, &question.key_type, &question.base64])
            .stdin(Stdio::null())
            .output()
            .context("cannot run forge-keys")?;
        let elapsed = started.elapsed();
        let lines = String::from_utf8_lossy(&output.stdout).lines().count();
        if !output.status.success() || lines != usize::from(question.known) {
            bail!(
                "forge-keys gave {lines} lines ({}) for a{} key: {}",
                output.status,
                if question.known {
                    " known"
                } else {
                    "n unknown"
                },
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        Ok(elapsed)
    };
    let start_only = || -> anyhow::Result<Duration> {
        let started = Instant::now();
        let status = Command::new(forge_keys)
            .arg("--version")
            .stdout(Stdio::null())
            .status()?;
        let elapsed = started.elapsed();
        if !status.success() {
            bail!("forge-keys --version failed: {status}");
        }
        Ok(elapsed)
    };

    let (warm, timed) = questions.split_at(WARM_UP);
    for question in warm {
        ask(question)?;
        start_only()?;
    }
    let (mut known, mut unknown, mut baseline) = (Vec::new(), Vec::new(), Vec::new());
    for question in timed {
        let elapsed = ask(question)?;
        if question.known {
            known.push(elapsed);
        } else {
            unknown.push(elapsed);
        }
        baseline.push(start_only()?);
    }

    println!(
        "\nforge-keys, a new process per question as sshd runs it, {keys} keys in the store, {runs} runs\n"
    );
    println!("                         p50        p90        p99        max");
    let known_p99 = report("known key (one line)", &mut known);
    report("unknown key (no line)", &mut unknown);
    let baseline = report("baseline: --version", &mut baseline);
    let known_p50 = percentile(&known, 50);
    println!(
        "\nlookup minus process start (p50): {:.3} ms",
        (known_p50.as_secs_f64() - baseline[0].as_secs_f64()) * 1e3
    );
    println!("target: p99 under 2 ms for a known key");
    println!(
        "within target: {}",
        if known_p99[2] < Duration::from_millis(2) {
            "yes"
        } else {
            "no"
        }
    );
    Ok(())
}

/// Prints the p50, p90, p99 and max of `samples` in milliseconds and returns them.
fn report(label: &str, samples: &mut [Duration]) -> [Duration; 4] {
    samples.sort_unstable();
    let figures = [
        percentile(samples, 50),
        percentile(samples, 90),
        percentile(samples, 99),
        *samples.last().unwrap_or(&Duration::ZERO),
    ];
    let ms = figures.map(|d| d.as_secs_f64() * 1e3);
    println!(
        "  {label:<21} {:7.3} ms {:7.3} ms {:7.3} ms {:7.3} ms",
        ms[0], ms[1], ms[2], ms[3]
    );
    figures
}

/// The `p`th percentile of sorted `samples`, by nearest rank.
fn percentile(samples: &[Duration], p: usize) -> Duration {
    if samples.is_empty() {
        return Duration::ZERO;
    }
    let rank = (p * samples.len()).div_ceil(100).max(1);
    samples[rank - 1]
}
