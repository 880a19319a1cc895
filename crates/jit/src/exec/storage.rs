//! Typed storage of a running kernel, one of each per element type through
//! [`PerElement`]: registers and reduction state ([`Banks`]), the input
//! slices of its views ([`Inputs`]), and a work item's part of its
//! outputs ([`OutSlices`]).

use std::marker::PhantomData;

use oxla_ir::reduce::LANES;
use oxla_ir::{ArrayElement, DType, Element, ElementFamily, PerElement, with_dtype};

use crate::isa::RegisterFile;

/// The registers of one element type.
#[derive(Default)]
pub(crate) struct Registers<T> {
    /// Tile registers.
    pub vectors: Vec<Vec<T>>,
    /// Scalar registers (constants first).
    pub scalars: Vec<T>,
    /// Where a row tile of a streamed output is computed before its
    /// non-temporal copy out (`exec::stream`); empty unless streaming.
    pub scratch: Vec<T>,
}

/// The reductions' running state in one element type.
#[derive(Default)]
pub(crate) struct ReductionState<T> {
    /// Per reduction, per row of the current run: the lanes of the chunk being summed.
    pub lanes: Vec<Vec<[T; LANES]>>,
    /// Per reduction, per row of the current run: that row's finished chunk sums.
    pub row_partials: Vec<Vec<Vec<T>>>,
    /// Per reduction: finished chunk sums, in row-major order.
    pub partials: Vec<Vec<T>>,
    /// Per reduction with the innermost axis kept: the running sums.
    pub sums: Vec<Vec<T>>,
}

/// Registers and reduction state of one element type.
#[derive(Default)]
pub(crate) struct Bank<T> {
    pub regs: Registers<T>,
    pub red: ReductionState<T>,
}

impl<T: ArrayElement> Bank<T> {
    fn new(vectors: u16, scalars: u16, reductions: usize, tile: usize, stream: bool) -> Bank<T> {
        Bank {
            regs: Registers {
                vectors: (0..vectors).map(|_| vec![T::ZERO; tile]).collect(),
                scalars: vec![T::ZERO; scalars as usize],
                scratch: if stream {
                    vec![T::ZERO; tile]
                } else {
                    Vec::new()
                },
            },
            red: ReductionState {
                lanes: vec![Vec::new(); reductions],
                row_partials: vec![Vec::new(); reductions],
                partials: vec![Vec::new(); reductions],
                sums: vec![Vec::new(); reductions],
            },
        }
    }

    /// Free everything but the finished reduction results.
    fn keep_results_only(&mut self) {
        self.regs.vectors = Vec::new();
        self.regs.scalars = Vec::new();
        self.regs.scratch = Vec::new();
        self.red.lanes = Vec::new();
        self.red.row_partials = Vec::new();
    }
}

/// The [`ElementFamily`] of [`Bank`].
pub(crate) struct BankOf;

impl ElementFamily for BankOf {
    type Of<T: ArrayElement> = Bank<T>;
}

/// One [`Bank`] per element type.
pub(crate) type Banks = PerElement<BankOf>;

/// The banks of a work item: the kernel's registers, constants loaded,
/// tiles of `tile` elements (and a scratch tile per type if `stream`).
pub(crate) fn new_banks(
    regs: &RegisterFile,
    reductions: usize,
    tile: usize,
    stream: bool,
) -> Banks {
    let mut banks = Banks::default();
    for d in DType::ALL {
        with_dtype!(d, |T| *T::of_mut(&mut banks) = Bank::new(
            regs.vectors[d],
            regs.scalars[d],
            reductions,
            tile,
            stream
        ));
    }
    for c in &regs.consts {
        with_dtype!(c.dtype, |T| T::of_mut(&mut banks).regs.scalars
            [c.reg as usize] = T::from_c128(c.value));
    }
    banks
}

/// A finished work item's banks with only what its reductions produced
/// (`partials`, `sums`), so that items waiting to be folded do not each
/// hold a full set of tile registers.
pub(crate) fn keep_results_only(mut banks: Banks) -> Banks {
    for d in DType::ALL {
        with_dtype!(d, |T| T::of_mut(&mut banks).keep_results_only());
    }
    banks
}

/// The [`ElementFamily`] of [`Inputs`]: per view, its buffer as a slice
/// (empty for views of other element types).
pub(crate) struct InputsOf<'a>(PhantomData<&'a ()>);

impl<'a> ElementFamily for InputsOf<'a> {
    type Of<T: ArrayElement> = Vec<&'a [T]>;
}

/// The buffer each view of a kernel reads, by element type.
pub(crate) type Inputs<'a> = PerElement<InputsOf<'a>>;

/// The [`ElementFamily`] of [`OutSlices`]: per store, a work item's part of it.
pub(crate) struct OutSlicesOf<'a>(PhantomData<&'a ()>);

impl<'a> ElementFamily for OutSlicesOf<'a> {
    type Of<T: ArrayElement> = Vec<&'a mut [T]>;
}

/// A work item's part of every output, by element type.
pub(crate) type OutSlices<'a> = PerElement<OutSlicesOf<'a>>;
