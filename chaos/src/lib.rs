//! The chaos suite's parts. Today: [`s3_proxy`], an S3 fault injector that sits between
//! tickstream and any S3 server. The process orchestration, the seeded schedule and the report
//! are still to come (see chaos/README.md).

pub mod procs;
pub mod run;
pub mod s3_proxy;
pub mod schedule;
