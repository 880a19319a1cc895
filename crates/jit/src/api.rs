//! The entry points: [`eval`] for lazy graphs, [`jit`] for closures.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use oxla_ir::{ArrayValue, IrError, Tensor, replace_nodes};

use crate::JitError;
use crate::borrowed::{ArrayRef, Buffer};
use crate::executable::Executable;
use crate::key::{GraphKey, graph_key};

/// Compiled plans of [`eval`], by graph structure. Bounded: cleared when full.
const EVAL_CACHE_ENTRIES: usize = 256;

fn eval_cache() -> &'static Mutex<HashMap<GraphKey, Arc<Executable>>> {
    static CACHE: OnceLock<Mutex<HashMap<GraphKey, Arc<Executable>>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Compile `outputs` with their array leaves (parameters and array literals)
/// as arguments. Returns the plan and the leaves, in argument order.
pub fn compile(outputs: &[Tensor]) -> Result<(Executable, Vec<Tensor>), JitError> {
    let (_, leaves) = graph_key(outputs);
    Ok((compile_with_leaves(outputs, &leaves)?, leaves))
}

fn compile_with_leaves(outputs: &[Tensor], leaves: &[Tensor]) -> Result<Executable, JitError> {
    let params: Vec<Tensor> = leaves
        .iter()
        .map(|l| Tensor::parameter(l.shape(), l.dtype()))
        .collect();
    let by_node: HashMap<_, _> = leaves
        .iter()
        .map(Tensor::key)
        .zip(params.iter().cloned())
        .collect();
    let traced = replace_nodes(outputs, |t| by_node.get(&t.key()).cloned())?;
    Executable::compile(&traced, &params)
}

/// Evaluate lazy tensors with fused kernels.
///
/// The graph is lowered, planned and compiled on first sight; later graphs
/// of the same structure (same ops, same 0-d constants, leaves of the same
/// shapes and dtypes) reuse the plan with their own array values. Results
/// equal the reference interpreter's ([`oxla_ir::evaluate`]) bit for bit.
///
/// ```
/// use oxla_ir::{DType, Tensor};
/// let x = Tensor::from_host(ndarray::arr1(&[1.0f32, 2.0, 3.0]).into_dyn()).unwrap();
/// let y = x.mul(&x).unwrap();
/// let v = oxla_jit::eval(&[y]).unwrap();
/// assert_eq!(v[0].as_array::<f32>().unwrap().as_slice().unwrap(), &[1.0, 4.0, 9.0]);
/// ```
pub fn eval(outputs: &[Tensor]) -> Result<Vec<ArrayValue>, JitError> {
    eval_with(outputs, &[])
}

/// [`eval`], with parameters bound to arrays that kernels read in place
/// ([`ArrayRef`]: memory the caller owns, such as a NumPy array's), so
/// large inputs are not copied first. Every parameter of the graph must
/// be bound, with its shape and dtype.
///
/// ```
/// use oxla_ir::{DType, Tensor};
/// use oxla_jit::ArrayRef;
/// let x = Tensor::parameter(&[3], DType::F64);
/// let y = x.mul(&x).unwrap();
/// let data = [1.0, 2.0, 3.0];
/// let v = oxla_jit::eval_with(&[y], &[(&x, ArrayRef::new(&[3], &data).unwrap())]).unwrap();
/// assert_eq!(v[0].as_array::<f64>().unwrap().as_slice().unwrap(), &[1.0, 4.0, 9.0]);
/// ```
pub fn eval_with(
    outputs: &[Tensor],
    bound: &[(&Tensor, ArrayRef<'_>)],
) -> Result<Vec<ArrayValue>, JitError> {
    let (key, leaves) = graph_key(outputs);
    let args = leaves
        .iter()
        .map(|l| match l.literal_value() {
            Some(v) => Ok(Buffer::Value(v.clone())),
            None => bound
                .iter()
                .find(|(p, _)| p.same_node(l))
                .map(|(_, a)| Buffer::Borrowed(a.clone()))
                .ok_or(IrError::UnboundParameter(
                    l.parameter_id().map_or(0, |p| p.0),
                )),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let cached = lock(eval_cache()).get(&key).cloned();
    let exe = match cached {
        Some(exe) => exe,
        None => {
            let exe = Arc::new(compile_with_leaves(outputs, &leaves)?);
            let mut cache = lock(eval_cache());
            if cache.len() >= EVAL_CACHE_ENTRIES {
                cache.clear();
            }
            cache.insert(key, exe.clone());
            exe
        }
    };
    exe.run_buffers(args)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // The caches hold complete entries only; a panic elsewhere cannot leave one half-written.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A function compiled once per argument signature (shapes and dtypes), as
/// `jax.jit` does. Build one with [`jit`].
pub struct Jit<F> {
    f: F,
    /// Plans by signature. A short list scanned without allocating: a jitted
    /// function meets few signatures, and a cached call must stay in the
    /// microseconds.
    cache: Mutex<Vec<Arc<Executable>>>,
}

/// True if `args` have the shapes and dtypes `exe` was compiled for.
fn fits(exe: &Executable, args: &[Tensor]) -> bool {
    exe.arg_types().len() == args.len()
        && exe
            .arg_types()
            .iter()
            .zip(args)
            .all(|((shape, dtype), a)| a.shape() == shape.as_slice() && a.dtype() == *dtype)
}

/// Wrap a function over tensors so that calls trace it once per signature,
/// compile it into fused kernels, and reuse the plan afterwards.
///
/// ```
/// use oxla_ir::{DType, Tensor};
/// use oxla_jit::{jit, JitError};
///
/// let square = jit(|xs: &[Tensor]| -> Result<Vec<Tensor>, JitError> { Ok(vec![xs[0].mul(&xs[0])?]) });
/// let x = Tensor::from_host(ndarray::arr1(&[3.0, 4.0]).into_dyn()).unwrap();
/// let y = square.call(&[x]).unwrap();
/// assert_eq!(y[0].literal_value().unwrap().as_array::<f64>().unwrap().as_slice().unwrap(), &[9.0, 16.0]);
/// ```
pub fn jit<F>(f: F) -> Jit<F> {
    Jit {
        f,
        cache: Mutex::new(Vec::new()),
    }
}

impl<F> Jit<F> {
    /// The plan for arguments like `args`, tracing and compiling on first sight.
    pub fn executable<E>(&self, args: &[Tensor]) -> Result<Arc<Executable>, E>
    where
        F: Fn(&[Tensor]) -> Result<Vec<Tensor>, E>,
        E: From<JitError>,
    {
        if let Some(exe) = lock(&self.cache).iter().find(|e| fits(e, args)) {
            return Ok(exe.clone());
        }
        let params: Vec<Tensor> = args
            .iter()
            .map(|a| Tensor::parameter(a.shape(), a.dtype()))
            .collect();
        let outputs = (self.f)(&params)?;
        let exe = Arc::new(Executable::compile(&outputs, &params)?);
        lock(&self.cache).push(exe.clone());
        Ok(exe)
    }

    /// Call with concrete (or lazy, which are evaluated first) arguments; returns concrete tensors.
    pub fn call<E>(&self, args: &[Tensor]) -> Result<Vec<Tensor>, E>
    where
        F: Fn(&[Tensor]) -> Result<Vec<Tensor>, E>,
        E: From<JitError>,
    {
        let exe = self.executable(args)?;
        let values = args
            .iter()
            .map(|a| match a.literal_value() {
                Some(v) => Ok(v.clone()),
                None => Ok(Arc::new(eval(std::slice::from_ref(a))?.remove(0))),
            })
            .collect::<Result<Vec<_>, JitError>>()?;
        Ok(exe.run(&values)?.into_iter().map(Tensor::literal).collect())
    }
}

/// The number of threads fused kernels run on: the size of the current
/// rayon pool (`RAYON_NUM_THREADS`, else one per CPU). Results do not
/// depend on it; benchmarks report it.
///
/// ```
/// assert!(oxla_jit::threads() >= 1);
/// ```
pub fn threads() -> usize {
    rayon::current_num_threads()
}
