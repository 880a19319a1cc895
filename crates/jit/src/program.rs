//! Box programs: a kernel expression specialized to one region of the
//! iteration space, as straight-line instructions over tiles.
//!
//! In a box every pad is either fully valid or fully padding, so `Select`s
//! resolve to one branch and the program has no bounds checks or branches.
//! `x + -0.0` folds to `x` when `x` is an arithmetic result (exact: `-0.0`
//! is the additive identity, and a NaN in `x` is already quiet), and
//! operations on constants are evaluated once with the same [`Element`]
//! arithmetic as at run time, so folding never changes a bit.
//!
//! Values are classified by how they vary: constants (kernel-wide scalar
//! registers), row-uniform scalars (computed once per row segment) and
//! vectors (computed per tile along the innermost axis).

use std::collections::HashMap;

use oxla_ir::num_complex::Complex64;
use oxla_ir::{DType, Element, with_dtype};
use smallvec::SmallVec;

use crate::JitError;
use crate::exec::bank::TileElem;
use crate::kexpr::{BinOp, KExpr, KId, KOp, internal, is_additive_identity};

/// The scaling step of a fused [`VInstr::Scaled`]: by a value uniform along the tile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scale {
    Mul,
    Div,
}

/// What a fused [`VInstr::Scaled`] computes: `±post(op(a, b), s)`, or
/// `±post(a, s)` without `op`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ScaledOp {
    pub op: Option<BinOp>,
    pub post: Scale,
    pub negate: bool,
}

/// The second step of a [`VInstr::Twice`]: an operation of a value with itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SelfOp {
    /// `t + t`: the cotangent of a square (`d(t*t) = t*ct + t*ct`).
    Double,
    /// `t * t`.
    Square,
}

/// What a fused [`VInstr::Twice`] computes: `t = post(op(a, b), s)` (the
/// `inner` step, a scaled sum or difference, never negated), then
/// `u = outer(t)`, then `v = ±post2(u, s2)` when `post` is set, then
/// `v + c` or `c + v` when `addend` is set. Each operation still rounds on
/// its own, in the same order as separate passes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TwiceOp {
    pub inner: ScaledOp,
    pub outer: SelfOp,
    /// `(post2, negate)`: the scaling step after `outer`, if any.
    pub post: Option<(Scale, bool)>,
    /// Which operand of a final addition of `c` the value is, if any.
    pub addend: Option<Side>,
}

/// Which operand of a binary operation a fused value is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Side {
    Left,
    Right,
}

impl TwiceOp {
    /// The combinations the executor has loops for (the rest stay separate
    /// instructions), those of `gradient`'s stencils and their transpose:
    /// the square of a derivative, unscaled, and the doubling of one,
    /// scaled and maybe added to another term.
    fn supported(&self, dtype: DType) -> bool {
        let outer = match self.outer {
            SelfOp::Square => self.post.is_none() && self.addend.is_none(),
            SelfOp::Double => self.post.is_some(),
        };
        outer
            && with_dtype!(dtype, |T| <T as TileElem>::FUSED_STENCILS)
            && matches!(self.inner.op, Some(BinOp::Add | BinOp::Sub))
            && !self.inner.negate
    }
}

/// A vector operand.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum VSrc {
    /// A tile register.
    Reg(u16),
    /// A contiguous run of an input buffer, read in place.
    Input(u32),
    /// A scalar register, repeated along the tile.
    Scalar(u16),
}

/// Where a vector result goes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum VDst {
    Reg(u16),
    /// Straight into output `k` (a store root whose value has no other use).
    Out(u16),
}

/// Computed once per row segment, on scalar registers.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum SInstr {
    Load {
        dtype: DType,
        view: u32,
        dst: u16,
    },
    Neg {
        dtype: DType,
        dst: u16,
        a: u16,
    },
    Convert {
        from: DType,
        to: DType,
        dst: u16,
        a: u16,
    },
    Binary {
        op: BinOp,
        dtype: DType,
        dst: u16,
        a: u16,
        b: u16,
    },
}

/// Computed per tile, on tile registers.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum VInstr {
    /// A strided (not contiguous) load into a register.
    Gather {
        dtype: DType,
        view: u32,
        stride: i64,
        dst: u16,
    },
    Neg {
        dtype: DType,
        dst: VDst,
        a: VSrc,
    },
    Convert {
        from: DType,
        to: DType,
        dst: VDst,
        a: VSrc,
    },
    Binary {
        op: BinOp,
        dtype: DType,
        dst: VDst,
        a: VSrc,
        b: VSrc,
    },
    /// `±post(op(a, b), s)`; without `op`, `±post(a, s)`.
    Scaled {
        f: ScaledOp,
        dtype: DType,
        dst: VDst,
        a: VSrc,
        b: Option<VSrc>,
        s: u16,
    },
    /// Add `post(op(a, b), s)` squared into reduction `red` (which sums
    /// along row tiles): a [`SelfOp::Square`] `Twice` and the `Reduce` of
    /// its value in one loop, so the reduction's chain of additions
    /// overlaps the arithmetic instead of following it.
    SquareSum {
        inner: ScaledOp,
        dtype: DType,
        red: u16,
        a: VSrc,
        b: VSrc,
        s: u16,
    },
    /// `±post2(outer(post(op(a, b), s)), s2)` (see [`TwiceOp`]): two
    /// instructions in one pass, for a scaled stencil whose only reader
    /// squares or doubles it.
    Twice {
        t: TwiceOp,
        dtype: DType,
        dst: VDst,
        a: VSrc,
        b: VSrc,
        s: u16,
        /// The scalar of `t.post` (`None` without one).
        s2: Option<u16>,
        /// The addend of `t.addend`.
        c: Option<VSrc>,
    },
    Store {
        dtype: DType,
        out: u16,
        a: VSrc,
    },
    Reduce {
        dtype: DType,
        red: u16,
        a: VSrc,
    },
}

impl VInstr {
    /// The dtype the instruction writes (a conversion's target).
    pub fn dtype(&self) -> DType {
        match *self {
            VInstr::Gather { dtype, .. }
            | VInstr::Neg { dtype, .. }
            | VInstr::Binary { dtype, .. }
            | VInstr::Scaled { dtype, .. }
            | VInstr::Twice { dtype, .. }
            | VInstr::SquareSum { dtype, .. }
            | VInstr::Store { dtype, .. }
            | VInstr::Reduce { dtype, .. } => dtype,
            VInstr::Convert { to, .. } => to,
        }
    }
}

/// The program of one box.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Program {
    pub scalar: Vec<SInstr>,
    pub vector: Vec<VInstr>,
    /// The dtype of its first binary or scaled instruction: the executor runs
    /// the program's instructions of that dtype inline (see `exec::vector`).
    pub arith_dtype: Option<DType>,
}

/// What a kernel computes from its expression.
#[derive(Clone, Copy, Debug)]
pub(crate) enum RootUse {
    Store(u16),
    /// Reduction `red`; `innermost` if it sums along the innermost axis
    /// (the one row tiles run along), in lanes and chunks.
    Reduce {
        red: u16,
        innermost: bool,
    },
}

/// Kernel-wide register needs and constants, shared by all its box programs.
#[derive(Debug, Default)]
pub(crate) struct Registers {
    /// Constants, preloaded into the first scalar registers of their dtype.
    pub consts: Vec<(DType, Complex64, u16)>,
    const_index: HashMap<(DType, u64, u64), u16>,
    /// Scalar registers needed per dtype (constants included).
    pub scalars: [u16; 5],
    /// How many of the first scalar registers of each dtype hold constants;
    /// every program's row-uniform temporaries start after them.
    constants: [u16; 5],
    /// Tile registers needed per dtype.
    pub vectors: [u16; 5],
}

pub(crate) fn dtype_slot(d: DType) -> usize {
    match d {
        DType::F16 => 0,
        DType::F32 => 1,
        DType::F64 => 2,
        DType::C64 => 3,
        DType::C128 => 4,
    }
}

impl Registers {
    fn constant(&mut self, dtype: DType, c: Complex64) -> Result<u16, JitError> {
        let key = (dtype, c.re.to_bits(), c.im.to_bits());
        if let Some(&r) = self.const_index.get(&key) {
            return Ok(r);
        }
        let r = bump(&mut self.constants[dtype_slot(dtype)])?;
        self.consts.push((dtype, c, r));
        self.const_index.insert(key, r);
        Ok(r)
    }
}

/// The next free register after `next`, or an error once `u16` registers run out.
fn bump(next: &mut u16) -> Result<u16, JitError> {
    let r = *next;
    *next = r
        .checked_add(1)
        .ok_or_else(|| internal("a kernel needs more than 65535 registers of one dtype"))?;
    Ok(r)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Class {
    Const,
    Scalar,
    Vector,
}

/// A node of the specialized (per-box) expression.
#[derive(Clone, Debug)]
enum PNode {
    Load(u32),
    Const(Complex64),
    Neg(usize),
    Convert(usize),
    Binary(BinOp, usize, usize),
    /// `±post(op(a, b), s)` (or `±post(a, s)` without `op`), one pass for
    /// what would be two or three; each operation still rounds on its own.
    Scaled {
        f: ScaledOp,
        a: usize,
        b: Option<usize>,
        s: usize,
    },
    /// See [`VInstr::Twice`].
    Twice {
        t: TwiceOp,
        a: usize,
        b: usize,
        s: usize,
        s2: Option<usize>,
        c: Option<usize>,
    },
}

impl PNode {
    /// The nodes this one reads.
    fn operands(&self) -> SmallVec<[usize; 5]> {
        match *self {
            PNode::Load(_) | PNode::Const(_) => SmallVec::new(),
            PNode::Neg(a) | PNode::Convert(a) => smallvec::smallvec![a],
            PNode::Binary(_, a, b) => smallvec::smallvec![a, b],
            PNode::Scaled { a, b, s, .. } => std::iter::once(a)
                .chain(b)
                .chain(std::iter::once(s))
                .collect(),
            PNode::Twice { a, b, s, s2, c, .. } => {
                [a, b, s].into_iter().chain(s2).chain(c).collect()
            }
        }
    }
}

/// `(post, x, c)` if node `i` is `x * c` or `x / c` with `x` a vector and
/// `c` uniform along the tile: the last step of a fused scaled instruction.
fn scaled_by_uniform(spec: &Specialized, i: usize) -> Option<(Scale, usize, usize)> {
    let PNode::Binary(op @ (BinOp::Mul | BinOp::Div), x, c) = spec.nodes[i].0 else {
        return None;
    };
    let post = if op == BinOp::Div {
        Scale::Div
    } else {
        Scale::Mul
    };
    (!is_vector(spec, c) && is_vector(spec, x)).then_some((post, x, c))
}

/// Merge `post(op(a, b), s)` (and a negation after it) into single
/// [`PNode::Scaled`] nodes: the inner value must have no other reader, `s`
/// must be uniform along the tile, and `post` a multiplication or division.
/// This is the `(f[i+1] - f[i-1]) * (1/2h)` of every gradient, and the
/// scaled cotangents of its transpose. Exact: the same operations, rounded
/// one at a time, in the same order.
fn fuse_scaled(
    spec: &mut Specialized,
    needed: &mut [bool],
    uses: &mut [usize],
    roots: &[(usize, RootUse)],
) {
    for i in 0..spec.nodes.len() {
        if !needed[i] {
            continue;
        }
        let fused = match spec.nodes[i].0 {
            // -(post(...)) carries the negation along
            PNode::Neg(y) if read_only_there(uses, roots, y, 1) => match spec.nodes[y].0 {
                PNode::Scaled { f, a, b, s } => {
                    needed[y] = false;
                    let f = ScaledOp {
                        negate: !f.negate,
                        ..f
                    };
                    Some(PNode::Scaled { f, a, b, s })
                }
                _ => scaled_by_uniform(spec, y).map(|(post, x, c)| {
                    needed[y] = false;
                    let f = ScaledOp {
                        op: None,
                        post,
                        negate: true,
                    };
                    PNode::Scaled {
                        f,
                        a: x,
                        b: None,
                        s: c,
                    }
                }),
            },
            _ => scaled_by_uniform(spec, i).and_then(|(post, x, c)| match spec.nodes[x].0 {
                PNode::Binary(op, a, b) if read_only_there(uses, roots, x, 1) => {
                    needed[x] = false;
                    let f = ScaledOp {
                        op: Some(op),
                        post,
                        negate: false,
                    };
                    Some(PNode::Scaled {
                        f,
                        a,
                        b: Some(b),
                        s: c,
                    })
                }
                _ => None,
            }),
        };
        if let Some(f) = fused {
            spec.nodes[i].0 = f;
        }
    }
    // recount readers of the nodes that remain
    uses.copy_from_slice(&count_uses(spec, needed, roots));
}

/// Merge `outer(t)` (and a scaling after it) with the scaled stencil `t`
/// it reads into one [`PNode::Twice`], when `t` has no other reader: the
/// square of each derivative in a `sum(|grad f|^2)` loss and the doubled,
/// scaled cotangents of its transpose, which are most of the passes of a
/// `value_and_grad` kernel. Run after [`fuse_scaled`], which makes the `t`s.
fn fuse_twice(
    spec: &mut Specialized,
    needed: &mut [bool],
    uses: &mut [usize],
    roots: &[(usize, RootUse)],
) {
    let self_op = |op: BinOp| match op {
        BinOp::Add => Some(SelfOp::Double),
        BinOp::Mul => Some(SelfOp::Square),
        BinOp::Sub | BinOp::Div => None,
    };
    for i in 0..spec.nodes.len() {
        if !needed[i] {
            continue;
        }
        let (op, x, post, s2) = match spec.nodes[i].0 {
            PNode::Binary(op, x, y) if x == y => (op, x, None, None),
            PNode::Scaled {
                f:
                    ScaledOp {
                        op: Some(op),
                        post,
                        negate,
                    },
                a: x,
                b: Some(y),
                s,
            } if x == y => (op, x, Some((post, negate)), Some(s)),
            _ => continue,
        };
        let PNode::Scaled {
            f: inner,
            a,
            b: Some(b),
            s,
        } = spec.nodes[x].0
        else {
            continue;
        };
        let Some(outer) = self_op(op) else { continue };
        let t = TwiceOp {
            inner,
            outer,
            post,
            addend: None,
        };
        let vectors = is_vector(spec, a) && is_vector(spec, b);
        // both operand slots of node i, and nothing else, read x
        if read_only_there(uses, roots, x, 2) && vectors && t.supported(spec.nodes[i].1) {
            needed[x] = false;
            spec.nodes[i].0 = PNode::Twice {
                t,
                a,
                b,
                s,
                s2,
                c: None,
            };
        }
    }
    uses.copy_from_slice(&count_uses(spec, needed, roots));
    // then an addition of another vector to a fused value read only there
    for i in 0..spec.nodes.len() {
        let PNode::Binary(BinOp::Add, x, y) = spec.nodes[i].0 else {
            continue;
        };
        if !needed[i] || x == y {
            continue;
        }
        for (side, v, c) in [(Side::Left, x, y), (Side::Right, y, x)] {
            let PNode::Twice {
                t,
                a,
                b,
                s,
                s2,
                c: None,
            } = spec.nodes[v].0
            else {
                continue;
            };
            let t = TwiceOp {
                addend: Some(side),
                ..t
            };
            if read_only_there(uses, roots, v, 1)
                && is_vector(spec, c)
                && t.supported(spec.nodes[i].1)
            {
                needed[v] = false;
                let c = Some(c);
                spec.nodes[i].0 = PNode::Twice { t, a, b, s, s2, c };
                break;
            }
        }
    }
    uses.copy_from_slice(&count_uses(spec, needed, roots));
}

fn is_vector(spec: &Specialized, i: usize) -> bool {
    spec.nodes[i].2 == Class::Vector
}

/// True if node `x` is read by `slots` operand slots (of one consumer) and
/// nothing else, roots included: it may be fused into that consumer.
fn read_only_there(uses: &[usize], roots: &[(usize, RootUse)], x: usize, slots: usize) -> bool {
    uses[x] == slots && !roots.iter().any(|&(r, _)| r == x)
}

/// How many operand slots of needed nodes, and roots, read each node.
fn count_uses(spec: &Specialized, needed: &[bool], roots: &[(usize, RootUse)]) -> Vec<usize> {
    let mut uses = vec![0usize; spec.nodes.len()];
    for (i, (node, _, _)) in spec.nodes.iter().enumerate() {
        if needed[i] {
            for a in node.operands() {
                uses[a] += 1;
            }
        }
    }
    for &(r, _) in roots {
        uses[r] += 1;
    }
    uses
}

struct Specialized {
    nodes: Vec<(PNode, DType, Class)>,
}

/// A box's program before register allocation: specialized to the box,
/// with fused nodes merged and its constants registered kernel-wide.
///
/// Kernels plan every box first and emit after, so that all constants are
/// known before any program numbers its row-uniform temporaries: those
/// start after the last constant in every program (instead of after the
/// previous program's temporaries, which made a kernel with hundreds of
/// boxes run out of `u16` registers).
pub(crate) struct BoxPlan {
    spec: Specialized,
    roots: Vec<(usize, RootUse)>,
    needed: Vec<bool>,
    uses: Vec<usize>,
    direct_out: HashMap<usize, u16>,
    /// The kernel-wide register of each needed constant node.
    constants: Vec<(usize, u16)>,
    mode: Mode,
}

/// Plan the program of a box in which mask `m` holds iff `truth[m]`.
pub(crate) fn plan_box(
    expr: &KExpr,
    roots: &[(KId, RootUse)],
    truth: &[bool],
    regs: &mut Registers,
    mode: Mode,
) -> Result<BoxPlan, JitError> {
    let inner = inner_stride(expr, mode);
    let mut spec = Specialized { nodes: Vec::new() };
    let mut memo: HashMap<KId, usize> = HashMap::new();
    let roots: Vec<(usize, RootUse)> = roots
        .iter()
        .map(|&(k, u)| (specialize(expr, k, truth, &inner, &mut spec, &mut memo), u))
        .collect();
    // The nodes the roots need, operands first (spec.nodes is already in that order).
    let mut needed = vec![false; spec.nodes.len()];
    for &(r, _) in &roots {
        needed[r] = true;
    }
    for i in (0..spec.nodes.len()).rev() {
        if needed[i] {
            for a in spec.nodes[i].0.operands() {
                needed[a] = true;
            }
        }
    }
    // Uses by other needed nodes and by roots; a store root read nowhere else is written in place.
    let mut uses = count_uses(&spec, &needed, &roots);
    fuse_scaled(&mut spec, &mut needed, &mut uses, &roots);
    fuse_twice(&mut spec, &mut needed, &mut uses, &roots);
    let mut direct_out: HashMap<usize, u16> = HashMap::new();
    for &(r, u) in &roots {
        if let RootUse::Store(k) = u
            && mode.contiguous_out
            && uses[r] == 1
            && spec.nodes[r].2 == Class::Vector
            && !matches!(spec.nodes[r].0, PNode::Load(_))
        {
            direct_out.insert(r, k);
        }
    }
    let mut constants = Vec::new();
    for (i, (node, dtype, _)) in spec.nodes.iter().enumerate() {
        if let (true, PNode::Const(c)) = (needed[i], node) {
            constants.push((i, regs.constant(*dtype, *c)?));
        }
    }
    Ok(BoxPlan {
        spec,
        roots,
        needed,
        uses,
        direct_out,
        constants,
        mode,
    })
}

/// The stride of each view along the axis the mode's tiles run on.
fn inner_stride(expr: &KExpr, mode: Mode) -> impl Fn(u32) -> i64 + '_ {
    move |view: u32| -> i64 {
        match mode.vector_axis {
            Some(axis) => expr.views[view as usize].strides[axis],
            None => 0,
        }
    }
}

/// How a program's tiles run through the iteration space.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Mode {
    /// The iteration axis tiles run along (`None` for a 0-d kernel: one element).
    pub vector_axis: Option<usize>,
    /// Tiles are contiguous in the outputs (rows), so results may be written
    /// straight into them; column tiles store through a stride instead.
    pub contiguous_out: bool,
}

/// Resolve selects, fold identities and constants; returns the node's index in `spec`.
fn specialize(
    expr: &KExpr,
    root: KId,
    truth: &[bool],
    inner: &dyn Fn(u32) -> i64,
    spec: &mut Specialized,
    memo: &mut HashMap<KId, usize>,
) -> usize {
    // Iterative post-order: deep expressions must not overflow the stack.
    let mut stack = vec![(root, false)];
    while let Some((k, ready)) = stack.pop() {
        if memo.contains_key(&k) {
            continue;
        }
        let node = &expr.nodes[k as usize];
        let children: Vec<KId> = match &node.op {
            KOp::Load(_) | KOp::Const(_) => vec![],
            KOp::Neg(a) | KOp::Convert(a) => vec![*a],
            KOp::Binary(_, a, b) => vec![*a, *b],
            KOp::Select {
                mask,
                valid,
                padding,
            } => vec![if truth[*mask as usize] {
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
        let class_of = |spec: &Specialized, i: usize| spec.nodes[i].2;
        let id = match &node.op {
            KOp::Select { .. } => at(children[0]),
            KOp::Load(v) => push(
                spec,
                PNode::Load(*v),
                node.dtype,
                if inner(*v) == 0 {
                    Class::Scalar
                } else {
                    Class::Vector
                },
            ),
            KOp::Const(c) => push(spec, PNode::Const(*c), node.dtype, Class::Const),
            KOp::Neg(a) => {
                let a = at(*a);
                match &spec.nodes[a].0 {
                    PNode::Const(c) => {
                        let v = fold_neg(node.dtype, *c);
                        push(spec, PNode::Const(v), node.dtype, Class::Const)
                    }
                    // -(x * c) is not folded into x * (-c): the two differ in
                    // the sign of a NaN result (a NaN operand passes through
                    // the product with its own sign, and inf * 0 gives the
                    // default NaN), so only the negation flips it as the
                    // interpreter does.
                    _ => push(spec, PNode::Neg(a), node.dtype, class_of(spec, a)),
                }
            }
            KOp::Convert(a) => {
                let a = at(*a);
                let from = spec.nodes[a].1;
                match &spec.nodes[a].0 {
                    PNode::Const(c) => {
                        let v = fold_convert(from, node.dtype, *c);
                        push(spec, PNode::Const(v), node.dtype, Class::Const)
                    }
                    _ => push(spec, PNode::Convert(a), node.dtype, class_of(spec, a)),
                }
            }
            KOp::Binary(op, a, b) => {
                let (a, b) = (at(*a), at(*b));
                let identity = |i: usize| matches!(spec.nodes[i].0, PNode::Const(c) if is_additive_identity(c, node.dtype));
                // Complex x * (1 + 0i) is not x: its real part is
                // fma(xr, 1, -(xi * 0)), which turns -0.0 into +0.0 and is
                // NaN when xi is infinite. Only real products with 1 fold.
                let one = |i: usize| {
                    !node.dtype.is_complex()
                        && matches!(spec.nodes[i].0, PNode::Const(c) if c.re == 1.0 && c.im == 0.0)
                };
                // x / 2^k == x * 2^-k bit for bit: both are the correctly rounded x·2^-k.
                let reciprocal = match (&spec.nodes[b].0, op) {
                    (PNode::Const(c), BinOp::Div) => exact_reciprocal(*c, node.dtype),
                    _ => None,
                };
                match (&spec.nodes[a].0, &spec.nodes[b].0) {
                    // x + -0.0 == x and x * 1 == x exactly, except that the
                    // operation would quiet a signaling NaN: fold only when x
                    // is already an arithmetic result.
                    _ if *op == BinOp::Add && identity(b) && is_quiet(spec, a) => a,
                    _ if *op == BinOp::Add && identity(a) && is_quiet(spec, b) => b,
                    _ if *op == BinOp::Mul && one(b) && is_quiet(spec, a) => a,
                    _ if *op == BinOp::Mul && one(a) && is_quiet(spec, b) => b,
                    (PNode::Const(x), PNode::Const(y)) => {
                        let v = fold_binary(*op, node.dtype, *x, *y);
                        push(spec, PNode::Const(v), node.dtype, Class::Const)
                    }
                    (_, PNode::Const(_)) if let Some(r) = reciprocal => {
                        let r = push(spec, PNode::Const(r), node.dtype, Class::Const);
                        push(
                            spec,
                            PNode::Binary(BinOp::Mul, a, r),
                            node.dtype,
                            class_of(spec, a),
                        )
                    }
                    _ => {
                        let class = class_of(spec, a).max(class_of(spec, b));
                        push(spec, PNode::Binary(*op, a, b), node.dtype, class)
                    }
                }
            }
        };
        memo.insert(k, id);
    }
    memo[&root]
}

/// True if the value comes out of an arithmetic operation, so any NaN in it
/// is already quiet. Negation only flips the sign bit, and a conversion may
/// keep a signaling NaN signaling (f64 -> f16 copies the payload, f64 <->
/// c128 moves the value unchanged), so both pass through to their operand.
fn is_quiet(spec: &Specialized, mut i: usize) -> bool {
    loop {
        match spec.nodes[i].0 {
            PNode::Binary(..) | PNode::Scaled { .. } | PNode::Twice { .. } => return true,
            PNode::Neg(x) | PNode::Convert(x) => i = x,
            PNode::Load(_) | PNode::Const(_) => return false,
        }
    }
}

fn push(spec: &mut Specialized, node: PNode, dtype: DType, class: Class) -> usize {
    spec.nodes.push((node, dtype, class));
    spec.nodes.len() - 1
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

/// Where a specialized node's value lives while the program runs.
#[derive(Clone, Copy)]
enum Slot {
    Scalar(u16),
    Input(u32),
    Reg(u16),
    /// Written straight to an output; never read back.
    Out,
}

/// Allocate registers and emit the instructions of a planned box; call
/// after every box of the kernel is planned.
pub(crate) fn emit_box(
    expr: &KExpr,
    plan: BoxPlan,
    regs: &mut Registers,
) -> Result<Program, JitError> {
    let BoxPlan {
        spec,
        roots,
        needed,
        uses,
        direct_out,
        constants,
        mode,
    } = plan;
    let inner = inner_stride(expr, mode);
    let (spec, roots) = (&spec, &roots[..]);

    // Constants live in kernel-wide registers below every temporary.
    let mut slots: Vec<Option<Slot>> = vec![None; spec.nodes.len()];
    for (i, r) in constants {
        slots[i] = Some(Slot::Scalar(r));
    }
    let mut program = Program::default();
    let mut scalar_next = regs.constants;
    let mut free: [Vec<u16>; 5] = Default::default();
    let mut vec_next = [0u16; 5];
    // The reduction that node i, a `Twice` square (never scaled or added
    // to: `TwiceOp::supported`), is summed into when that sum, along row
    // tiles, is its only reader: then both are one `SquareSum`.
    let summed: Vec<Option<u16>> = (0..spec.nodes.len())
        .map(|i| {
            let square =
                matches!(spec.nodes[i].0, PNode::Twice { t, .. } if t.outer == SelfOp::Square);
            if !square || uses[i] != 1 || !mode.contiguous_out {
                return None;
            }
            roots.iter().find_map(|&(r, u)| match u {
                RootUse::Reduce {
                    red,
                    innermost: true,
                } if r == i => Some(red),
                _ => None,
            })
        })
        .collect();
    let mut remaining = uses;

    let vsrc = |slots: &[Option<Slot>], i: usize| -> VSrc {
        match slots[i] {
            Some(Slot::Scalar(s)) => VSrc::Scalar(s),
            Some(Slot::Input(v)) => VSrc::Input(v),
            Some(Slot::Reg(r)) => VSrc::Reg(r),
            Some(Slot::Out) | None => {
                unreachable!("operands are emitted before their users and outputs are not read")
            }
        }
    };
    let sreg = |slots: &[Option<Slot>], i: usize| -> u16 {
        match slots[i] {
            Some(Slot::Scalar(s)) => s,
            _ => unreachable!("scalar operands are scalars"),
        }
    };

    for i in 0..spec.nodes.len() {
        if !needed[i] {
            continue;
        }
        let (node, dtype, class) = &spec.nodes[i];
        let (dtype, class) = (*dtype, *class);
        let slot = dtype_slot(dtype);
        // Release registers whose last reader is this node, after choosing its destination.
        let operands = node.operands();
        match (class, node, summed[i]) {
            (Class::Const, ..) => {} // registered above
            (Class::Scalar, ..) => {
                let dst = bump(&mut scalar_next[slot])?;
                let instr = match node {
                    PNode::Load(v) => SInstr::Load {
                        dtype,
                        view: *v,
                        dst,
                    },
                    PNode::Neg(a) => SInstr::Neg {
                        dtype,
                        dst,
                        a: sreg(&slots, *a),
                    },
                    PNode::Convert(a) => SInstr::Convert {
                        from: spec.nodes[*a].1,
                        to: dtype,
                        dst,
                        a: sreg(&slots, *a),
                    },
                    PNode::Binary(op, a, b) => SInstr::Binary {
                        op: *op,
                        dtype,
                        dst,
                        a: sreg(&slots, *a),
                        b: sreg(&slots, *b),
                    },
                    PNode::Scaled { .. } | PNode::Twice { .. } => {
                        unreachable!("fused nodes read a vector, so they are vectors")
                    }
                    PNode::Const(_) => unreachable!("constants are classified Const"),
                };
                program.scalar.push(instr);
                slots[i] = Some(Slot::Scalar(dst));
            }
            // contiguous loads are read in place
            (Class::Vector, PNode::Load(v), _) if inner(*v) == 1 => {
                slots[i] = Some(Slot::Input(*v));
            }
            (Class::Vector, PNode::Twice { t, a, b, s, .. }, Some(red)) => {
                program.vector.push(VInstr::SquareSum {
                    inner: t.inner,
                    dtype,
                    red,
                    a: vsrc(&slots, *a),
                    b: vsrc(&slots, *b),
                    s: sreg(&slots, *s),
                });
                program.arith_dtype.get_or_insert(dtype);
                slots[i] = Some(Slot::Out);
            }
            (Class::Vector, ..) => {
                let (dst, out_slot) = match direct_out.get(&i) {
                    Some(&k) => (VDst::Out(k), Slot::Out),
                    None => {
                        let r = match free[slot].pop() {
                            Some(r) => r,
                            None => bump(&mut vec_next[slot])?,
                        };
                        (VDst::Reg(r), Slot::Reg(r))
                    }
                };
                let instr = match node {
                    PNode::Load(v) => {
                        let VDst::Reg(r) = dst else {
                            unreachable!("loads are never direct outputs")
                        };
                        VInstr::Gather {
                            dtype,
                            view: *v,
                            stride: inner(*v),
                            dst: r,
                        }
                    }
                    PNode::Neg(a) => VInstr::Neg {
                        dtype,
                        dst,
                        a: vsrc(&slots, *a),
                    },
                    PNode::Convert(a) => VInstr::Convert {
                        from: spec.nodes[*a].1,
                        to: dtype,
                        dst,
                        a: vsrc(&slots, *a),
                    },
                    PNode::Scaled { f, a, b, s } => VInstr::Scaled {
                        f: *f,
                        dtype,
                        dst,
                        a: vsrc(&slots, *a),
                        b: b.map(|b| vsrc(&slots, b)),
                        s: sreg(&slots, *s),
                    },
                    PNode::Twice { t, a, b, s, s2, c } => VInstr::Twice {
                        t: *t,
                        dtype,
                        dst,
                        a: vsrc(&slots, *a),
                        b: vsrc(&slots, *b),
                        s: sreg(&slots, *s),
                        s2: s2.map(|s2| sreg(&slots, s2)),
                        c: c.map(|c| vsrc(&slots, c)),
                    },
                    PNode::Binary(op, a, b) => VInstr::Binary {
                        op: *op,
                        dtype,
                        dst,
                        a: vsrc(&slots, *a),
                        b: vsrc(&slots, *b),
                    },
                    PNode::Const(_) => unreachable!("constants are classified Const"),
                };
                if let VInstr::Binary { dtype, .. }
                | VInstr::Scaled { dtype, .. }
                | VInstr::Twice { dtype, .. } = instr
                {
                    program.arith_dtype.get_or_insert(dtype);
                }
                program.vector.push(instr);
                slots[i] = Some(out_slot);
            }
        }
        // Reduce a value as soon as it exists: the reduction's chain of
        // dependent additions then overlaps the next instructions' loops
        // (out of order), and its register is free again for them.
        let reduced = roots.iter().filter_map(|&(r, u)| match u {
            RootUse::Reduce { red, .. } if r == i && summed[i].is_none() => Some(red),
            _ => None,
        });
        let mut released = operands;
        for red in reduced {
            program.vector.push(VInstr::Reduce {
                dtype,
                red,
                a: vsrc(&slots, i),
            });
            released.push(i);
        }
        for a in released {
            remaining[a] -= 1;
            if remaining[a] == 0
                && let Some(Slot::Reg(r)) = slots[a]
            {
                free[dtype_slot(spec.nodes[a].1)].push(r);
            }
        }
    }
    for &(r, u) in roots {
        let dtype = spec.nodes[r].1;
        match (u, slots[r]) {
            (RootUse::Store(_), Some(Slot::Out)) | (RootUse::Reduce { .. }, _) => {}
            (RootUse::Store(out), _) => program.vector.push(VInstr::Store {
                dtype,
                out,
                a: vsrc(&slots, r),
            }),
        }
    }
    for s in 0..5 {
        regs.scalars[s] = regs.scalars[s].max(scalar_next[s]);
        regs.vectors[s] = regs.vectors[s].max(vec_next[s]);
    }
    Ok(program)
}
