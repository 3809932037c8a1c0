//! Which denied access attempts are recorded: at most [`PER_WHO_PER_MINUTE`] for each identity
//! and [`ALL_PER_MINUTE`] in all, each minute, so that a flood of attempts (one key retrying in
//! a loop, or many) cannot fill the disk. The attempts left out are counted, and the next row
//! recorded says how many were.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

/// The most attempts of one identity recorded in a minute.
pub(in crate::daemon) const PER_WHO_PER_MINUTE: u32 = 10;

/// The most attempts recorded in a minute, of all identities together.
pub(in crate::daemon) const ALL_PER_MINUTE: u32 = 100;

/// The rate limit of denied attempts; see the module doc.
#[derive(Debug, Default)]
pub(in crate::daemon) struct Denials {
    window: Mutex<Window>,
}

#[derive(Debug, Default)]
struct Window {
    minute: i64,
    all: u32,
    /// Counts of the identities seen this minute; at most [`ALL_PER_MINUTE`] entries, since
    /// only a recorded attempt adds one.
    by_who: HashMap<String, u32>,
    left_out: i64,
}

impl Denials {
    /// Returns, when an attempt by `who` at unix second `now` is to be recorded, how many were
    /// left out before it; `None` when it is to be left out (and counted).
    pub(in crate::daemon) fn admit(&self, who: &str, now: i64) -> Option<i64> {
        let mut window = self.window.lock().unwrap_or_else(PoisonError::into_inner);
        let minute = now.div_euclid(60);
        if window.minute != minute {
            window.minute = minute;
            window.all = 0;
            window.by_who.clear();
        }
        let seen = window.by_who.get(who).copied().unwrap_or(0);
        if window.all >= ALL_PER_MINUTE || seen >= PER_WHO_PER_MINUTE {
            window.left_out += 1;
            return None;
        }
        window.all += 1;
        window.by_who.insert(who.to_owned(), seen + 1);
        Some(std::mem::take(&mut window.left_out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_identity_is_capped_per_minute_and_the_next_row_counts_what_was_left_out() {
        let denials = Denials::default();
        let recorded = (0..25).filter_map(|_| denials.admit("key-3", 120)).count();
        assert_eq!(recorded, PER_WHO_PER_MINUTE as usize);
        // Others still get through in the same minute, and say what was left out.
        assert_eq!(denials.admit("key-4", 130), Some(15));
        assert_eq!(denials.admit("key-4", 131), Some(0));
        // A new minute starts over.
        assert_eq!(denials.admit("key-3", 180), Some(0));
    }

    #[test]
    fn all_identities_together_are_capped_per_minute() {
        let denials = Denials::default();
        let recorded = (0..10_000)
            .filter_map(|n| denials.admit(&format!("key-{n}"), 60))
            .count();
        assert_eq!(recorded, ALL_PER_MINUTE as usize);
        assert_eq!(
            denials.admit("key-0", 120),
            Some(10_000 - ALL_PER_MINUTE as i64)
        );
    }
}
