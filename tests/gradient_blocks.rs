#![allow(clippy::unwrap_used)]
//! Block evaluation is the whole array's evaluation, bit for bit: random
//! shapes (1-d to 4-d), random chunkings along every axis (blocks of one
//! and two cells included), every dtype, both edge orders, Python-float,
//! 0-d and coordinate spacing (coordinates evenly spaced on a stretch and
//! uneven elsewhere, or evenly spaced throughout, which NumPy collapses to
//! one step). The same for the VJP against `oxla::vjp` of the whole array.

use std::ops::Range;

use oxla::numpy::{gradient, gradient_block, gradient_block_vjp, gradient_vjp};
use oxla::{ArrayValue, Axes, AxisWindow, DType, EdgeOrder, Spacing, Tensor};
use oxla_lower::{block_cotangent_rows, block_input_rows};
use proptest::prelude::*;

/// A tiny deterministic generator for the data of a case.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn values(&mut self, n: usize) -> Vec<f64> {
        (0..n).map(|_| (self.unit() - 0.5) * 20.0).collect()
    }
}

fn tensor(shape: &[usize], data: Vec<f64>, dtype: DType) -> Tensor {
    let a = oxla::ndarray::ArrayD::from_shape_vec(oxla::ndarray::IxDyn(shape), data).unwrap();
    let t = Tensor::from_host(a).unwrap();
    if dtype.is_complex() {
        // an imaginary part too, so both components are exercised
        let spread = |v: Tensor| v.broadcast_in_dim(shape, &[]).unwrap();
        let im = t.mul(&spread(Tensor::scalar(DType::F64, -0.375))).unwrap();
        let i = spread(Tensor::literal(i_unit(dtype)));
        t.convert(dtype)
            .unwrap()
            .add(&im.convert(dtype).unwrap().mul(&i).unwrap())
            .unwrap()
    } else {
        t.convert(dtype).unwrap()
    }
}

fn i_unit(dtype: DType) -> ArrayValue {
    use oxla::num_complex::{Complex32, Complex64};
    match dtype {
        DType::C64 => ArrayValue::from(oxla::ndarray::arr0(Complex32::new(0.0, 1.0)).into_dyn()),
        _ => ArrayValue::from(oxla::ndarray::arr0(Complex64::new(0.0, 1.0)).into_dyn()),
    }
}

/// Coordinates of `n` points: uneven, evenly spaced, or even on a stretch.
fn coords(g: &mut Gen, n: usize, kind: u8) -> Tensor {
    let mut x = vec![g.unit() * 3.0 - 1.0];
    for i in 1..n {
        let step = match kind {
            0 => 0.1 + g.unit() * 2.0,
            1 => 0.25,
            _ if i < n / 2 + 1 => 0.5,
            _ => 0.1 + g.unit(),
        };
        x.push(x[i - 1] + step);
    }
    Tensor::from_host(oxla::ndarray::Array1::from(x).into_dyn()).unwrap()
}

#[derive(Debug, Clone)]
struct Case {
    shape: Vec<usize>,
    dtype: DType,
    edge_order: i64,
    axes: Option<Vec<usize>>,
    /// per differentiated axis: 0 weak, 1 strong 0-d, 2-4 coordinates of a kind, 5 none at all
    spacing: Vec<u8>,
    /// chunk sizes per dimension
    chunks: Vec<Vec<usize>>,
    seed: u64,
}

fn case() -> impl Strategy<Value = Case> {
    (1usize..=4)
        .prop_flat_map(|ndim| {
            let max = [0, 12, 8, 6, 4][ndim];
            (
                proptest::collection::vec(3usize..=max, ndim),
                prop_oneof![
                    Just(DType::F16),
                    Just(DType::F32),
                    Just(DType::F64),
                    Just(DType::C64),
                    Just(DType::C128)
                ],
                1i64..=2,
                proptest::option::of(proptest::sample::subsequence(
                    (0..ndim).collect::<Vec<_>>(),
                    1..=ndim,
                )),
                proptest::collection::vec(0u8..=5, ndim),
                any::<u64>(),
            )
        })
        .prop_flat_map(|(shape, dtype, edge_order, axes, spacing, seed)| {
            let chunkings: Vec<_> = shape
                .iter()
                .map(|&n: &usize| {
                    proptest::collection::vec(1..=n.min(5), 1..=n)
                        .prop_map(move |sizes: Vec<usize>| cut(n, &sizes))
                })
                .collect();
            (
                Just((shape, dtype, edge_order, axes, spacing, seed)),
                chunkings,
            )
        })
        .prop_map(
            |((shape, dtype, edge_order, axes, spacing, seed), chunks)| Case {
                shape,
                dtype,
                edge_order,
                axes,
                spacing,
                chunks,
                seed,
            },
        )
}

/// Chunk sizes covering `n` rows, from a list of proposed sizes (repeated as needed).
fn cut(n: usize, sizes: &[usize]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut done = 0;
    for &s in sizes.iter().cycle() {
        if done == n {
            break;
        }
        let s = s.min(n - done);
        out.push(s);
        done += s;
    }
    out
}

impl Case {
    fn selected(&self) -> Vec<usize> {
        self.axes
            .clone()
            .unwrap_or_else(|| (0..self.shape.len()).collect())
    }

    fn axes_arg(&self) -> Axes {
        match &self.axes {
            None => Axes::All,
            Some(a) => Axes::Some(a.iter().map(|&x| x as i64).collect()),
        }
    }

    fn spacing(&self, g: &mut Gen) -> Vec<Spacing> {
        if self.spacing[0] == 5 {
            return vec![];
        }
        self.selected()
            .iter()
            .enumerate()
            .map(|(i, &axis)| match self.spacing[i] {
                0 | 5 => Spacing::Scalar(0.25 + g.unit()),
                1 => Spacing::Array(Tensor::scalar(DType::F32, -0.5 - g.unit())),
                k => Spacing::Array(coords(g, self.shape[axis], k - 2)),
            })
            .collect()
    }

    /// Every block: per dimension its own rows (the cartesian product of the chunkings).
    fn blocks(&self) -> Vec<Vec<Range<usize>>> {
        let mut blocks = vec![vec![]];
        for sizes in &self.chunks {
            let mut ranges = Vec::new();
            let mut at = 0;
            for &s in sizes {
                ranges.push(at..at + s);
                at += s;
            }
            blocks = blocks
                .into_iter()
                .flat_map(|b| {
                    ranges.iter().map(move |r| {
                        let mut b = b.clone();
                        b.push(r.clone());
                        b
                    })
                })
                .collect();
        }
        blocks
    }

    /// Windows of a block: own rows, and the input rows `need` asks for on
    /// each differentiated axis (own rows elsewhere).
    fn windows(
        &self,
        own: &[Range<usize>],
        need: impl Fn(usize, Range<usize>) -> Range<usize>,
    ) -> Vec<AxisWindow> {
        let selected = self.selected();
        own.iter()
            .enumerate()
            .map(|(d, r)| {
                let n = self.shape[d];
                let input = if selected.contains(&d) {
                    need(n, r.clone())
                } else {
                    r.clone()
                };
                AxisWindow::new(n, input, r.clone()).unwrap()
            })
            .collect()
    }

    fn edge(&self) -> EdgeOrder {
        EdgeOrder::try_from(self.edge_order).unwrap()
    }
}

/// `t` sliced to `rows` on every dimension, as a lazy tensor.
fn window_of(t: &Tensor, rows: &[Range<usize>]) -> Tensor {
    let lo: Vec<usize> = rows.iter().map(|r| r.start).collect();
    let hi: Vec<usize> = rows.iter().map(|r| r.end).collect();
    t.slice(&lo, &hi, &vec![1; rows.len()]).unwrap()
}

fn same_bits(got: &ArrayValue, want: &ArrayValue, what: &str) {
    assert!(got.bit_eq(want), "{what}:\n got  {got:?}\n want {want:?}");
}

fn check_forward(c: &Case) {
    let mut g = Gen(c.seed);
    let n: usize = c.shape.iter().product();
    let f = tensor(&c.shape, g.values(n), c.dtype);
    let spacing = c.spacing(&mut g);
    let whole = gradient(&f, &spacing, c.axes_arg(), c.edge_order).unwrap();
    let whole: Vec<Tensor> = oxla::eval(&whole)
        .unwrap()
        .into_iter()
        .map(Tensor::literal)
        .collect();
    for own in c.blocks() {
        let windows = c.windows(&own, |n, r| block_input_rows(n, c.edge(), r));
        let inputs: Vec<Range<usize>> = windows.iter().map(|w| w.input()).collect();
        let parts = gradient_block(
            &window_of(&f, &inputs),
            &windows,
            &spacing,
            c.axes_arg(),
            c.edge_order,
        )
        .unwrap();
        let got = oxla::eval(&parts).unwrap();
        let want: Vec<Tensor> = whole.iter().map(|w| window_of(w, &own)).collect();
        let want = oxla::eval(&want).unwrap();
        for (k, (gv, wv)) in got.iter().zip(&want).enumerate() {
            same_bits(gv, wv, &format!("output {k} of block {own:?}"));
        }
    }
}

fn check_vjp(c: &Case) {
    let mut g = Gen(c.seed ^ 0x5555);
    let n: usize = c.shape.iter().product();
    let f = tensor(&c.shape, g.values(n), c.dtype);
    let spacing = c.spacing(&mut g);
    let axes = c.axes_arg();
    let (outs, pullback) = oxla::vjp(
        |xs: &[Tensor]| -> Result<Vec<Tensor>, oxla::Error> {
            gradient(&xs[0], &spacing, axes.clone(), c.edge_order)
        },
        std::slice::from_ref(&f),
    )
    .unwrap();
    let cts: Vec<Tensor> = outs
        .iter()
        .map(|o| tensor(o.shape(), g.values(n), c.dtype))
        .collect();
    let whole = oxla::eval(&pullback.call(&cts).unwrap()).unwrap().remove(0);
    // the op-level whole-array VJP is the same
    let direct =
        oxla::eval(&[gradient_vjp(&cts, &c.shape, &spacing, c.axes_arg(), c.edge_order).unwrap()])
            .unwrap();
    same_bits(&direct[0], &whole, "gradient_vjp against vjp");
    let whole = Tensor::literal(whole);
    for own in c.blocks() {
        let windows = c.windows(&own, |n, r| block_cotangent_rows(n, c.edge(), r));
        let inputs: Vec<Range<usize>> = windows.iter().map(|w| w.input()).collect();
        let ct_blocks: Vec<Tensor> = cts.iter().map(|ct| window_of(ct, &inputs)).collect();
        let part =
            gradient_block_vjp(&ct_blocks, &windows, &spacing, c.axes_arg(), c.edge_order).unwrap();
        let got = oxla::eval(&[part]).unwrap();
        let want = oxla::eval(&[window_of(&whole, &own)]).unwrap();
        same_bits(&got[0], &want[0], &format!("vjp of block {own:?}"));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn stitched_blocks_are_the_whole_gradient(c in case()) {
        check_forward(&c);
    }

    #[test]
    fn stitched_block_vjps_are_the_whole_vjp(c in case()) {
        check_vjp(&c);
    }
}

#[test]
fn blocks_without_their_halo_are_refused() {
    let f = Tensor::parameter(&[10], DType::F64);
    let block = f.slice(&[4], &[7], &[1]).unwrap();
    let window = AxisWindow::new(10, 4..7, 4..7).unwrap();
    let err = gradient_block(&block, &[window], &[], Axes::All, 1).unwrap_err();
    assert!(err.to_string().contains("need rows 3..8"), "{err}");
    // at a global edge with edge_order=2, two rows inwards
    let block = f.slice(&[0], &[2], &[1]).unwrap();
    let window = AxisWindow::new(10, 0..2, 0..1).unwrap();
    let err = gradient_block(&block, &[window], &[], Axes::All, 2).unwrap_err();
    assert!(err.to_string().contains("need rows 0..3"), "{err}");
    // a window that does not match the block's shape
    let window = AxisWindow::new(10, 0..3, 0..1).unwrap();
    let err = gradient_block(&block, &[window], &[], Axes::All, 2).unwrap_err();
    assert!(err.to_string().contains("invalid block"), "{err}");
    // the whole array's arguments are checked: axis too short for edge_order 2
    let window = AxisWindow::new(2, 0..2, 0..2).unwrap();
    assert!(gradient_block(&block, &[window], &[], Axes::All, 2).is_err());
}

/// NumPy's choice between the uniform and the coordinate formula is made
/// from the whole coordinates: a block whose slice is evenly spaced still
/// takes the coordinate formula when the whole array does not.
#[test]
fn the_uniform_choice_is_the_whole_arrays() {
    let x = [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.5];
    let f: Vec<f64> = x.iter().map(|v: &f64| v.sin() * 3.0).collect();
    let ft = Tensor::from_host(oxla::ndarray::Array1::from(f).into_dyn()).unwrap();
    let xt = Tensor::from_host(oxla::ndarray::Array1::from(x.to_vec()).into_dyn()).unwrap();
    let spacing = [Spacing::Array(xt)];
    let whole = oxla::eval(&gradient(&ft, &spacing, Axes::All, 2).unwrap()).unwrap();
    let window = AxisWindow::new(7, 0..4, 0..3).unwrap();
    let part = gradient_block(
        &ft.slice(&[0], &[4], &[1]).unwrap(),
        &[window],
        &spacing,
        Axes::All,
        2,
    )
    .unwrap();
    let part = oxla::eval(&part).unwrap();
    let want = oxla::eval(&[Tensor::literal(whole[0].clone())
        .slice(&[0], &[3], &[1])
        .unwrap()])
    .unwrap();
    assert!(part[0].bit_eq(&want[0]));
}
