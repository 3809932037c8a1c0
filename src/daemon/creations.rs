//! How many repositories each user may create from patterns: at most [`MAX_PER_WINDOW`] in
//! any [`WINDOW`], counted in memory (a restart forgets the count, which is fine for a limit
//! that only stops a loop of `git ls-remote` from making thousands of repositories, #11).

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The most repositories one user may create from patterns within [`WINDOW`].
pub(crate) const MAX_PER_WINDOW: usize = 10;

/// The span [`MAX_PER_WINDOW`] counts over.
pub(crate) const WINDOW: Duration = Duration::from_secs(60);

/// The creations of each user within the last [`WINDOW`].
#[derive(Debug, Default)]
pub(crate) struct Creations {
    by_user: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl Creations {
    /// Counts a creation by `user` at `now` and returns true, or returns false (counting
    /// nothing) when they already created [`MAX_PER_WINDOW`] within the last [`WINDOW`].
    pub(crate) fn try_count(&self, user: &str, now: Instant) -> bool {
        let mut by_user = self.by_user.lock().unwrap_or_else(PoisonError::into_inner);
        // Forget users with nothing in the window, so the map stays as small as the users
        // who created lately.
        by_user.retain(|_, times| {
            while times
                .front()
                .is_some_and(|at| now.saturating_duration_since(*at) >= WINDOW)
            {
                times.pop_front();
            }
            !times.is_empty()
        });
        let times = by_user.entry(user.to_owned()).or_default();
        if times.len() >= MAX_PER_WINDOW {
            return false;
        }
        times.push_back(now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_user_creates_at_most_the_limit_within_the_window() {
        let creations = Creations::default();
        let start = Instant::now();
        for _ in 0..MAX_PER_WINDOW {
            assert!(creations.try_count("alice", start));
        }
        assert!(!creations.try_count("alice", start + WINDOW / 2));
        assert!(creations.try_count("bob", start + WINDOW / 2));
        // A minute on, the first ones have left the window.
        for _ in 0..MAX_PER_WINDOW {
            assert!(creations.try_count("alice", start + WINDOW));
        }
        assert!(!creations.try_count("alice", start + WINDOW));
    }
}
