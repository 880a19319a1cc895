//! `+ - * /` and unary `-` on `&Tensor`, with NumPy's broadcasting and
//! promotion. Building a node can fail (shapes that do not broadcast), so
//! every operator returns `Result<Tensor, IrError>`, as candle's do:
//! `(&a + &b)?`, `(&a * 2.0)?`, `(2.0 - &a)?`. A Rust `f64` is a weak
//! scalar, as a Python float is to NumPy: it takes the tensor's dtype.
//!
//! The inherent methods `Tensor::add` etc. stay the same-shape primitives.
//!
//! ```
//! use oxla_ir::{evaluate, Bindings, Tensor};
//! let x = Tensor::from_host(ndarray::arr2(&[[1.0, 2.0], [3.0, 4.0]]).into_dyn())?;
//! let row = Tensor::from_host(ndarray::arr1(&[10.0, 20.0]).into_dyn())?;
//! let y = ((&x + &row)? * 2.0)?; // the row is broadcast down the columns
//! let v = evaluate(&[(-&y)?], &Bindings::new())?;
//! assert_eq!(v[0].as_array::<f64>()?.as_slice().unwrap(), &[-22.0, -44.0, -26.0, -48.0]);
//! # Ok::<(), oxla_ir::IrError>(())
//! ```

use std::ops::{Add, Div, Mul, Neg, Sub};

use crate::broadcast::align;
use crate::{IrError, Tensor};

macro_rules! binary_operator {
    ($Trait:ident, $method:ident, $name:literal) => {
        impl $Trait<&Tensor> for &Tensor {
            type Output = Result<Tensor, IrError>;
            fn $method(self, rhs: &Tensor) -> Self::Output {
                let [a, b] = align($name, [self, rhs])?;
                Tensor::$method(&a, &b)
            }
        }
        impl $Trait<Tensor> for Tensor {
            type Output = Result<Tensor, IrError>;
            fn $method(self, rhs: Tensor) -> Self::Output {
                $Trait::$method(&self, &rhs)
            }
        }
        impl $Trait<&Tensor> for Tensor {
            type Output = Result<Tensor, IrError>;
            fn $method(self, rhs: &Tensor) -> Self::Output {
                $Trait::$method(&self, rhs)
            }
        }
        impl $Trait<Tensor> for &Tensor {
            type Output = Result<Tensor, IrError>;
            fn $method(self, rhs: Tensor) -> Self::Output {
                $Trait::$method(self, &rhs)
            }
        }
        impl $Trait<f64> for &Tensor {
            type Output = Result<Tensor, IrError>;
            fn $method(self, rhs: f64) -> Self::Output {
                $Trait::$method(self, &Tensor::scalar(self.dtype(), rhs))
            }
        }
        impl $Trait<f64> for Tensor {
            type Output = Result<Tensor, IrError>;
            fn $method(self, rhs: f64) -> Self::Output {
                $Trait::$method(&self, rhs)
            }
        }
        impl $Trait<&Tensor> for f64 {
            type Output = Result<Tensor, IrError>;
            fn $method(self, rhs: &Tensor) -> Self::Output {
                $Trait::$method(&Tensor::scalar(rhs.dtype(), self), rhs)
            }
        }
    };
}

binary_operator!(Add, add, "add");
binary_operator!(Sub, sub, "subtract");
binary_operator!(Mul, mul, "multiply");
binary_operator!(Div, div, "divide");

impl Neg for &Tensor {
    type Output = Result<Tensor, IrError>;
    fn neg(self) -> Self::Output {
        Tensor::neg(self)
    }
}

impl Neg for Tensor {
    type Output = Result<Tensor, IrError>;
    fn neg(self) -> Self::Output {
        Tensor::neg(&self)
    }
}

#[cfg(test)]
mod tests {
    use crate::{DType, IrError, Tensor};

    #[test]
    fn operators_broadcast_rows_columns_and_scalars() {
        let x = Tensor::parameter(&[3, 4], DType::F32);
        let row = Tensor::parameter(&[4], DType::F32);
        let col = Tensor::parameter(&[3, 1], DType::F32);
        let s = Tensor::parameter(&[], DType::F64);
        assert_eq!((&x + &row).unwrap().shape(), &[3, 4]);
        assert_eq!((&col * &row).unwrap().shape(), &[3, 4]);
        let promoted = (&x - &s).unwrap();
        assert_eq!(
            (promoted.shape(), promoted.dtype()),
            (&[3usize, 4][..], DType::F64)
        );
        let weak = (&x / 2.0).unwrap();
        assert_eq!(weak.dtype(), DType::F32);
        assert_eq!((1.0 - &x).unwrap().dtype(), DType::F32);
        assert_eq!(
            (&x + &col.reshape(&[3]).unwrap()).unwrap_err(),
            IrError::BroadcastMismatch {
                op: "add",
                lhs: [3usize, 4].as_slice().into(),
                rhs: [3usize].as_slice().into(),
            }
        );
    }
}
