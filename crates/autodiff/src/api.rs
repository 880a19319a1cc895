//! The public transformations: `jvp`, `vjp`, `grad`, `value_and_grad`,
//! `linear_transpose`, and `vjp_wrt` / `grad_wrt` for graphs that are already built.
//!
//! Each traces the function once on fresh parameters shaped like the
//! primals, transforms the traced graph, and substitutes the primals back.
//! Results are lazy tensors.

use std::collections::HashMap;

use oxla_ir::{DType, NodeKey, Tensor, replace_nodes};

use crate::tangent::{Tangent, binding, keyed, or_zeros, params_like, substitute_split};
use crate::transpose::transpose_graph;
use crate::{AutodiffError, Role, jvp::jvp_graph};

/// Check that `given` matches `like` in count, shapes and dtypes.
fn check_like(
    what: Role,
    like: &[(Vec<usize>, DType)],
    given: &[Tensor],
) -> Result<(), AutodiffError> {
    if like.len() != given.len() {
        return Err(AutodiffError::Count {
            what,
            expected: like.len(),
            found: given.len(),
        });
    }
    for (index, ((shape, dtype), g)) in like.iter().zip(given).enumerate() {
        if g.shape() != shape.as_slice() || g.dtype() != *dtype {
            return Err(AutodiffError::Mismatch {
                what,
                index,
                expected_shape: shape.as_slice().into(),
                expected_dtype: *dtype,
                found_shape: g.shape().into(),
                found_dtype: g.dtype(),
            });
        }
    }
    Ok(())
}

fn types(ts: &[Tensor]) -> Vec<(Vec<usize>, DType)> {
    ts.iter().map(|t| (t.shape().to_vec(), t.dtype())).collect()
}

/// Forward-mode derivative: `(f(primals), J_f(primals) · tangents)`.
///
/// ```
/// use oxla_autodiff::{jvp, AutodiffError};
/// use oxla_ir::{evaluate, Bindings, DType, Tensor};
/// let x = Tensor::scalar(DType::F64, 3.0);
/// let dx = Tensor::scalar(DType::F64, 1.0);
/// let (y, dy) = jvp(|xs: &[Tensor]| Ok::<_, AutodiffError>(vec![xs[0].mul(&xs[0])?]), &[x], &[dx])?;
/// let v = evaluate(&[y[0].clone(), dy[0].clone()], &Bindings::new())?;
/// assert_eq!(v[1].as_array::<f64>()?.first(), Some(&6.0)); // d(x^2) = 2x dx
/// # Ok::<(), AutodiffError>(())
/// ```
pub fn jvp<F, E>(
    f: F,
    primals: &[Tensor],
    tangents: &[Tensor],
) -> Result<(Vec<Tensor>, Vec<Tensor>), E>
where
    F: FnOnce(&[Tensor]) -> Result<Vec<Tensor>, E>,
    E: From<AutodiffError>,
{
    check_like(Role::Tangent, &types(primals), tangents)?;
    let params = params_like(primals);
    let outputs = f(&params)?;
    let seeds = keyed(params.iter().zip(tangents.iter().cloned()));
    let out_tangents = jvp_graph(&outputs, &seeds)?;
    let out_tangents = out_tangents
        .into_iter()
        .zip(&outputs)
        .map(|(t, o)| or_zeros(t, o))
        .collect::<Result<Vec<_>, _>>()
        .map_err(AutodiffError::from)?;
    Ok(
        substitute_split(outputs, out_tangents, &binding(&params, primals))
            .map_err(AutodiffError::from)?,
    )
}

/// The reverse-mode derivative of a traced function: call it with
/// cotangents of the outputs to get cotangents of the inputs.
///
/// It holds the linearized function (the JVP with tangent parameters) and
/// transposes it on each call, so it can be called many times.
#[derive(Clone, Debug)]
pub struct Pullback {
    outputs: Vec<(Vec<usize>, DType)>,
    inputs: Vec<Tensor>,
    linear_outputs: Vec<Tangent>,
    /// One tangent parameter per distinct input.
    tangent_params: Vec<Tensor>,
    /// For each input, its entry in `tangent_params` (an input listed twice
    /// in `vjp_wrt` is one input, and gets the same cotangent at both places).
    slots: Vec<usize>,
}

impl Pullback {
    /// `J^T · cotangents`: one cotangent per input of the function, lazily.
    pub fn call(&self, cotangents: &[Tensor]) -> Result<Vec<Tensor>, AutodiffError> {
        check_like(Role::Cotangent, &self.outputs, cotangents)?;
        let (outs, cts): (Vec<Tensor>, Vec<Tensor>) = self
            .linear_outputs
            .iter()
            .zip(cotangents)
            .filter_map(|(t, c)| t.clone().map(|t| (t, c.clone())))
            .unzip();
        let results = transpose_graph(&outs, &cts, &self.tangent_params)?;
        Ok(self
            .slots
            .iter()
            .zip(&self.inputs)
            .map(|(&slot, x)| or_zeros(results[slot].clone(), x))
            .collect::<Result<_, _>>()?)
    }
}

/// The distinct nodes of `params` (first occurrences, in order) and, for
/// each entry of `params`, the position of its node among them.
fn distinct(params: &[Tensor]) -> (Vec<Tensor>, Vec<usize>) {
    let mut unique: Vec<Tensor> = Vec::with_capacity(params.len());
    let slots = params
        .iter()
        .map(|p| match unique.iter().position(|u| u.same_node(p)) {
            Some(i) => i,
            None => {
                unique.push(p.clone());
                unique.len() - 1
            }
        })
        .collect();
    (unique, slots)
}

/// Linearize `outputs` (already built over `params`) and bind `params` to
/// `primals`. A parameter listed twice (from `vjp_wrt`) is one input.
fn linearize(
    params: &[Tensor],
    outputs: Vec<Tensor>,
    primals: &[Tensor],
) -> Result<(Vec<Tensor>, Pullback), AutodiffError> {
    let (unique, slots) = distinct(params);
    let tangent_params = params_like(&unique);
    let seeds = keyed(unique.iter().zip(tangent_params.iter().cloned()));
    let linear = jvp_graph(&outputs, &seeds)?;
    let present: Vec<Tensor> = linear.iter().flatten().cloned().collect();
    let (all, present) = substitute_split(outputs, present, &binding(params, primals))?;
    let mut present = present.into_iter();
    let linear_outputs = linear
        .iter()
        .map(|t| t.as_ref().and_then(|_| present.next()))
        .collect();
    let pullback = Pullback {
        outputs: types(&all),
        inputs: primals.to_vec(),
        linear_outputs,
        tangent_params,
        slots,
    };
    Ok((all, pullback))
}

/// Reverse-mode derivative: `f(primals)` and its [`Pullback`].
///
/// ```
/// use oxla_autodiff::{vjp, AutodiffError};
/// use oxla_ir::{evaluate, Bindings, DType, Tensor};
/// let x = Tensor::scalar(DType::F64, 3.0);
/// let (y, pullback) = vjp(|xs: &[Tensor]| Ok::<_, AutodiffError>(vec![xs[0].mul(&xs[0])?]), &[x])?;
/// let ct = pullback.call(&[Tensor::scalar(DType::F64, 1.0)])?;
/// let v = evaluate(&ct, &Bindings::new())?;
/// assert_eq!(v[0].as_array::<f64>()?.first(), Some(&6.0));
/// # Ok::<(), AutodiffError>(())
/// ```
pub fn vjp<F, E>(f: F, primals: &[Tensor]) -> Result<(Vec<Tensor>, Pullback), E>
where
    F: FnOnce(&[Tensor]) -> Result<Vec<Tensor>, E>,
    E: From<AutodiffError>,
{
    let params = params_like(primals);
    let outputs = f(&params)?;
    Ok(linearize(&params, outputs, primals)?)
}

fn scalar_output(outputs: &[Tensor]) -> Result<Tensor, AutodiffError> {
    match outputs {
        [y] if y.ndim() == 0 && !y.dtype().is_complex() => Ok(y.clone()),
        _ => Err(AutodiffError::NotRealScalar {
            count: outputs.len(),
            first: outputs.first().map(|y| (y.shape().into(), y.dtype())),
        }),
    }
}

/// `f(primals)` (one real 0-d output) and its gradient with respect to every primal.
///
/// ```
/// use oxla_autodiff::{value_and_grad, AutodiffError};
/// use oxla_ir::{evaluate, Bindings, DType, Tensor};
/// let x = Tensor::scalar(DType::F64, 2.0);
/// let y = Tensor::scalar(DType::F64, 5.0);
/// let (v, g) = value_and_grad(|xs: &[Tensor]| Ok::<_, AutodiffError>(vec![xs[0].mul(&xs[1])?]), &[x, y])?;
/// let out = evaluate(&[v, g[0].clone(), g[1].clone()], &Bindings::new())?;
/// assert_eq!(out[1].as_array::<f64>()?.first(), Some(&5.0));
/// assert_eq!(out[2].as_array::<f64>()?.first(), Some(&2.0));
/// # Ok::<(), AutodiffError>(())
/// ```
pub fn value_and_grad<F, E>(f: F, primals: &[Tensor]) -> Result<(Tensor, Vec<Tensor>), E>
where
    F: FnOnce(&[Tensor]) -> Result<Vec<Tensor>, E>,
    E: From<AutodiffError>,
{
    let (outputs, pullback) = vjp(f, primals)?;
    let y = scalar_output(&outputs)?;
    let grads = pullback.call(&[Tensor::scalar(y.dtype(), 1.0)])?;
    Ok((y, grads))
}

/// The gradient of a function with one real 0-d output, with respect to every primal.
///
/// ```
/// use oxla_autodiff::{grad, AutodiffError};
/// use oxla_ir::{DType, Tensor};
/// let x = Tensor::parameter(&[3], DType::F64);
/// let err = grad(|xs: &[Tensor]| Ok::<_, AutodiffError>(vec![xs[0].clone()]), &[x]).unwrap_err();
/// assert!(matches!(err, AutodiffError::NotRealScalar { .. })); // not a scalar output
/// ```
pub fn grad<F, E>(f: F, primals: &[Tensor]) -> Result<Vec<Tensor>, E>
where
    F: FnOnce(&[Tensor]) -> Result<Vec<Tensor>, E>,
    E: From<AutodiffError>,
{
    Ok(value_and_grad(f, primals)?.1)
}

/// The transpose of a linear function, traced on inputs shaped like `like`.
#[derive(Clone, Debug)]
pub struct LinearTranspose {
    inputs: Vec<Tensor>,
    params: Vec<Tensor>,
    outputs: Vec<Tensor>,
}

impl LinearTranspose {
    /// `L^T · cotangents`: one cotangent per input of the function, lazily.
    /// Fails with [`AutodiffError::NotLinear`] if the function is not linear.
    pub fn call(&self, cotangents: &[Tensor]) -> Result<Vec<Tensor>, AutodiffError> {
        check_like(Role::Cotangent, &types(&self.outputs), cotangents)?;
        let results = transpose_graph(&self.outputs, cotangents, &self.params)?;
        Ok(results
            .into_iter()
            .zip(&self.inputs)
            .map(|(ct, x)| or_zeros(ct, x))
            .collect::<Result<_, _>>()?)
    }
}

/// Transpose a function that is linear in its inputs (JAX's `linear_transpose`).
///
/// ```
/// use oxla_autodiff::{linear_transpose, AutodiffError};
/// use oxla_ir::{evaluate, Bindings, DType, Tensor};
/// let like = Tensor::parameter(&[3], DType::F64);
/// // x -> x[1:3]; its transpose pads with zeros
/// let t = linear_transpose(|xs: &[Tensor]| Ok::<_, AutodiffError>(vec![xs[0].slice_axis(0, 1, 3)?]), &[like])?;
/// let ct = Tensor::from_host(ndarray::arr1(&[5.0, 7.0]).into_dyn())?;
/// let v = evaluate(&t.call(&[ct])?, &Bindings::new())?;
/// assert_eq!(v[0].as_array::<f64>()?.as_slice().unwrap(), &[-0.0, 5.0, 7.0]);
/// # Ok::<(), AutodiffError>(())
/// ```
pub fn linear_transpose<F, E>(f: F, like: &[Tensor]) -> Result<LinearTranspose, E>
where
    F: FnOnce(&[Tensor]) -> Result<Vec<Tensor>, E>,
    E: From<AutodiffError>,
{
    let params = params_like(like);
    let outputs = f(&params)?;
    Ok(LinearTranspose {
        inputs: like.to_vec(),
        params,
        outputs,
    })
}

/// Reverse-mode derivative of outputs that are already built, with respect
/// to nodes of their graph (`wrt`, any nodes, not only leaves; each is
/// treated as an independent input). A `wrt` tensor the outputs do not
/// depend on is an error ([`AutodiffError::NotAnInput`]), as in PyTorch.
pub fn vjp_wrt(outputs: &[Tensor], wrt: &[Tensor]) -> Result<Pullback, AutodiffError> {
    let graph = oxla_ir::Graph::new(outputs);
    if let Some(index) = wrt.iter().position(|w| graph.index_of(w).is_none()) {
        return Err(AutodiffError::NotAnInput { index });
    }
    // A tensor listed twice is one input: both entries name the same
    // parameter, and `linearize` gives both places the same cotangent.
    let mut cut: HashMap<NodeKey, Tensor> = HashMap::new();
    let params: Vec<Tensor> = wrt
        .iter()
        .map(|w| {
            cut.entry(w.key())
                .or_insert_with(|| Tensor::parameter(w.shape(), w.dtype()))
                .clone()
        })
        .collect();
    let traced = replace_nodes(outputs, |t| cut.get(&t.key()).cloned())?;
    Ok(linearize(&params, traced, wrt)?.1)
}

/// The gradient of a real 0-d `output` with respect to nodes of its graph.
///
/// ```
/// use oxla_autodiff::{grad_wrt, AutodiffError};
/// use oxla_ir::{evaluate, Bindings, DType, Tensor};
/// let x = Tensor::scalar(DType::F64, 4.0);
/// let y = x.mul(&x)?.add(&x)?; // x^2 + x
/// let g = grad_wrt(&y, &[x])?;
/// assert_eq!(evaluate(&g, &Bindings::new())?[0].as_array::<f64>()?.first(), Some(&9.0));
/// let other = Tensor::scalar(DType::F64, 1.0);
/// assert_eq!(grad_wrt(&y, &[other]).unwrap_err(), AutodiffError::NotAnInput { index: 0 });
/// # Ok::<(), AutodiffError>(())
/// ```
pub fn grad_wrt(output: &Tensor, wrt: &[Tensor]) -> Result<Vec<Tensor>, AutodiffError> {
    let y = scalar_output(std::slice::from_ref(output))?;
    vjp_wrt(std::slice::from_ref(&y), wrt)?.call(&[Tensor::scalar(y.dtype(), 1.0)])
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use oxla_ir::Tensor;

    use super::*;
    use crate::test_util::values;

    /// A tensor listed twice in `wrt` is one input: both places get its
    /// whole gradient (as `torch.autograd.grad` does), not a split of it.
    #[test]
    fn grad_wrt_a_tensor_listed_twice() {
        let x = Tensor::from_host(ndarray::arr1(&[1.0, 2.0, 3.0]).into_dyn()).unwrap();
        let y = x.mul(&x).unwrap().reduce_sum(&[0]).unwrap();
        let g = grad_wrt(&y, &[x.clone(), x.clone()]).unwrap();
        assert_eq!(values(&g), vec![vec![2.0, 4.0, 6.0]; 2]);
        // Mixed with another input, in either order.
        let two = Tensor::scalar(DType::F64, 2.0);
        let z = y.mul(&two).unwrap();
        let g = grad_wrt(&z, &[two.clone(), x.clone(), two]).unwrap();
        assert_eq!(
            values(&g),
            vec![vec![14.0], vec![4.0, 8.0, 12.0], vec![14.0]]
        );
    }

    /// The same primal passed twice to `vjp` is two inputs (two parameters).
    #[test]
    fn vjp_with_a_primal_given_twice() {
        let x = Tensor::from_host(ndarray::arr1(&[1.0, 2.0]).into_dyn()).unwrap();
        let (_, pullback) = vjp(
            |xs: &[Tensor]| Ok::<_, AutodiffError>(vec![xs[0].mul(&xs[1])?]),
            &[x.clone(), x],
        )
        .unwrap();
        let ct = Tensor::from_host(ndarray::arr1(&[1.0, 1.0]).into_dyn()).unwrap();
        assert_eq!(
            values(&pullback.call(&[ct]).unwrap()),
            vec![vec![1.0, 2.0]; 2]
        );
    }
}
