//! A progress line for long streamed runs, on stderr when it is a terminal.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use crate::memory::human;

/// Bytes done out of a total; redrawn at most every 200 ms after the first
/// second, on stderr, only when stderr is a terminal (nothing otherwise).
pub struct Progress {
    total: u64,
    done: u64,
    started: Instant,
    last_draw: Option<Instant>,
    enabled: bool,
}

impl Progress {
    /// Progress over `total` bytes; silent unless `wanted` and stderr is a terminal.
    pub fn new(total: u64, wanted: bool) -> Progress {
        Progress {
            total,
            done: 0,
            started: Instant::now(),
            last_draw: None,
            enabled: wanted && std::io::stderr().is_terminal(),
        }
    }

    /// `bytes` more are done.
    pub fn advance(&mut self, bytes: u64) {
        self.done = (self.done + bytes).min(self.total);
        let now = Instant::now();
        let due = match self.last_draw {
            None => now - self.started >= Duration::from_secs(1),
            Some(t) => now - t >= Duration::from_millis(200),
        };
        if self.enabled && due {
            self.last_draw = Some(now);
            let _ = write!(
                std::io::stderr(),
                "\r\x1b[K{}",
                self.line(now - self.started)
            );
        }
    }

    /// Clear the line, if one was drawn.
    pub fn finish(&mut self) {
        if self.enabled && self.last_draw.is_some() {
            let _ = write!(std::io::stderr(), "\r\x1b[K");
            self.last_draw = None;
        }
    }

    /// `oxla: 1.2 GiB of 28.0 GiB (4%), 850.3 MiB/s, 33 s left`
    fn line(&self, elapsed: Duration) -> String {
        let secs = elapsed.as_secs_f64().max(1e-9);
        let rate = self.done as f64 / secs;
        let left = if rate > 0.0 {
            format!("{:.0} s left", (self.total - self.done) as f64 / rate)
        } else {
            "time left unknown".into()
        };
        let percent = (self.done * 100).checked_div(self.total).unwrap_or(100);
        format!(
            "oxla: {} of {} ({percent}%), {}/s, {left}",
            human(self.done),
            human(self.total),
            human(rate as u64)
        )
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_says_done_total_rate_and_time_left() {
        let mut p = Progress::new(4 << 30, false);
        p.advance(1 << 30);
        let line = p.line(Duration::from_secs(2));
        assert_eq!(
            line,
            "oxla: 1.0 GiB of 4.0 GiB (25%), 512.0 MiB/s, 6 s left"
        );
    }

    #[test]
    fn nothing_is_drawn_when_not_wanted() {
        let mut p = Progress::new(100, false);
        p.advance(50);
        assert!(p.last_draw.is_none());
    }
}
