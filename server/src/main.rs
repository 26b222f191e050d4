//! The `tokenlife` binary: parses the command line and runs it; a failure is one line on
//! standard error and a non-zero exit.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = tokenlife_server::cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                // PostgreSQL's NOTICEs ("relation ... already exists, skipping" from an
                // idempotent migration) say nothing an operator needs to read.
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tokio_postgres=warn")),
        )
        .init();
    match tokenlife_server::cli::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("tokenlife: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}
