//! Logging something that can happen a million times a second at most once per interval,
//! with the count of the occurrences left out, so a flood of connections cannot flood the log.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How often each throttled event is logged at most.
pub(in crate::daemon) const LOG_EVERY: Duration = Duration::from_secs(10);

/// One kind of event, logged at most once per interval.
#[derive(Debug)]
pub(in crate::daemon) struct Throttle {
    every: Duration,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    last: Option<Instant>,
    suppressed: u64,
}

impl Throttle {
    /// Returns a throttle that lets one event through per `every`.
    pub(in crate::daemon) const fn new(every: Duration) -> Throttle {
        Throttle {
            every,
            state: Mutex::new(State {
                last: None,
                suppressed: 0,
            }),
        }
    }

    /// Returns, when this event may be logged now, how many were left out since the last one
    /// logged; `None` when it must be left out.
    pub(in crate::daemon) fn allow(&self) -> Option<u64> {
        self.allow_at(Instant::now())
    }

    fn allow_at(&self, now: Instant) -> Option<u64> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        match state.last {
            Some(last) if now.saturating_duration_since(last) < self.every => {
                state.suppressed += 1;
                None
            }
            _ => {
                state.last = Some(now);
                Some(std::mem::take(&mut state.suppressed))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_event_per_interval_is_let_through_with_the_count_left_out() {
        let throttle = Throttle::new(Duration::from_secs(10));
        let start = Instant::now();
        assert_eq!(throttle.allow_at(start), Some(0));
        for i in 0..1000 {
            assert_eq!(throttle.allow_at(start + Duration::from_millis(i)), None);
        }
        assert_eq!(
            throttle.allow_at(start + Duration::from_secs(10)),
            Some(1000)
        );
        assert_eq!(throttle.allow_at(start + Duration::from_secs(11)), None);
        assert_eq!(throttle.allow_at(start + Duration::from_secs(21)), Some(1));
    }
}
