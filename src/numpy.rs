//! NumPy-shaped entry points.

use oxla_ir::Tensor;
use oxla_lower::{AxisWindow, GradientSpec, Spacing};

use crate::{Axes, Error};

pub use oxla_lower::{block_cotangent_rows, block_input_rows};

/// `numpy.gradient(f, *spacing, axis=axis, edge_order=edge_order)`, lazily.
///
/// Returns one tensor per selected axis, in the order of `axis` (a `Vec`
/// even for a single axis; empty for a 0-d `f` or an empty axis list).
/// Arguments are validated here, once, with NumPy's rules and messages; see
/// [`oxla_lower::GradientError`] for the cases. Evaluate the results
/// together with [`crate::eval`] so all axes are computed in one pass.
///
/// ```
/// use oxla::numpy::gradient;
/// use oxla::{Axes, Spacing, Tensor};
/// use ndarray::array;
///
/// let f = Tensor::from_host(array![[1.0, 2.0, 6.0], [3.0, 4.0, 5.0]].into_dyn())?;
/// let x = Tensor::from_host(array![0.0, 1.0, 1.5].into_dyn())?;
/// // d/dy with unit spacing, d/dx on the coordinates x
/// let outs = gradient(&f, &[Spacing::Scalar(1.0), Spacing::Array(x)], Axes::All, 1)?;
/// let values = oxla::eval(&outs)?;
/// let dfdx = values[1].as_array::<f64>()?;
/// assert_eq!(dfdx[[0, 2]], 8.0); // (6 - 2) / 0.5
/// # Ok::<(), oxla::Error>(())
/// ```
pub fn gradient(
    f: &Tensor,
    spacing: &[Spacing],
    axis: impl Into<Axes>,
    edge_order: i64,
) -> Result<Vec<Tensor>, Error> {
    let spec = GradientSpec::new(f, spacing, axis.into(), edge_order)?;
    Ok(oxla_lower::gradient(f, &spec)?)
}

/// `numpy.gradient` of one block of a larger array, bit for bit the whole
/// array's result at the block's own cells.
///
/// `f_block` holds the block's input cells: along every dimension `d`, the
/// global rows `block[d].input()`, which must include the halo its own rows
/// `block[d].output()` read along each differentiated axis
/// ([`oxla_lower::block_input_rows`]: one row each side, `edge_order` rows
/// inwards at a global edge). `spacing`, `axis` and `edge_order` are the
/// *whole* array's arguments (coordinates of the whole axis), validated
/// against its shape (`block[d].len`). The results cover the block's own
/// cells, one per axis.
///
/// ```
/// use oxla::numpy::{gradient, gradient_block};
/// use oxla::{AxisWindow, Axes, Tensor};
/// let whole = ndarray::Array1::from_iter((0..10).map(|i| (i * i) as f64)).into_dyn();
/// let f = Tensor::from_host(whole.clone())?;
/// // rows 4..7 of 10, read with their halo rows 3 and 7
/// let block = Tensor::from_host(whole.slice(ndarray::s![3..8]).to_owned().into_dyn())?;
/// let window = AxisWindow::new(10, 3..8, 4..7).unwrap();
/// let part = oxla::eval(&gradient_block(&block, &[window], &[], Axes::All, 1)?)?;
/// let all = oxla::eval(&gradient(&f, &[], Axes::All, 1)?)?;
/// assert_eq!(part[0].as_array::<f64>()?.as_slice().unwrap(), &all[0].as_array::<f64>()?.as_slice().unwrap()[4..7]);
/// # Ok::<(), oxla::Error>(())
/// ```
pub fn gradient_block(
    f_block: &Tensor,
    block: &[AxisWindow],
    spacing: &[Spacing],
    axis: impl Into<Axes>,
    edge_order: i64,
) -> Result<Vec<Tensor>, Error> {
    let shape: Vec<usize> = block.iter().map(|w| w.len).collect();
    let spec = GradientSpec::for_shape(&shape, spacing, axis.into(), edge_order)?;
    Ok(oxla_lower::gradient_block(f_block, block, &spec)?)
}

/// The VJP of [`gradient`] (the adjoint stencil `G^T`, summed over the
/// axes) at one block: `cts` holds one cotangent per output of the
/// matching `gradient` call, each over the block's input cells (which must
/// include the cotangent rows whose stencils read the block's own cells,
/// [`oxla_lower::block_cotangent_rows`]). The result covers the block's own
/// cells, bit for bit what [`crate::vjp`] of the whole `gradient` gives
/// there.
pub fn gradient_block_vjp(
    cts: &[Tensor],
    block: &[AxisWindow],
    spacing: &[Spacing],
    axis: impl Into<Axes>,
    edge_order: i64,
) -> Result<Tensor, Error> {
    let shape: Vec<usize> = block.iter().map(|w| w.len).collect();
    let spec = GradientSpec::for_shape(&shape, spacing, axis.into(), edge_order)?;
    Ok(oxla_lower::gradient_block_adjoint(cts, block, &spec)?)
}

/// The VJP of [`gradient`] for an array of `f_shape`: `G^T` applied to one
/// cotangent per output and summed, one fused pass; bit for bit what
/// [`crate::vjp`] of the same `gradient` call gives.
///
/// ```
/// use oxla::numpy::gradient_vjp;
/// use oxla::{Axes, Tensor};
/// let ct = Tensor::from_host(ndarray::arr1(&[1.0, 0.0, 0.0, 0.0]).into_dyn())?;
/// let v = oxla::eval(&[gradient_vjp(&[ct], &[4], &[], Axes::All, 1)?])?;
/// assert_eq!(v[0].as_array::<f64>()?.as_slice().unwrap(), &[-1.0, 1.0, 0.0, 0.0]);
/// # Ok::<(), oxla::Error>(())
/// ```
pub fn gradient_vjp(
    cts: &[Tensor],
    f_shape: &[usize],
    spacing: &[Spacing],
    axis: impl Into<Axes>,
    edge_order: i64,
) -> Result<Tensor, Error> {
    let block: Vec<AxisWindow> = f_shape.iter().map(|&n| AxisWindow::whole(n)).collect();
    gradient_block_vjp(cts, &block, spacing, axis, edge_order)
}
