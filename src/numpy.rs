//! NumPy-shaped entry points.

use oxla_ir::Tensor;
use oxla_lower::{GradientSpec, Spacing};

use crate::{Axes, Error};

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
