//! A symphony bound to one data set: the tree flattened children-first, every ticker mapped to
//! its data column, every ticker indicator read from a precomputed series, and the synthetic
//! series of filter and inverse-volatility children (docs/symphony.md section 4).
//!
//! Each node owns a slot of `tickers` weights in one buffer, and lists the tickers its subtree
//! can weight (its support, ascending): zeroing and combining touch only those, which gives the
//! same doubles as the dense formulas (every skipped term adds an exact 0).

use super::data::DailyData;
use super::ir::{cmp_utf16, CompareOp, Indicator, IndicatorRef, Node, Operand, Select, SymphonyProgram};
use super::series::{ticker_series, IndicatorState, SeriesCache, SeriesKey};
use crate::error::Error;
use std::collections::{BTreeSet, HashMap};
use std::ops::Range;
use std::sync::Arc;

/// Where a filter or inverse-volatility child's score comes from.
#[derive(Debug, Clone)]
enum Source {
    /// Column `c` of the plan's ticker series.
    Series(usize),
    /// The current value of synthetic series `i`.
    Synth(usize),
}

#[derive(Debug, Clone)]
enum Value {
    Number(f64),
    /// Column `c` of the plan's ticker series.
    Series(usize),
}

#[derive(Debug, Clone)]
struct Cond {
    op: CompareOp,
    left: Value,
    right: Value,
}

#[derive(Debug, Clone)]
enum Kind {
    Asset {
        /// Index in the symphony's tickers.
        k: usize,
    },
    /// weight-equal, group: every child `share = 1 / n`.
    Equal {
        share: f64,
    },
    /// weight-specified: `shares[i] = w_i / s`.
    Specified {
        shares: Range<usize>,
    },
    InverseVolatility {
        sources: Range<usize>,
    },
    Filter {
        top: bool,
        count: usize,
        sources: Range<usize>,
        /// Each child's place in (label, position) order, the tie-break after the score.
        ranks: Range<usize>,
    },
    If {
        cond: usize,
        /// Children are the `then` list followed by the `else` list.
        n_then: usize,
        then_share: f64,
        else_share: f64,
    },
}

#[derive(Debug, Clone)]
struct PlanNode {
    kind: Kind,
    children: Range<usize>,
    support: Range<usize>,
}

/// A node whose synthetic price some parent scores, with the parent's indicator on it.
#[derive(Debug, Clone)]
pub(crate) struct Synth {
    node: usize,
    ind: IndicatorRef,
}

/// The bound, immutable part of a run.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub(crate) tickers: usize,
    /// Children before parents; the root is last.
    nodes: Vec<PlanNode>,
    child_index: Vec<usize>,
    support: Vec<usize>,
    shares: Vec<f64>,
    sources: Vec<Source>,
    ranks: Vec<usize>,
    conds: Vec<Cond>,
    synths: Vec<Synth>,
    /// The ticker series the plan reads, each once.
    series: Vec<Arc<[f64]>>,
    /// Closes of the symphony's tickers, in IR order.
    pub(crate) closes: Vec<Arc<[f64]>>,
    /// Opens of the symphony's tickers, in IR order.
    pub(crate) opens: Vec<Arc<[f64]>>,
    max_children: usize,
}

/// The data columns of the symphony's tickers, in IR order; an unknown ticker is an error.
pub(crate) fn columns(program: &SymphonyProgram, data: &DailyData) -> Result<Vec<usize>, Error> {
    program
        .tickers
        .iter()
        .enumerate()
        .map(|(i, t)| {
            data.column(t).ok_or_else(|| {
                Error::data(
                    format!("tickers[{i}]"),
                    format!("ticker '{t}' is not in the data"),
                )
            })
        })
        .collect()
}

/// The ticker indicator series the program reads (`current-price` excepted: it is the close).
pub(crate) fn series_keys(program: &SymphonyProgram, columns: &[usize], keys: &mut BTreeSet<SeriesKey>) {
    fn ticker_column(program: &SymphonyProgram, columns: &[usize], ticker: &str) -> Option<usize> {
        let k = program.tickers.binary_search_by(|t| cmp_utf16(t, ticker)).ok()?;
        Some(columns[k])
    }
    fn push(keys: &mut BTreeSet<SeriesKey>, ind: IndicatorRef, column: Option<usize>) {
        if let (Some(column), false) = (column, ind.func == Indicator::CurrentPrice) {
            keys.insert(SeriesKey { ind, column });
        }
    }
    fn walk(node: &Node, program: &SymphonyProgram, columns: &[usize], keys: &mut BTreeSet<SeriesKey>) {
        let scored = |children: &[Node], ind: IndicatorRef, keys: &mut BTreeSet<SeriesKey>| {
            for c in children {
                if let Node::Asset { ticker, .. } = c {
                    push(keys, ind, ticker_column(program, columns, ticker));
                }
            }
        };
        match node {
            Node::Asset { .. } => {}
            Node::WeightEqual { children }
            | Node::WeightSpecified { children, .. }
            | Node::Group { children, .. } => {
                for c in children {
                    walk(c, program, columns, keys);
                }
            }
            Node::WeightInverseVolatility { window, children } => {
                let ind = IndicatorRef {
                    func: Indicator::StdevReturn,
                    window: *window,
                };
                scored(children, ind, keys);
                for c in children {
                    walk(c, program, columns, keys);
                }
            }
            Node::Filter { ind, children, .. } => {
                scored(children, *ind, keys);
                for c in children {
                    walk(c, program, columns, keys);
                }
            }
            Node::If {
                cond,
                then,
                otherwise,
            } => {
                for operand in [&cond.left, &cond.right] {
                    if let Operand::Series { ind, ticker } = operand {
                        push(keys, *ind, ticker_column(program, columns, ticker));
                    }
                }
                for c in then.iter().chain(otherwise.iter().flatten()) {
                    walk(c, program, columns, keys);
                }
            }
        }
    }
    walk(&program.root, program, columns, keys);
}

struct Builder<'a> {
    program: &'a SymphonyProgram,
    data: &'a DailyData,
    columns: &'a [usize],
    shared: Option<&'a SeriesCache>,
    local: HashMap<SeriesKey, Arc<[f64]>>,
    plan: Plan,
}

impl Builder<'_> {
    fn ticker_index(&self, ticker: &str) -> usize {
        // The IR check guarantees every named ticker is listed.
        self.program
            .tickers
            .binary_search_by(|t| cmp_utf16(t, ticker))
            .unwrap_or_else(|_| panic!("ticker '{ticker}' is not listed in tickers"))
    }

    /// The plan's column of `ind` on `ticker`, added on first use.
    fn series(&mut self, ind: IndicatorRef, ticker: &str) -> usize {
        let column = self.columns[self.ticker_index(ticker)];
        let series = if ind.func == Indicator::CurrentPrice {
            self.data.close_arc(column)
        } else {
            let key = SeriesKey { ind, column };
            match self.shared.and_then(|c| c.get(&key)) {
                Some(s) => s.clone(),
                None => {
                    let data = self.data;
                    self.local
                        .entry(key)
                        .or_insert_with(|| ticker_series(data, column, ind).into())
                        .clone()
                }
            }
        };
        let known = self.plan.series.iter().position(|s| Arc::ptr_eq(s, &series));
        known.unwrap_or_else(|| {
            self.plan.series.push(series);
            self.plan.series.len() - 1
        })
    }

    fn operand(&mut self, operand: &Operand) -> Value {
        match operand {
            Operand::Number(x) => Value::Number(*x),
            Operand::Series { ind, ticker } => Value::Series(self.series(*ind, ticker)),
        }
    }

    /// Adds `nodes` (children first) and returns their indices.
    fn list(&mut self, nodes: &[Node]) -> Vec<usize> {
        nodes.iter().map(|n| self.node(n)).collect()
    }

    /// The score source of each child of a filter or inverse-volatility node.
    fn sources(&mut self, children: &[Node], indices: &[usize], ind: IndicatorRef) -> Range<usize> {
        let start = self.plan.sources.len();
        for (child, &index) in children.iter().zip(indices) {
            let source = match child {
                Node::Asset { ticker, .. } => Source::Series(self.series(ind, ticker)),
                _ => {
                    self.plan.synths.push(Synth { node: index, ind });
                    Source::Synth(self.plan.synths.len() - 1)
                }
            };
            self.plan.sources.push(source);
        }
        start..self.plan.sources.len()
    }

    fn node(&mut self, node: &Node) -> usize {
        let (kind, children) = match node {
            Node::Asset { ticker, .. } => (
                Kind::Asset {
                    k: self.ticker_index(ticker),
                },
                Vec::new(),
            ),
            Node::WeightEqual { children } | Node::Group { children, .. } => {
                let indices = self.list(children);
                let share = 1.0 / indices.len() as f64;
                (Kind::Equal { share }, indices)
            }
            Node::WeightSpecified { weights, children } => {
                let indices = self.list(children);
                let mut s = 0.0;
                for &w in weights {
                    s += w;
                }
                let start = self.plan.shares.len();
                self.plan.shares.extend(weights.iter().map(|&w| w / s));
                let shares = start..self.plan.shares.len();
                (Kind::Specified { shares }, indices)
            }
            Node::WeightInverseVolatility { window, children } => {
                let indices = self.list(children);
                let ind = IndicatorRef {
                    func: Indicator::StdevReturn,
                    window: *window,
                };
                let sources = self.sources(children, &indices, ind);
                (Kind::InverseVolatility { sources }, indices)
            }
            Node::Filter {
                ind,
                select,
                count,
                children,
            } => {
                let indices = self.list(children);
                let sources = self.sources(children, &indices, *ind);
                let mut order: Vec<usize> = (0..children.len()).collect();
                order.sort_by(|&a, &b| cmp_utf16(children[a].label(), children[b].label()).then(a.cmp(&b)));
                let mut rank = vec![0; children.len()];
                for (r, &j) in order.iter().enumerate() {
                    rank[j] = r;
                }
                let start = self.plan.ranks.len();
                self.plan.ranks.extend(rank);
                let ranks = start..self.plan.ranks.len();
                (
                    Kind::Filter {
                        top: *select == Select::Top,
                        count: *count,
                        sources,
                        ranks,
                    },
                    indices,
                )
            }
            Node::If {
                cond,
                then,
                otherwise,
            } => {
                let left = self.operand(&cond.left);
                let right = self.operand(&cond.right);
                self.plan.conds.push(Cond {
                    op: cond.op,
                    left,
                    right,
                });
                let cond = self.plan.conds.len() - 1;
                let mut indices = self.list(then);
                let n_then = indices.len();
                let otherwise = otherwise.as_deref().unwrap_or(&[]);
                indices.extend(self.list(otherwise));
                let n_else = indices.len() - n_then;
                (
                    Kind::If {
                        cond,
                        n_then,
                        then_share: 1.0 / n_then as f64,
                        else_share: if n_else == 0 { 0.0 } else { 1.0 / n_else as f64 },
                    },
                    indices,
                )
            }
        };
        let support: Vec<usize> = match kind {
            Kind::Asset { k } => vec![k],
            _ => {
                let mut set = BTreeSet::new();
                for &c in &children {
                    set.extend(
                        self.plan.support[self.plan.nodes[c].support.clone()]
                            .iter()
                            .copied(),
                    );
                }
                set.into_iter().collect()
            }
        };
        let plan = &mut self.plan;
        plan.max_children = plan.max_children.max(children.len());
        let c0 = plan.child_index.len();
        plan.child_index.extend(children);
        let s0 = plan.support.len();
        plan.support.extend(support);
        plan.nodes.push(PlanNode {
            kind,
            children: c0..plan.child_index.len(),
            support: s0..plan.support.len(),
        });
        plan.nodes.len() - 1
    }
}

impl Plan {
    /// Binds `program` to `data`; ticker series come from `shared` when it has them.
    pub(crate) fn build(
        program: &SymphonyProgram,
        data: &DailyData,
        columns: &[usize],
        shared: Option<&SeriesCache>,
    ) -> Plan {
        let mut b = Builder {
            program,
            data,
            columns,
            shared,
            local: HashMap::new(),
            plan: Plan {
                tickers: program.tickers.len(),
                nodes: Vec::new(),
                child_index: Vec::new(),
                support: Vec::new(),
                shares: Vec::new(),
                sources: Vec::new(),
                ranks: Vec::new(),
                conds: Vec::new(),
                synths: Vec::new(),
                series: Vec::new(),
                closes: columns.iter().map(|&c| data.close_arc(c)).collect(),
                opens: columns.iter().map(|&c| data.open_arc(c)).collect(),
                max_children: 0,
            },
        };
        b.node(&program.root);
        b.plan
    }

    pub(crate) fn has_synths(&self) -> bool {
        !self.synths.is_empty()
    }

    /// The root's slot in the weight buffer.
    pub(crate) fn root_weights<'w>(&self, weights: &'w [f64]) -> &'w [f64] {
        let root = self.nodes.len() - 1;
        &weights[root * self.tickers..(root + 1) * self.tickers]
    }
}

/// What a run changes day by day: every node's weights and the synthetic series.
///
/// A day evaluates the root and every node with a synthetic series (whose allocation the next
/// day's price needs), each recursively through the children its result uses: the branch an `if`
/// takes, the children a filter selects, the eligible children of an inverse-volatility node.
/// Allocations depend only on the day's prices and scores, so skipping the rest changes nothing
/// that is read; a day stamp evaluates a node at most once per day.
pub(crate) struct Evaluator {
    /// `weights[node * tickers + k]`.
    pub(crate) weights: Vec<f64>,
    /// The plan's ticker series, day-major from day `from`: `table[(t - from) * width + c]`.
    table: Vec<f64>,
    width: usize,
    from: usize,
    /// `(t - from) * width` of the day being evaluated.
    row: usize,
    /// `day + 1` of the node's last evaluation.
    stamp: Vec<usize>,
    day: usize,
    indicators: Vec<IndicatorState>,
    prices: Vec<f64>,
    values: Vec<f64>,
    started: bool,
    scored: Vec<(f64, usize, usize)>,
    /// Per filter or inverse-volatility child (indexed like `sources`): `1 / v` of an eligible
    /// child, 1 for a selected one, NaN otherwise.
    slot: Vec<f64>,
}

impl Evaluator {
    /// An evaluator for days `from .. stop` (`stop` also bounds the synthetic series).
    pub(crate) fn new(plan: &Plan, from: usize, stop: usize) -> Evaluator {
        let width = plan.series.len();
        let mut table = Vec::with_capacity(stop.saturating_sub(from) * width);
        for t in from..stop {
            table.extend(plan.series.iter().map(|s| s[t]));
        }
        Evaluator {
            table,
            width,
            from,
            row: 0,
            weights: vec![0.0; plan.nodes.len() * plan.tickers],
            stamp: vec![0; plan.nodes.len()],
            day: 0,
            indicators: plan
                .synths
                .iter()
                .map(|s| IndicatorState::new(s.ind, stop))
                .collect(),
            prices: vec![1.0; plan.synths.len()],
            values: vec![f64::NAN; plan.synths.len()],
            started: false,
            scored: Vec::with_capacity(plan.max_children),
            slot: vec![f64::NAN; plan.sources.len()],
        }
    }

    /// Moves every synthetic price to day `t` using each node's allocation of the day before
    /// (the first call sets `P = 1`), then feeds it to the scoring indicator.
    fn update_synths(&mut self, plan: &Plan, t: usize) {
        let n = plan.tickers;
        for (i, synth) in plan.synths.iter().enumerate() {
            if self.started {
                let base = synth.node * n;
                let mut g = 0.0;
                for &k in &plan.support[plan.nodes[synth.node].support.clone()] {
                    let a = self.weights[base + k];
                    if a > 0.0 {
                        let close = &plan.closes[k];
                        g += a * (close[t] / close[t - 1] - 1.0);
                    }
                }
                self.prices[i] *= 1.0 + g;
            }
            self.values[i] = self.indicators[i].update(self.prices[i]);
        }
        self.started = true;
    }

    #[inline]
    fn score(&self, source: &Source) -> f64 {
        match source {
            Source::Series(c) => self.table[self.row + c],
            Source::Synth(i) => self.values[*i],
        }
    }

    #[inline]
    fn value(&self, value: &Value) -> f64 {
        match value {
            Value::Number(x) => *x,
            Value::Series(c) => self.table[self.row + c],
        }
    }

    /// Evaluates `child`, then `weights[parent] += share * weights[child]` over its support.
    #[inline]
    fn add(&mut self, plan: &Plan, t: usize, parent: usize, child: usize, share: f64) {
        self.node(plan, t, child);
        let n = plan.tickers;
        // Children come before their parent, so the child's slot lies below the parent's.
        let (below, above) = self.weights.split_at_mut(parent * n);
        let target = &mut above[..n];
        let source = &below[child * n..child * n + n];
        for &k in &plan.support[plan.nodes[child].support.clone()] {
            target[k] += share * source[k];
        }
    }

    /// Day `t`: synthetic prices first, then the allocations of the synthetic nodes and, with
    /// `root`, of the root.
    pub(crate) fn evaluate(&mut self, plan: &Plan, t: usize, root: bool) {
        self.update_synths(plan, t);
        self.day = t + 1;
        self.row = (t - self.from) * self.width;
        for synth in &plan.synths {
            self.node(plan, t, synth.node);
        }
        if root {
            self.node(plan, t, plan.nodes.len() - 1);
        }
    }

    fn node(&mut self, plan: &Plan, t: usize, i: usize) {
        if self.stamp[i] == self.day {
            return;
        }
        self.stamp[i] = self.day;
        let node = &plan.nodes[i];
        let n = plan.tickers;
        let base = i * n;
        for &k in &plan.support[node.support.clone()] {
            self.weights[base + k] = 0.0;
        }
        let children = &plan.child_index[node.children.clone()];
        match &node.kind {
            Kind::Asset { k } => {
                if plan.closes[*k][t].is_finite() {
                    self.weights[base + k] = 1.0;
                }
            }
            Kind::Equal { share } => {
                for &c in children {
                    self.add(plan, t, i, c, *share);
                }
            }
            Kind::Specified { shares } => {
                for (&c, &share) in children.iter().zip(&plan.shares[shares.clone()]) {
                    self.add(plan, t, i, c, share);
                }
            }
            Kind::InverseVolatility { sources } => {
                let mut sum = 0.0;
                let mut any = false;
                for (j, source) in sources.clone().zip(&plan.sources[sources.clone()]) {
                    let v = self.score(source);
                    if v.is_nan() || v == 0.0 {
                        self.slot[j] = f64::NAN;
                    } else {
                        let inv = 1.0 / v;
                        self.slot[j] = inv;
                        sum += inv;
                        any = true;
                    }
                }
                if any {
                    for (j, &c) in sources.clone().zip(children) {
                        let inv = self.slot[j];
                        if !inv.is_nan() {
                            self.add(plan, t, i, c, inv / sum);
                        }
                    }
                }
            }
            Kind::Filter {
                top,
                count,
                sources,
                ranks,
            } => {
                self.scored.clear();
                let ranks = &plan.ranks[ranks.clone()];
                for (j, source) in plan.sources[sources.clone()].iter().enumerate() {
                    let score = self.score(source);
                    if !score.is_nan() {
                        self.scored.push((score, ranks[j], j));
                    }
                }
                if self.scored.is_empty() {
                    return;
                }
                let top = *top;
                self.scored.sort_unstable_by(|a, b| {
                    let by_score = if top {
                        b.0.partial_cmp(&a.0)
                    } else {
                        a.0.partial_cmp(&b.0)
                    };
                    by_score.unwrap_or(std::cmp::Ordering::Equal).then(a.1.cmp(&b.1))
                });
                let k = (*count).min(self.scored.len());
                let slots = &mut self.slot[sources.clone()];
                slots.fill(f64::NAN);
                for &(_, _, j) in &self.scored[..k] {
                    slots[j] = 1.0;
                }
                let share = 1.0 / k as f64;
                // Selected children combine in their order in the node, not in rank order.
                for (j, &c) in sources.clone().zip(children) {
                    if !self.slot[j].is_nan() {
                        self.add(plan, t, i, c, share);
                    }
                }
            }
            Kind::If {
                cond,
                n_then,
                then_share,
                else_share,
            } => {
                let cond = &plan.conds[*cond];
                let (list, share) = if cond.op.test(self.value(&cond.left), self.value(&cond.right)) {
                    (&children[..*n_then], *then_share)
                } else {
                    (&children[*n_then..], *else_share)
                };
                for &c in list {
                    self.add(plan, t, i, c, share);
                }
            }
        }
    }
}
