//! Grouping nodes into tasks, as TVM's FuseOps does: at most one anchor (an operator with a
//! reduction) per task. A group grows from its last node to that node's immediate
//! post-dominator when every node on the way is elementwise, so an epilogue fuses whole,
//! diamonds included (GELU reads its input twice: MatMul+Add+Mul+Div+Erf+Add+Mul is one
//! task). An elementwise group whose result only an anchor reads is then merged in as that
//! anchor's prologue: a pure view into any anchor, arithmetic only into the row-wise ones
//! (Reduce, Softmax, LayerNorm), never into a product or a window (their inputs are re-read
//! many times, so a prologue there would be recomputed). Elementwise groups that fit nowhere
//! are tasks of their own.
//!
//! Every node a group absorbs lies between its last node and a post-dominator, so only the
//! group's last result is read outside it: merging never creates a cycle between tasks.

use crate::graph::Graph;
use crate::ops::{Op, is_view};

/// The graph's edges, computed once: per tensor its producer and readers.
struct Edges {
    producer: Vec<Option<usize>>,
    readers: Vec<Vec<usize>>,
}

impl Edges {
    /// The nodes reading node `i`'s result.
    fn next(&self, g: &Graph, i: usize) -> &[usize] {
        &self.readers[g.nodes[i].output.0]
    }
}

/// The groups of node indices, each in execution order, the groups in a dependency order.
pub(crate) fn groups(g: &Graph) -> Vec<Vec<usize>> {
    let n = g.nodes.len();
    let (producer, readers) = g.adjacency();
    let e = Edges { producer, readers };
    let ipdom = post_dominators(g, &e);
    let mut group_of = vec![usize::MAX; n];
    let mut groups: Vec<Vec<usize>> = vec![];
    for i in 0..n {
        if group_of[i] != usize::MAX {
            continue;
        }
        let gi = groups.len();
        let mut members = vec![i];
        group_of[i] = gi;
        let mut tail = i;
        while ipdom[tail] < n {
            let q = ipdom[tail];
            let mut between = before(g, &e, tail, q);
            between.push(q);
            let fits = between
                .iter()
                .all(|&m| !g.nodes[m].op.is_anchor() && group_of[m] == usize::MAX);
            if !fits {
                break;
            }
            for m in between {
                group_of[m] = gi;
                members.push(m);
            }
            tail = q;
        }
        groups.push(members);
    }
    merge_prologues(g, &e, &mut groups);
    order(
        g,
        &e,
        groups.into_iter().filter(|x| !x.is_empty()).collect(),
    )
}

/// The immediate post-dominator of each node (`n`, the sink, for a node whose result is a
/// graph output or reaches one along diverging paths).
fn post_dominators(g: &Graph, e: &Edges) -> Vec<usize> {
    let n = g.nodes.len();
    let mut ipdom = vec![n; n];
    for i in (0..n).rev() {
        let out = g.nodes[i].output;
        let mut succ = e.next(g, i).to_vec();
        if succ.is_empty() || g.outputs.contains(&out) {
            succ.push(n);
        }
        let meet = |mut a: usize, mut b: usize| {
            while a != b {
                if a < b { a = ipdom[a] } else { b = ipdom[b] }
            }
            a
        };
        ipdom[i] = succ.iter().copied().reduce(meet).unwrap_or(n);
    }
    ipdom
}

/// The nodes on the paths from node `i` to its post-dominator `q`, both excluded: as `q`
/// is on every path from `i`, they are the nodes reachable from `i` that come before `q`.
fn before(g: &Graph, e: &Edges, i: usize, q: usize) -> Vec<usize> {
    let mut seen = vec![false; q];
    let mut out = vec![];
    let mut stack = vec![i];
    while let Some(x) = stack.pop() {
        for &c in e.next(g, x) {
            if c < q && !seen[c] {
                seen[c] = true;
                out.push(c);
                stack.push(c);
            }
        }
    }
    out
}

/// Merge each elementwise-only group whose result only one anchor reads into the anchor's
/// group, when the anchor takes it as a prologue (see the module documentation).
fn merge_prologues(g: &Graph, e: &Edges, groups: &mut [Vec<usize>]) {
    for gi in 0..groups.len() {
        let Some(&last) = groups[gi].iter().max() else {
            continue;
        };
        let nodes = &groups[gi];
        if nodes.iter().any(|&m| g.nodes[m].op.is_anchor()) {
            continue;
        }
        let out = g.nodes[last].output;
        let [c] = e.readers[out.0][..] else { continue };
        let views = nodes
            .iter()
            .all(|&m| matches!(&g.nodes[m].op, Op::Elementwise(v) if is_view(v)));
        let takes = match &g.nodes[c].op {
            Op::Reduce(_) | Op::Softmax(_) | Op::LayerNorm(_) => true,
            Op::Elementwise(_) => false,
            _ => views,
        };
        if !takes || g.outputs.contains(&out) {
            continue;
        }
        let Some(target) = groups.iter().position(|x| x.contains(&c)) else {
            continue;
        };
        let moved = std::mem::take(&mut groups[gi]);
        groups[target].extend(moved);
        groups[target].sort_unstable();
    }
}

/// The groups in a dependency order (each after the groups computing its inputs; among
/// ready groups, the one with the earliest node first).
fn order(g: &Graph, e: &Edges, mut groups: Vec<Vec<usize>>) -> Vec<Vec<usize>> {
    for x in &mut groups {
        x.sort_unstable();
    }
    let mut group_of = vec![0; g.nodes.len()];
    for (gi, x) in groups.iter().enumerate() {
        for &n in x {
            group_of[n] = gi;
        }
    }
    let deps: Vec<Vec<usize>> = groups
        .iter()
        .enumerate()
        .map(|(gi, x)| {
            let mut d: Vec<usize> = x
                .iter()
                .flat_map(|&n| &g.nodes[n].inputs)
                .filter_map(|&t| e.producer[t.0].map(|p| group_of[p]))
                .filter(|&h| h != gi)
                .collect();
            d.sort_unstable();
            d.dedup();
            d
        })
        .collect();
    let mut done = vec![false; groups.len()];
    let mut out = vec![];
    while out.len() < groups.len() {
        let next = (0..groups.len())
            .filter(|&gi| !done[gi] && deps[gi].iter().all(|&h| done[h]))
            .min_by_key(|&gi| groups[gi][0])
            .expect("fusion keeps the task graph acyclic");
        done[next] = true;
        out.push(groups[next].clone());
    }
    out
}
