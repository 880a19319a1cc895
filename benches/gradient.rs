//! Criterion benches of the `oxla bench` cases at sizes that run quickly:
//! the fused jit, the reference interpreter, and a hand-written ndarray
//! loop (what a Rust crate without fusion would do), side by side.
//!
//! Run with `cargo bench --bench gradient`. The figures of record (ratios to
//! a memory copy, NumPy and JAX) come from `oxla bench` and
//! `benches/peers.py`; see docs/PERFORMANCE.md.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ndarray::{Array2, ArrayD, Axis, IxDyn};
use oxla::{Axes, Error, Tensor, numpy};

fn field(shape: &[usize]) -> ArrayD<f64> {
    let n: usize = shape.iter().product();
    ArrayD::from_shape_vec(
        IxDyn(shape),
        (0..n).map(|i| (i as f64 * 1e-3).sin()).collect(),
    )
    .expect("shape matches")
}

/// numpy.gradient with unit spacing along both axes of a 2-d array, written
/// with ndarray slicing: one pass per axis and per piece.
fn ndarray_gradient(f: &Array2<f64>, out: &mut [Array2<f64>; 2]) {
    for (axis, o) in out.iter_mut().enumerate() {
        let ax = Axis(axis);
        let n = f.len_of(ax);
        let inner = (&f.slice_axis(ax, (2..n).into()) - &f.slice_axis(ax, (0..n - 2).into())) / 2.0;
        o.slice_axis_mut(ax, (1..n - 1).into()).assign(&inner);
        let first = &f.slice_axis(ax, (1..2).into()) - &f.slice_axis(ax, (0..1).into());
        o.slice_axis_mut(ax, (0..1).into()).assign(&first);
        let last = &f.slice_axis(ax, (n - 1..n).into()) - &f.slice_axis(ax, (n - 2..n - 1).into());
        o.slice_axis_mut(ax, (n - 1..n).into()).assign(&last);
    }
}

fn gradient_all(c: &mut Criterion) {
    let mut group = c.benchmark_group("gradient-all-f64");
    for n in [256usize, 1024] {
        let host = field(&[n, n]);
        let f = Tensor::from_host(host.clone()).expect("f64 array");
        group.throughput(Throughput::Bytes((3 * n * n * 8) as u64));
        let jitted = oxla::jit(|xs: &[Tensor]| numpy::gradient(&xs[0], &[], Axes::All, 1));
        group.bench_with_input(BenchmarkId::new("fused", n), &f, |b, f| {
            b.iter(|| jitted.call(std::slice::from_ref(f)).expect("runs"))
        });
        if n <= 256 {
            group.bench_with_input(BenchmarkId::new("reference", n), &f, |b, f| {
                b.iter(|| {
                    let outs = numpy::gradient(f, &[], Axes::All, 1).expect("valid");
                    oxla::eval_reference(&outs).expect("runs")
                })
            });
        }
        let f2 = host.into_dimensionality::<ndarray::Ix2>().expect("2-d");
        let mut out = [Array2::zeros((n, n)), Array2::zeros((n, n))];
        group.bench_with_input(BenchmarkId::new("ndarray-loop", n), &f2, |b, f2| {
            b.iter(|| ndarray_gradient(f2, &mut out))
        });
    }
    group.finish();
}

fn smoothness(xs: &[Tensor]) -> Result<Vec<Tensor>, Error> {
    let mut total: Option<Tensor> = None;
    for d in numpy::gradient(&xs[0], &[], Axes::All, 1)? {
        let sq = d.mul(&d)?.reduce_sum(&[0, 1])?;
        total = Some(match total {
            Some(t) => t.add(&sq)?,
            None => sq,
        });
    }
    Ok(total.into_iter().collect())
}

fn derivatives(c: &mut Criterion) {
    let mut group = c.benchmark_group("derivatives-f64-1024x1024");
    let n = 1024;
    let f = Tensor::from_host(field(&[n, n])).expect("f64 array");
    let cts = [
        Tensor::from_host(field(&[n, n])).expect("f64"),
        Tensor::from_host(field(&[n, n])).expect("f64"),
    ];
    let vjp = oxla::jit(|xs: &[Tensor]| -> Result<Vec<Tensor>, Error> {
        let (_, pb) = oxla::vjp(
            |ys: &[Tensor]| numpy::gradient(&ys[0], &[], Axes::All, 1),
            &xs[..1],
        )?;
        Ok(pb.call(&xs[1..])?)
    });
    let args = [f.clone(), cts[0].clone(), cts[1].clone()];
    group.bench_function("vjp-gradient-all/fused", |b| {
        b.iter(|| vjp.call(&args).expect("runs"))
    });
    let vg = oxla::jit(|xs: &[Tensor]| -> Result<Vec<Tensor>, Error> {
        let (v, g) = oxla::value_and_grad(smoothness, xs)?;
        Ok(std::iter::once(v).chain(g).collect())
    });
    group.bench_function("value-and-grad/fused", |b| {
        b.iter(|| vg.call(std::slice::from_ref(&f)).expect("runs"))
    });
    // The same loss by hand with ndarray: forward pass, then the adjoint stencil.
    let host = field(&[n, n])
        .into_dimensionality::<ndarray::Ix2>()
        .expect("2-d");
    group.bench_function("value-and-grad/ndarray-loop", |b| {
        let mut g = [Array2::zeros((n, n)), Array2::zeros((n, n))];
        b.iter(|| {
            ndarray_gradient(&host, &mut g);
            let loss: f64 = g.iter().map(|d| d.iter().map(|x| x * x).sum::<f64>()).sum();
            let mut grad = Array2::<f64>::zeros((n, n));
            for (axis, d) in g.iter().enumerate() {
                let ct = d * 2.0;
                let ax = Axis(axis);
                // interior rows i get ct[i]/2 at i+1 and -ct[i]/2 at i-1
                let half = &ct.slice_axis(ax, (1..n - 1).into()) / 2.0;
                let mut up = grad.slice_axis_mut(ax, (2..n).into());
                up += &half;
                let mut down = grad.slice_axis_mut(ax, (0..n - 2).into());
                down -= &half;
                let e0 = ct.slice_axis(ax, (0..1).into()).to_owned();
                let mut a = grad.slice_axis_mut(ax, (1..2).into());
                a += &e0;
                let mut b0 = grad.slice_axis_mut(ax, (0..1).into());
                b0 -= &e0;
                let e1 = ct.slice_axis(ax, (n - 1..n).into()).to_owned();
                let mut c0 = grad.slice_axis_mut(ax, (n - 1..n).into());
                c0 += &e1;
                let mut d0 = grad.slice_axis_mut(ax, (n - 2..n - 1).into());
                d0 -= &e1;
            }
            (loss, grad)
        })
    });
    group.finish();
}

criterion_group!(benches, gradient_all, derivatives);
criterion_main!(benches);
