//! The task scheduler of `colt model tune`: one trial budget spread over a model's kernels
//! by expected gain, in the manner of Ansor's gradient-based task scheduler.
//!
//! Every kernel first gets one measurement round (the warm-up), in kernel order. After that
//! each round goes to the kernel with the largest expected gain per trial,
//!
//! ```text
//! gain = count × latency × rate
//! ```
//!
//! where `count` is how many tasks of the model run the kernel, `latency` its current
//! latency in the built model (the faster of its naive nest and its best tuned kernel) and
//! `rate` its recent relative improvement per trial: over the last `window` rounds,
//! `(latency then − latency now) / latency then / trials since` (the naive latency counts
//! as the point before the first round, so a kernel that the warm-up sped up a lot is
//! tried again first). A flat kernel keeps the floor rate `floor / trials`, the slope of a
//! latency that falls as `trials^-floor` (3.4% per doubling of its trials for the default
//! 0.05), so it still gets rounds when the others flatten out. A kernel whose share of the model's
//! estimated time (`count × latency` over the sum) is under `min_share` gets only its
//! warm-up. Ties go to the lower kernel index.
//!
//! The scheduler reads no clock and draws no random number: the same measurements give the
//! same rounds, which is what lets `colt model tune --resume` replay a killed run.

/// The scheduler's settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Settings {
    /// Trials of the whole model.
    pub budget: usize,
    /// Trials of a round at most (the search's batch size).
    pub batch: usize,
    /// Trials of a kernel's first round (the warm-up) at most.
    pub first: usize,
    /// Rounds over which a kernel's improvement rate is measured.
    pub window: usize,
    /// The floor of the improvement rate: `floor / trials` per trial.
    pub floor: f64,
    /// Kernels under this share of the model's estimated time get only the warm-up.
    pub min_share: f64,
}

impl Settings {
    /// The defaults for `budget` trials in rounds of `batch` (first rounds of `first`).
    pub fn new(budget: usize, batch: usize, first: usize) -> Settings {
        Settings {
            budget,
            batch,
            first,
            window: 3,
            floor: 0.05,
            min_share: 0.01,
        }
    }
}

/// What the scheduler knows of one kernel.
#[derive(Clone, Debug, Default, PartialEq)]
struct TaskState {
    /// How many tasks of the model run it.
    count: f64,
    /// The naive nest's latency, when measured.
    naive_us: Option<f64>,
    /// After each round: the kernel's trials and best latency (`None`: nothing correct).
    rounds: Vec<(usize, Option<f64>)>,
    /// Its search ended (space exhausted, or an error): no more rounds.
    retired: bool,
}

impl TaskState {
    fn trials(&self) -> usize {
        self.rounds.last().map_or(0, |r| r.0)
    }

    /// `(trials, latency)` before the first round (the naive nest) and after each round,
    /// the latency being the faster of the naive nest and the best so far.
    fn points(&self) -> Vec<(usize, Option<f64>)> {
        let mut out = vec![(0, self.naive_us)];
        let mut best: Option<f64> = self.naive_us;
        for &(t, b) in &self.rounds {
            best = match (best, b) {
                (Some(x), Some(y)) => Some(x.min(y)),
                (x, y) => x.or(y),
            };
            out.push((t, best));
        }
        out
    }

    fn latency(&self) -> Option<f64> {
        self.points().last().and_then(|p| p.1)
    }
}

/// The scheduler: call [`Scheduler::next`] for the kernel of the next round, then
/// [`Scheduler::observe`] with what the round measured.
#[derive(Clone, Debug, PartialEq)]
pub struct Scheduler {
    settings: Settings,
    tasks: Vec<TaskState>,
}

impl Scheduler {
    /// A scheduler of kernels run `counts[i]` times each by the model.
    pub fn new(counts: &[usize], settings: Settings) -> Scheduler {
        let tasks = counts
            .iter()
            .map(|&c| TaskState {
                count: c as f64,
                ..TaskState::default()
            })
            .collect();
        Scheduler { settings, tasks }
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The naive nest of kernel `task` measured `us`.
    pub fn set_naive(&mut self, task: usize, us: Option<f64>) {
        self.tasks[task].naive_us = us.filter(|u| u.is_finite() && *u > 0.0);
    }

    /// Kernel `task` ended a round with `trials` trials in all and best latency `best_us`.
    pub fn observe(&mut self, task: usize, trials: usize, best_us: Option<f64>) {
        let best = best_us.filter(|u| u.is_finite() && *u > 0.0);
        self.tasks[task].rounds.push((trials, best));
    }

    /// Kernel `task` gets no more rounds (its search ended).
    pub fn retire(&mut self, task: usize) {
        self.tasks[task].retired = true;
    }

    /// Trials of every kernel together.
    pub fn used(&self) -> usize {
        self.tasks.iter().map(TaskState::trials).sum()
    }

    /// Trials of kernel `task`.
    pub fn trials(&self, task: usize) -> usize {
        self.tasks[task].trials()
    }

    /// Rounds of every kernel together.
    pub fn rounds_total(&self) -> usize {
        self.tasks.iter().map(|t| t.rounds.len()).sum()
    }

    /// Rounds kernel `task` had.
    pub fn rounds(&self, task: usize) -> usize {
        self.tasks[task].rounds.len()
    }

    /// Kernel `task`'s latency in the built model: the faster of its naive nest and its
    /// best kernel so far.
    pub fn latency(&self, task: usize) -> Option<f64> {
        self.tasks[task].latency()
    }

    /// The model's estimated time: `count × latency` summed over the kernels with one.
    pub fn model_us(&self) -> f64 {
        (0..self.tasks.len())
            .filter_map(|i| self.latency(i).map(|l| l * self.tasks[i].count))
            .sum()
    }

    /// Kernel `task`'s share of the model's estimated time.
    pub fn share(&self, task: usize) -> Option<f64> {
        let total = self.model_us();
        let l = self.latency(task)?;
        (total > 0.0).then(|| l * self.tasks[task].count / total)
    }

    /// Kernel `task`'s improvement rate per trial (relative to its latency), at least the
    /// floor.
    pub fn rate(&self, task: usize) -> f64 {
        let s = &self.settings;
        let points = self.tasks[task].points();
        let now = points.len() - 1;
        let then = now.saturating_sub(s.window);
        let (t1, l1) = points[now];
        let floor = s.floor / t1.max(1) as f64;
        let back = match (points[then], l1) {
            ((t0, Some(l0)), Some(l1)) if t1 > t0 && l0 > 0.0 => (l0 - l1) / l0 / (t1 - t0) as f64,
            _ => 0.0,
        };
        back.max(floor)
    }

    /// Kernel `task`'s expected gain per trial (µs of model time), or `None` when it gets no
    /// more rounds: retired, no latency known, or under the minimum share.
    pub fn gain(&self, task: usize) -> Option<f64> {
        let t = &self.tasks[task];
        if t.retired || self.share(task)? < self.settings.min_share {
            return None;
        }
        Some(t.count * self.latency(task)? * self.rate(task))
    }

    /// The kernel of the next round: the first one without a round yet (the warm-up), then
    /// the largest gain; `None` when the budget cannot hold another round or no kernel may
    /// have one.
    pub fn next(&self) -> Option<usize> {
        let s = &self.settings;
        let used = self.used();
        if let Some(i) = self
            .tasks
            .iter()
            .position(|t| !t.retired && t.rounds.is_empty())
        {
            return (used + s.first <= s.budget).then_some(i);
        }
        if used + s.batch > s.budget {
            return None;
        }
        let mut pick: Option<(usize, f64)> = None;
        for i in 0..self.tasks.len() {
            if let Some(g) = self.gain(i)
                && pick.is_none_or(|(_, best)| g > best)
            {
                pick = Some((i, g));
            }
        }
        pick.map(|p| p.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A kernel's best latency after `t` trials.
    type Curve = Box<dyn Fn(usize) -> f64>;

    /// Falls from `naive` towards `floor` with half-life `half` trials.
    fn improving(naive: f64, floor: f64, half: f64) -> Curve {
        Box::new(move |t| floor + (naive - floor) * 0.5f64.powf(t as f64 / half))
    }

    fn flat(us: f64) -> Curve {
        Box::new(move |_| us)
    }

    /// Run the scheduler to the end against `curves` (naive = the curve at 0): the kernel
    /// of every round, and the trials each kernel got.
    fn simulate(counts: &[usize], curves: &[Curve], s: Settings) -> (Vec<usize>, Vec<usize>) {
        let mut sched = Scheduler::new(counts, s);
        for (i, c) in curves.iter().enumerate() {
            sched.set_naive(i, Some(c(0)));
        }
        let mut picks = vec![];
        while let Some(i) = sched.next() {
            let size = if sched.rounds(i) == 0 {
                s.first
            } else {
                s.batch
            };
            let t = sched.trials(i) + size;
            sched.observe(i, t, Some(curves[i](t)));
            picks.push(i);
        }
        let trials = (0..counts.len()).map(|i| sched.trials(i)).collect();
        (picks, trials)
    }

    #[test]
    fn the_warm_up_comes_first_in_kernel_order() {
        let curves = vec![flat(10.0), improving(100.0, 10.0, 16.0), flat(50.0)];
        let (picks, trials) = simulate(&[1, 1, 1], &curves, Settings::new(64, 8, 8));
        assert_eq!(&picks[..3], &[0, 1, 2]);
        assert_eq!(trials.iter().sum::<usize>(), 64);
    }

    #[test]
    fn a_kernel_with_more_weight_times_latency_gets_more_trials() {
        // The same relative curve; kernel 1 runs 4 times as often and is 5x slower.
        let curves = vec![improving(20.0, 5.0, 24.0), improving(100.0, 25.0, 24.0)];
        let (_, trials) = simulate(&[1, 4], &curves, Settings::new(256, 8, 8));
        assert!(trials[1] > 2 * trials[0], "{trials:?}");
        assert!(
            trials[0] > 8,
            "the lighter kernel still gets rounds: {trials:?}"
        );
    }

    #[test]
    fn a_flat_kernel_still_gets_rounds_from_the_floor() {
        // Kernel 0 improves; kernel 1 is flat at a similar share of the model's time.
        let curves = vec![improving(200.0, 20.0, 16.0), flat(60.0)];
        let (_, trials) = simulate(&[1, 1], &curves, Settings::new(256, 8, 8));
        assert!(
            trials[1] > 8,
            "the flat kernel got the warm-up only: {trials:?}"
        );
        assert!(trials[0] > trials[1], "{trials:?}");
    }

    #[test]
    fn a_kernel_under_one_percent_of_the_model_gets_only_the_warm_up() {
        let curves = vec![improving(1000.0, 100.0, 32.0), improving(5.0, 1.0, 8.0)];
        let (_, trials) = simulate(&[1, 1], &curves, Settings::new(128, 8, 8));
        assert_eq!(trials, vec![120, 8]);
    }

    #[test]
    fn the_same_measurements_give_the_same_rounds() {
        let curves = || {
            vec![
                improving(80.0, 20.0, 12.0),
                flat(40.0),
                improving(40.0, 30.0, 40.0),
                improving(400.0, 300.0, 8.0),
            ]
        };
        let s = Settings::new(200, 8, 8);
        let a = simulate(&[2, 1, 3, 1], &curves(), s);
        let b = simulate(&[2, 1, 3, 1], &curves(), s);
        assert_eq!(a, b);
        // Two identical kernels share the rounds, the lower index first on a tie.
        let s = Settings::new(192, 8, 8);
        let (picks, trials) = simulate(&[1, 1], &[flat(30.0), flat(30.0)], s);
        assert_eq!(&picks[..4], &[0, 1, 0, 1]);
        assert_eq!(trials, vec![96, 96]);
    }

    #[test]
    fn retired_kernels_and_the_budget_end_the_rounds() {
        let mut s = Scheduler::new(&[1, 1], Settings::new(40, 8, 16));
        s.set_naive(0, Some(10.0));
        s.set_naive(1, Some(10.0));
        assert_eq!(s.next(), Some(0));
        s.observe(0, 16, Some(5.0));
        s.retire(0);
        assert_eq!(s.next(), Some(1));
        s.observe(1, 16, Some(9.0));
        assert_eq!(s.next(), Some(1));
        s.observe(1, 24, Some(9.0));
        assert_eq!(s.used(), 40);
        assert_eq!(s.next(), None, "the budget is spent");
        // A kernel slower than its naive nest counts at the naive latency.
        let mut s = Scheduler::new(&[1], Settings::new(64, 8, 8));
        s.set_naive(0, Some(10.0));
        s.observe(0, 8, Some(30.0));
        assert_eq!(s.latency(0), Some(10.0));
        assert!((s.rate(0) - 0.05 / 8.0).abs() < 1e-12, "flat: the floor");
        // Nothing correct and no naive latency: no estimate, no more rounds.
        let mut s = Scheduler::new(&[1], Settings::new(64, 8, 8));
        s.observe(0, 8, None);
        assert_eq!((s.gain(0), s.next()), (None, None));
    }
}
