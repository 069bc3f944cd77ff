//! Where photon's own warnings go: to the `tracing` subscriber when there is
//! one, else to stderr.
//!
//! The warnings a user must see (a label reached its cap, a facade metric
//! was refused, pushes fail) are `tracing` events, so an application with a
//! subscriber filters, formats and ships them like its own. But the
//! quickstart installs only the exporter, and an event with no subscriber
//! goes nowhere: the "warned about once" the README promises would be
//! warned to no one. So when no subscriber is set, globally or for the
//! thread, the same event is written to stderr by a minimal subscriber of
//! our own, set for that one event. A subscriber that is set but filters
//! the event out is the application's choice, and is respected.
//!
//! A leaf: it imports only `tracing`. Its callers already warn once (a flag
//! or a set per cause), so the cost here, a dispatcher built per warning,
//! is paid a bounded number of times, never on a record's path.

use std::fmt::{self, Write as _};
use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::NoSubscriber;
use tracing::{Event, Level, Metadata, Subscriber};

/// Emits the event `warn` makes (a `tracing::warn!`) to the current
/// subscriber, or to stderr when there is none.
pub(crate) fn warn(warn: impl FnOnce()) {
    if unheard() {
        tracing::subscriber::with_default(Stderr, warn);
    } else {
        warn();
    }
}

/// Whether an event now would reach no subscriber: none is set globally or
/// for this thread (the default dispatcher is then `NoSubscriber`).
fn unheard() -> bool {
    tracing::dispatcher::get_default(|current| current.is::<NoSubscriber>())
}

/// Writes each warning (or error) event as one line on stderr, in the shape
/// `tracing-subscriber`'s default format uses: level, target, message, then
/// the fields. Spans are not tracked: the events it sees are our own.
struct Stderr;

impl Subscriber for Stderr {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.is_event() && *metadata.level() <= Level::WARN
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(LevelFilter::WARN)
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut line = Line::default();
        event.record(&mut line);
        let metadata = event.metadata();
        eprintln!(
            "{} {}: {}{}",
            metadata.level(),
            metadata.target(),
            line.message,
            line.fields
        );
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

/// An event's message and its other fields as ` name=value`.
#[derive(Default)]
struct Line {
    message: String,
    fields: String,
}

impl Visit for Line {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let _ = write!(self.fields, " {}={value:?}", field.name());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.fields, " {}={value:?}", field.name());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_with_a_subscriber_is_heard_and_one_without_is_not() {
        // No global subscriber in this test binary's threads: nobody hears.
        assert!(std::thread::spawn(unheard).join().unwrap());
        let heard = tracing::subscriber::with_default(Stderr, unheard);
        assert!(!heard);
    }
}
