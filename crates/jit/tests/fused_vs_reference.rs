//! Fused kernels against the reference interpreter on random graphs of
//! primitives: every output must be bit-identical to `oxla_ir::evaluate`.
//!
//! A case is a random DAG over 1–3 random input arrays (parameters bound
//! through `Executable::run`, or array literals evaluated with
//! `oxla_jit::eval`) of random shapes (up to 4-d, with size-1 and size-0
//! axes, innermost lengths around the tile size) and dtypes (f64 mostly,
//! f32, f16, c64, c128), built from slices, pads (negative and positive
//! widths, sometimes interior padding), broadcasts, transposes, reshapes,
//! elementwise chains with 0-d literals (the exactly folded `-0.0`, `1`,
//! powers of two, and inf/nan), the math functions (`sqrt` ... `sign`,
//! `maximum`, `minimum`, `pow`, `select` on every comparison, on real
//! dtypes), converts and `reduce_sum`s, with several
//! outputs. The data contains ±0, ±inf, NaNs (quiet and, in some cases,
//! signaling) and subnormals.
//!
//! The structure of a case is drawn from a stream of choices (a `Vec<u32>`
//! that proptest shrinks: shorter streams and smaller choices give simpler
//! graphs), its data from a seed. A failure prints the graph, one node per
//! line, and the first differing elements.
#![allow(clippy::unwrap_used)]

mod common;

use std::fmt::Write as _;
use std::sync::Arc;

use common::{Choices, Rng, Specials, bind, check_outputs, compare, config, random_value, scalar};
use oxla_ir::{ArrayValue, BinaryFn, Bindings, Compare, DType, IrError, Tensor, UnaryFn, evaluate};
use oxla_jit::{Executable, TILE};
use proptest::prelude::*;

type BinFn = fn(&Tensor, &Tensor) -> Result<Tensor, IrError>;

/// Settings of one family of cases.
#[derive(Clone, Copy, Debug)]
struct Limits {
    /// No node gets more elements than this.
    cap: usize,
    /// Ops applied after the inputs.
    max_ops: usize,
    /// Input shapes to choose from (random shapes if empty).
    shapes: &'static [&'static [usize]],
}

struct Gen<'a> {
    c: &'a mut Choices,
    rng: Rng,
    limits: Limits,
    specials: Specials,
    pool: Vec<Tensor>,
    names: Vec<String>,
    log: Vec<String>,
    params: Vec<Tensor>,
    param_values: Vec<Arc<ArrayValue>>,
}

const DTYPES: [DType; 8] = [
    DType::F64,
    DType::F32,
    DType::F64,
    DType::C128,
    DType::F16,
    DType::F64,
    DType::C64,
    DType::F64,
];

/// 0-d literals to combine with: the folded identities, powers of two, and specials.
const SCALARS: [(f64, f64); 17] = [
    (-0.0, 0.0),
    (1.0, 0.0),
    (0.5, 0.0),
    (4.0, 0.0),
    (2.0, 0.0),
    (0.0, 0.0),
    (-1.0, 0.0),
    (3.0, 0.0),
    (0.1, 0.0),
    (-0.5, 0.0),
    (f64::INFINITY, 0.0),
    (f64::NAN, 0.0),
    (0.25, 0.0),
    (1.0, 1.0),
    (-0.0, -0.0),
    (1.0, -0.0),
    (65536.0, 0.0),
];

fn name_of(d: DType) -> &'static str {
    d.numpy_name()
}

impl Gen<'_> {
    fn push(&mut self, t: Tensor, what: String) -> usize {
        let name = format!("v{}", self.pool.len());
        self.log.push(format!(
            "{name} = {what}  -> {}{:?}",
            name_of(t.dtype()),
            t.shape()
        ));
        self.pool.push(t);
        self.names.push(name);
        self.pool.len() - 1
    }

    fn random_shape(&mut self) -> Vec<usize> {
        let rank = self.c.pick(&[2, 1, 3, 0, 4, 2, 3]);
        if rank == 0 {
            return vec![];
        }
        let inner = if self.c.chance(2) {
            0
        } else {
            self.c.pick(&[
                5,
                1,
                3,
                8,
                9,
                TILE - 1,
                TILE,
                TILE + 1,
                2 * TILE - 1,
                1030,
                2,
                17,
            ])
        };
        let mut shape = vec![inner];
        let mut numel = inner.max(1);
        for _ in 1..rank {
            let n = if self.c.chance(2) {
                0
            } else {
                self.c.pick(&[2, 3, 1, 4, 5, 7, 11, 1])
            };
            let n = if numel * n.max(1) > self.limits.cap {
                1
            } else {
                n
            };
            numel *= n.max(1);
            shape.insert(0, n);
        }
        shape
    }

    fn dtype(&mut self) -> DType {
        self.c.pick(&DTYPES)
    }

    /// 1–3 inputs; each a parameter (bound at run time) or an array literal.
    fn inputs(&mut self) {
        let n = 1 + self.c.below(3);
        let literal_mode = self.c.below(3); // 0: parameters, 1: literals, 2: mixed
        let first_dtype = self.dtype();
        let mut first_shape = None;
        for i in 0..n {
            let shape = match (&first_shape, self.limits.shapes) {
                (Some(s), _) if self.c.chance(50) => Vec::clone(s),
                (_, menu) if !menu.is_empty() => self.c.pick(menu).to_vec(),
                _ => self.random_shape(),
            };
            first_shape.get_or_insert_with(|| shape.clone());
            let dtype = if i == 0 || self.c.chance(70) {
                first_dtype
            } else {
                self.dtype()
            };
            let value = random_value(&mut self.rng, &shape, dtype, self.specials);
            let literal = match literal_mode {
                0 => false,
                1 => true,
                _ => self.c.chance(50),
            };
            if literal {
                self.push(Tensor::literal(value), "literal".into());
            } else {
                let p = Tensor::parameter(&shape, dtype);
                self.params.push(p.clone());
                self.param_values.push(Arc::new(value));
                self.push(p, "parameter".into());
            }
        }
    }

    /// An operand: mostly the newest node, so chains grow deep.
    fn operand(&mut self) -> usize {
        if self.c.chance(55) {
            self.pool.len() - 1
        } else {
            self.c.below(self.pool.len())
        }
    }

    fn binop(&mut self) -> (&'static str, BinFn) {
        match self.c.below(4) {
            0 => ("add", Tensor::add),
            1 => ("sub", Tensor::sub),
            2 => ("mul", Tensor::mul),
            _ => ("div", Tensor::div),
        }
    }

    fn step(&mut self) {
        let kinds = [
            "binary",
            "scalar",
            "stencil",
            "slice",
            "pad",
            "broadcast",
            "reshape",
            "reduce",
            "neg",
            "convert",
            "transpose",
            "scalar",
            "binary",
            "uniform",
            "stencil",
            "math",
            "extremum",
            "select",
            "math",
        ];
        let kind = self.c.pick(&kinds);
        let made = match kind {
            "binary" => self.binary(),
            "scalar" => self.with_scalar(),
            "stencil" => self.stencil(),
            "slice" => self.slice(),
            "pad" => self.pad(),
            "broadcast" => self.broadcast(),
            "reshape" => self.reshape(),
            "reduce" => self.reduce(),
            "convert" => self.convert(),
            "transpose" => self.transpose(),
            "uniform" => self.uniform(),
            "math" => self.math(),
            "extremum" => self.extremum(),
            "select" => self.select(),
            _ => None,
        };
        let (t, what) = match made {
            Some(m) if m.0.numel() <= self.limits.cap => m,
            _ => {
                let a = self.operand();
                (
                    self.pool[a].neg().unwrap(),
                    format!("neg({})", self.names[a]),
                )
            }
        };
        self.push(t, what);
    }

    /// `a op b` with `b` a node of the same shape (converted to `a`'s dtype).
    fn binary(&mut self) -> Option<(Tensor, String)> {
        let a = self.operand();
        let shape = self.pool[a].shape().to_vec();
        let partners: Vec<usize> = (0..self.pool.len())
            .filter(|&i| self.pool[i].shape() == shape.as_slice())
            .collect();
        let b = partners[self.c.below(partners.len())];
        let dtype = self.pool[a].dtype();
        let bt = self.pool[b].convert(dtype).unwrap();
        let (name, f) = self.binop();
        let (x, y, nx, ny) = if self.c.chance(30) {
            (
                bt,
                self.pool[a].clone(),
                self.names[b].clone(),
                self.names[a].clone(),
            )
        } else {
            (
                self.pool[a].clone(),
                bt,
                self.names[a].clone(),
                self.names[b].clone(),
            )
        };
        let conv = if self.pool[b].dtype() == dtype {
            ""
        } else {
            "~"
        };
        Some((f(&x, &y).unwrap(), format!("{name}({nx}, {ny}{conv})")))
    }

    /// A real node of the same shape as `a`, in `a`'s dtype.
    fn partner(&mut self, a: usize) -> (Tensor, String) {
        let shape = self.pool[a].shape().to_vec();
        let partners: Vec<usize> = (0..self.pool.len())
            .filter(|&i| {
                self.pool[i].shape() == shape.as_slice() && !self.pool[i].dtype().is_complex()
            })
            .collect();
        let b = partners[self.c.below(partners.len())];
        let t = self.pool[b].convert(self.pool[a].dtype()).unwrap();
        (t, self.names[b].clone())
    }

    /// A real operand, or `None` (complex math is a typed error).
    fn real_operand(&mut self) -> Option<usize> {
        let a = self.operand();
        (!self.pool[a].dtype().is_complex()).then_some(a)
    }

    /// `f(x)` for one of the unary math functions.
    fn math(&mut self) -> Option<(Tensor, String)> {
        let a = self.real_operand()?;
        let f = self.c.pick(&UnaryFn::ALL);
        let t = self.pool[a].unary(f).unwrap();
        Some((t, format!("{}({})", f.name(), self.names[a])))
    }

    /// `maximum`, `minimum` or `pow` of two nodes, or of a node and a 0-d literal.
    fn extremum(&mut self) -> Option<(Tensor, String)> {
        let a = self.real_operand()?;
        let f = self.c.pick(&BinaryFn::ALL);
        let x = self.pool[a].clone();
        let (y, ny) = if self.c.chance(40) {
            let (re, _) = self.c.pick(&SCALARS);
            let c = scalar(x.dtype(), re, 0.0)
                .broadcast_in_dim(x.shape(), &[])
                .unwrap();
            (c, format!("{re:?}"))
        } else {
            self.partner(a)
        };
        let (t, what) = if self.c.chance(30) {
            (
                y.binary_fn(f, &x).unwrap(),
                format!("{}({ny}, {})", f.name(), self.names[a]),
            )
        } else {
            (
                x.binary_fn(f, &y).unwrap(),
                format!("{}({}, {ny})", f.name(), self.names[a]),
            )
        };
        Some((t, what))
    }

    /// `a cmp b ? x : y` with `b` a node or a 0-d literal, the branches nodes or literals.
    fn select(&mut self) -> Option<(Tensor, String)> {
        let a = self.real_operand()?;
        let cmp = self.c.pick(&Compare::ALL);
        let xa = self.pool[a].clone();
        let side = |g: &mut Self| {
            if g.c.chance(35) {
                let (re, _) = g.c.pick(&SCALARS);
                let c = scalar(xa.dtype(), re, 0.0)
                    .broadcast_in_dim(xa.shape(), &[])
                    .unwrap();
                (c, format!("{re:?}"))
            } else {
                g.partner(a)
            }
        };
        let (b, nb) = side(self);
        let (x, nx) = side(self);
        let (y, ny) = side(self);
        let t = Tensor::select(cmp, &xa, &b, &x, &y).unwrap();
        let what = format!(
            "select({} {} {nb} ? {nx} : {ny})",
            self.names[a],
            cmp.name()
        );
        Some((t, what))
    }

    /// `x op c` or `c op x` with a 0-d literal broadcast to `x`'s shape,
    /// sometimes negated afterwards (the `-(x * c)` pattern).
    fn with_scalar(&mut self) -> Option<(Tensor, String)> {
        let a = self.operand();
        let x = self.pool[a].clone();
        let (re, im) = self.c.pick(&SCALARS);
        let c = scalar(x.dtype(), re, if x.dtype().is_complex() { im } else { 0.0 });
        let cb = c.broadcast_in_dim(x.shape(), &[]).unwrap();
        let (name, f) = self.binop();
        let shown = format!("{:?}", c.literal_value().unwrap().to_c128_vec()[0]);
        let (mut t, mut what) = if self.c.chance(35) {
            (
                f(&cb, &x).unwrap(),
                format!("{name}({shown}, {})", self.names[a]),
            )
        } else {
            (
                f(&x, &cb).unwrap(),
                format!("{name}({}, {shown})", self.names[a]),
            )
        };
        if self.c.chance(30) {
            t = t.neg().unwrap();
            what = format!("neg({what})");
        }
        Some((t, what))
    }

    /// `x[k:] op x[:-k]` along an axis, sometimes padded back to full length (as gradient does).
    fn stencil(&mut self) -> Option<(Tensor, String)> {
        let a = self.operand();
        let x = self.pool[a].clone();
        let axes: Vec<usize> = (0..x.ndim()).filter(|&d| x.shape()[d] >= 2).collect();
        if axes.is_empty() {
            return None;
        }
        let axis = self.c.pick(&axes);
        let n = x.shape()[axis];
        let k = 1 + self.c.below(2.min(n - 1));
        let hi = x.slice_axis(axis, k, n).unwrap();
        let lo = x.slice_axis(axis, 0, n - k).unwrap();
        let (name, f) = if self.c.chance(30) {
            self.binop()
        } else {
            ("sub", Tensor::sub as BinFn)
        };
        let mut t = f(&hi, &lo).unwrap();
        let mut what = format!(
            "{name}({}[{k}:] , {}[:-{k}]) along axis {axis}",
            self.names[a], self.names[a]
        );
        if self.c.chance(60) {
            let before = self.c.between(0, k as i64);
            let (re, _) = self
                .c
                .pick(&[(-0.0, 0.0), (0.0, 0.0), (1.0, 0.0), (f64::NAN, 0.0)]);
            let v = scalar(t.dtype(), re, 0.0);
            t = t.pad_axis(&v, axis, before, k as i64 - before).unwrap();
            what = format!(
                "pad({what}, axis {axis}, lo {before}, hi {}, value {re:?})",
                k as i64 - before
            );
        }
        Some((t, what))
    }

    fn slice(&mut self) -> Option<(Tensor, String)> {
        let a = self.operand();
        let x = self.pool[a].clone();
        let mut start = Vec::new();
        let mut limit = Vec::new();
        let mut stride = Vec::new();
        for &n in x.shape() {
            let s = if n == 0 || self.c.chance(40) {
                0
            } else if self.c.chance(50) {
                self.c.below(n.min(4))
            } else {
                self.c.below(n + 1)
            };
            let l = if self.c.chance(40) {
                n
            } else if self.c.chance(50) {
                n - self.c.below((n - s).min(4) + 1)
            } else {
                s + self.c.below(n - s + 1)
            };
            start.push(s);
            limit.push(l.max(s));
            stride.push(self.c.pick(&[1, 1, 2, 1, 3, 5, 1]));
        }
        let t = x.slice(&start, &limit, &stride).unwrap();
        Some((
            t,
            format!(
                "slice({}, start {start:?}, limit {limit:?}, stride {stride:?})",
                self.names[a]
            ),
        ))
    }

    fn pad(&mut self) -> Option<(Tensor, String)> {
        let a = self.operand();
        let x = self.pool[a].clone();
        let interior_too = self.c.chance(12);
        let mut lo = Vec::new();
        let mut hi = Vec::new();
        let mut interior = Vec::new();
        for &n in x.shape() {
            let i = if interior_too { self.c.below(3) } else { 0 };
            let dilated = if n == 0 { 0 } else { (n + (n - 1) * i) as i64 };
            let l = self.c.between(-2, 3).max(-dilated);
            let h = self.c.between(-2, 3).max(-(l + dilated));
            lo.push(l);
            hi.push(h);
            interior.push(i);
        }
        let (v, shown) = if self.c.chance(20) {
            // a computed 0-d padding value: some 0-d node of the pool, or a sum of one
            let zero_d: Vec<usize> = (0..self.pool.len())
                .filter(|&i| self.pool[i].ndim() == 0)
                .collect();
            if zero_d.is_empty() || self.c.chance(50) {
                let b = self.c.below(self.pool.len());
                let all: Vec<usize> = (0..self.pool[b].ndim()).collect();
                let s = self.pool[b].reduce_sum(&all).unwrap();
                (
                    s.convert(x.dtype()).unwrap(),
                    format!("sum({})", self.names[b]),
                )
            } else {
                let b = self.c.pick(&zero_d);
                (
                    self.pool[b].convert(x.dtype()).unwrap(),
                    self.names[b].clone(),
                )
            }
        } else {
            let (re, _) = self.c.pick(&[
                (-0.0, 0.0),
                (0.0, 0.0),
                (1.0, 0.0),
                (f64::NAN, 0.0),
                (2.5, 0.0),
                (f64::NEG_INFINITY, 0.0),
            ]);
            (scalar(x.dtype(), re, 0.0), format!("{re:?}"))
        };
        let t = x.pad(&v, &lo, &hi, &interior).unwrap();
        Some((
            t,
            format!(
                "pad({}, lo {lo:?}, hi {hi:?}, interior {interior:?}, value {shown})",
                self.names[a]
            ),
        ))
    }

    fn broadcast(&mut self) -> Option<(Tensor, String)> {
        let a = self.operand();
        let x = self.pool[a].clone();
        let r = x.ndim();
        if r > 4 {
            return None;
        }
        let rank = r + self.c.below(4 - r + 1);
        // choose which output axes the operand's axes become (increasing)
        let mut dims: Vec<usize> = (0..rank).collect();
        while dims.len() > r {
            let i = self.c.below(dims.len());
            dims.remove(i);
        }
        let mut shape = vec![0usize; rank];
        let mut numel = x.numel().max(1);
        for (i, &d) in dims.iter().enumerate() {
            let n = x.shape()[i];
            shape[d] = if n == 1 && self.c.chance(50) {
                let m = self.c.pick(&[3, 2, 5, 7, 1, 9]);
                if numel * m > self.limits.cap { 1 } else { m }
            } else {
                n
            };
            numel *= shape[d].max(1);
            numel /= n.max(1);
        }
        for (d, size) in shape.iter_mut().enumerate() {
            if !dims.contains(&d) {
                let m = self.c.pick(&[3, 1, 2, 4, 6, 10]);
                *size = if numel * m > self.limits.cap { 1 } else { m };
                numel *= *size;
            }
        }
        let t = x.broadcast_in_dim(&shape, &dims).unwrap();
        Some((
            t,
            format!(
                "broadcast_in_dim({}, {shape:?}, dims {dims:?})",
                self.names[a]
            ),
        ))
    }

    fn transpose(&mut self) -> Option<(Tensor, String)> {
        let a = self.operand();
        let x = self.pool[a].clone();
        let mut perm: Vec<usize> = (0..x.ndim()).collect();
        for i in (1..perm.len()).rev() {
            let j = self.c.below(i + 1);
            perm.swap(i, j);
        }
        Some((
            x.transpose(&perm).unwrap(),
            format!("transpose({}, {perm:?})", self.names[a]),
        ))
    }

    fn reshape(&mut self) -> Option<(Tensor, String)> {
        let a = self.operand();
        let x = self.pool[a].clone();
        let shape = if self.c.chance(50) {
            // only insert or remove unit axes: a view
            let mut s: Vec<usize> = x.shape().to_vec();
            if self.c.chance(60) {
                s.retain(|&n| n != 1);
            }
            while s.len() < 4 && self.c.chance(50) {
                let at = self.c.below(s.len() + 1);
                s.insert(at, 1);
            }
            s
        } else {
            // a general reshape: distribute the prime factors over up to 4 axes
            let numel = x.numel();
            let rank = 1 + self.c.below(4);
            let mut s = vec![1usize; rank];
            if numel == 0 {
                s[self.c.below(rank)] = 0;
                for n in s.iter_mut().filter(|n| **n != 0) {
                    *n = self.c.pick(&[1, 2, 3]);
                }
            } else {
                let mut m = numel;
                let mut p = 2;
                while m > 1 {
                    while m.is_multiple_of(p) {
                        let at = self.c.below(rank);
                        s[at] *= p;
                        m /= p;
                    }
                    p += 1;
                }
            }
            s
        };
        Some((
            x.reshape(&shape).unwrap(),
            format!("reshape({}, {shape:?})", self.names[a]),
        ))
    }

    fn reduce(&mut self) -> Option<(Tensor, String)> {
        let a = self.operand();
        let x = self.pool[a].clone();
        let n = x.ndim();
        let axes: Vec<usize> = match self.c.below(5) {
            0 => (0..n).collect(),                       // everything
            1 => n.checked_sub(1).into_iter().collect(), // the innermost axis
            2 => (0..n.saturating_sub(1)).collect(),     // outer axes (sequential)
            3 => vec![],                                 // nothing: a copy through the sum order
            _ => (0..n).filter(|_| self.c.chance(50)).collect(),
        };
        Some((
            x.reduce_sum(&axes).unwrap(),
            format!("reduce_sum({}, axes {axes:?})", self.names[a]),
        ))
    }

    fn convert(&mut self) -> Option<(Tensor, String)> {
        let a = self.operand();
        let to = self.dtype();
        let x = self.pool[a].clone();
        if to == x.dtype() {
            return None;
        }
        Some((
            x.convert(to).unwrap(),
            format!("convert({}, {})", self.names[a], name_of(to)),
        ))
    }

    /// `x op broadcast(s)` with `s` a computed 0-d value (a sum, or a 0-d node):
    /// a row-uniform operand loaded from a buffer.
    fn uniform(&mut self) -> Option<(Tensor, String)> {
        let a = self.operand();
        let x = self.pool[a].clone();
        let b = self.c.below(self.pool.len());
        let y = self.pool[b].clone();
        let (s, shown) = if y.ndim() == 0 {
            (y, self.names[b].clone())
        } else {
            let all: Vec<usize> = (0..y.ndim()).collect();
            (
                y.reduce_sum(&all).unwrap(),
                format!("sum({})", self.names[b]),
            )
        };
        let s = s.convert(x.dtype()).unwrap();
        let sb = s.broadcast_in_dim(x.shape(), &[]).unwrap();
        let (name, f) = self.binop();
        Some((
            f(&x, &sb).unwrap(),
            format!("{name}({}, broadcast({shown}))", self.names[a]),
        ))
    }

    /// 1–4 outputs: the newest node and random others (inputs, repeats, literals).
    fn outputs(&mut self) -> (Vec<Tensor>, String) {
        let last = self.pool.len() - 1;
        let mut outs = vec![self.pool[last].clone()];
        let mut shown = vec![self.names[last].clone()];
        let extra = self.c.below(4);
        for _ in 0..extra {
            match self.c.below(6) {
                0..=2 => {
                    let i = self.c.below(self.pool.len());
                    outs.push(self.pool[i].clone());
                    shown.push(self.names[i].clone());
                }
                3 => {
                    let i = self.c.below(outs.len());
                    outs.push(outs[i].clone());
                    shown.push(shown[i].clone());
                }
                4 => {
                    let d = self.dtype();
                    outs.push(scalar(d, 2.5, -1.0));
                    shown.push(format!("scalar {}", name_of(d)));
                }
                _ => {
                    let d = self.dtype();
                    let v = random_value(&mut self.rng, &[3, 2], d, self.specials);
                    outs.push(Tensor::literal(v));
                    shown.push(format!("literal {}[3, 2]", name_of(d)));
                }
            }
        }
        (outs, shown.join(", "))
    }
}

/// A random graph, its parameters and their values, and its description.
struct Case {
    outputs: Vec<Tensor>,
    params: Vec<Tensor>,
    values: Vec<Arc<ArrayValue>>,
    description: String,
}

fn build(stream: Vec<u32>, seed: u64, limits: Limits) -> Case {
    let mut c = Choices::new(stream);
    // Dense special values would make most sums NaN and hide summation-order
    // bugs, so many cases have none or only a few.
    let rate = c.pick(&[0.0, 0.0, 0.001, 0.01, 0.05]);
    let specials = Specials {
        rate,
        signaling: rate > 0.0 && c.chance(40),
    };
    let mut g = Gen {
        c: &mut c,
        rng: Rng::new(seed),
        limits,
        specials,
        pool: Vec::new(),
        names: Vec::new(),
        log: Vec::new(),
        params: Vec::new(),
        param_values: Vec::new(),
    };
    g.inputs();
    let ops = 1 + g.c.below(limits.max_ops);
    for _ in 0..ops {
        g.step();
    }
    let (outputs, shown) = g.outputs();
    let mut description = format!("data: {specials:?}\n");
    for line in &g.log {
        let _ = writeln!(description, "  {line}");
    }
    let _ = write!(description, "  outputs: [{shown}]");
    Case {
        outputs,
        params: g.params,
        values: g.param_values,
        description,
    }
}

/// Run a case through every fused path and compare with the interpreter:
/// every array leaf as an argument, `eval` for literal-only graphs
/// ([`check_outputs`]), and parameters as arguments with array literals as
/// constants.
fn check(case: &Case) -> Result<(), String> {
    let fail = |what: &str, e: &dyn std::fmt::Display| {
        format!("{what}: {e}\ngraph:\n{}", case.description)
    };
    let reference = check_outputs(&case.outputs, &bind(&case.params, &case.values))
        .map_err(|r| fail("fused differs from the reference", &format!("\n{r}")))?;
    if case.params.is_empty() {
        return Ok(());
    }
    let exe = Executable::compile(&case.outputs, &case.params)
        .map_err(|e| fail("Executable::compile", &e))?;
    let fused = exe.run(&case.values).map_err(|e| fail("run", &e))?;
    compare(&fused, &reference).map_err(|r| {
        fail(
            "Executable::compile differs from the reference",
            &format!("\n{r}plan:\n{}", exe.summary()),
        )
    })
}

const SMALL: Limits = Limits {
    cap: 6000,
    max_ops: 12,
    shapes: &[],
};

/// Over the parallel threshold (32768 elements), with several work items (65536 elements each).
const LARGE: Limits = Limits {
    cap: 200_000,
    max_ops: 5,
    shapes: &[
        &[300, 257],
        &[70, 1030],
        &[1, 70_000],
        &[140_000],
        &[2, 3, 40, 300],
        &[600, 130],
        &[5, 30_000],
    ],
};

proptest! {
    #![proptest_config(config(3000))]

    #[test]
    fn random_graphs_match_the_interpreter_bit_for_bit(
        stream in prop::collection::vec(any::<u32>(), 0..400),
        seed in any::<u64>(),
    ) {
        let case = build(stream, seed, SMALL);
        if let Err(report) = check(&case) {
            prop_assert!(false, "{}", report);
        }
    }
}

proptest! {
    #![proptest_config(config(30))]

    #[test]
    fn large_random_graphs_run_in_parallel_items_and_match(
        stream in prop::collection::vec(any::<u32>(), 0..200),
        seed in any::<u64>(),
    ) {
        let case = build(stream, seed, LARGE);
        if let Err(report) = check(&case) {
            prop_assert!(false, "{}", report);
        }
    }
}

// ---- regressions: minimal graphs of bugs the random graphs found ----------

fn literal_1d<T: oxla_ir::ArrayElement>(data: Vec<T>) -> Tensor {
    let n = data.len();
    Tensor::literal(T::wrap(
        oxla_ir::ndarray::ArrayD::from_shape_vec(oxla_ir::ndarray::IxDyn(&[n]), data).unwrap(),
    ))
}

fn spread(c: Tensor, like: &Tensor) -> Tensor {
    c.broadcast_in_dim(like.shape(), &[]).unwrap()
}

/// `-(x * c)` was folded into `x * (-c)`: exact for numbers, but a NaN
/// product keeps the sign of a NaN operand (and `inf * 0` gives the default
/// NaN), so the negation's sign flip was lost.
#[test]
fn negated_products_keep_the_sign_of_nan_results() {
    let x = literal_1d(vec![f64::NAN, -f64::NAN, f64::INFINITY, 1.5, -0.0]);
    for c in [2.0, 0.5, 0.0, 3.0] {
        let cb = spread(scalar(DType::F64, c, 0.0), &x);
        let product = x.mul(&cb).unwrap().neg().unwrap();
        let quotient = x.div(&cb).unwrap().neg().unwrap();
        common::assert_fused_eq_reference(&[product, quotient], &format!("-(x * {c}), -(x / {c})"));
    }
    let h = literal_1d(vec![oxla_ir::half::f16::NAN, oxla_ir::half::f16::ONE]);
    let cb = spread(scalar(DType::F16, 0.5, 0.0), &h);
    common::assert_fused_eq_reference(&[h.mul(&cb).unwrap().neg().unwrap()], "f16 -(x * 0.5)");
}

/// `x * 1` was folded to `x` for complex `x` too, but complex multiplication
/// by `1 + 0i` is not the identity: `re = fma(xr, 1, -(xi * 0))` turns a
/// `-0.0` real part into `+0.0` and an infinite imaginary part makes it NaN.
#[test]
fn complex_products_with_one_are_computed() {
    use oxla_ir::num_complex::Complex64;
    let z = literal_1d(vec![
        Complex64::new(-0.0, -1.0),
        Complex64::new(1.0, f64::INFINITY),
        Complex64::new(2.0, -0.0),
    ]);
    // `z - 0` is an arithmetic result, which the fold required
    let w = z.sub(&spread(scalar(DType::C128, 0.0, 0.0), &z)).unwrap();
    let one = spread(scalar(DType::C128, 1.0, 0.0), &z);
    common::assert_fused_eq_reference(&[w.mul(&one).unwrap()], "complex (z - 0) * 1");
    common::assert_fused_eq_reference(&[one.mul(&w).unwrap()], "complex 1 * (z - 0)");
}

/// `x + -0.0` was folded to `x` even when `x` is loaded from memory, where
/// it may be a signaling NaN that the addition quiets (as `x * 1` already knew).
#[test]
fn adding_negative_zero_quiets_signaling_nans_as_the_interpreter_does() {
    let x = literal_1d(vec![f64::from_bits(0x7ff4_0000_0000_0001), 1.0, -0.0]);
    let z = spread(scalar(DType::F64, -0.0, 0.0), &x);
    common::assert_fused_eq_reference(&[x.add(&z).unwrap()], "sNaN + -0.0");
    common::assert_fused_eq_reference(&[z.add(&x).unwrap()], "-0.0 + sNaN");
    // through a pad: the padding of gradient's assembly is -0.0
    let padded = x
        .pad_axis(&scalar(DType::F64, -0.0, 0.0), 0, 1, -1)
        .unwrap();
    let shifted = x
        .pad_axis(&scalar(DType::F64, -0.0, 0.0), 0, -1, 1)
        .unwrap();
    common::assert_fused_eq_reference(&[padded.add(&shifted).unwrap()], "pad(sNaN) + pad(sNaN)");
}

/// Conversions were taken to quiet NaNs, but f64 -> f16 copies a signaling
/// NaN's payload and f64 -> c128 moves the value unchanged.
#[test]
fn conversions_do_not_count_as_quieting_signaling_nans() {
    let x = literal_1d(vec![f64::from_bits(0x7ff4_0000_0000_0001), 1.0]);
    for to in [DType::F16, DType::C128, DType::F32, DType::C64] {
        let y = x.convert(to).unwrap();
        let one = spread(scalar(to, 1.0, 0.0), &y);
        let zero = spread(scalar(to, -0.0, -0.0), &y);
        common::assert_fused_eq_reference(
            &[y.mul(&one).unwrap(), y.add(&zero).unwrap()],
            &format!("convert(sNaN, {to}) * 1 and + -0.0"),
        );
    }
}

/// A 0-d literal became a kernel constant held as a complex f64 pair, and
/// widening an f16, f32 or complex64 signaling NaN into it quieted it: an
/// output that was the literal itself came out quiet where the
/// interpreter's keeps the bits (found by the random graphs, rarely).
#[test]
fn zero_d_signaling_nan_literals_keep_their_bits() {
    use oxla_ir::half::f16;
    use oxla_ir::num_complex::Complex32;
    let literals = [
        Tensor::from_host(ndarray::arr0(f16::from_bits(0x7d01)).into_dyn()).unwrap(),
        Tensor::from_host(ndarray::arr0(f32::from_bits(0xffa0_0001)).into_dyn()).unwrap(),
        Tensor::from_host(
            ndarray::arr0(Complex32::new(f32::from_bits(0xffa0_0001), 0.25)).into_dyn(),
        )
        .unwrap(),
    ];
    for x in literals {
        let sum = x.add(&x).unwrap();
        common::assert_fused_eq_reference(&[sum, x.clone()], &format!("{} sNaN", x.dtype()));
    }
}

/// A reduction keeping the innermost axis over an empty iteration space
/// (a kept axis of length 0) ran no work item, and collecting its sums
/// failed with "a sequential reduction ran as several items".
#[test]
fn sequential_reductions_of_empty_arrays_are_empty() {
    for (shape, axes) in [
        (vec![3, 0], vec![0]),
        (vec![0, 2, 2, 5], vec![]),
        (vec![2, 0, 4], vec![0, 2]),
        (vec![0], vec![]),
    ] {
        let x = Tensor::parameter(&shape, DType::F64);
        let s = x.reduce_sum(&axes).unwrap();
        let exe = Executable::compile(std::slice::from_ref(&s), std::slice::from_ref(&x)).unwrap();
        let value = Arc::new(ArrayValue::full(DType::F64, &shape, 1.0));
        let got = exe.run(std::slice::from_ref(&value)).unwrap();
        let bindings = Bindings::from([(x.parameter_id().unwrap(), value)]);
        let want = evaluate(&[s], &bindings).unwrap();
        assert_eq!(
            compare(&got, &want),
            Ok(()),
            "reduce_sum({shape:?}, {axes:?})"
        );
    }
}

proptest! {
    #![proptest_config(config(60))]

    /// Stencils of stencils: every level reads the one below through two
    /// more views, so after a few levels the planner must materialize nodes
    /// reached through too many views and plan again.
    #[test]
    fn stencils_of_stencils_replan_and_match(
        stream in prop::collection::vec(any::<u32>(), 0..64),
        seed in any::<u64>(),
    ) {
        let mut c = Choices::new(stream);
        let rank = 1 + c.below(3);
        let shape: Vec<usize> = (0..rank)
            .map(|d| if d + 1 == rank { c.pick(&[9, TILE + 1, 6, 40]) } else { c.pick(&[5, 3, 12]) })
            .collect();
        let dtype = c.pick(&[DType::F64, DType::F32, DType::C128]);
        let mut rng = Rng::new(seed);
        let f = Tensor::literal(random_value(&mut rng, &shape, dtype, Specials::NONE));
        let mut x = f.clone();
        let mut outputs = Vec::new();
        let mut log = format!("f: {}{shape:?}", dtype.numpy_name());
        let levels = 3 + c.below(6);
        for level in 0..levels {
            let axis = c.below(rank);
            let n = shape[axis];
            let d = x.slice_axis(axis, 1, n).unwrap().sub(&x.slice_axis(axis, 0, n - 1).unwrap()).unwrap();
            let lo = c.below(2) as i64;
            x = d.pad_axis(&scalar(dtype, -0.0, 0.0), axis, lo, 1 - lo).unwrap();
            if c.chance(40) {
                x = x.mul(&scalar(dtype, 0.5, 0.0).broadcast_in_dim(&shape, &[]).unwrap()).unwrap().add(&f).unwrap();
            }
            log += &format!("\n  level {level}: difference along axis {axis}, placed at {lo}");
            if c.chance(25) {
                outputs.push(x.clone());
            }
        }
        outputs.push(x);
        let fused = oxla_jit::eval(&outputs).unwrap();
        let reference = evaluate(&outputs, &Bindings::new()).unwrap();
        if let Err(r) = compare(&fused, &reference) {
            prop_assert!(false, "{}\n{}", log, r);
        }
    }
}

/// An elementwise chain deeper than the kernel expression limit (400) is cut
/// by materializing a node; the result is unchanged.
///
/// Kernel expressions are built recursively: in a debug build each level
/// takes about 10 KB of stack, so a chain this deep needs more than the
/// 2 MB of a test thread (release builds stay well within it). Run it on a
/// thread with a larger stack.
#[test]
fn very_deep_elementwise_chains_are_cut_and_match() {
    let run = || {
        let mut rng = Rng::new(11);
        let shape = [3, 257];
        let x = Tensor::literal(random_value(&mut rng, &shape, DType::F64, Specials::NONE));
        let y = Tensor::literal(random_value(&mut rng, &shape, DType::F64, Specials::NONE));
        let half = scalar(DType::F64, 0.5, 0.0)
            .broadcast_in_dim(&shape, &[])
            .unwrap();
        let mut t = x.clone();
        for i in 0..450 {
            t = match i % 3 {
                0 => t.mul(&half).unwrap(),
                1 => t.add(&y).unwrap(),
                _ => t.sub(&x).unwrap().neg().unwrap(),
            };
        }
        let (exe, _) = oxla_jit::compile(std::slice::from_ref(&t)).unwrap();
        assert!(exe.summary().kernels.len() > 1, "{}", exe.summary());
        common::assert_fused_eq_reference(&[t], "a chain of 600 elementwise ops");
    };
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(run)
        .unwrap()
        .join()
        .unwrap();
}
