//! Logging, set up once per process: JSON lines for log collectors or a pretty format for
//! people, filtered by `RUST_LOG` syntax.

use std::io::IsTerminal;

use tracing_subscriber::{EnvFilter, fmt, prelude::*};

use crate::config::LogFormat;

/// Installs the global subscriber. Calling it twice keeps the first one (tests start many
/// servers in one process).
pub fn init(format: LogFormat, filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let json = match format {
        LogFormat::Json => true,
        LogFormat::Pretty => false,
        LogFormat::Auto => !std::io::stdout().is_terminal(),
    };
    let registry = tracing_subscriber::registry().with(filter);
    let result = if json {
        registry
            .with(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(false),
            )
            .try_init()
    } else {
        registry.with(fmt::layer()).try_init()
    };
    // An error means a subscriber is already installed, which is fine.
    drop(result);
}
