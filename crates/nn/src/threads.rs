//! The threads a training step's large parts may share, and the one rule that keeps their
//! results the same bits on any number of them: work is only ever split between whole
//! outputs (rows of a sum, rows of a weight gradient, whole matrix products), never inside
//! one, so every value is computed by the same operations in the same order whoever
//! computes it.
//!
//! Threads are scoped to the part they run (spawned and joined there): a step that splits
//! spends a few tens of microseconds on them, which only pays for batches of more than
//! 256 rows (`sparse::CACHED_ROWS`), the only ones that split.

/// How many threads a step may use: 1 (the default) runs everything on the caller's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Threads(usize);

impl Threads {
    /// One thread: nothing is split.
    pub const ONE: Threads = Threads(1);

    /// `n` threads (at least one).
    pub fn new(n: usize) -> Threads {
        Threads(n.max(1))
    }

    pub fn count(self) -> usize {
        self.0
    }

    /// Runs `a` and `b`, side by side when there are two threads or more.
    pub(crate) fn join<RA: Send, RB: Send>(
        self,
        a: impl FnOnce() -> RA + Send,
        b: impl FnOnce() -> RB + Send,
    ) -> (RA, RB) {
        if self.0 < 2 {
            return (a(), b());
        }
        std::thread::scope(|scope| {
            let b = scope.spawn(b);
            let a = a();
            (a, b.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
        })
    }

    /// Runs `work` on each of `parts` (one part a thread, the first on the caller's).
    pub(crate) fn each<P: Send>(self, parts: Vec<P>, work: impl Fn(P) + Sync) {
        let mut parts = parts.into_iter();
        let Some(first) = parts.next() else {
            return;
        };
        if self.0 < 2 {
            work(first);
            parts.for_each(&work);
            return;
        }
        std::thread::scope(|scope| {
            let work = &work;
            let others: Vec<_> = parts.map(|p| scope.spawn(move || work(p))).collect();
            work(first);
            for other in others {
                other
                    .join()
                    .unwrap_or_else(|p| std::panic::resume_unwind(p));
            }
        });
    }

    /// Where to cut `0..n` into (at most) this many ranges of about equal `weight`, where
    /// `weight_before(i)` is the weight of `0..i` (non-decreasing): the cuts, `0` first and
    /// `n` last.
    pub(crate) fn cuts(self, n: usize, weight_before: impl Fn(usize) -> usize) -> Vec<usize> {
        let total = weight_before(n);
        let parts = self.0.min(n.max(1));
        let mut cuts = vec![0];
        for t in 1..parts {
            let goal = total * t / parts;
            let at = partition_point(n, |i| weight_before(i) < goal);
            if at > *cuts.last().expect("starts at 0") {
                cuts.push(at);
            }
        }
        cuts.push(n);
        cuts.dedup();
        cuts
    }
}

/// Row-major `rows` (`width` a row) cut at row `cuts` ([`Threads::cuts`]): each part's
/// range of rows and its slice, for [`Threads::each`].
pub(crate) fn row_parts<'s>(
    rows: &'s mut [f32],
    width: usize,
    cuts: &[usize],
) -> Vec<(std::ops::Range<usize>, &'s mut [f32])> {
    let mut parts = Vec::with_capacity(cuts.len().saturating_sub(1));
    let mut rest = rows;
    for cut in cuts.windows(2) {
        let (part, after) = rest.split_at_mut((cut[1] - cut[0]) * width);
        parts.push((cut[0]..cut[1], part));
        rest = after;
    }
    parts
}

/// The first `i` in `0..=n` where `below(i)` is false (`below` true then false).
fn partition_point(n: usize, below: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if below(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn cuts_split_by_weight_and_cover_every_index_once() {
        let weights = [5usize, 1, 1, 1, 1, 1, 0, 0, 10];
        let before = |i: usize| weights[..i].iter().sum::<usize>();
        assert_eq!(Threads::ONE.cuts(9, before), [0, 9]);
        assert_eq!(Threads::new(2).cuts(9, before), [0, 6, 9]);
        assert_eq!(Threads::new(3).cuts(9, before), [0, 2, 9]);
        let even = |i: usize| i;
        assert_eq!(Threads::new(4).cuts(8, even), [0, 2, 4, 6, 8]);
        assert_eq!(Threads::new(4).cuts(2, even), [0, 1, 2]);
        assert_eq!(Threads::new(2).cuts(0, even), [0]);
    }

    #[test]
    fn each_runs_every_part_once_and_join_returns_both() {
        for threads in [Threads::ONE, Threads::new(3)] {
            let seen = Mutex::new(Vec::new());
            threads.each(vec![1, 2, 3], |p| seen.lock().unwrap().push(p));
            let mut seen = seen.into_inner().unwrap();
            seen.sort();
            assert_eq!(seen, [1, 2, 3]);
            assert_eq!(threads.join(|| 1, || "b"), (1, "b"));
        }
    }
}
