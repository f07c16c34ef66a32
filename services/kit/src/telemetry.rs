//! Logging. Installed once per process; later calls (tests, the all-in-one binary) are no-ops.
//!
//! Text lines are coloured only when stdout is a terminal (never in files, journald or Nomad's
//! logs) and `NO_COLOR` is unset. `GOCHAT_LOG_FORMAT=json` writes one JSON object per line with
//! the service, for log shippers. Fields of the spans around an event (`db`, for everything that
//! concerns one database) are part of the line in both formats.

use crate::config::LogFormat;
use serde_json::{Map, Value};
use std::fmt;
use std::io::IsTerminal;
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

/// Installs the process's log subscriber. `service` names the process in JSON lines (`gochat`
/// for the all-in-one server, else the service).
pub fn init(filter: &str, format: LogFormat, service: &'static str) {
    let filter = EnvFilter::try_from_env("RUST_LOG").unwrap_or_else(|_| log_filter(filter));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = match format {
        LogFormat::Text => {
            let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            builder.with_target(false).with_ansi(colour).try_init()
        }
        LogFormat::Json => builder
            .fmt_fields(JsonFields::new())
            .event_format(JsonLines { service })
            .try_init(),
    };
}

/// The filter for `GOCHAT_LOG`. lapin logs an ERROR for every channel the broker closes, the
/// passive declarations that ask whether a queue exists included (each start of a service
/// asks about its fan-out queues): operators saw errors on every start. GoChat reports every
/// close it did not ask for itself, with the broker's reason (a consumer or the publisher
/// losing its channel, a lost connection), so lapin's channel module is quiet unless the filter
/// names lapin.
fn log_filter(spec: &str) -> EnvFilter {
    if spec.contains("lapin") {
        EnvFilter::new(spec)
    } else {
        EnvFilter::new(format!("{spec},lapin::channel=off"))
    }
}

/// One JSON object per event: `timestamp`, `level`, `service`, `target`, `message`, then the
/// event's fields and those of its spans (innermost wins).
struct JsonLines {
    service: &'static str,
}

impl<S, N> FormatEvent<S, N> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(&self, ctx: &FmtContext<'_, S, N>, mut writer: Writer<'_>, event: &Event<'_>) -> fmt::Result {
        let mut line = Map::new();
        line.insert(
            "timestamp".into(),
            chrono::Utc::now()
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
                .into(),
        );
        line.insert("level".into(), event.metadata().level().as_str().into());
        line.insert("service".into(), self.service.into());
        line.insert("target".into(), event.metadata().target().into());
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                // Span fields are stored by JsonFields as a JSON object.
                if let Some(fields) = span.extensions().get::<FormattedFields<N>>()
                    && let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(fields)
                {
                    line.extend(fields);
                }
            }
        }
        event.record(&mut Fields(&mut line));
        // Records of the `log` crate (rusqlite_migration's) arrive with their origin as fields.
        if let Some(target) = line.remove("log.target") {
            line.insert("target".into(), target);
        }
        line.retain(|key, _| !key.starts_with("log."));
        let text = serde_json::to_string(&line).map_err(|_| fmt::Error)?;
        writeln!(writer, "{text}")
    }
}

/// Collects an event's fields as JSON values.
struct Fields<'a>(&'a mut Map<String, Value>);

impl Visit for Fields<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.0.insert(field.name().into(), value.to_string().into());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().into(), format!("{value:?}").into());
    }
}

/// A log writer a test reads back (`tracing_subscriber::fmt().with_writer(captured.clone())`).
#[cfg(test)]
#[derive(Clone, Default)]
pub(crate) struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

#[cfg(test)]
impl Captured {
    /// What was written so far.
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("log lock poisoned")).into_owned()
    }
}

#[cfg(test)]
impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log lock poisoned").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Self;
    fn make_writer(&'a self) -> Self {
        self.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the filter for `spec` lets through of an error from lapin's channel module, from
    /// its IO loop and from GoChat.
    fn logged(spec: &str) -> String {
        let out = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(log_filter(spec))
            .with_writer(out.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::error!(target: "lapin::channel", "from lapin::channel");
            tracing::error!(target: "lapin::io_loop", "from lapin::io_loop");
            tracing::error!(target: "gochat_kit::bus", "from gochat_kit::bus");
        });
        out.text()
    }

    #[test]
    fn lapins_channel_closes_are_quiet_unless_the_filter_names_lapin() {
        let text = logged("info");
        assert!(!text.contains("from lapin::channel"), "{text}");
        assert!(
            text.contains("from lapin::io_loop") && text.contains("from gochat_kit::bus"),
            "{text}"
        );
        assert!(logged("warn,lapin=debug").contains("from lapin::channel"));
        assert!(logged("off").is_empty());
    }

    #[test]
    fn json_lines_carry_the_service_the_database_span_and_the_fields() {
        let out = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .fmt_fields(JsonFields::new())
            .event_format(JsonLines { service: "users" })
            .with_writer(out.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let _db = tracing::info_span!("database", db = "users").entered();
            tracing::info!(version = 2, "Database migrated");
            tracing::warn!(error = %"disk full", "write failed");
        });
        let text = out.text();
        let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert_eq!(lines[0]["service"], "users");
        assert_eq!(lines[0]["db"], "users");
        assert_eq!(lines[0]["message"], "Database migrated");
        assert_eq!(lines[0]["version"], 2);
        assert_eq!(lines[0]["level"], "INFO");
        assert_eq!(lines[1]["error"], "disk full");
        assert!(!text.contains('\u{1b}'), "no escape codes in JSON");
    }
}
