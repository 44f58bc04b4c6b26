//! Structured logs. Spans carry low-cardinality fields only; a person's data never
//! reaches a log (the domain's `Debug` output redacts it).

use tracing_subscriber::{fmt, EnvFilter};

use crate::config::LogFormat;

/// Installs the global subscriber, writing to standard error, in colour only when that
/// is a terminal (a log file or the journal gets plain text). Safe to call twice (the
/// second call changes nothing).
pub fn init(format: LogFormat, filter: &str) {
    use std::io::IsTerminal;
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(std::io::stderr().is_terminal());
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}
