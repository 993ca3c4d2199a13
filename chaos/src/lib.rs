//! The chaos suite's parts: [`run`] orchestrates a run; [`processes`] is its first phase (kills
//! and stalls real tansu, s3s-fs and tickstream processes on a seeded [`schedule`], through the
//! [`s3_proxy`] fault injector); [`failover`] is the three-broker mock-cluster phase;
//! [`group`] runs several instances in one consumer group ([`group_watch`] measures it);
//! [`monitor`] samples tickstream's memory and counters; [`report`] sums it all up;
//! [`procs`] starts, signals and kills the processes; [`tansu_groups`] expires a wedged group's
//! members in tansu's store, as a Kafka coordinator would.

pub mod failover;
pub mod group;
pub mod group_watch;
pub mod monitor;
pub mod ports;
pub mod processes;
pub mod procs;
pub mod report;
pub mod run;
pub mod s3_proxy;
pub mod schedule;
pub mod tansu_groups;
