//! A tree flattened into steps on a stack of scores: how the second stage adds up each
//! candidate's leaf scores as tantivy's scorers would, without walking the tree for every
//! document.
//!
//! Most of a question's tree is one word in each field, each field weighted, of which the
//! best counts: a node whose children are all leaves (weighted or not) is one step that reads
//! its leaves' scores in place, not a push and a multiplication per leaf and a pop of them
//! all.

use tantivy::Score;

use super::Node;

/// One step of a tree flattened in post-order.
#[derive(Debug, Clone, Copy)]
enum Op {
    /// Push the next leaf's score.
    Leaf,
    Boost(Score),
    /// Of the top `n`: the best plus `tie` times the others.
    Max(usize, Score),
    /// Of the top `n`: the sum.
    Sum(usize),
    /// Of the top `n` bonus values and the value below them: that value plus the bonuses.
    Required(usize),
    /// [`Op::Max`] of the next `n` leaves, each times its factor (`factors[at..at + n]`).
    MaxOfLeaves {
        n: usize,
        at: usize,
        tie: Score,
    },
    /// [`Op::Sum`] of the next `n` leaves, each times its factor (`factors[at..at + n]`).
    SumOfLeaves {
        n: usize,
        at: usize,
    },
}

/// A tree as a sequence of steps on a stack of scores; a part that does not match is NaN,
/// which no score is.
#[derive(Debug)]
pub(super) struct Program {
    ops: Vec<Op>,
    /// The factors of the leaves [`Op::MaxOfLeaves`] and [`Op::SumOfLeaves`] read.
    factors: Vec<Score>,
}

/// A leaf, or a leaf times a factor: its factor (1 for a leaf alone).
fn leaf_factor(node: &Node) -> Option<Score> {
    match node {
        Node::Term(_) | Node::Phrase { .. } => Some(1.0),
        Node::Boost(inner, b) if matches!(**inner, Node::Term(_) | Node::Phrase { .. }) => Some(*b),
        _ => None,
    }
}

impl Program {
    /// The program of a tree of `leaves` leaves.
    pub(super) fn of(tree: &Node, leaves: usize) -> Self {
        // One step per leaf, and about one per inner node, at most.
        let mut program = Self {
            ops: Vec::with_capacity(2 * leaves + 1),
            factors: Vec::with_capacity(leaves),
        };
        program.emit(tree);
        program
    }

    fn emit(&mut self, node: &Node) {
        match node {
            Node::Term(_) | Node::Phrase { .. } => self.ops.push(Op::Leaf),
            Node::Boost(inner, b) => {
                self.emit(inner);
                self.ops.push(Op::Boost(*b));
            }
            Node::Max(children, tie) => match self.factors_of(children) {
                Some(at) => self.ops.push(Op::MaxOfLeaves {
                    n: children.len(),
                    at,
                    tie: *tie,
                }),
                None => {
                    children.iter().for_each(|c| self.emit(c));
                    self.ops.push(Op::Max(children.len(), *tie));
                }
            },
            Node::Sum(children) => match self.factors_of(children) {
                Some(at) => self.ops.push(Op::SumOfLeaves {
                    n: children.len(),
                    at,
                }),
                None => {
                    children.iter().for_each(|c| self.emit(c));
                    self.ops.push(Op::Sum(children.len()));
                }
            },
            Node::Required { must, bonus } => {
                self.emit(must);
                bonus.iter().for_each(|c| self.emit(c));
                self.ops.push(Op::Required(bonus.len()));
            }
        }
    }

    /// When every child is a leaf (weighted or not): their factors, appended, and where they
    /// start.
    fn factors_of(&mut self, children: &[Node]) -> Option<usize> {
        let at = self.factors.len();
        for child in children {
            let Some(factor) = leaf_factor(child) else {
                self.factors.truncate(at);
                return None;
            };
            self.factors.push(factor);
        }
        Some(at)
    }

    /// The tree's score from its leaves' scores (in leaf order, NaN where a leaf does not
    /// match), as the tantivy query's scorers add them up; `None` when it does not match.
    pub(super) fn run(&self, leaves: &[Score], stack: &mut Vec<Score>) -> Option<Score> {
        stack.clear();
        // The `n` leaves from `from`, each times its factor from `at`.
        let weighted = |from: usize, n: usize, at: usize| {
            leaves[from..from + n]
                .iter()
                .zip(&self.factors[at..at + n])
                .map(|(s, f)| s * f)
        };
        let mut next = 0;
        for op in &self.ops {
            match *op {
                Op::Leaf => {
                    stack.push(leaves[next]);
                    next += 1;
                }
                Op::Boost(b) => {
                    if let Some(s) = stack.last_mut() {
                        *s *= b;
                    }
                }
                Op::Max(n, tie) => {
                    let from = stack.len() - n;
                    let best = max(stack[from..].iter().copied(), tie);
                    stack.truncate(from);
                    stack.push(best);
                }
                Op::Sum(n) => {
                    let from = stack.len() - n;
                    let total = sum(stack[from..].iter().copied());
                    stack.truncate(from);
                    stack.push(total);
                }
                Op::Required(n) => {
                    let from = stack.len() - n;
                    let extra = sum(stack[from..].iter().copied());
                    stack.truncate(from);
                    // A must that does not match stays NaN.
                    if let Some(must) = stack.last_mut()
                        && !extra.is_nan()
                    {
                        *must += extra;
                    }
                }
                Op::MaxOfLeaves { n, at, tie } => {
                    stack.push(max(weighted(next, n, at), tie));
                    next += n;
                }
                Op::SumOfLeaves { n, at } => {
                    stack.push(sum(weighted(next, n, at)));
                    next += n;
                }
            }
        }
        stack.pop().filter(|s| !s.is_nan())
    }
}

/// The best of the scores that match plus `tie` times the others; NaN when none does.
#[inline]
fn max(scores: impl Iterator<Item = Score>, tie: Score) -> Score {
    let (mut max, mut sum, mut any) = (Score::MIN, 0.0, false);
    for s in scores.filter(|s| !s.is_nan()) {
        max = max.max(s);
        sum += s;
        any = true;
    }
    if any {
        max + tie * (sum - max)
    } else {
        Score::NAN
    }
}

/// The sum of the scores that match; NaN when none does.
#[inline]
fn sum(scores: impl Iterator<Item = Score>) -> Score {
    let (mut sum, mut any) = (0.0, false);
    for s in scores.filter(|s| !s.is_nan()) {
        sum += s;
        any = true;
    }
    if any { sum } else { Score::NAN }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use tantivy::Term;
    use tantivy::schema::Field;

    use super::*;

    /// The tree's score, node by node: what the program must compute. `next` counts the
    /// leaves read.
    fn walked(node: &Node, leaves: &[Score], next: &mut usize) -> Score {
        let matching = |children: &[Node], next: &mut usize| -> Vec<Score> {
            children
                .iter()
                .map(|c| walked(c, leaves, next))
                .filter(|s| !s.is_nan())
                .collect()
        };
        match node {
            Node::Term(_) | Node::Phrase { .. } => {
                *next += 1;
                leaves[*next - 1]
            }
            Node::Boost(inner, b) => walked(inner, leaves, next) * b,
            Node::Max(children, tie) => {
                let scores = matching(children, next);
                let Some(best) = scores.iter().copied().reduce(Score::max) else {
                    return Score::NAN;
                };
                let total: Score = scores.iter().sum();
                best + tie * (total - best)
            }
            Node::Sum(children) => {
                let scores = matching(children, next);
                if scores.is_empty() {
                    return Score::NAN;
                }
                scores.iter().sum()
            }
            Node::Required { must, bonus } => {
                let must = walked(must, leaves, next);
                let extra: Score = matching(bonus, next).iter().sum();
                must + extra
            }
        }
    }

    fn tree() -> impl Strategy<Value = Node> {
        let term = Term::from_field_text(Field::from_field_id(0), "card");
        let leaf = prop_oneof![
            Just(Node::Term(term.clone())),
            Just(Node::Phrase {
                terms: vec![(0, term.clone()), (1, term)],
                slop: 0,
            }),
        ];
        leaf.prop_recursive(4, 40, 5, |inner| {
            let children = proptest::collection::vec(inner.clone(), 1..5);
            prop_oneof![
                (inner.clone(), 0.1f32..3.0).prop_map(|(n, b)| Node::Boost(Box::new(n), b)),
                (children.clone(), 0.0f32..0.5).prop_map(|(c, tie)| Node::Max(c, tie)),
                children.clone().prop_map(Node::Sum),
                (inner, children).prop_map(|(must, bonus)| Node::Required {
                    must: Box::new(must),
                    bonus,
                }),
            ]
        })
    }

    proptest! {
        #[test]
        fn a_program_scores_as_the_tree_does(
            tree in tree(),
            scores in proptest::collection::vec(proptest::option::of(0.0f32..10.0), 40),
        ) {
            let leaves: Vec<Score> = scores.iter().map(|s| s.unwrap_or(Score::NAN)).collect();
            let mut next = 0;
            let want = walked(&tree, &leaves, &mut next);
            let program = Program::of(&tree, next);
            let got = program.run(&leaves[..next], &mut Vec::new());
            prop_assert_eq!(
                got.map(f32::to_bits),
                Some(want).filter(|s| !s.is_nan()).map(f32::to_bits)
            );
        }
    }
}
