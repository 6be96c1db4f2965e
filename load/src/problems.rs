//! Everything that went wrong in a run: counted by kind, the first few kept
//! word for word so the output says what happened, not only how often.

use serde_json::{json, Value};

/// Messages kept per run; the counts go on regardless.
const SAMPLES: usize = 8;

/// What can go wrong. Any of them makes the run fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A connection could not be opened (refused, handshake failed, timed out).
    Refused,
    /// An open connection was closed or broke before the phase ended.
    Dropped,
    /// A ping or message never got its answer.
    Missing,
    /// An answer that was not JSON, answered nothing sent, or had other content.
    Wrong,
}

/// Counts per kind and a few messages.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Problems {
    /// Connections not opened.
    pub refused: u64,
    /// Connections lost mid-phase.
    pub dropped: u64,
    /// Frames never answered.
    pub missing: u64,
    /// Wrong answers.
    pub wrong: u64,
    samples: Vec<String>,
}

impl Problems {
    /// Records `count` problems of one kind, described by `message`.
    pub fn add(&mut self, kind: Kind, count: u64, message: String) {
        match kind {
            Kind::Refused => self.refused += count,
            Kind::Dropped => self.dropped += count,
            Kind::Missing => self.missing += count,
            Kind::Wrong => self.wrong += count,
        }
        if self.samples.len() < SAMPLES {
            self.samples.push(message);
        }
    }

    /// Adds another tally (one connection's) to this one.
    pub fn merge(&mut self, other: Self) {
        self.refused += other.refused;
        self.dropped += other.dropped;
        self.missing += other.missing;
        self.wrong += other.wrong;
        let room = SAMPLES.saturating_sub(self.samples.len());
        self.samples.extend(other.samples.into_iter().take(room));
    }

    /// Whether nothing went wrong.
    pub fn is_empty(&self) -> bool {
        self.refused + self.dropped + self.missing + self.wrong == 0
    }

    /// The first few messages.
    pub fn samples(&self) -> &[String] {
        &self.samples
    }

    /// One line: `0 refused, 0 dropped, 0 missing, 0 wrong`.
    pub fn summary(&self) -> String {
        format!(
            "{} refused, {} dropped, {} missing, {} wrong",
            self.refused, self.dropped, self.missing, self.wrong
        )
    }

    /// The counts and messages for the JSON line.
    pub fn to_json(&self) -> Value {
        json!({
            "refused": self.refused,
            "dropped": self.dropped,
            "missing": self.missing,
            "wrong": self.wrong,
            "samples": self.samples,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_everything_and_keeps_a_few_messages() {
        let mut all = Problems::default();
        assert!(all.is_empty());
        for n in 0..SAMPLES {
            let mut one = Problems::default();
            one.add(Kind::Missing, 2, format!("missing {n}"));
            one.add(Kind::Wrong, 1, format!("wrong {n}"));
            all.merge(one);
        }
        all.add(Kind::Refused, 1, "refused".to_owned());
        assert_eq!(
            all.summary(),
            format!(
                "1 refused, 0 dropped, {} missing, {} wrong",
                2 * SAMPLES,
                SAMPLES
            )
        );
        assert_eq!(all.samples().len(), SAMPLES);
        assert!(!all.is_empty());
    }
}
