//! The shared search record: the tree as the models read it, one line per event in the
//! order the events happened, and only ever appended to.
//!
//! Every model's prompt is `prefix + record + question`. Because the record only grows,
//! a model's prompt cache (the embedded model's KV cache, OpenAI's automatic prefix
//! cache, Anthropic's cache breakpoints) already holds everything up to the end of the
//! record as it stood at that model's previous call: a call evaluates only the lines added
//! since then and the short question. That is how the models "communicate through the
//! tree" without paying for the tree on every call.
//!
//! Events:
//! - a node proposed by a model: `n12 from n3 by small: unroll(stage=s, step=64) | predicted 0.83`;
//! - the measurements of one batch, on one line:
//!   `measured (us): n12 41.2, n13 (mutation of n5) 38.9 best, n14 failed, 9 others 40.1-95.3`.
//!
//! A batch's measurements share a line, and only the nodes a model can do something with are
//! named in it: those with a creation line, the root and every new best (a node without a
//! creation line gets its origin in parentheses). The rest, mutations and random samples no
//! model proposed and that did not beat the best, are counted with the range of their times
//! (`9 others 40.1-95.3, 2 of them failed`). They were most of the measured nodes and, named
//! one by one (`n13 (mutation of n5) 38.9`), most of the record's tokens, though a model
//! knows nothing of them but their origin: every model evaluates every line once, so the
//! record's length is what a call costs once the prefix is cached. Latencies keep 3–4
//! significant digits. The line is written when the batch is complete (before the next
//! creation line, or before a model reads the record), so text a model has read is never
//! rewritten.
//!
//! When the record outgrows its budget (characters; the engine knows no tokenizer), it
//! is compacted once: the lines about the best measured nodes, their ancestors and the
//! acting lineage are kept, with the most recent lines, and the rest is left out with a
//! note. Each compaction is counted (every cache misses once after it).

use std::collections::BTreeSet;
use std::fmt::Write;

use crate::tree::ROOT;

/// One event line.
#[derive(Clone, Debug, PartialEq)]
struct Line {
    text: String,
    /// The nodes it is about (for compaction).
    nodes: Vec<u32>,
    kind: Kind,
}

#[derive(Clone, Debug, PartialEq)]
enum Kind {
    /// A node's creation by a model.
    Created,
    /// A batch of measurements: one entry per named node, in `nodes` order, and how many
    /// other measurements the line counts.
    Measured { entries: Vec<String>, others: usize },
    /// A compaction's note.
    Note,
}

/// A latency with 3–4 significant digits.
pub(crate) fn short_us(us: f64) -> String {
    if us >= 100.0 {
        format!("{us:.0}")
    } else if us >= 10.0 {
        format!("{us:.1}")
    } else {
        format!("{us:.2}")
    }
}

/// A batch line: the named entries, then the count and range of the others (empty: none).
fn measured_text(entries: &[String], others: &str) -> String {
    let mut parts = entries.to_vec();
    if !others.is_empty() {
        parts.push(others.to_string());
    }
    format!("measured (us): {}\n", parts.join(", "))
}

/// The unnamed measurements of a batch (`None`: failed): `9 others 40.1-95.3, 2 of them
/// failed`, `1 other 38.9`, `3 others failed`; empty when there are none.
pub(crate) fn others_text(latencies: &[Option<f64>]) -> String {
    let n = latencies.len();
    if n == 0 {
        return String::new();
    }
    let ok: Vec<f64> = latencies.iter().flatten().copied().collect();
    let failed = n - ok.len();
    let noun = if n == 1 { "other" } else { "others" };
    let lo = ok.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = ok.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let times = match ok.len() {
        0 => return format!("{n} {noun} failed"),
        1 => short_us(lo),
        _ => format!("{}-{}", short_us(lo), short_us(hi)),
    };
    match failed {
        0 => format!("{n} {noun} {times}"),
        f => format!("{n} {noun} {times}, {f} of them failed"),
    }
}

/// The append-only record.
#[derive(Clone, Debug, Default)]
pub(crate) struct Record {
    lines: Vec<Line>,
    text: String,
    /// Measurements not yet written (the current batch): the named ones, and the times of
    /// the others (`None`: failed).
    pending: Vec<(u32, String)>,
    pending_others: Vec<Option<f64>>,
    /// Nodes with a creation line.
    shown: BTreeSet<u32>,
    pub budget_chars: usize,
    pub compactions: u32,
    /// Lines (or a batch line's entries) left out by compactions, in all.
    pub left_out: usize,
}

impl Record {
    pub fn new(budget_chars: usize) -> Record {
        Record {
            budget_chars,
            ..Record::default()
        }
    }

    /// The record's text as the models read it: call [`Record::flush`] first.
    pub fn text(&self) -> &str {
        debug_assert!(
            self.pending.is_empty() && self.pending_others.is_empty(),
            "record read with a batch pending"
        );
        &self.text
    }

    #[cfg(test)]
    pub fn is_shown(&self, id: u32) -> bool {
        self.shown.contains(&id)
    }

    fn push(&mut self, text: String, nodes: Vec<u32>, kind: Kind) {
        debug_assert!(text.ends_with('\n'));
        self.text.push_str(&text);
        self.lines.push(Line { text, nodes, kind });
    }

    /// Write the pending measurements as one line.
    pub fn flush(&mut self) {
        if self.pending.is_empty() && self.pending_others.is_empty() {
            return;
        }
        let (nodes, entries): (Vec<u32>, Vec<String>) =
            std::mem::take(&mut self.pending).into_iter().unzip();
        let others = std::mem::take(&mut self.pending_others);
        let text = measured_text(&entries, &others_text(&others));
        let others = others.len();
        self.push(text, nodes, Kind::Measured { entries, others });
    }

    /// A node proposed by a model.
    pub fn created(
        &mut self,
        id: u32,
        parent: u32,
        proposer: &str,
        steps: &str,
        predicted: f64,
        note: &str,
    ) {
        if self.shown.contains(&id) {
            return;
        }
        self.flush();
        self.shown.insert(id);
        let mut t =
            format!("n{id} from n{parent} by {proposer}: {steps} | predicted {predicted:.2}");
        if !note.is_empty() {
            let _ = write!(t, " ({note})");
        }
        t.push('\n');
        self.push(t, vec![id, parent], Kind::Created);
    }

    /// A measurement, written with the rest of its batch; `origin` names where an
    /// unshown node came from (`mutation of n3`, [`ROOT`]). A node is named when it has a
    /// creation line, is the root or is a new best; the others are only counted.
    pub fn measured(&mut self, id: u32, origin: &str, latency_us: Option<f64>, new_best: bool) {
        if !self.shown.contains(&id) && !new_best && origin != ROOT {
            self.pending_others.push(latency_us);
            return;
        }
        let mut e = format!("n{id}");
        if !self.shown.contains(&id) && !origin.is_empty() {
            let _ = write!(e, " ({origin})");
        }
        match latency_us {
            Some(us) => {
                let _ = write!(
                    e,
                    " {}{}",
                    short_us(us),
                    if new_best { " best" } else { "" }
                );
            }
            None => e.push_str(" failed"),
        }
        self.pending.push((id, e));
    }

    /// Whether the record is over budget.
    pub fn over_budget(&self) -> bool {
        self.budget_chars > 0 && self.text.len() > self.budget_chars
    }

    /// Keep the lines about `keep` (every node they name is kept; of a batch line, the
    /// entries of kept nodes) and the most recent lines up to a quarter of the budget; note
    /// what was left out. (Every model's cache misses from the first line left out, so a
    /// compaction should leave room for many calls before the next one.)
    pub fn compact(&mut self, keep: &BTreeSet<u32>) {
        self.flush();
        let recent_budget = self.budget_chars / 4;
        let mut recent_from = self.lines.len();
        let mut size = 0;
        while recent_from > 0 && size + self.lines[recent_from - 1].text.len() <= recent_budget {
            recent_from -= 1;
            size += self.lines[recent_from].text.len();
        }
        let old = std::mem::take(&mut self.lines);
        let mut kept = Vec::new();
        let mut left = 0;
        for (i, l) in old.into_iter().enumerate() {
            // A batch line's count of the others is kept only with the whole line.
            let whole = i >= recent_from
                || match &l.kind {
                    Kind::Measured { others, .. } if *others > 0 => false,
                    _ => l.nodes.iter().all(|n| keep.contains(n)),
                };
            match l.kind {
                Kind::Note => {} // an earlier compaction's note: replaced below
                _ if whole => kept.push(l),
                Kind::Measured { entries, others } => {
                    let total = entries.len() + others;
                    let (nodes, entries): (Vec<u32>, Vec<String>) = l
                        .nodes
                        .into_iter()
                        .zip(entries)
                        .filter(|(n, _)| keep.contains(n))
                        .unzip();
                    left += total - entries.len();
                    if !entries.is_empty() {
                        kept.push(Line {
                            text: measured_text(&entries, ""),
                            nodes,
                            kind: Kind::Measured { entries, others: 0 },
                        });
                    }
                }
                Kind::Created => left += 1,
            }
        }
        self.left_out += left;
        self.compactions += 1;
        self.lines.clear();
        self.text.clear();
        let note = format!(
            "(record compacted {} time(s): {} earlier lines or measurements left out; kept: the best nodes, their ancestors, the current lineage and the latest events)\n",
            self.compactions, self.left_out
        );
        self.push(note, Vec::new(), Kind::Note);
        // Nodes whose creation lines were dropped are no longer shown.
        let mut shown = BTreeSet::new();
        for l in kept {
            if l.kind == Kind::Created {
                shown.insert(l.nodes[0]);
            }
            self.push(l.text, l.nodes, l.kind);
        }
        self.shown = shown;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_appended_in_event_order_and_only_once() {
        let mut r = Record::new(0);
        r.created(1, 0, "small", "unroll(stage=s, step=64)", 0.5, "");
        r.created(1, 0, "small", "unroll(stage=s, step=64)", 0.5, "");
        r.measured(1, "", Some(12.5), true);
        r.measured(2, "mutation of n1", None, false);
        r.measured(3, "random sample", Some(1234.567), false);
        r.flush();
        assert_eq!(
            r.text(),
            "n1 from n0 by small: unroll(stage=s, step=64) | predicted 0.50\n\
             measured (us): n1 12.5 best, 2 others 1235, 1 of them failed\n"
        );
        assert!(r.is_shown(1) && !r.is_shown(2));
    }

    #[test]
    fn the_root_new_bests_and_proposed_nodes_are_named_and_the_others_counted() {
        let mut r = Record::new(0);
        r.measured(0, "root", Some(900.0), true);
        r.measured(1, "random sample", Some(950.0), false);
        r.measured(2, "random sample", Some(41.3), false);
        r.measured(3, "random sample", Some(880.0), true);
        r.created(4, 3, "m", "x()", 0.5, "");
        r.measured(4, "", Some(890.0), false);
        r.measured(5, "mutation of n3", Some(870.0), false);
        r.created(6, 5, "m", "y()", 0.5, "");
        r.measured(6, "", None, false);
        r.measured(7, "mutation of n3", None, false);
        r.measured(8, "mutation of n3", None, false);
        r.flush();
        assert_eq!(
            r.text(),
            "measured (us): n0 (root) 900 best, n3 (random sample) 880 best, 2 others 41.3-950\n\
             n4 from n3 by m: x() | predicted 0.50\n\
             measured (us): n4 890, 1 other 870\n\
             n6 from n5 by m: y() | predicted 0.50\n\
             measured (us): n6 failed, 2 others failed\n"
        );
        assert!(!r.is_shown(5) && r.is_shown(6));
    }

    #[test]
    fn a_batch_is_one_line_written_before_the_next_creation() {
        let mut r = Record::new(0);
        r.measured(4, "random sample", Some(5.0), true);
        r.measured(5, "random sample", Some(50.0), false);
        r.created(6, 4, "m", "x()", 0.25, "");
        r.measured(6, "", Some(4.0), true);
        r.flush();
        r.flush();
        assert_eq!(
            r.text(),
            "measured (us): n4 (random sample) 5.00 best, 1 other 50.0\n\
             n6 from n4 by m: x() | predicted 0.25\n\
             measured (us): n6 4.00 best\n"
        );
    }

    #[test]
    fn appending_keeps_the_earlier_text_as_a_prefix() {
        let mut r = Record::new(0);
        r.created(1, 0, "a", "x()", 0.1, "");
        let before = r.text().to_string();
        r.measured(1, "", Some(3.0), true);
        r.flush();
        let after = r.text().to_string();
        assert!(after.starts_with(&before) && after.len() > before.len());
        r.measured(2, "mutation of n1", Some(3.5), false);
        r.flush();
        assert!(r.text().starts_with(&after) && r.text().len() > after.len());
    }

    #[test]
    fn compaction_keeps_the_kept_nodes_entries_of_a_batch_line() {
        let mut r = Record::new(10);
        for i in 1..6u32 {
            r.measured(i, "random sample", Some(f64::from(10 - i)), true);
        }
        r.measured(99, "mutation of n1", Some(20.0), false);
        r.flush();
        for i in 6..40u32 {
            r.created(i, 0, "m", "x()", 0.1, "");
        }
        r.compact(&BTreeSet::from([0, 2, 4]));
        let t = r.text();
        assert!(
            t.contains(
                "measured (us): n2 (random sample) 8.00 best, n4 (random sample) 6.00 best\n"
            ),
            "{t}"
        );
        assert!(
            !t.contains("n1 (random") && !t.contains("other") && !t.contains("n6 from"),
            "{t}"
        );
        // 3 named entries, the one counted, and the 34 creation lines (a budget of 10 keeps
        // no recent line).
        assert!(t.starts_with("(record compacted 1 time(s): 38 "), "{t}");
    }

    #[test]
    fn compaction_drops_a_line_of_others_unless_it_is_recent() {
        let mut r = Record::new(400);
        r.measured(1, "random sample", Some(5.0), false);
        r.measured(2, "random sample", Some(6.0), false);
        r.flush();
        for i in 3..40u32 {
            r.created(i, 0, "m", "x()", 0.1, "");
        }
        r.measured(40, "mutation of n3", Some(7.0), false);
        r.flush();
        r.compact(&BTreeSet::from([0]));
        let t = r.text();
        assert!(!t.contains("2 others 5.00-6.00"), "{t}");
        assert!(t.ends_with("measured (us): 1 other 7.00\n"), "{t}");
    }

    #[test]
    fn compaction_keeps_named_nodes_and_recent_lines_and_says_so() {
        let mut r = Record::new(200);
        for i in 1..30u32 {
            r.created(i, i - 1, "m", "x()", 0.1, "");
        }
        assert!(r.over_budget());
        r.compact(&BTreeSet::from([0, 1, 2]));
        let t = r.text().to_string();
        assert!(t.starts_with("(record compacted 1 time(s): "), "{t}");
        assert!(
            t.contains("n1 from n0") && t.contains("n2 from n1") && !t.contains("n3 from n2"),
            "{t}"
        );
        assert!(t.contains("n29 from n28"), "{t}");
        assert!(t.len() <= 200 + 200, "{}", t.len());
        assert_eq!(r.compactions, 1);
        assert!(!r.is_shown(5) && r.is_shown(29));
        // A second compaction replaces the note instead of stacking notes.
        r.compact(&BTreeSet::new());
        assert_eq!(r.text().matches("record compacted").count(), 1);
        assert!(r.text().starts_with("(record compacted 2 time(s): "));
    }
}
