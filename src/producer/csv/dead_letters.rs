//! `[producer.csv] dead_letter_topic`: a bad row, as it was in its file, to a Kafka topic, with
//! headers naming its file and line and why it is not a tick.

use super::reader::BadRow;
use crate::kafka::producer::{SendError, TickProducer};
use crate::telemetry::events;

/// Sends `bad` to `topic` (waiting while the producer's queue is full).
pub async fn send(producer: &TickProducer, topic: &str, bad: &BadRow) -> Result<(), SendError> {
    let line = bad.line.to_string();
    let headers: [(&str, &[u8]); 3] = [
        ("tickstream.csv.file", bad.file.as_bytes()),
        ("tickstream.csv.line", line.as_bytes()),
        ("tickstream.csv.error", bad.why.as_bytes()),
    ];
    producer.send_not_a_tick(topic, &bad.raw, &headers).await?;
    events::csv_row_dead_lettered();
    Ok(())
}
