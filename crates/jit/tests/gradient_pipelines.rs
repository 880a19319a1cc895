//! `gradient` and its derivatives, fused, against the reference interpreter:
//! bit for bit.
//!
//! Random cases draw a shape (up to 4-d; innermost lengths around the tile
//! size or narrow, few rows or many, so that both row tiles and the column
//! tiles of narrow edge segments run), a dtype, an axis selection (all, or a
//! subset in any order, negative or not), spacing (none, one Python-float
//! scalar, one 0-d step, or per axis: scalars, 0-d steps of f64 or f32,
//! uniform or non-uniform coordinates as literals or parameters, f32
//! coordinates with f64 data) and an edge order. Four pipelines run on each:
//!
//! - the forward gradient (all selected axes together);
//! - `vjp` of the gradient with random cotangents (with respect to `f`, and
//!   sometimes the coordinates too);
//! - `value_and_grad` of `sum(|grad f|^2)` (real dtypes);
//! - `jvp` of that loss with a random tangent (real dtypes).
#![allow(clippy::unwrap_used)]

mod common;

use std::fmt::Write as _;
use std::sync::Arc;

use common::{
    Choices, Rng, Specials, check_outputs, config, coords_on_axis0, random_value, squared_norm,
};
use oxla_autodiff::{AutodiffError, jvp, value_and_grad, vjp};
use oxla_ir::{ArrayValue, Bindings, DType, Tensor};
use oxla_jit::TILE;
use oxla_lower::{Axes, GradientSpec, Spacing, gradient};
use proptest::prelude::*;

/// One spacing argument; 1-d tensors are coordinates (literals or parameters).
#[derive(Clone, Debug)]
enum Arg {
    Scalar(f64),
    Tensor(Tensor),
}

struct Case {
    f: Tensor,
    axes: Axes,
    spacing: Vec<Arg>,
    edge: i64,
    bindings: Bindings,
    description: String,
    rng: Rng,
}

impl Case {
    /// The spacing, with the coordinate tensors replaced by `coords` (in order) when given.
    fn spacing(&self, coords: &[Tensor]) -> Vec<Spacing> {
        let mut next = coords.iter();
        self.spacing
            .iter()
            .map(|a| match a {
                Arg::Scalar(h) => Spacing::Scalar(*h),
                Arg::Tensor(t) if t.ndim() == 1 => {
                    Spacing::Array(next.next().cloned().unwrap_or_else(|| t.clone()))
                }
                Arg::Tensor(t) => Spacing::Array(t.clone()),
            })
            .collect()
    }

    fn coords(&self) -> Vec<Tensor> {
        self.spacing
            .iter()
            .filter_map(|a| match a {
                Arg::Tensor(t) if t.ndim() == 1 => Some(t.clone()),
                _ => None,
            })
            .collect()
    }

    /// `gradient(xs[0])` with `xs[1..]` as the coordinates.
    fn grads(&self, xs: &[Tensor]) -> Result<Vec<Tensor>, AutodiffError> {
        let spec = GradientSpec::new(
            &xs[0],
            &self.spacing(&xs[1..]),
            self.axes.clone(),
            self.edge,
        )?;
        Ok(gradient(&xs[0], &spec)?)
    }

    /// `sum over axes of sum(g * g)`, in the first output's dtype.
    fn loss(&self, xs: &[Tensor]) -> Result<Vec<Tensor>, AutodiffError> {
        Ok(vec![squared_norm(self.grads(xs)?)?])
    }

    fn literal_like(&mut self, t: &Tensor) -> Tensor {
        Tensor::literal(random_value(
            &mut self.rng,
            t.shape(),
            t.dtype(),
            Specials::NONE,
        ))
    }
}

fn shape(c: &mut Choices) -> Vec<usize> {
    // (rank-1 outer axes menu, innermost menu): narrow rows with many of them,
    // or rows around the tile size with few of them
    let inner = c.pick(&[
        7,
        3,
        5,
        9,
        TILE - 1,
        TILE,
        TILE + 1,
        300,
        2 * TILE + 1,
        1030,
        4,
        8,
    ]);
    let rank = 1 + c.below(4);
    let mut shape = vec![inner];
    let mut numel = inner;
    for _ in 1..rank {
        let menu: &[usize] = if numel <= 16 && c.chance(50) {
            &[300, 40, 600, 270]
        } else {
            &[3, 4, 2, 1, 5, 6]
        };
        let mut n = c.pick(menu);
        while numel * n > 6000 && n > 1 {
            n /= 2;
        }
        numel *= n;
        shape.insert(0, n);
    }
    shape
}

fn build(stream: Vec<u32>, seed: u64) -> Case {
    let mut c = Choices::new(stream);
    let mut rng = Rng::new(seed);
    let shape = shape(&mut c);
    let dtype = c.pick(&[
        DType::F64,
        DType::F32,
        DType::F64,
        DType::C128,
        DType::F16,
        DType::C64,
    ]);
    let edge = 1 + c.below(2) as i64;
    let ndim = shape.len();
    let eligible: Vec<usize> = (0..ndim).filter(|&d| shape[d] > edge as usize).collect();
    // axes: all (when every axis is long enough) or a subset in random order, maybe negative
    let (axes, selected) = if eligible.len() == ndim && c.chance(50) {
        (Axes::All, (0..ndim).collect::<Vec<_>>())
    } else {
        let mut pool = eligible.clone();
        let mut chosen = Vec::new();
        let k = 1 + c.below(pool.len());
        for _ in 0..k {
            chosen.push(pool.remove(c.below(pool.len())));
        }
        let given = chosen
            .iter()
            .map(|&a| {
                if c.chance(30) {
                    a as i64 - ndim as i64
                } else {
                    a as i64
                }
            })
            .collect();
        (Axes::Some(given), chosen)
    };
    let mut bindings = Bindings::new();
    let h = |c: &mut Choices| c.pick(&[1.0, 0.5, 2.0, 0.3, 1.7, 0.1, 4.0, -1.5, 0.25]);
    let mut description = format!(
        "f: {}{shape:?}, axes {axes:?} (selected {selected:?}), edge_order {edge}, spacing:",
        dtype.numpy_name()
    );
    let spacing: Vec<Arg> = match c.below(4) {
        0 => vec![],
        1 => vec![Arg::Scalar(h(&mut c))],
        2 => {
            let d = c.pick(&[DType::F64, DType::F32]);
            vec![Arg::Tensor(Tensor::scalar(d, h(&mut c)))]
        }
        _ => selected
            .iter()
            .map(|&a| {
                let n = shape[a];
                match c.below(7) {
                    0 => Arg::Scalar(h(&mut c)),
                    1 => {
                        let d = c.pick(&[DType::F64, DType::F32]);
                        Arg::Tensor(Tensor::scalar(d, h(&mut c)))
                    }
                    kind => {
                        let uniform = kind <= 3;
                        let step = h(&mut c);
                        let mut x = rng.uniform(-2.0, 2.0);
                        let coords: Vec<f64> = (0..n)
                            .map(|_| {
                                let v = x;
                                x += if uniform {
                                    step
                                } else {
                                    rng.uniform(0.05, 1.5)
                                };
                                v
                            })
                            .collect();
                        let d = if c.chance(30) { DType::F32 } else { DType::F64 };
                        let value =
                            ArrayValue::from(oxla_ir::ndarray::Array1::from(coords).into_dyn())
                                .astype(d);
                        if c.chance(35) {
                            let p = Tensor::parameter(&[n], d);
                            bindings.insert(p.parameter_id().unwrap(), Arc::new(value));
                            Arg::Tensor(p)
                        } else {
                            Arg::Tensor(Tensor::literal(value))
                        }
                    }
                }
            })
            .collect(),
    };
    for a in &spacing {
        let _ = match a {
            Arg::Scalar(h) => write!(description, " {h}"),
            Arg::Tensor(t) => write!(
                description,
                " {}{}{:?}",
                if t.parameter_id().is_some() {
                    "param "
                } else {
                    ""
                },
                t.dtype().numpy_name(),
                t.literal_value()
                    .filter(|v| v.len() <= 12)
                    .map(|v| v.to_c128_vec().iter().map(|z| z.re).collect::<Vec<_>>())
                    .unwrap_or_else(|| t.shape().iter().map(|&n| n as f64).collect())
            ),
        };
    }
    let specials = if c.chance(15) {
        Specials {
            rate: 0.002,
            signaling: false,
        }
    } else {
        Specials::NONE
    };
    let f_param = c.chance(30);
    let value = random_value(&mut rng, &shape, dtype, specials);
    let f = if f_param {
        let p = Tensor::parameter(&shape, dtype);
        bindings.insert(p.parameter_id().unwrap(), Arc::new(value));
        p
    } else {
        Tensor::literal(value)
    };
    let _ = write!(
        description,
        "\n  f is a {}, data {specials:?}",
        if f_param { "parameter" } else { "literal" }
    );
    Case {
        f,
        axes,
        spacing,
        edge,
        bindings,
        description,
        rng,
    }
}

fn run(case: &mut Case, with_coords: bool) -> Result<(), String> {
    let ctx = |what: &str, e: &dyn std::fmt::Display| format!("{what}: {e}");
    // forward: every selected axis in one evaluation
    let f = case.f.clone();
    let outs = case
        .grads(std::slice::from_ref(&f))
        .map_err(|e| ctx("gradient", &e))?;
    check_outputs(&outs, &case.bindings).map_err(|r| ctx("forward gradient", &r))?;
    // vjp with random cotangents, with respect to f (and the coordinates)
    let mut primals = vec![f.clone()];
    if with_coords {
        primals.extend(case.coords());
    }
    let (outs, pullback) =
        vjp(|xs: &[Tensor]| case.grads(xs), &primals).map_err(|e| ctx("vjp", &e))?;
    let cts: Vec<Tensor> = outs.iter().map(|o| case.literal_like(o)).collect();
    let back = pullback.call(&cts).map_err(|e| ctx("pullback", &e))?;
    let all: Vec<Tensor> = outs.into_iter().chain(back).collect();
    check_outputs(&all, &case.bindings).map_err(|r| ctx("vjp of gradient", &r))?;
    if f.dtype().is_complex() {
        return Ok(());
    }
    // value_and_grad of sum(|grad f|^2)
    let (loss, grads) = value_and_grad(|xs: &[Tensor]| case.loss(xs), std::slice::from_ref(&f))
        .map_err(|e| ctx("value_and_grad", &e))?;
    let all: Vec<Tensor> = std::iter::once(loss).chain(grads).collect();
    check_outputs(&all, &case.bindings)
        .map_err(|r| ctx("value_and_grad of sum(|grad f|^2)", &r))?;
    // jvp of the same loss
    let df = case.literal_like(&f);
    let (ys, dys) = jvp(
        |xs: &[Tensor]| case.loss(xs),
        std::slice::from_ref(&f),
        &[df],
    )
    .map_err(|e| ctx("jvp", &e))?;
    let all: Vec<Tensor> = ys.into_iter().chain(dys).collect();
    check_outputs(&all, &case.bindings).map_err(|r| ctx("jvp of sum(|grad f|^2)", &r))?;
    Ok(())
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn gradient_pipelines_are_bit_identical_to_the_interpreter(
        stream in prop::collection::vec(any::<u32>(), 0..64),
        seed in any::<u64>(),
        with_coords in any::<bool>(),
    ) {
        let mut case = build(stream, seed);
        if let Err(report) = run(&mut case, with_coords) {
            prop_assert!(false, "{}\ncase: {}", report, case.description);
        }
    }
}

/// The shapes of the old smoke test, all axes, coordinates on axis 0.
#[test]
fn gradient_with_coordinates_on_the_first_axis() {
    for shape in [
        vec![6],
        vec![7, 5],
        vec![3, 300],
        vec![4, 5, 6],
        vec![3, 1030],
        vec![300, 5],
    ] {
        for edge in [1, 2] {
            let mut rng = Rng::new(5);
            let f = Tensor::literal(random_value(&mut rng, &shape, DType::F64, Specials::NONE));
            let spec = GradientSpec::new(&f, &coords_on_axis0(&shape), Axes::All, edge).unwrap();
            let outs = gradient(&f, &spec).unwrap();
            if let Err(r) = check_outputs(&outs, &Bindings::new()) {
                panic!("shape {shape:?} edge {edge}: {r}");
            }
        }
    }
}

/// A case proptest found (seed 100, 400 cases): a 4-d, edge-order-2
/// gradient with traced coordinates on three axes, whose kernels have 375
/// boxes and 750 programs, each with row-uniform coefficient scalars. Every
/// program used to number its scalars after the previous program's, which
/// ran out of `u16` registers: an overflow panic in debug builds, clobbered
/// registers in release ones. Now every program starts after the constants
/// (202 scalar registers for the largest kernel here).
#[test]
fn kernels_with_hundreds_of_programs_reuse_scalar_registers() {
    let stream = vec![
        673669886, 398974443, 242785100, 2618626218, 195028300, 358813720, 3297487450, 368718720,
        957230683, 518440650, 483884519, 25228121, 1754051472, 814754000, 0, 1202577385, 0,
        701642800, 638014365, 147503206, 0, 0,
    ];
    let mut case = build(stream, 11297008867423530097);
    assert!(
        case.description
            .starts_with("f: float64[5, 5, 3, 5], axes All"),
        "the case generator changed; find a new case: {}",
        case.description
    );
    for with_coords in [false, true] {
        if let Err(r) = run(&mut case, with_coords) {
            panic!("with_coords {with_coords}: {r}\ncase: {}", case.description);
        }
    }
}
