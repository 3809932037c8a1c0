//! The threads that serve connections: started on demand, kept waiting for the next one
//! afterwards, and ended after a while without work, so a steady stream of short connections
//! (every clone asks once, every push three times) costs no thread start each.
//!
//! The pool does not bound anything: [`super::admission`] caps the connections, and so the
//! threads busy at once. At most [`MAX_IDLE`] threads wait idle; a thread idle for
//! [`IDLE_TIMEOUT`] ends, down to [`KEEP_IDLE`].

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// The most threads kept waiting for work; more than that end when their job is done.
const MAX_IDLE: usize = 64;

/// How many idle threads stay however long they wait.
const KEEP_IDLE: usize = 4;

/// How long a thread beyond [`KEEP_IDLE`] waits for work before it ends.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// One piece of work: serving one connection.
pub(super) type Job = Box<dyn FnOnce() + Send + 'static>;

/// A pool of threads that run [`Job`]s.
pub(super) struct Pool {
    shared: Arc<Shared>,
    name: &'static str,
}

struct Shared {
    state: Mutex<State>,
    work: Condvar,
}

#[derive(Default)]
struct State {
    /// Jobs handed to idle threads and not yet taken.
    queue: VecDeque<Job>,
    /// Threads waiting for a job.
    idle: usize,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A job runs outside the lock, so a panicking job cannot leave the state half changed.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Pool {
    /// Returns an empty pool whose threads carry `name`.
    pub(super) fn new(name: &'static str) -> Pool {
        Pool {
            shared: Arc::new(Shared {
                state: Mutex::new(State::default()),
                work: Condvar::new(),
            }),
            name,
        }
    }

    /// Runs `job` on a waiting thread, or on a new one when none waits.
    ///
    /// Fails only when no thread can be started (the job is dropped then).
    pub(super) fn run(&self, job: Job) -> std::io::Result<()> {
        {
            let mut state = self.shared.lock();
            if state.idle > state.queue.len() {
                state.queue.push_back(job);
                drop(state);
                self.shared.work.notify_one();
                return Ok(());
            }
        }
        let shared = Arc::clone(&self.shared);
        std::thread::Builder::new()
            .name(self.name.into())
            .spawn(move || work(&shared, job))
            .map(drop)
    }

    /// Returns how many threads wait for work.
    #[cfg(test)]
    fn idle(&self) -> usize {
        self.shared.lock().idle
    }
}

/// A thread's life: its first job, then whatever comes while it is wanted.
fn work(shared: &Shared, first: Job) {
    let mut job = first;
    loop {
        // Where panics unwind (test builds; release builds abort), a job that panics ends its
        // connection (the stream drops) and the thread goes on serving.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
        match next(shared) {
            Some(next) => job = next,
            None => return,
        }
    }
}

/// Waits for the next job; `None` when this thread is not wanted any more.
fn next(shared: &Shared) -> Option<Job> {
    let mut state = shared.lock();
    if state.idle >= MAX_IDLE {
        return None;
    }
    state.idle += 1;
    loop {
        if let Some(job) = state.queue.pop_front() {
            state.idle -= 1;
            return Some(job);
        }
        let (guard, waited) = shared
            .work
            .wait_timeout(state, IDLE_TIMEOUT)
            .unwrap_or_else(PoisonError::into_inner);
        state = guard;
        // A job queued for this thread is taken above, timed out or not; only an empty queue
        // lets the thread go, so no queued job is left without a thread.
        if waited.timed_out() && state.queue.is_empty() && state.idle > KEEP_IDLE {
            state.idle -= 1;
            return None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Instant;

    fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !done() {
            assert!(Instant::now() < deadline, "timed out waiting until {what}");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn a_finished_thread_serves_the_next_job() {
        let pool = Pool::new("test");
        let (sender, receiver) = mpsc::channel();
        let first = sender.clone();
        pool.run(Box::new(move || {
            first.send(std::thread::current().id()).unwrap()
        }))
        .unwrap();
        let first_thread = receiver.recv().unwrap();
        wait_until("the thread waits", || pool.idle() == 1);
        pool.run(Box::new(move || {
            sender.send(std::thread::current().id()).unwrap()
        }))
        .unwrap();
        assert_eq!(receiver.recv().unwrap(), first_thread);
    }

    #[test]
    fn jobs_run_at_once_when_every_thread_is_busy() {
        let pool = Pool::new("test");
        let (release, held) = mpsc::channel::<()>();
        let held = Arc::new(Mutex::new(held));
        let (done, finished) = mpsc::channel();
        // The first job holds its thread until released; the second must not wait for it.
        let holder = Arc::clone(&held);
        pool.run(Box::new(move || {
            holder.lock().unwrap().recv().unwrap();
        }))
        .unwrap();
        pool.run(Box::new(move || done.send(()).unwrap())).unwrap();
        finished
            .recv_timeout(Duration::from_secs(10))
            .expect("the second job ran while the first was busy");
        release.send(()).unwrap();
    }

    #[test]
    fn a_panicking_job_leaves_the_thread_serving() {
        let pool = Pool::new("test");
        pool.run(Box::new(|| panic!("a planted panic"))).unwrap();
        wait_until("the thread waits again", || pool.idle() == 1);
        let (sender, receiver) = mpsc::channel();
        pool.run(Box::new(move || sender.send(()).unwrap()))
            .unwrap();
        receiver.recv_timeout(Duration::from_secs(10)).unwrap();
    }

    #[test]
    fn no_more_than_the_idle_cap_wait() {
        let pool = Pool::new("test");
        let (release, held) = mpsc::channel::<()>();
        let held = Arc::new(Mutex::new(held));
        let jobs = MAX_IDLE + 3;
        for _ in 0..jobs {
            let held = Arc::clone(&held);
            pool.run(Box::new(move || {
                let _ = held.lock().unwrap().recv();
            }))
            .unwrap();
        }
        for _ in 0..jobs {
            release.send(()).unwrap();
        }
        wait_until("the pool settles", || pool.idle() == MAX_IDLE);
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(pool.idle(), MAX_IDLE);
    }
}
