//! The log lines two daemons wrote, made comparable.

use super::{Kind, Side};

impl Side {
    /// The messages of `r1`'s log from its "(init)" line on that hold one
    /// of `needles`, in order, without time stamp or level. What each
    /// daemon logs before its instance starts differs and is not compared.
    pub(crate) fn lines_from_init(&self, needles: &[&str]) -> Vec<String> {
        let text = self.log_text("r1");
        let start = "Entering BACKUP STATE (init)";
        let from = text
            .find(start)
            .map_or(text.len(), |at| text[..at].rfind('\n').map_or(0, |n| n + 1));
        text[from..]
            .lines()
            .filter(|l| needles.iter().any(|n| l.contains(n)))
            .map(|l| self.message(l))
            .collect()
    }

    /// One log line without its time stamp and level.
    fn message(&self, line: &str) -> String {
        match self.kind {
            // "Mon Dec  7 11:18:22 2026: message"
            Kind::Keepalived => line.split_once(": ").map_or(line, |(_, m)| m).to_owned(),
            // "2026-12-07T11:34:47.294283Z  INFO message"
            Kind::Lite => {
                let rest = line.split_once("Z ").map_or(line, |(_, m)| m).trim_start();
                let text = rest.split_once(' ').map_or(rest, |(_, m)| m);
                text.trim_start().to_owned()
            }
        }
    }
}
