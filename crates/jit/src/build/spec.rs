//! [`BoxExpr`]: a kernel expression specialized to one box.
//!
//! In a box every pad is either fully valid or fully padding, so `Select`s
//! resolve to one branch and the program has no bounds checks or branches.
//! `x + -0.0` folds to `x` when `x` is an arithmetic result (exact: `-0.0`
//! is the additive identity, and a NaN in `x` is already quiet), and
//! operations on constants are evaluated once with the same [`Element`]
//! arithmetic as at run time, so folding never changes a bit.
//!
//! Values are classified by how they vary ([`Class`]): constants
//! (kernel-wide scalar registers), row-uniform scalars (computed once per
//! line of tiles) and vectors (computed per tile).

use std::collections::HashMap;

use oxla_ir::num_complex::Complex64;
use oxla_ir::{BinaryFn, Compare, DType, Element, Math, UnaryFn, with_dtype};
use smallvec::SmallVec;

use crate::isa::{BinOp, FusedOp};
use crate::kexpr::{KExpr, KId, KOp};

/// How a value varies over the box.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Class {
    /// Known when the kernel is built.
    Const,
    /// Uniform along a line of tiles: computed once per line.
    Scalar,
    /// Varies along the tile.
    Vector,
}

/// What a node of a [`BoxExpr`] computes; operands are node indices.
#[derive(Clone, Debug)]
pub(crate) enum SpecOp {
    Load(u32),
    Const(Complex64),
    Neg(usize),
    Convert(usize),
    Binary(BinOp, usize, usize),
    Unary(UnaryFn, usize),
    BinaryFn(BinaryFn, usize, usize),
    /// `a cmp b ? x : y` (`[a, b, x, y]`).
    Where(Compare, [usize; 4]),
    /// A fused instruction (the fusion table's patterns).
    Fused(FusedOp<usize, usize>),
    /// A fused value added straight into reduction `red` (whose only
    /// operand it was), in the same loop.
    FusedSum {
        op: FusedOp<usize, usize>,
        red: u16,
    },
}

impl SpecOp {
    /// The nodes this one reads.
    pub fn operands(&self) -> SmallVec<[usize; 5]> {
        match self {
            SpecOp::Load(_) | SpecOp::Const(_) => SmallVec::new(),
            SpecOp::Neg(a) | SpecOp::Convert(a) => smallvec::smallvec![*a],
            SpecOp::Binary(_, a, b) => smallvec::smallvec![*a, *b],
            SpecOp::Unary(_, a) => smallvec::smallvec![*a],
            SpecOp::BinaryFn(_, a, b) => smallvec::smallvec![*a, *b],
            SpecOp::Where(_, ops) => ops.iter().copied().collect(),
            SpecOp::Fused(op) | SpecOp::FusedSum { op, .. } => {
                op.vectors().into_iter().chain(op.scalars()).collect()
            }
        }
    }
}

/// A node of a [`BoxExpr`].
#[derive(Clone, Debug)]
pub(crate) struct SpecNode {
    pub op: SpecOp,
    pub dtype: DType,
    pub class: Class,
}

/// What a kernel computes from one of its expression's nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RootUse {
    /// Stored to output `k`.
    Store(u16),
    /// Summed into reduction `red`; `innermost` if it sums along the
    /// innermost axis (the one row tiles run along), in lanes and chunks.
    Reduce { red: u16, innermost: bool },
}

/// A node a kernel stores or reduces.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Root {
    pub node: usize,
    pub role: RootUse,
}

/// A kernel expression specialized to one box: nodes in operand-first
/// order, which of them the roots need, and how many readers each has.
#[derive(Debug)]
pub(crate) struct BoxExpr {
    pub nodes: Vec<SpecNode>,
    pub roots: Vec<Root>,
    /// The nodes the roots need (fusion turns off the ones it absorbs).
    pub needed: Vec<bool>,
    /// Readers of each node: operand slots of needed nodes, and roots.
    pub uses: Vec<usize>,
}

impl BoxExpr {
    /// Specialize `expr` to the box in which mask `m` holds iff `truth[m]`;
    /// `inner` gives each view's stride along the tiles.
    pub fn new(
        expr: &KExpr,
        roots: &[(KId, RootUse)],
        truth: &[bool],
        inner: &dyn Fn(u32) -> i64,
    ) -> BoxExpr {
        let mut b = BoxExpr {
            nodes: Vec::new(),
            roots: Vec::new(),
            needed: Vec::new(),
            uses: Vec::new(),
        };
        let mut memo: HashMap<KId, usize> = HashMap::new();
        for &(k, role) in roots {
            let node = b.specialize(expr, k, truth, inner, &mut memo);
            b.roots.push(Root { node, role });
        }
        // The nodes the roots need, operands first (nodes are already in that order).
        b.needed = vec![false; b.nodes.len()];
        for r in &b.roots {
            b.needed[r.node] = true;
        }
        for i in (0..b.nodes.len()).rev() {
            if b.needed[i] {
                for a in b.nodes[i].op.operands() {
                    b.needed[a] = true;
                }
            }
        }
        b.count_uses();
        b
    }

    /// True if node `i` varies along the tile.
    pub fn is_vector(&self, i: usize) -> bool {
        self.nodes[i].class == Class::Vector
    }

    /// True if node `x` is read by `slots` operand slots (of one consumer)
    /// and nothing else, roots included: it may be fused into that consumer.
    pub fn read_only_there(&self, x: usize, slots: usize) -> bool {
        self.uses[x] == slots && !self.roots.iter().any(|r| r.node == x)
    }

    /// Recount [`BoxExpr::uses`] after fusion changed the needed nodes.
    pub fn count_uses(&mut self) {
        let mut uses = vec![0usize; self.nodes.len()];
        for (i, node) in self.nodes.iter().enumerate() {
            if self.needed[i] {
                for a in node.op.operands() {
                    uses[a] += 1;
                }
            }
        }
        for r in &self.roots {
            uses[r.node] += 1;
        }
        self.uses = uses;
    }

    fn push(&mut self, op: SpecOp, dtype: DType, class: Class) -> usize {
        self.nodes.push(SpecNode { op, dtype, class });
        self.nodes.len() - 1
    }

    /// Resolve selects, fold identities and constants; returns the node's index.
    fn specialize(
        &mut self,
        expr: &KExpr,
        root: KId,
        truth: &[bool],
        inner: &dyn Fn(u32) -> i64,
        memo: &mut HashMap<KId, usize>,
    ) -> usize {
        // Iterative post-order: deep expressions must not overflow the stack.
        let mut stack = vec![(root, false)];
        while let Some((k, ready)) = stack.pop() {
            if memo.contains_key(&k) {
                continue;
            }
            let node = &expr.nodes[k as usize];
            let children: SmallVec<[KId; 4]> = match &node.op {
                KOp::Load(_) | KOp::Const(_) => SmallVec::new(),
                KOp::Neg(a) | KOp::Convert(a) | KOp::Unary(_, a) => smallvec::smallvec![*a],
                KOp::Binary(_, a, b) | KOp::BinaryFn(_, a, b) => smallvec::smallvec![*a, *b],
                KOp::Where(_, ops) => ops.iter().copied().collect(),
                KOp::Select {
                    mask,
                    valid,
                    padding,
                } => smallvec::smallvec![if truth[*mask as usize] {
                    *valid
                } else {
                    *padding
                }],
            };
            if !ready {
                stack.push((k, true));
                stack.extend(
                    children
                        .iter()
                        .filter(|c| !memo.contains_key(c))
                        .map(|&c| (c, false)),
                );
                continue;
            }
            let at = |c: KId| memo[&c];
            let dtype = node.dtype;
            let id = match &node.op {
                KOp::Select { .. } => at(children[0]),
                KOp::Load(v) => {
                    let class = if inner(*v) == 0 {
                        Class::Scalar
                    } else {
                        Class::Vector
                    };
                    self.push(SpecOp::Load(*v), dtype, class)
                }
                KOp::Const(c) => self.push(SpecOp::Const(*c), dtype, Class::Const),
                KOp::Neg(a) => self.neg(at(*a), dtype),
                KOp::Convert(a) => self.convert(at(*a), dtype),
                KOp::Binary(op, a, b) => self.binary(*op, at(*a), at(*b), dtype),
                KOp::Unary(f, a) => self.unary(*f, at(*a), dtype),
                KOp::BinaryFn(f, a, b) => self.binary_fn(*f, at(*a), at(*b), dtype),
                KOp::Where(cmp, ops) => self.select(*cmp, ops.map(at), dtype),
            };
            memo.insert(k, id);
        }
        memo[&root]
    }

    fn neg(&mut self, a: usize, dtype: DType) -> usize {
        match self.nodes[a].op {
            SpecOp::Const(c) => self.push(SpecOp::Const(fold_neg(dtype, c)), dtype, Class::Const),
            // -(x * c) is not folded into x * (-c): the two differ in the
            // sign of a NaN result (a NaN operand passes through the
            // product with its own sign, and inf * 0 gives the default
            // NaN), so only the negation flips it as the interpreter does.
            _ => self.push(SpecOp::Neg(a), dtype, self.nodes[a].class),
        }
    }

    fn convert(&mut self, a: usize, dtype: DType) -> usize {
        let from = self.nodes[a].dtype;
        match self.nodes[a].op {
            SpecOp::Const(c) => {
                let v = fold_convert(from, dtype, c);
                self.push(SpecOp::Const(v), dtype, Class::Const)
            }
            _ => self.push(SpecOp::Convert(a), dtype, self.nodes[a].class),
        }
    }

    fn binary(&mut self, op: BinOp, a: usize, b: usize, dtype: DType) -> usize {
        let constant = |i: usize| match self.nodes[i].op {
            SpecOp::Const(c) => Some(c),
            _ => None,
        };
        let identity = |i: usize| constant(i).is_some_and(|c| is_additive_identity(c, dtype));
        // Complex x * (1 + 0i) is not x: its real part is
        // fma(xr, 1, -(xi * 0)), which turns -0.0 into +0.0 and is NaN when
        // xi is infinite. Only real products with 1 fold.
        let one = |i: usize| {
            !dtype.is_complex() && constant(i).is_some_and(|c| c.re == 1.0 && c.im == 0.0)
        };
        // x + -0.0 == x and x * 1 == x exactly, except that the operation
        // would quiet a signaling NaN: fold only when x is already an
        // arithmetic result.
        match op {
            BinOp::Add if identity(b) && self.is_quiet(a) => return a,
            BinOp::Add if identity(a) && self.is_quiet(b) => return b,
            BinOp::Mul if one(b) && self.is_quiet(a) => return a,
            BinOp::Mul if one(a) && self.is_quiet(b) => return b,
            _ => {}
        }
        match (constant(a), constant(b)) {
            (Some(x), Some(y)) => {
                let v = fold_binary(op, dtype, x, y);
                self.push(SpecOp::Const(v), dtype, Class::Const)
            }
            // x / 2^k == x * 2^-k bit for bit: both are the correctly rounded x·2^-k.
            (_, Some(c)) if let (BinOp::Div, Some(r)) = (op, exact_reciprocal(c, dtype)) => {
                let r = self.push(SpecOp::Const(r), dtype, Class::Const);
                self.push(SpecOp::Binary(BinOp::Mul, a, r), dtype, self.nodes[a].class)
            }
            _ => {
                let class = self.nodes[a].class.max(self.nodes[b].class);
                self.push(SpecOp::Binary(op, a, b), dtype, class)
            }
        }
    }

    fn constant(&self, i: usize) -> Option<Complex64> {
        match self.nodes[i].op {
            SpecOp::Const(c) => Some(c),
            _ => None,
        }
    }

    /// `f(a)`, folded when `a` is a constant (with the same [`Math`] call
    /// as at run time).
    fn unary(&mut self, f: UnaryFn, a: usize, dtype: DType) -> usize {
        match self.constant(a) {
            Some(c) => {
                let v = with_dtype!(dtype, |T| T::from_c128(c).unary(f).to_c128());
                self.push(SpecOp::Const(v), dtype, Class::Const)
            }
            None => self.push(SpecOp::Unary(f, a), dtype, self.nodes[a].class),
        }
    }

    /// `f(a, b)`, folded when both are constants.
    fn binary_fn(&mut self, f: BinaryFn, a: usize, b: usize, dtype: DType) -> usize {
        match (self.constant(a), self.constant(b)) {
            (Some(x), Some(y)) => {
                let v = with_dtype!(dtype, |T| {
                    T::from_c128(x).binary_fn(f, T::from_c128(y)).to_c128()
                });
                self.push(SpecOp::Const(v), dtype, Class::Const)
            }
            _ => {
                let class = self.nodes[a].class.max(self.nodes[b].class);
                self.push(SpecOp::BinaryFn(f, a, b), dtype, class)
            }
        }
    }

    /// `a cmp b ? x : y`; a constant predicate picks its branch (the
    /// branch's value passes through unchanged either way).
    fn select(&mut self, cmp: Compare, ops: [usize; 4], dtype: DType) -> usize {
        let [a, b, x, y] = ops;
        if let (Some(p), Some(q)) = (self.constant(a), self.constant(b)) {
            let holds = with_dtype!(dtype, |T| T::from_c128(p).compare(cmp, T::from_c128(q)));
            return if holds { x } else { y };
        }
        let class = ops.iter().map(|&i| self.nodes[i].class).max();
        let class = class.unwrap_or(Class::Const);
        self.push(SpecOp::Where(cmp, ops), dtype, class)
    }

    /// True if the value comes out of an arithmetic operation, so any NaN in
    /// it is already quiet. Negation only flips the sign bit, and a
    /// conversion may keep a signaling NaN signaling (f64 -> f16 copies the
    /// payload, f64 <-> c128 moves the value unchanged), so both pass
    /// through to their operand.
    fn is_quiet(&self, mut i: usize) -> bool {
        loop {
            match self.nodes[i].op {
                SpecOp::Binary(..) | SpecOp::Fused(_) | SpecOp::FusedSum { .. } => return true,
                // an IEEE operation; libm functions are not relied on to
                // quiet a signaling NaN, and abs, sign, maximum, minimum
                // and select may pass an operand's NaN through as it is
                SpecOp::Unary(UnaryFn::Sqrt, _) => return true,
                SpecOp::Neg(x) | SpecOp::Convert(x) => i = x,
                SpecOp::Load(_)
                | SpecOp::Const(_)
                | SpecOp::Unary(..)
                | SpecOp::BinaryFn(..)
                | SpecOp::Where(..) => return false,
            }
        }
    }
}

/// True if adding the constant `c` of `dtype` changes no bit of any value:
/// `-0.0` in every component (a real constant's imaginary part is unused).
fn is_additive_identity(c: Complex64, dtype: DType) -> bool {
    let neg_zero = f64::NEG_ZERO.to_bits();
    c.re.to_bits() == neg_zero && (!dtype.is_complex() || c.im.to_bits() == neg_zero)
}

fn fold_neg(dtype: DType, c: Complex64) -> Complex64 {
    with_dtype!(dtype, |T| T::from_c128(c).neg().to_c128())
}

fn fold_convert(from: DType, to: DType, c: Complex64) -> Complex64 {
    with_dtype!(from, |A| with_dtype!(to, |B| oxla_ir::element::convert::<
        A,
        B,
    >(A::from_c128(c))
    .to_c128()))
}

/// `1/c` when `c` is a real power of two whose reciprocal is exactly
/// representable in `dtype`: then dividing by `c` and multiplying by `1/c`
/// give the same correctly rounded result for every operand.
fn exact_reciprocal(c: Complex64, dtype: DType) -> Option<Complex64> {
    if dtype.is_complex()
        || c.im != 0.0
        || !c.re.is_normal()
        || c.re.to_bits() & 0x000f_ffff_ffff_ffff != 0
    {
        return None;
    }
    let r = 1.0 / c.re;
    let representable = with_dtype!(dtype, |T| T::from_f64(r).to_c128().re == r);
    (representable && r.is_normal()).then_some(Complex64::new(r, 0.0))
}

fn fold_binary(op: BinOp, dtype: DType, x: Complex64, y: Complex64) -> Complex64 {
    with_dtype!(dtype, |T| {
        op.apply(T::from_c128(x), T::from_c128(y)).to_c128()
    })
}
