//! Where the server's log lines go: standard error, `info` and up unless `RUST_LOG` says
//! otherwise. Shared by the binary and `examples/bare.rs`, so that both log alike.

/// Sends log lines to standard error (with colours on a terminal), filtered by
/// `RUST_LOG`.
pub fn to_stderr() {
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
}
