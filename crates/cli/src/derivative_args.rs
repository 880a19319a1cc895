//! The arguments of `oxla derivative`, declared with clap's derive API.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::Args;

/// `oxla derivative INPUT.npy --axis A --order N --accuracy P --spacing V [--periodic [--period L]] --out OUT.npy`
#[derive(Debug, Args)]
#[command(
    after_help = "Writes OUT.npy: the derivative along one axis, in the input's dtype (integers become float64).\n\
                  Stencils are findiff's: centered inside, one-sided of the same accuracy near the ends,\n\
                  or centered everywhere and wrapping with --periodic. Order 1, accuracy 2 without\n\
                  --periodic is numpy.gradient(..., edge_order=2), bit for bit.\n\
                  Example: oxla derivative f.npy --axis 0 --order 2 --accuracy 4 --spacing 0.01 --out d2f.npy\n\
                  Periodic coordinates: oxla derivative f.npy --axis 1 --order 1 --accuracy 4 --spacing x.npy --periodic --period 6.283185307179586 --out df.npy"
)]
pub struct DerivativeArgs {
    /// The array to differentiate (.npy: integer, float or complex; any byte order or layout).
    #[arg(value_name = "INPUT.npy")]
    pub input: PathBuf,

    /// The axis to differentiate along (negative counts from the end).
    #[arg(long, value_name = "A", allow_negative_numbers = true)]
    pub axis: i64,

    /// The derivative order, 1 to 6.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub order: i64,

    /// The order of accuracy: even, 2 to 12 (2 to 6 with coordinates).
    #[arg(long, value_name = "P", allow_negative_numbers = true)]
    pub accuracy: i64,

    /// A number (the uniform step, finite and non-zero) or a 1-d .npy of
    /// strictly increasing coordinates (or a 0-d step).
    // Any word after `--spacing` is its value, so `-1e-3` works as typed.
    #[arg(long, value_name = "H|X.npy", allow_hyphen_values = true)]
    pub spacing: OsString,

    /// Treat the axis as periodic: the centered stencil on every row, wrapping around.
    #[arg(long)]
    pub periodic: bool,

    /// The period length of a periodic axis given by coordinates (the
    /// distance from x[0] to the point after x[n-1]).
    #[arg(
        long,
        value_name = "L",
        requires = "periodic",
        allow_negative_numbers = true
    )]
    pub period: Option<f64>,

    /// The file to write (its directory is created if missing).
    #[arg(long, value_name = "OUT.npy")]
    pub out: PathBuf,
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use crate::args::{Cli, Command};

    #[test]
    fn negative_values_are_values_not_flags() {
        let cli = Cli::try_parse_from([
            "oxla",
            "derivative",
            "f.npy",
            "--axis",
            "-1",
            "--order",
            "2",
            "--accuracy",
            "4",
            "--spacing",
            "-0.5",
            "--out",
            "d.npy",
        ])
        .unwrap();
        let Some(Command::Derivative(args)) = cli.command else {
            panic!("not a derivative command")
        };
        assert_eq!((args.axis, args.order, args.accuracy), (-1, 2, 4));
        assert_eq!(args.spacing, "-0.5");
        assert!(!args.periodic && args.period.is_none());
    }

    #[test]
    fn a_period_needs_periodic() {
        let words = [
            "oxla",
            "derivative",
            "f.npy",
            "--axis",
            "0",
            "--order",
            "1",
            "--accuracy",
            "2",
            "--spacing",
            "x.npy",
            "--period",
            "6.0",
            "--out",
            "d.npy",
        ];
        assert!(Cli::try_parse_from(words).is_err());
    }
}
