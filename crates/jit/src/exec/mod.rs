//! The executor: runs an [`Executable`]'s steps in order, buffers freed
//! after their last reader. It only consumes the instruction set
//! ([`crate::isa`]) and the fusion table; it checks nothing that
//! validation proved.
//!
//! - [`driver`]: one kernel: inputs, outputs, work items, results.
//! - [`rows`]: one work item: row cursor, runs, segments, tiles.
//! - [`reduction`]: reduction state per row and the fold of item results.
//! - [`vector`], [`scalar`]: a tile's instructions; [`operands`] binds
//!   their operands; [`loops`] and [`chunks`] are the element loops.
//! - [`storage`]: typed registers, inputs and outputs.

pub(crate) mod chunks;
pub(crate) mod direct;
pub(crate) mod driver;
pub(crate) mod loops;
pub(crate) mod math_loops;
pub(crate) mod operands;
pub(crate) mod prefetch;
pub(crate) mod reduction;
pub(crate) mod rows;
pub(crate) mod scalar;
pub(crate) mod simd;
pub(crate) mod storage;
pub(crate) mod stream;
pub(crate) mod vector;

use std::sync::Arc;

use oxla_ir::{ArrayValue, Bindings, Tensor};

use crate::borrowed::Buffer;
use crate::error::{JitError, internal};
use crate::executable::{Executable, Step};

impl Executable {
    /// Run on argument values (shapes and dtypes as compiled), returning the outputs.
    ///
    /// Runs on the current rayon thread pool; results do not depend on its size.
    pub fn run(&self, args: &[Arc<ArrayValue>]) -> Result<Vec<ArrayValue>, JitError> {
        self.run_buffers(args.iter().map(|a| Buffer::Value(a.clone())).collect())
    }

    /// [`Executable::run`] with arguments that are values or arrays read
    /// in place ([`crate::ArrayRef`]).
    pub(crate) fn run_buffers(&self, args: Vec<Buffer<'_>>) -> Result<Vec<ArrayValue>, JitError> {
        if args.len() != self.arg_count {
            return Err(JitError::ArgumentCount {
                expected: self.arg_count,
                found: args.len(),
            });
        }
        for (index, (a, (shape, dtype))) in args.iter().zip(self.arg_types()).enumerate() {
            if a.shape() != shape.as_slice() || a.dtype() != *dtype {
                return Err(JitError::ArgumentMismatch {
                    index,
                    expected_shape: shape.clone(),
                    expected_dtype: *dtype,
                    found_shape: a.shape().to_vec(),
                    found_dtype: a.dtype(),
                });
            }
        }
        let mut buffers: Vec<Option<Buffer<'_>>> = Vec::with_capacity(self.buffer_types.len());
        // Kernels read buffers as row-major slices (borrowed arrays are).
        buffers.extend(args.into_iter().map(|a| {
            Some(match a {
                Buffer::Value(v) if !v.is_standard_layout() => {
                    Buffer::Value(Arc::new(v.to_standard_layout()))
                }
                other => other,
            })
        }));
        buffers.extend(
            self.constants
                .iter()
                .cloned()
                .map(|c| Some(Buffer::Value(c))),
        );
        buffers.resize_with(self.buffer_types.len(), || None);
        for (step, release) in self.steps.iter().zip(&self.release) {
            match step {
                Step::Fused(k) => {
                    for (b, v) in driver::run_kernel(k, &buffers)? {
                        buffers[b] = Some(Buffer::Value(Arc::new(v)));
                    }
                }
                Step::Interpret { node, inputs, out } => {
                    let literals: Vec<Tensor> = inputs
                        .iter()
                        .map(|&b| buffers[b].as_ref().map(|v| Tensor::literal(v.to_shared())))
                        .collect::<Option<_>>()
                        .ok_or_else(|| internal!("an interpreted node's input is missing"))?;
                    let mut v =
                        oxla_ir::evaluate(&[node.with_inputs(&literals)?], &Bindings::new())?;
                    buffers[*out] = Some(Buffer::Value(v.remove(0)));
                }
            }
            for &b in release {
                buffers[b] = None;
            }
        }
        let mut values = Vec::with_capacity(self.outputs.len());
        for (i, &b) in self.outputs.iter().enumerate() {
            let last_use = !self.outputs[i + 1..].contains(&b);
            let shared = if last_use {
                buffers[b].take().map(|v| v.to_shared())
            } else {
                buffers[b].as_ref().map(|v| v.to_shared())
            };
            let v = shared.ok_or_else(|| internal!("output buffer {b} was not computed"))?;
            values.push(Arc::try_unwrap(v).unwrap_or_else(|v| (*v).clone()));
        }
        Ok(values)
    }
}
