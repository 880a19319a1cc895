//! Typed storage of a running kernel: registers, buffers, reduction state.

use oxla_ir::half::f16;
use oxla_ir::num_complex::{Complex32, Complex64};
use oxla_ir::reduce::LANES;
use oxla_ir::{ArrayElement, ArrayValue};

/// An input buffer, borrowed from its value.
#[derive(Clone, Copy)]
pub(crate) enum BufRef<'a> {
    F16(&'a [f16]),
    F32(&'a [f32]),
    F64(&'a [f64]),
    C64(&'a [Complex32]),
    C128(&'a [Complex64]),
}

impl<'a> BufRef<'a> {
    pub fn of(v: &'a ArrayValue) -> Option<BufRef<'a>> {
        Some(match v {
            ArrayValue::F16(a) => BufRef::F16(a.as_slice()?),
            ArrayValue::F32(a) => BufRef::F32(a.as_slice()?),
            ArrayValue::F64(a) => BufRef::F64(a.as_slice()?),
            ArrayValue::C64(a) => BufRef::C64(a.as_slice()?),
            ArrayValue::C128(a) => BufRef::C128(a.as_slice()?),
        })
    }
}

/// A work item's part of an output buffer.
pub(crate) enum OutSlice<'a> {
    F16(&'a mut [f16]),
    F32(&'a mut [f32]),
    F64(&'a mut [f64]),
    C64(&'a mut [Complex32]),
    C128(&'a mut [Complex64]),
}

/// A kernel output being computed.
pub(crate) enum OutBuf {
    F16(Vec<f16>),
    F32(Vec<f32>),
    F64(Vec<f64>),
    C64(Vec<Complex32>),
    C128(Vec<Complex64>),
}

/// Registers and reduction state of one element type.
pub(crate) struct Bank<T> {
    /// Tile registers.
    pub vectors: Vec<Vec<T>>,
    /// Scalar registers (constants first).
    pub scalars: Vec<T>,
    /// Per reduction, per row of the current run: the lanes of the chunk being summed.
    pub lanes: Vec<Vec<[T; LANES]>>,
    /// Per reduction, per row of the current run: that row's finished chunk sums.
    pub row_partials: Vec<Vec<Vec<T>>>,
    /// Per reduction: finished chunk sums, in row-major order.
    pub partials: Vec<Vec<T>>,
    /// Per reduction with the innermost axis kept: the running sums.
    pub sums: Vec<Vec<T>>,
}

impl<T: TileElem> Bank<T> {
    fn new(vectors: usize, scalars: usize, reductions: usize, tile: usize) -> Bank<T> {
        Bank {
            vectors: (0..vectors).map(|_| vec![T::ZERO; tile]).collect(),
            scalars: vec![T::ZERO; scalars],
            lanes: vec![Vec::new(); reductions],
            row_partials: vec![Vec::new(); reductions],
            partials: vec![Vec::new(); reductions],
            sums: vec![Vec::new(); reductions],
        }
    }
}

impl<T> Bank<T> {
    /// Free everything but the finished reduction results.
    fn keep_results_only(&mut self) {
        self.vectors = Vec::new();
        self.scalars = Vec::new();
        self.lanes = Vec::new();
        self.row_partials = Vec::new();
    }
}

/// One [`Bank`] per dtype.
pub(crate) struct Banks {
    pub f16: Bank<f16>,
    pub f32: Bank<f32>,
    pub f64: Bank<f64>,
    pub c64: Bank<Complex32>,
    pub c128: Bank<Complex64>,
}

impl Banks {
    /// Registers as counted per dtype slot (see `program::dtype_slot`).
    pub fn new(vectors: [u16; 5], scalars: [u16; 5], reductions: usize, tile: usize) -> Banks {
        let b = |i: usize| (vectors[i] as usize, scalars[i] as usize);
        Banks {
            f16: Bank::new(b(0).0, b(0).1, reductions, tile),
            f32: Bank::new(b(1).0, b(1).1, reductions, tile),
            f64: Bank::new(b(2).0, b(2).1, reductions, tile),
            c64: Bank::new(b(3).0, b(3).1, reductions, tile),
            c128: Bank::new(b(4).0, b(4).1, reductions, tile),
        }
    }

    /// A finished work item's banks with only what its reductions produced
    /// (`partials`, `sums`), so that items waiting to be folded do not each
    /// hold a full set of tile registers.
    pub fn into_results(mut self) -> Banks {
        self.f16.keep_results_only();
        self.f32.keep_results_only();
        self.f64.keep_results_only();
        self.c64.keep_results_only();
        self.c128.keep_results_only();
        self
    }
}

/// The element types a kernel computes in, with their typed storage.
pub(crate) trait TileElem: ArrayElement {
    /// The executor has loops for the fused stencil instructions
    /// ([`VInstr::Twice`](crate::program::VInstr::Twice), `SquareSum`) in
    /// this type: f32 and f64, the types `gradient` pipelines run in. The
    /// planner fuses only these; the others skip the loops instead of
    /// compiling them for nothing.
    const FUSED_STENCILS: bool;
    fn bank(b: &Banks) -> &Bank<Self>;
    fn bank_mut(b: &mut Banks) -> &mut Bank<Self>;
    fn input<'a>(b: BufRef<'a>) -> Option<&'a [Self]>;
    fn out<'s, 'a>(o: &'s mut OutSlice<'a>) -> Option<&'s mut [Self]>;
    fn out_buf(v: Vec<Self>) -> OutBuf;
}

macro_rules! tile_elem {
    ($t:ty, $field:ident, $variant:ident, $fused:expr) => {
        impl TileElem for $t {
            const FUSED_STENCILS: bool = $fused;
            fn bank(b: &Banks) -> &Bank<Self> {
                &b.$field
            }
            fn bank_mut(b: &mut Banks) -> &mut Bank<Self> {
                &mut b.$field
            }
            fn input<'a>(b: BufRef<'a>) -> Option<&'a [Self]> {
                match b {
                    BufRef::$variant(s) => Some(s),
                    _ => None,
                }
            }
            fn out<'s, 'a>(o: &'s mut OutSlice<'a>) -> Option<&'s mut [Self]> {
                match o {
                    OutSlice::$variant(s) => Some(&mut **s),
                    _ => None,
                }
            }
            fn out_buf(v: Vec<Self>) -> OutBuf {
                OutBuf::$variant(v)
            }
        }
    };
}

tile_elem!(f16, f16, F16, false);
tile_elem!(f32, f32, F32, true);
tile_elem!(f64, f64, F64, true);
tile_elem!(Complex32, c64, C64, false);
tile_elem!(Complex64, c128, C128, false);

impl OutBuf {
    /// A buffer of `len` elements of `dtype` from the pool.
    pub fn take(dtype: oxla_ir::DType, len: usize) -> OutBuf {
        oxla_ir::with_dtype!(dtype, |T| T::out_buf(oxla_ir::pool::take::<T>(len)))
    }

    /// The whole buffer as one part.
    pub fn whole(&mut self) -> OutSlice<'_> {
        match self {
            OutBuf::F16(v) => OutSlice::F16(v),
            OutBuf::F32(v) => OutSlice::F32(v),
            OutBuf::F64(v) => OutSlice::F64(v),
            OutBuf::C64(v) => OutSlice::C64(v),
            OutBuf::C128(v) => OutSlice::C128(v),
        }
    }

    /// Split into consecutive parts of `chunk` elements (the last may be shorter).
    pub fn split(&mut self, chunk: usize) -> Vec<OutSlice<'_>> {
        match self {
            OutBuf::F16(v) => v.chunks_mut(chunk).map(OutSlice::F16).collect(),
            OutBuf::F32(v) => v.chunks_mut(chunk).map(OutSlice::F32).collect(),
            OutBuf::F64(v) => v.chunks_mut(chunk).map(OutSlice::F64).collect(),
            OutBuf::C64(v) => v.chunks_mut(chunk).map(OutSlice::C64).collect(),
            OutBuf::C128(v) => v.chunks_mut(chunk).map(OutSlice::C128).collect(),
        }
    }

    /// The finished array, shaped.
    pub fn into_value(self, shape: &[usize]) -> Result<ArrayValue, oxla_ir::ndarray::ShapeError> {
        use oxla_ir::ndarray::{ArrayD, IxDyn};
        Ok(match self {
            OutBuf::F16(v) => ArrayValue::F16(ArrayD::from_shape_vec(IxDyn(shape), v)?),
            OutBuf::F32(v) => ArrayValue::F32(ArrayD::from_shape_vec(IxDyn(shape), v)?),
            OutBuf::F64(v) => ArrayValue::F64(ArrayD::from_shape_vec(IxDyn(shape), v)?),
            OutBuf::C64(v) => ArrayValue::C64(ArrayD::from_shape_vec(IxDyn(shape), v)?),
            OutBuf::C128(v) => ArrayValue::C128(ArrayD::from_shape_vec(IxDyn(shape), v)?),
        })
    }
}
