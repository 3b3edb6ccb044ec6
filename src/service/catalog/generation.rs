//! How far the generation of the demo catalog has come, for the people waiting on it:
//! the node's log draws it as a text progress bar and `/readyz` reports it, while
//! the catalog is published part by part (see `crate::node`).

use std::fmt;
use std::time::Duration;

/// Width of the log's progress bar in characters.
const BAR_WIDTH: usize = 24;

/// Songs made of the songs planned, and for how long the generation has run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Generation {
    pub done: usize,
    pub total: usize,
    pub elapsed: Duration,
    /// A song could not be made: the rest will not come (the log says why).
    pub failed: bool,
}

impl Generation {
    pub fn is_complete(&self) -> bool {
        self.done >= self.total
    }

    /// Time left at the rate so far (`None` before the first song).
    pub fn eta(&self) -> Option<Duration> {
        if self.done == 0 || self.is_complete() {
            return None;
        }
        let per_song = self.elapsed.as_secs_f64() / self.done as f64;
        Some(Duration::from_secs_f64(
            per_song * (self.total - self.done) as f64,
        ))
    }

    /// `[#########---------------]`: done out of total.
    pub fn bar(&self) -> String {
        let filled = (self.done * BAR_WIDTH)
            .checked_div(self.total)
            .unwrap_or(BAR_WIDTH)
            .min(BAR_WIDTH);
        format!("[{}{}]", "#".repeat(filled), "-".repeat(BAR_WIDTH - filled))
    }
}

impl fmt::Display for Generation {
    /// `[######------------------] 100/400 songs (25 %), 31 s, ~93 s left`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let percent = (self.done * 100).checked_div(self.total).unwrap_or(100);
        write!(
            f,
            "{} {}/{} songs ({percent} %), {} s",
            self.bar(),
            self.done,
            self.total,
            self.elapsed.as_secs()
        )?;
        if let Some(eta) = self.eta() {
            write!(f, ", ~{} s left", eta.as_secs())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(done: usize, total: usize, secs: u64) -> Generation {
        Generation {
            done,
            total,
            elapsed: Duration::from_secs(secs),
            failed: false,
        }
    }

    #[test]
    fn the_bar_fills_with_the_songs_made() {
        assert_eq!(at(0, 400, 0).bar(), format!("[{}]", "-".repeat(BAR_WIDTH)));
        assert_eq!(
            at(400, 400, 90).bar(),
            format!("[{}]", "#".repeat(BAR_WIDTH))
        );
        assert_eq!(at(0, 0, 0).bar(), format!("[{}]", "#".repeat(BAR_WIDTH)));
        let quarter = at(100, 400, 30);
        assert_eq!(quarter.bar().matches('#').count(), BAR_WIDTH / 4);
        assert_eq!(quarter.eta(), Some(Duration::from_secs(90)));
        assert_eq!(
            quarter.to_string(),
            format!(
                "[{}{}] 100/400 songs (25 %), 30 s, ~90 s left",
                "#".repeat(6),
                "-".repeat(18)
            )
        );
        assert_eq!(at(400, 400, 90).eta(), None);
        assert_eq!(at(0, 400, 3).eta(), None);
    }
}
