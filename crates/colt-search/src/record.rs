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
//! - a measurement: `n12 measured 41.20 us` (with its origin when the node has no line).
//!
//! When the record outgrows its budget (characters; the engine knows no tokenizer), it
//! is compacted once: the lines about the best measured nodes, their ancestors and the
//! acting lineage are kept, with the most recent lines, and the rest is left out with a
//! note. Each compaction is counted (every cache misses once after it).

use std::collections::BTreeSet;
use std::fmt::Write;

/// One event line.
#[derive(Clone, Debug, PartialEq)]
struct Line {
    text: String,
    /// The nodes it is about (for compaction).
    nodes: Vec<u32>,
}

/// The append-only record.
#[derive(Clone, Debug, Default)]
pub(crate) struct Record {
    lines: Vec<Line>,
    text: String,
    /// Nodes with a creation line.
    shown: BTreeSet<u32>,
    pub budget_chars: usize,
    pub compactions: u32,
    /// Lines left out by compactions, in all.
    pub left_out: usize,
}

impl Record {
    pub fn new(budget_chars: usize) -> Record {
        Record {
            budget_chars,
            ..Record::default()
        }
    }

    /// The record's text as the models read it.
    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn is_shown(&self, id: u32) -> bool {
        self.shown.contains(&id)
    }

    fn push(&mut self, text: String, nodes: Vec<u32>) {
        debug_assert!(text.ends_with('\n'));
        self.text.push_str(&text);
        self.lines.push(Line { text, nodes });
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
        if !self.shown.insert(id) {
            return;
        }
        let mut t =
            format!("n{id} from n{parent} by {proposer}: {steps} | predicted {predicted:.2}");
        if !note.is_empty() {
            let _ = write!(t, " ({note})");
        }
        t.push('\n');
        self.push(t, vec![id, parent]);
    }

    /// A measurement; `origin` names where an unshown node came from (`mutation of n3`).
    pub fn measured(&mut self, id: u32, origin: &str, latency_us: Option<f64>, new_best: bool) {
        let what = match latency_us {
            Some(us) => format!(
                "measured {us:.2} us{}",
                if new_best { ", best so far" } else { "" }
            ),
            None => "failed (did not build, crashed or gave a wrong result)".to_string(),
        };
        let t = if self.shown.contains(&id) || origin.is_empty() {
            format!("n{id} {what}\n")
        } else {
            format!("n{id} ({origin}) {what}\n")
        };
        self.push(t, vec![id]);
    }

    /// Whether the record is over budget.
    pub fn over_budget(&self) -> bool {
        self.budget_chars > 0 && self.text.len() > self.budget_chars
    }

    /// Keep the lines about `keep` (every node they name is kept) and the most recent
    /// lines up to a quarter of the budget; note what was left out. (Every model's cache
    /// misses from the first line left out, so a compaction should leave room for many
    /// calls before the next one.)
    pub fn compact(&mut self, keep: &BTreeSet<u32>) {
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
            let is_note = l.nodes.is_empty();
            if is_note {
                continue; // an earlier compaction's note: replaced below
            }
            if i >= recent_from || l.nodes.iter().all(|n| keep.contains(n)) {
                kept.push(l);
            } else {
                left += 1;
            }
        }
        self.left_out += left;
        self.compactions += 1;
        self.lines.clear();
        self.text.clear();
        let note = format!(
            "(record compacted {} time(s): {} earlier lines left out; kept: the best nodes, their ancestors, the current lineage and the latest events)\n",
            self.compactions, self.left_out
        );
        self.push(note, Vec::new());
        // Nodes whose creation lines were dropped are no longer shown.
        let mut shown = BTreeSet::new();
        for l in kept {
            if l.text.contains(" from n") {
                shown.insert(l.nodes[0]);
            }
            self.push(l.text, l.nodes);
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
        assert_eq!(
            r.text(),
            "n1 from n0 by small: unroll(stage=s, step=64) | predicted 0.50\n\
             n1 measured 12.50 us, best so far\n\
             n2 (mutation of n1) failed (did not build, crashed or gave a wrong result)\n"
        );
        assert!(r.is_shown(1) && !r.is_shown(2));
    }

    #[test]
    fn appending_keeps_the_earlier_text_as_a_prefix() {
        let mut r = Record::new(0);
        r.created(1, 0, "a", "x()", 0.1, "");
        let before = r.text().to_string();
        r.measured(1, "", Some(3.0), true);
        assert!(r.text().starts_with(&before));
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
