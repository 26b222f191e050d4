//! The `tokenlife` binary: parses the command line and runs it; a failure is one line on
//! standard error and a non-zero exit.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = tokenlife_server::cli::Cli::parse();
    tokenlife_server::logging::to_stderr();
    match tokenlife_server::cli::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("tokenlife: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}
