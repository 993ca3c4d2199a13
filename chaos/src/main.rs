//! The chaos suite's entry point. Not built yet: see chaos/README.md.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!("chaos: the chaos suite is not built yet (see chaos/README.md)");
    ExitCode::FAILURE
}
