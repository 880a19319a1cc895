//! The fused plan of the total-variation loss's value and gradient on a
//! 4096 x 4096 float32 image (the `tv-loss-value-and-grad` bench case):
//! `cargo run --release --example tv_plan`.

use oxla::{DType, Error, Tensor};

/// `u[i+1] - u[i]` along `axis`, 0 in the last row.
fn forward_difference(u: &Tensor, axis: usize) -> Result<Tensor, Error> {
    let n = u.shape()[axis];
    let d = (&u.slice_axis(axis, 1, n)? - &u.slice_axis(axis, 0, n - 1)?)?;
    Ok(d.pad_axis(&Tensor::scalar(u.dtype(), 0.0), axis, 0, 1)?)
}

fn tv(u: &Tensor) -> Result<Tensor, Error> {
    let (gy, gx) = (forward_difference(u, 0)?, forward_difference(u, 1)?);
    Ok((((&gx * &gx)? + (&gy * &gy)?)? + 1e-6)?.sqrt()?.sum_all()?)
}

fn main() -> Result<(), Error> {
    let u = Tensor::parameter(&[4096, 4096], DType::F32);
    let (v, g) = oxla::value_and_grad(|xs: &[Tensor]| Ok::<_, Error>(vec![tv(&xs[0])?]), &[u])?;
    let (exe, _) = oxla::compile(&[v, g[0].clone()])?;
    println!("{}", exe.summary());
    println!("{}", exe.listing());
    Ok(())
}
