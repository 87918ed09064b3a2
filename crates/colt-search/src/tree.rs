//! The search tree: an arena of nodes (ids are indices), the simulations that were
//! backpropagated, and the value bookkeeping.
//!
//! Values are not accumulated once and forgotten (the reference implementation's
//! weakness: predictions made by an untrained model stayed in the tree forever, and
//! measured latencies never reached it). Each simulation remembers what it evaluated
//! (its node, and the best state of its rollout by features); [`Tree::refresh`] re-scores
//! every node and simulation with the current cost model and the measured rewards, and
//! recomputes `value_sum` bottom-up. A node's own value is its measured reward when it
//! was measured, else its prediction.

use std::collections::BTreeMap;

use colt_action::Transformation;

use crate::result::NodeInfo;

/// The proposer (and, in the shared record, the origin) of the tree's root node.
pub(crate) const ROOT: &str = "root";

#[derive(Clone, Debug)]
pub(crate) struct Node<S> {
    pub state: S,
    pub key: u64,
    pub features: Vec<f32>,
    pub parent: Option<u32>,
    pub children: Vec<u32>,
    pub depth: u32,
    pub model: Option<String>,
    pub proposer: String,
    pub transformations: Vec<Transformation>,
    pub predicted: f64,
    /// `Some(Some(us))` measured, `Some(None)` failed, `None` not measured.
    pub latency: Option<Option<f64>>,
    pub visits: u32,
    pub value_sum: f64,
    pub expand_failures: u32,
    pub terminal: bool,
    /// Terminal with every child exhausted: selection never enters it again.
    pub exhausted: bool,
    pub course_altered: bool,
    /// A warm-up sample attached under the root (does not count against widening).
    pub seeded: bool,
    /// The environment's description of `state`, made when a prompt first shows the node
    /// (a pure function of the state; a node is shown again as parent and grandparent).
    pub description: std::cell::OnceCell<String>,
}

/// One backpropagated simulation.
#[derive(Clone, Debug)]
pub(crate) struct Sim {
    pub node: u32,
    /// Features of the best state the rollout found (re-scored on refresh).
    pub rollout_features: Option<Vec<f32>>,
    pub rollout_pred: f64,
    /// A failed expansion of `node`: a visit worth 0, whatever the node's value.
    pub failed: bool,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Tree<S> {
    pub nodes: Vec<Node<S>>,
    pub sims: Vec<Sim>,
    pub by_key: BTreeMap<u64, u32>,
}

impl<S> Node<S> {
    /// A node not yet visited, expanded or measured, with no children, no model, no
    /// transformations and no proposer (callers set those that apply).
    pub fn new(
        state: S,
        key: u64,
        features: Vec<f32>,
        parent: Option<u32>,
        depth: u32,
        predicted: f64,
    ) -> Node<S> {
        Node {
            state,
            key,
            features,
            parent,
            children: Vec::new(),
            depth,
            model: None,
            proposer: String::new(),
            transformations: Vec::new(),
            predicted,
            latency: None,
            visits: 0,
            value_sum: 0.0,
            expand_failures: 0,
            terminal: false,
            exhausted: false,
            course_altered: false,
            seeded: false,
            description: Default::default(),
        }
    }
}

impl<S: Clone> Tree<S> {
    pub fn new() -> Tree<S> {
        Tree {
            nodes: Vec::new(),
            sims: Vec::new(),
            by_key: BTreeMap::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn add(&mut self, node: Node<S>) -> u32 {
        let id = self.nodes.len() as u32;
        if let Some(p) = node.parent {
            self.nodes[p as usize].children.push(id);
        }
        self.by_key.insert(node.key, id);
        self.nodes.push(node);
        id
    }

    pub fn node(&self, id: u32) -> &Node<S> {
        &self.nodes[id as usize]
    }

    /// Children created by expansions (seeded warm-up samples excluded).
    pub fn expanded_children(&self, id: u32) -> usize {
        self.node(id)
            .children
            .iter()
            .filter(|&&c| !self.node(c).seeded)
            .count()
    }

    pub fn node_mut(&mut self, id: u32) -> &mut Node<S> {
        &mut self.nodes[id as usize]
    }

    /// A node's own value: measured reward if measured, else its prediction.
    pub fn own_value(&self, id: u32, reward: &dyn Fn(Option<f64>) -> f64) -> f64 {
        let n = self.node(id);
        match n.latency {
            Some(l) => reward(l),
            None => n.predicted,
        }
    }

    /// The value compared between a child and its parent (regressions, hit rate):
    /// measured rewards when both are measured, else both predictions (one scale).
    pub fn compare_values(
        &self,
        child: u32,
        parent: u32,
        reward: &dyn Fn(Option<f64>) -> f64,
    ) -> (f64, f64) {
        let (c, p) = (self.node(child), self.node(parent));
        match (c.latency, p.latency) {
            (Some(lc), Some(lp)) => (reward(lc), reward(lp)),
            _ => (c.predicted, p.predicted),
        }
    }

    fn sim_value(&self, s: &Sim, reward: &dyn Fn(Option<f64>) -> f64) -> f64 {
        if s.failed {
            return 0.0;
        }
        let own = self.own_value(s.node, reward);
        if s.rollout_features.is_some() {
            own.max(s.rollout_pred)
        } else {
            own
        }
    }

    /// Record a simulation and add its value and a visit to the node and every ancestor.
    pub fn backprop(&mut self, sim: Sim, reward: &dyn Fn(Option<f64>) -> f64) {
        let v = self.sim_value(&sim, reward);
        let mut cur = Some(sim.node);
        while let Some(id) = cur {
            let n = self.node_mut(id);
            n.visits += 1;
            n.value_sum += v;
            cur = n.parent;
        }
        self.sims.push(sim);
    }

    /// Re-score with new predictions (`node_preds` per node, `rollout_preds` per
    /// simulation, `None` = keep) and recompute every `value_sum` from the simulations.
    pub fn refresh(
        &mut self,
        node_preds: Option<&[f64]>,
        rollout_preds: &BTreeMap<usize, f64>,
        reward: &dyn Fn(Option<f64>) -> f64,
    ) {
        if let Some(p) = node_preds {
            for (n, v) in self.nodes.iter_mut().zip(p) {
                n.predicted = *v;
            }
        }
        for (i, v) in rollout_preds {
            self.sims[*i].rollout_pred = *v;
        }
        for n in &mut self.nodes {
            n.value_sum = 0.0;
        }
        for i in 0..self.sims.len() {
            let v = self.sim_value(&self.sims[i], reward);
            let mut cur = Some(self.sims[i].node);
            while let Some(id) = cur {
                let n = &mut self.nodes[id as usize];
                n.value_sum += v;
                cur = n.parent;
            }
        }
    }

    pub fn info(&self, id: u32) -> NodeInfo<S> {
        let n = self.node(id);
        NodeInfo {
            id,
            parent: n.parent,
            depth: n.depth,
            key: n.key,
            state: n.state.clone(),
            model: n.model.clone(),
            proposer: n.proposer.clone(),
            transformations: n.transformations.clone(),
            predicted: n.predicted,
            measured_us: n.latency,
            visits: n.visits,
            value: if n.visits == 0 {
                0.0
            } else {
                n.value_sum / n.visits as f64
            },
            expand_failures: n.expand_failures,
            terminal: n.terminal,
            course_altered: n.course_altered,
        }
    }

    pub fn snapshot(&self) -> Vec<NodeInfo<S>> {
        (0..self.nodes.len() as u32).map(|i| self.info(i)).collect()
    }

    /// Children created by each proposer, and how many beat their parent.
    pub fn hits_by_proposer(
        &self,
        reward: &dyn Fn(Option<f64>) -> f64,
    ) -> BTreeMap<String, (u64, u64)> {
        let mut out: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        for (i, n) in self.nodes.iter().enumerate() {
            let Some(p) = n.parent else { continue };
            let (c, pv) = self.compare_values(i as u32, p, reward);
            let e = out.entry(n.proposer.clone()).or_default();
            e.0 += 1;
            e.1 += (c > pv + 1e-12) as u64;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A simulation of `node` without a rollout.
    fn sim(node: u32, failed: bool) -> Sim {
        Sim {
            node,
            rollout_features: None,
            rollout_pred: 0.0,
            failed,
        }
    }

    fn node(parent: Option<u32>, key: u64, predicted: f64) -> Node<u64> {
        Node {
            proposer: "mutation".into(),
            ..Node::new(key, key, vec![key as f32], parent, 0, predicted)
        }
    }

    #[test]
    fn measured_rewards_replace_predictions_on_refresh() {
        let reward = |l: Option<f64>| l.map_or(0.0, |l| 10.0 / l);
        let mut t: Tree<u64> = Tree::new();
        let r = t.add(node(None, 1, 0.2));
        let a = t.add(node(Some(r), 2, 0.9));
        t.backprop(sim(r, false), &reward);
        t.backprop(sim(a, false), &reward);
        assert_eq!(t.node(r).visits, 2);
        assert!((t.node(r).value_sum - 1.1).abs() < 1e-12);
        // `a` turns out slow when measured: its measured reward (10/40) replaces 0.9.
        t.node_mut(a).latency = Some(Some(40.0));
        t.refresh(None, &BTreeMap::new(), &reward);
        assert!((t.node(a).value_sum - 0.25).abs() < 1e-12);
        assert!((t.node(r).value_sum - 0.45).abs() < 1e-12);
        assert_eq!(t.node(r).visits, 2);
        // A retrained model re-scores the unmeasured root.
        t.refresh(Some(&[0.5, 0.0]), &BTreeMap::new(), &reward);
        assert!((t.node(r).value_sum - 0.75).abs() < 1e-12);
    }

    #[test]
    fn rollouts_count_their_best_state() {
        let reward = |_: Option<f64>| 0.0;
        let mut t: Tree<u64> = Tree::new();
        let r = t.add(node(None, 1, 0.2));
        t.backprop(
            Sim {
                node: r,
                rollout_features: Some(vec![0.0]),
                rollout_pred: 0.7,
                failed: false,
            },
            &reward,
        );
        assert!((t.node(r).value_sum - 0.7).abs() < 1e-12);
        let mut re = BTreeMap::new();
        re.insert(0usize, 0.1);
        t.refresh(None, &re, &reward);
        assert!(
            (t.node(r).value_sum - 0.2).abs() < 1e-12,
            "the rollout no longer beats the node itself"
        );
    }

    #[test]
    fn a_failed_expansion_is_a_visit_worth_nothing_also_after_refresh() {
        let reward = |_: Option<f64>| 0.0;
        let mut t: Tree<u64> = Tree::new();
        let r = t.add(node(None, 1, 0.6));
        let a = t.add(node(Some(r), 2, 0.8));
        t.backprop(sim(a, false), &reward);
        t.backprop(sim(a, true), &reward);
        assert_eq!((t.node(a).visits, t.node(r).visits), (2, 2));
        assert!((t.node(a).value_sum - 0.8).abs() < 1e-12);
        t.refresh(Some(&[0.6, 0.9]), &BTreeMap::new(), &reward);
        assert!(
            (t.node(a).value_sum - 0.9).abs() < 1e-12,
            "the failed visit stays at 0"
        );
    }
}
