//! What the fault suite shares: its scale and seed, a small seeded random source for delays,
//! and the soundness checks every fault test ends with.

use std::path::Path;

/// How many times the default counts to run: `FORGE_FAULT_SCALE`, default 1 (what CI runs).
pub fn scale() -> usize {
    std::env::var("FORGE_FAULT_SCALE")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(1)
}

/// The seed of the random delays: `FORGE_FAULT_SEED`, else taken from the clock. Tests print it.
pub fn seed() -> u64 {
    std::env::var("FORGE_FAULT_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        })
}

/// A seeded xorshift generator: the same seed gives the same delays.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    /// Returns a number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x % n.max(1)
    }
}

/// Fails unless the database at `path` passes `PRAGMA integrity_check` and has no foreign key
/// violations.
pub fn assert_database_sound(path: &Path) {
    let connection = rusqlite::Connection::open(path)
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
    let integrity: String = connection
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap();
    assert_eq!(integrity, "ok", "{} fails integrity_check", path.display());
    let mut statement = connection.prepare("PRAGMA foreign_key_check").unwrap();
    let violations = statement.query_map([], |_| Ok(())).unwrap().count();
    assert_eq!(
        violations,
        0,
        "{} has foreign key violations",
        path.display()
    );
}
