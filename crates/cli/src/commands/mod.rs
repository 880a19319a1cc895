//! One module per subcommand.

pub mod derivative;
pub mod gradient;
