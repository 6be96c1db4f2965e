//! A cap on how often one kind of line is written to the log: lines caused
//! by clients (a refused origin, say) must not let anyone fill the disk.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// At most `per_second` lines a second; the rest of that second's are dropped.
#[derive(Debug)]
pub struct LogBudget {
    per_second: u32,
    /// The second being counted (since the Unix epoch) in the high 32 bits,
    /// the lines written in it in the low 32: one atomic word, so two
    /// threads cannot both take the last line of a second.
    window: AtomicU64,
}

impl LogBudget {
    /// A budget of `per_second` lines a second.
    pub const fn new(per_second: u32) -> Self {
        Self {
            per_second,
            window: AtomicU64::new(0),
        }
    }

    /// Whether one more line may be written now.
    pub fn allow(&self) -> bool {
        let second = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs())
            & u64::from(u32::MAX);
        self.allow_at(second)
    }

    fn allow_at(&self, second: u64) -> bool {
        let mut current = self.window.load(Ordering::Relaxed);
        loop {
            let (counted_second, lines) = (current >> 32, current & u64::from(u32::MAX));
            let next = if counted_second == second {
                if lines >= u64::from(self.per_second) {
                    return false;
                }
                current + 1
            } else {
                (second << 32) | 1
            };
            match self.window.compare_exchange_weak(
                current,
                next,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(actual) => current = actual,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_second_gets_its_own_budget() {
        let budget = LogBudget::new(3);
        let first: Vec<bool> = (0..5).map(|_| budget.allow_at(7)).collect();
        assert_eq!(first, [true, true, true, false, false]);
        assert!(budget.allow_at(8), "a new second starts a new count");
        assert!(budget.allow_at(8) && budget.allow_at(8) && !budget.allow_at(8));
    }
}
