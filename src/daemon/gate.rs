//! The gate every change of state passes: maintenance mode (kept in the store, so it survives
//! restarts, and mirrored here), the short pause a backup takes, and the pushes in flight.
//!
//! A push is *in flight* from the moment pre-receive's `check_refs` is answered with every
//! update allowed until its post-receive `record` arrives: only then may git be moving refs.
//! A write session that `check` handed out but whose pre-receive has not come is not in flight:
//! its pre-receive passes the gate too, and is refused (or waits) like a new push. A push whose
//! client died after pre-receive never records; it stops counting after [`IN_FLIGHT_BOUND`],
//! which is far longer than git needs to move refs once pre-receive accepted.

use crate::store::MaintenanceRecord;
use std::collections::HashMap;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// How long a new write waits for a backup's pause to lift before it is refused; well inside
/// the shims' request timeout.
pub(in crate::daemon) const PAUSE_WAIT: Duration = Duration::from_secs(5);

/// How long after pre-receive accepted a push that never recorded stops counting as in flight.
pub(in crate::daemon) const IN_FLIGHT_BOUND: Duration = Duration::from_secs(120);

/// The longest pause a backup may ask for; the lease ends it even if the backup died.
pub(in crate::daemon) const MAX_PAUSE_LEASE: Duration = Duration::from_secs(600);

/// Why the gate refused a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(in crate::daemon) enum Closed {
    /// Maintenance mode is on, with the admin's message.
    Maintenance(String),
    /// A backup paused writes and did not resume within [`PAUSE_WAIT`].
    Paused,
}

/// A backup's pause: until when, and the token that ends it.
#[derive(Debug)]
struct Pause {
    token: String,
    until: Instant,
}

#[derive(Debug, Default)]
struct Inner {
    maintenance: Option<MaintenanceRecord>,
    pause: Option<Pause>,
    /// Push sessions in flight, and when pre-receive accepted each.
    in_flight: HashMap<String, Instant>,
}

impl Inner {
    fn is_paused(&self, now: Instant) -> bool {
        self.pause.as_ref().is_some_and(|pause| pause.until > now)
    }

    fn in_flight(&mut self, now: Instant) -> usize {
        self.in_flight.retain(|session, accepted| {
            let live = now.duration_since(*accepted) < IN_FLIGHT_BOUND;
            if !live {
                tracing::warn!(session = %session, "push accepted by pre-receive never recorded; no longer waited for");
            }
            live
        });
        self.in_flight.len()
    }
}

/// The gate; one per forged.
#[derive(Debug, Default)]
pub(in crate::daemon) struct Gate {
    inner: Mutex<Inner>,
    changed: Condvar,
}

impl Gate {
    /// Returns a gate with maintenance mode as the store has it.
    pub(in crate::daemon) fn new(maintenance: Option<MaintenanceRecord>) -> Gate {
        Gate {
            inner: Mutex::new(Inner {
                maintenance,
                ..Inner::default()
            }),
            changed: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Nothing here is left half changed by a panic: each field is set in one assignment.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Returns maintenance mode as the gate holds it.
    pub(in crate::daemon) fn maintenance(&self) -> Option<MaintenanceRecord> {
        self.lock().maintenance.clone()
    }

    /// Mirrors maintenance mode after the store changed it.
    pub(in crate::daemon) fn set_maintenance(&self, maintenance: Option<MaintenanceRecord>) {
        self.lock().maintenance = maintenance;
        self.changed.notify_all();
    }

    /// Lets a change of state through, or refuses it: maintenance refuses at once, a pause
    /// is waited out for at most [`PAUSE_WAIT`].
    pub(in crate::daemon) fn admit(&self) -> Result<(), Closed> {
        self.admit_then(|_| ())
    }

    /// As [`Gate::admit`] for a pre-receive, and on admission counts `session` in flight
    /// until [`Gate::landed`].
    /// A push already in flight (a later `check_refs` batch of it) passes at once.
    pub(in crate::daemon) fn admit_push(&self, session: &str) -> Result<(), Closed> {
        if self.lock().in_flight.contains_key(session) {
            return Ok(());
        }
        self.admit_then(|inner| {
            inner.in_flight.insert(session.to_owned(), Instant::now());
        })
    }

    fn admit_then(&self, then: impl FnOnce(&mut Inner)) -> Result<(), Closed> {
        let deadline = Instant::now() + PAUSE_WAIT;
        let mut inner = self.lock();
        loop {
            if let Some(maintenance) = &inner.maintenance {
                return Err(Closed::Maintenance(maintenance.message.clone()));
            }
            let now = Instant::now();
            if !inner.is_paused(now) {
                then(&mut inner);
                return Ok(());
            }
            if now >= deadline {
                return Err(Closed::Paused);
            }
            let until = inner.pause.as_ref().map_or(deadline, |pause| pause.until);
            let wait = until.min(deadline).saturating_duration_since(now);
            inner = self
                .changed
                .wait_timeout(inner, wait)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Stops counting `session` in flight: its post-receive came, or its pre-receive refused.
    pub(in crate::daemon) fn landed(&self, session: &str) {
        if self.lock().in_flight.remove(session).is_some() {
            self.changed.notify_all();
        }
    }

    /// Returns how many pushes are in flight once none is, or once `timeout` passed.
    pub(in crate::daemon) fn wait_idle(&self, timeout: Duration) -> usize {
        let deadline = Instant::now() + timeout;
        let mut inner = self.lock();
        loop {
            let now = Instant::now();
            let left = inner.in_flight(now);
            if left == 0 || now >= deadline {
                return left;
            }
            // Wake at least once a second to drop pushes past the bound.
            let wait = deadline.min(now + Duration::from_secs(1)) - now;
            inner = self
                .changed
                .wait_timeout(inner, wait)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Pauses new writes for at most `lease`, under `token`, then waits up to `timeout` for
    /// the pushes in flight to land. Returns how many are still in flight; if any are, the
    /// pause is lifted again, since a snapshot taken then would not be consistent. A pause
    /// already held by another token is refused with `Err` (one backup at a time).
    pub(in crate::daemon) fn pause(
        &self,
        token: &str,
        lease: Duration,
        timeout: Duration,
    ) -> Result<usize, ()> {
        {
            let mut inner = self.lock();
            if inner.is_paused(Instant::now()) {
                return Err(());
            }
            inner.pause = Some(Pause {
                token: token.to_owned(),
                until: Instant::now() + lease.min(MAX_PAUSE_LEASE),
            });
        }
        let left = self.wait_idle(timeout);
        if left > 0 {
            self.resume(token);
        }
        Ok(left)
    }

    /// Lifts the pause held under `token`; returns whether it was still held (its lease had
    /// not run out), which is what makes a snapshot taken under it consistent.
    pub(in crate::daemon) fn resume(&self, token: &str) -> bool {
        let mut inner = self.lock();
        let now = Instant::now();
        let held = inner
            .pause
            .as_ref()
            .is_some_and(|pause| pause.token == token && pause.until > now);
        if held || inner.pause.as_ref().is_some_and(|pause| pause.until <= now) {
            inner.pause = None;
        }
        drop(inner);
        self.changed.notify_all();
        held
    }

    /// Returns whether a pause under `token` is held now.
    pub(in crate::daemon) fn is_held(&self, token: &str) -> bool {
        let inner = self.lock();
        inner
            .pause
            .as_ref()
            .is_some_and(|pause| pause.token == token && pause.until > Instant::now())
    }

    /// Returns how many pushes are in flight now.
    pub(in crate::daemon) fn in_flight(&self) -> usize {
        self.lock().in_flight(Instant::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on(message: &str) -> MaintenanceRecord {
        MaintenanceRecord {
            message: message.into(),
            since: crate::types::timestamp::Timestamp::now(),
            by_uid: 0,
        }
    }

    #[test]
    fn maintenance_refuses_with_its_message_until_it_is_off() {
        let gate = Gate::new(Some(on("disk swap")));
        assert_eq!(gate.admit(), Err(Closed::Maintenance("disk swap".into())));
        assert_eq!(
            gate.admit_push("s1"),
            Err(Closed::Maintenance("disk swap".into()))
        );
        assert_eq!(gate.in_flight(), 0);
        gate.set_maintenance(None);
        assert_eq!(gate.admit(), Ok(()));
    }

    #[test]
    fn a_push_is_in_flight_from_pre_receive_to_its_record() {
        let gate = Gate::new(None);
        gate.admit_push("s1").unwrap();
        gate.admit_push("s2").unwrap();
        assert_eq!(gate.in_flight(), 2);
        gate.landed("s1");
        assert_eq!(gate.wait_idle(Duration::ZERO), 1);
        gate.landed("s2");
        assert_eq!(gate.wait_idle(Duration::from_secs(5)), 0);
    }

    #[test]
    fn a_pause_waits_for_pushes_in_flight_and_one_backup_pauses_at_a_time() {
        let gate = std::sync::Arc::new(Gate::new(None));
        gate.admit_push("s1").unwrap();
        let lander = {
            let gate = std::sync::Arc::clone(&gate);
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(100));
                gate.landed("s1");
            })
        };
        let left = gate
            .pause("t1", Duration::from_secs(60), Duration::from_secs(30))
            .unwrap();
        lander.join().unwrap();
        assert_eq!(left, 0);
        assert!(gate.is_held("t1"));
        assert_eq!(
            gate.pause("t2", Duration::from_secs(60), Duration::ZERO),
            Err(())
        );
        assert!(!gate.resume("t2"));
        assert!(gate.resume("t1"));
        assert_eq!(gate.admit(), Ok(()));
    }

    #[test]
    fn a_pause_with_pushes_still_in_flight_is_lifted_again() {
        let gate = Gate::new(None);
        gate.admit_push("s1").unwrap();
        assert_eq!(
            gate.pause("t1", Duration::from_secs(60), Duration::ZERO),
            Ok(1)
        );
        assert!(!gate.is_held("t1"));
        assert_eq!(gate.admit(), Ok(()));
    }

    #[test]
    fn an_expired_lease_lets_writes_through_and_is_not_held() {
        let gate = Gate::new(None);
        gate.pause("t1", Duration::from_millis(50), Duration::ZERO)
            .unwrap();
        // The write waits out the lease, then passes.
        assert_eq!(gate.admit(), Ok(()));
        assert!(!gate.resume("t1"));
    }
}
