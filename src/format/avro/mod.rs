//! Avro data files (`format.class = "avro"`, Confluent's `AvroFormat`): object container files
//! of the records' writer schema, `avro.codec` null, deflate, snappy or zstandard.

pub mod container;
