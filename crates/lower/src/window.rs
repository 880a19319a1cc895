//! [`AxisWindow`]: which global rows of one axis an op reads and writes.

use std::ops::Range;

/// The rows of one axis of a whole array that an op's input holds and its
/// output covers, in global indices.
///
/// The whole axis is `input == output == 0..len`. A block of a larger
/// array is a window whose input is the block's rows plus their halo and
/// whose output is the block's own rows. Transposing an op swaps the two.
///
/// ```
/// use oxla_lower::AxisWindow;
/// // rows 100..200 of a 1000-row axis, read with one halo row on each side
/// let w = AxisWindow::new(1000, 99..201, 100..200).unwrap();
/// assert_eq!(w.transposed().input(), 100..200);
/// assert!(AxisWindow::new(1000, 99..201, 50..60).is_err()); // output outside the input
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AxisWindow {
    /// Global length of the axis.
    pub len: usize,
    input: (usize, usize),
    output: (usize, usize),
}

impl AxisWindow {
    /// The whole axis of `len` rows.
    pub fn whole(len: usize) -> AxisWindow {
        AxisWindow {
            len,
            input: (0, len),
            output: (0, len),
        }
    }

    /// A window of an axis of `len` rows reading global rows `input` and
    /// writing global rows `output`, both within `0..len` (the output of a
    /// forward op within its input; see [`AxisWindow::new_unchecked_output`]
    /// for transposes).
    pub fn new(
        len: usize,
        input: Range<usize>,
        output: Range<usize>,
    ) -> Result<AxisWindow, String> {
        let w = AxisWindow::new_unchecked_output(len, input.clone(), output.clone())?;
        if output.start < input.start || output.end > input.end {
            return Err(format!(
                "output rows {output:?} are not within the input rows {input:?}"
            ));
        }
        Ok(w)
    }

    /// A window whose output need not lie within its input (the transpose
    /// of a forward window: cotangent rows in, a wider run of rows out).
    pub fn new_unchecked_output(
        len: usize,
        input: Range<usize>,
        output: Range<usize>,
    ) -> Result<AxisWindow, String> {
        for (what, r) in [("input", &input), ("output", &output)] {
            if r.start > r.end || r.end > len {
                return Err(format!("{what} rows {r:?} are not within 0..{len}"));
            }
        }
        Ok(AxisWindow {
            len,
            input: (input.start, input.end),
            output: (output.start, output.end),
        })
    }

    /// Global rows of the input.
    pub fn input(&self) -> Range<usize> {
        self.input.0..self.input.1
    }

    /// Global rows of the output.
    pub fn output(&self) -> Range<usize> {
        self.output.0..self.output.1
    }

    /// True if this is the whole axis in and out.
    pub fn is_whole(&self) -> bool {
        *self == AxisWindow::whole(self.len)
    }

    /// The window of the transposed op: input and output swapped.
    pub fn transposed(self) -> AxisWindow {
        AxisWindow {
            input: self.output,
            output: self.input,
            ..self
        }
    }
}
