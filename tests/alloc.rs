//! The hot loops allocate nothing: training steps and whole-set
//! evaluations, counted by a global allocator (in its own test binary).
//!
//! Allocations are counted per thread: idle pool threads of rayon and
//! crossbeam's epoch collector allocate now and then on their own, which
//! says nothing about our loops.
#![warn(clippy::undocumented_unsafe_blocks)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

use preinterp::bench::synthetic;
use preinterp::config::adam_default;
use preinterp::eval::{Evaluator, SetEval};
use preinterp::model::{init_params, Shape};
use preinterp::optim::OptimizerKind;
use preinterp::train::Trainer;

struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// This thread's allocations (no destructor, so usable any time).
    static MINE: Cell<usize> = const { Cell::new(0) };
}

fn count() {
    ALLOCS.fetch_add(1, Ordering::SeqCst);
    let _ = MINE.try_with(|c| c.set(c.get() + 1));
}

// SAFETY: every method hands its arguments unchanged to `System` and
// returns what `System` returns, so this allocator keeps `System`'s
// contract; the counting beside it allocates nothing (an atomic add and a
// const-initialised, destructor-free thread-local `Cell` reached through
// `try_with`), so it never re-enters the allocator.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        count();
        // SAFETY: the caller guarantees `l` has a non-zero size, which is
        // all `System.alloc` requires; it gets `l` unchanged.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        // SAFETY: the caller guarantees `p` came from this allocator with
        // layout `l`; this allocator's blocks are `System`'s, with the
        // layout they were asked for.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        count();
        // SAFETY: the caller guarantees `p` came from this allocator (so
        // from `System`) with layout `l`, and that `n` is non-zero and,
        // rounded up to `l.align()`, fits `isize`: `System.realloc`'s
        // contract, passed on unchanged.
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static A: Counting = Counting;

/// Allocations by this thread while `f` runs.
fn allocations(f: impl FnOnce()) -> usize {
    let before = MINE.with(Cell::get);
    f();
    MINE.with(Cell::get) - before
}

/// Allocations by any thread while `f` runs.
fn allocations_anywhere(f: impl FnOnce()) -> usize {
    let before = ALLOCS.load(Ordering::SeqCst);
    f();
    ALLOCS.load(Ordering::SeqCst) - before
}

#[test]
fn training_steps_and_evaluation_allocate_nothing() {
    let data = synthetic(1000, 3);
    let idx: Vec<u32> = (0..1000).collect();
    let sgd = OptimizerKind::Sgd {
        lr: 0.01,
        momentum: 0.9,
    };
    let mut trained = vec![];
    for (shape, opt) in [
        (
            Shape {
                depth: 3,
                width: 100,
            },
            adam_default(1e-3),
        ),
        (
            Shape {
                depth: 2,
                width: 37,
            },
            sgd,
        ),
    ] {
        let params = init_params(&shape, 1);
        let mut t = Trainer::new(shape, params, opt, 64);
        t.step(&data, &idx[..64]); // first use
        let n = allocations(|| {
            for b in idx.chunks(64) {
                t.step(&data, b);
            }
        });
        assert_eq!(n, 0, "{shape:?}: training steps allocated {n} times");
        trained.push((shape, t.params));
    }
    // Steps split across threads (every layer but the output one cut):
    // rayon's job queue takes a block of 63 slots every 63 steps, and
    // idle threads allocate now and then; one allocation per step would
    // be 200 or more. The trainers stay alive to the end, as the
    // evaluators below.
    let mut trainers = vec![];
    for opt in [adam_default(1e-3), sgd] {
        let shape = Shape {
            depth: 2,
            width: 300,
        };
        let params = init_params(&shape, 1);
        let mut t = Trainer::with_threads(shape, params, opt, 128, 2).unwrap();
        t.step(&data, &idx[..128]); // first use
        let calls = 200;
        let n = allocations_anywhere(|| {
            for b in idx.chunks(128).cycle().take(calls) {
                t.step(&data, b);
            }
        });
        assert!(
            n < calls / 4,
            "{shape:?} on 2 threads: {calls} steps: {n} allocations"
        );
        trainers.push(t);
    }
    // Evaluators stay alive to the end: a dropped pool's threads would
    // allocate as they wind down, and the count is process-wide.
    let mut evaluators = vec![];
    for (shape, params) in &trained {
        for threads in [1, 2] {
            let mut ev = Evaluator::new(shape, threads).unwrap();
            let mut out = SetEval::with_len(idx.len());
            ev.evaluate(params, &data, &idx, &mut out); // first use
            let calls = 200;
            let run = || {
                for _ in 0..calls {
                    ev.evaluate(params, &data, &idx, &mut out);
                }
            };
            if threads == 1 {
                // On the caller's thread: nothing at all.
                let n = allocations(run);
                assert_eq!(n, 0, "{shape:?}: {calls} evaluations: {n} allocations");
            } else {
                // In the pool: rayon's job queue takes a block of 63
                // slots every 63 calls, and idle threads allocate now and
                // then; one allocation per call would be 200 or more.
                let n = allocations_anywhere(run);
                assert!(
                    n < calls / 4,
                    "{shape:?}: {calls} evaluations on {threads} threads: {n} allocations"
                );
            }
            evaluators.push(ev);
        }
    }
}
