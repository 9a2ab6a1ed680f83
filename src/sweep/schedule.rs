//! How `sweep run` hands runs to its workers, and the same rule played
//! out on predicted durations (for `sweep plan`).
//!
//! The rule ([`Queue`]): runs start in spec order, each on the first
//! worker that is free; a run started when fewer runs are left (itself
//! included) than there are workers gets `jobs / left` threads, so the
//! idle cores of the tail train and evaluate too.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Threads for a run started when `left` runs (itself included) remain
/// on `jobs` workers.
pub(crate) fn threads_for(left: usize, jobs: usize) -> usize {
    if left < jobs {
        (jobs / left.max(1)).max(1)
    } else {
        1
    }
}

/// The next run to start, and on how many threads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Slot {
    /// Its position in the run order.
    pub index: usize,
    /// Threads it trains and evaluates on.
    pub threads: usize,
}

/// The runs of a sweep, handed out in order to whichever worker asks
/// first (shared by the workers of `sweep run`, and by [`simulate`]).
#[derive(Debug)]
pub(crate) struct Queue {
    next: AtomicUsize,
    total: usize,
    jobs: usize,
}

impl Queue {
    /// `total` runs on `jobs` workers.
    pub fn new(total: usize, jobs: usize) -> Self {
        Queue {
            next: AtomicUsize::new(0),
            total,
            jobs,
        }
    }

    /// Workers worth starting: `jobs`, at least one, at most one per run.
    pub(crate) fn workers(&self) -> usize {
        self.jobs.max(1).min(self.total.max(1))
    }

    /// The next run, or `None` when every run has been handed out.
    pub fn take(&self) -> Option<Slot> {
        let index = self.next.fetch_add(1, Ordering::SeqCst);
        if index >= self.total {
            return None;
        }
        Some(Slot {
            index,
            threads: threads_for(self.total - index, self.jobs),
        })
    }
}

/// Speed-up of one run on `t` threads: Amdahl's law with the parallel
/// share fitted to the measured speed-up on two threads.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Speedup {
    parallel: f64,
}

impl Speedup {
    /// From the measured 1-vs-2-thread speed-up (clamped to 1..=2; 1:
    /// threads gain nothing).
    pub(crate) fn from_two_threads(s2: f64) -> Self {
        let s = s2.clamp(1.0, 2.0);
        Speedup {
            parallel: 2.0 * (1.0 - 1.0 / s),
        }
    }

    /// The speed-up on `t` threads.
    pub fn at(&self, t: usize) -> f64 {
        let p = self.parallel;
        1.0 / ((1.0 - p) + p / t.max(1) as f64)
    }
}

/// One run in a simulated schedule.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Span {
    /// When it starts (s).
    pub start: f64,
    /// When it ends (s).
    pub end: f64,
    /// Threads it got.
    pub threads: usize,
}

/// A simulated sweep: when it ends and when each run ran.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Schedule {
    /// Seconds from the first start to the last end.
    pub makespan: f64,
    /// Each run, in the order of the durations given.
    pub spans: Vec<Span>,
}

/// A run in progress in [`simulate`]: its index, single-thread work
/// left (s) and threads.
struct Running {
    index: usize,
    left: f64,
    threads: usize,
}

/// `sweep run --jobs jobs` over runs of `work` single-thread seconds (in
/// run order), with [`Queue`] handing them out. A run on `t` threads
/// goes `speedup.at(t)` times as fast; when the runs in progress ask for
/// more cores than `jobs`, all of them slow down in proportion.
pub(crate) fn simulate(work: &[f64], jobs: usize, speedup: Speedup) -> Schedule {
    let queue = Queue::new(work.len(), jobs);
    let workers = queue.workers();
    let mut spans = vec![
        Span {
            start: 0.0,
            end: 0.0,
            threads: 1,
        };
        work.len()
    ];
    let mut running: Vec<Running> = vec![];
    let mut now = 0.0;
    loop {
        while running.len() < workers {
            let Some(slot) = queue.take() else { break };
            spans[slot.index] = Span {
                start: now,
                end: now,
                threads: slot.threads,
            };
            running.push(Running {
                index: slot.index,
                left: work[slot.index].max(0.0),
                threads: slot.threads,
            });
        }
        if running.is_empty() {
            break;
        }
        let demand: f64 = running.iter().map(|r| speedup.at(r.threads)).sum();
        let share = (jobs.max(1) as f64 / demand).min(1.0);
        let rate = |r: &Running| speedup.at(r.threads) * share;
        let step = running
            .iter()
            .map(|r| r.left / rate(r))
            .fold(f64::INFINITY, f64::min);
        now += step;
        for r in &mut running {
            r.left -= rate(r) * step;
        }
        running.retain(|r| {
            let done = r.left <= 1e-9 * work[r.index].max(1.0);
            if done {
                spans[r.index].end = now;
            }
            !done
        });
    }
    Schedule {
        makespan: now,
        spans,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NONE: f64 = 1.0;

    #[test]
    fn one_core_runs_them_one_after_another() {
        let work = [3.0, 1.0, 4.0, 1.5];
        let s = simulate(&work, 1, Speedup::from_two_threads(1.6));
        assert!((s.makespan - 9.5).abs() < 1e-9);
        assert_eq!(s.spans[2].start, 4.0);
        assert!(s.spans.iter().all(|x| x.threads == 1));
    }

    #[test]
    fn known_durations_give_the_known_makespan() {
        // Two workers, spec order: 4 | 1, 1, 1 -> the fourth run starts
        // at 2 on worker B, alone with its two threads: no gain (speed-up
        // 1), so it ends at 3; worker A ends at 4.
        let s = simulate(&[4.0, 1.0, 1.0, 1.0], 2, Speedup::from_two_threads(NONE));
        assert!((s.makespan - 4.0).abs() < 1e-9);
        // Longest first: 4 and 3 start together.
        let s = simulate(&[4.0, 3.0, 2.0], 2, Speedup::from_two_threads(NONE));
        assert!((s.makespan - 5.0).abs() < 1e-9, "{}", s.makespan);
        assert_eq!(s.spans[2].start, 3.0);
    }

    #[test]
    fn the_tail_gets_the_idle_cores() {
        // One run on 4 cores: 4 threads, perfect speed-up (S(2) = 2).
        let s = simulate(&[8.0], 4, Speedup::from_two_threads(2.0));
        assert_eq!(s.spans[0].threads, 4);
        assert!((s.makespan - 2.0).abs() < 1e-9);
        // Runs 3 of 3 -> 1 thread each on 2 workers; the last gets 2.
        let q = Queue::new(3, 2);
        let got: Vec<usize> = std::iter::from_fn(|| q.take()).map(|s| s.threads).collect();
        assert_eq!(got, vec![1, 1, 2]);
        // Oversubscribed: a 2-thread run beside a 1-thread run on 2
        // cores with perfect speed-up asks for 3 cores: both slow by 2/3.
        let s = simulate(&[1.0, 3.0, 2.0], 2, Speedup::from_two_threads(2.0));
        assert_eq!(s.spans[2].threads, 2);
        assert!(s.makespan > 3.0 && s.makespan < 4.0, "{}", s.makespan);
    }

    #[test]
    fn the_queue_hands_out_each_run_once_in_order() {
        let q = Queue::new(5, 8);
        assert_eq!(q.workers(), 5);
        let order: Vec<usize> = std::iter::from_fn(|| q.take()).map(|s| s.index).collect();
        assert_eq!(order, vec![0, 1, 2, 3, 4]);
        assert_eq!(q.take(), None);
        assert_eq!(threads_for(3, 8), 2);
        assert_eq!(threads_for(8, 8), 1);
        assert_eq!(Queue::new(0, 4).workers(), 1);
    }
}
