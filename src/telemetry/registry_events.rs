//! The Schema Registry client's named events: each schema fetched (or found unusable), each
//! failure to reach the registry.

use metrics::{counter, describe_counter, Unit};

use crate::error::ErrorClass;
use crate::record::avro::Known;

const FETCHES: &str = "tickstream_schema_registry_fetches_total";

/// The HELP text of every registry metric.
pub fn describe() {
    describe_counter!(
        FETCHES,
        Unit::Count,
        "Schema lookups by id at the Schema Registry, by outcome: found, unusable (not in the registry, not Avro, does not parse: its records are dead letters), failed (no answer: the partitions that need it wait)"
    );
}

/// The counters exist at 0 from the start (a first failure then shows as an increase).
pub fn registry_started(addresses: &str) {
    for outcome in ["found", "unusable", "failed"] {
        counter!(FETCHES, "outcome" => outcome).absolute(0);
    }
    tracing::info!(registry = addresses, "schema registry client ready");
}

pub fn schema_fetched(id: u32, known: &Known) {
    match known {
        Known::Found(s) => {
            counter!(FETCHES, "outcome" => "found").increment(1);
            tracing::info!(
                schema_id = id,
                name = s.full_name().unwrap_or_default(),
                "fetched schema {id}"
            );
        }
        Known::Unusable(why) => {
            counter!(FETCHES, "outcome" => "unusable").increment(1);
            tracing::warn!(
                schema_id = id,
                "schema {id} is unusable; its records are dead letters: {why}"
            );
        }
    }
}

pub fn fetch_failed(id: u32, err: &str, class: ErrorClass) {
    counter!(FETCHES, "outcome" => "failed").increment(1);
    tracing::debug!(schema_id = id, class = class.as_str(), "fetching schema {id}: {err}");
}
