//! One module per subcommand.

pub mod gradient;
