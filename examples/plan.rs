//! The fused plan of a bench case's op: its kernels, then the instructions
//! of each kernel's middle (interior) program, as `oxla bench` compiles it.
//!
//! `cargo run --release --example plan -- OP DTYPE N [N...]`, with OP one
//! of `gradient-all`, `gradient-axis0`, `vjp-gradient-all`,
//! `value-and-grad`; for example `-- gradient-all f32 4096 4096`. (The
//! total-variation case has its own example, `tv_plan`.)

use oxla::{Axes, DType, Error, Tensor, numpy};

/// Bad arguments are a message, not a panic.
type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// `sum(|grad f|^2)`, the loss of the `value-and-grad` bench case, built
/// as the CLI's `demo::smoothness` builds it (the first axis' term, then
/// each other axis' added), so that the plan is the bench's.
fn smoothness(f: &Tensor) -> std::result::Result<Tensor, Error> {
    let mut terms = numpy::gradient(f, &[], Axes::All, 1)?
        .into_iter()
        .map(|d| d.mul(&d)?.sum_all());
    let mut total = match terms.next() {
        Some(first) => first?,
        None => return Ok(Tensor::scalar(f.dtype(), 0.0)),
    };
    for term in terms {
        total = total.add(&term?)?;
    }
    Ok(total)
}

fn outputs(op: &str, f: &Tensor) -> Result<Vec<Tensor>> {
    Ok(match op {
        "gradient-all" => numpy::gradient(f, &[], Axes::All, 1)?,
        "gradient-axis0" => numpy::gradient(f, &[], Axes::Some(vec![0]), 1)?,
        "vjp-gradient-all" => {
            let (grads, pullback) = oxla::vjp(
                |ys: &[Tensor]| numpy::gradient(&ys[0], &[], Axes::All, 1),
                std::slice::from_ref(f),
            )?;
            let cotangents: Vec<Tensor> = grads
                .iter()
                .map(|g| Tensor::parameter(g.shape(), g.dtype()))
                .collect();
            pullback.call(&cotangents)?
        }
        "value-and-grad" => {
            let (v, g) = oxla::value_and_grad(
                |xs: &[Tensor]| Ok::<_, Error>(vec![smoothness(&xs[0])?]),
                std::slice::from_ref(f),
            )?;
            std::iter::once(v).chain(g).collect()
        }
        _ => return Err(usage()),
    })
}

fn usage() -> Box<dyn std::error::Error> {
    "usage: plan gradient-all|gradient-axis0|vjp-gradient-all|value-and-grad f32|f64 N [N...]"
        .into()
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(op), Some(dtype)) = (args.first(), args.get(1)) else {
        return Err(usage());
    };
    let dtype = match dtype.as_str() {
        "f32" => DType::F32,
        "f64" => DType::F64,
        _ => return Err(usage()),
    };
    let shape = args[2..]
        .iter()
        .map(|n| n.parse::<usize>().map_err(|_| usage()))
        .collect::<Result<Vec<_>>>()?;
    let f = Tensor::parameter(&shape, dtype);
    let (exe, _) = oxla::compile(&outputs(op, &f)?)?;
    println!("{}", exe.summary());
    println!("{}", exe.listing());
    Ok(())
}
