//! The Snowpipe monitor: in `warehouse.kind = "snowflake"` mode Snowpipe loads the files, and
//! this actor (under the `warehouse` supervisor, in the SQLite watcher's place) reads
//! `SYSTEM$PIPE_STATUS` and `COPY_HISTORY` every `snowflake.poll_interval_ms`, turning them into
//! the same `tickstream_ingest_*` metrics, so the same alerts fire. A failed poll is logged and
//! counted; the next poll tries again.

use std::collections::HashMap;
use std::sync::Arc;

use ractor::{Actor, ActorProcessingErr, ActorRef};
use supervisors::{ChildSpec, Restart};

use super::jwt::KeyPairAuth;
use super::pipe::{self, CopyFile};
use super::sql_api::{SqlApi, SqlApiConfig};
use super::SnowflakeError;
use crate::config::Config;
use crate::telemetry::ingest_events as events;
use crate::telemetry::reachability::Reachability;
use crate::warehouse::status::PipeStatus;

/// The SQL API client for `config`'s `[warehouse.snowflake]`; errors name the missing field.
pub fn connect(config: &Config) -> Result<SqlApi, SnowflakeError> {
    let sf = &config.warehouse.snowflake;
    let missing =
        |key: &str, env: &str| SnowflakeError::Config(format!("warehouse.snowflake.{key} is not set (or set {env})"));
    let account = sf
        .account
        .as_deref()
        .ok_or_else(|| missing("account", "TICKSTREAM_SNOWFLAKE_ACCOUNT"))?;
    let user = sf
        .user
        .as_deref()
        .ok_or_else(|| missing("user", "TICKSTREAM_SNOWFLAKE_USER"))?;
    let key = sf
        .private_key_path
        .as_deref()
        .ok_or_else(|| missing("private_key_path", "TICKSTREAM_SNOWFLAKE_PRIVATE_KEY_PATH"))?;
    let auth = KeyPairAuth::from_file(account, user, key)?;
    SqlApi::new(
        SqlApiConfig {
            base_url: sf.api_base_url().unwrap_or_default(),
            database: sf.database.clone(),
            schema: sf.schema.clone(),
            warehouse: sf.warehouse.clone(),
            role: sf.role.clone(),
            statement_timeout_s: 60,
        },
        auth,
    )
}

/// `tickstream status` against Snowflake: the pipe, the copy-history window and latency.
pub async fn status(config: &Config, api: &SqlApi) -> Result<PipeStatus, SnowflakeError> {
    let sf = &config.warehouse.snowflake;
    let table = &config.warehouse.table;
    let pipe_state = pipe::parse_pipe_status(&api.execute(&pipe::pipe_status_sql(sf)).await?)?;
    let files = pipe::parse_copy_history(&api.execute(&pipe::copy_history_sql(sf, table, 15)).await?)?;
    let latency = pipe::parse_latency(&api.execute(&pipe::latency_sql(sf, table)).await?);
    Ok(pipe::to_pipe_status(&pipe_state, &files, latency))
}

/// What one poll found that the previous polls had not.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct NewFiles {
    pub loaded: Vec<(String, u64)>,
    pub failed: Vec<(String, String)>,
}

/// Files seen in the copy-history window, so each is counted once.
#[derive(Debug, Default)]
pub struct SeenFiles {
    seen: HashMap<String, bool>,
    primed: bool,
}

impl SeenFiles {
    /// Records `files`; the first call only primes (what loaded before this process started was
    /// counted by the previous one), later calls return what is new.
    pub fn record(&mut self, files: &[CopyFile]) -> NewFiles {
        let mut new = NewFiles::default();
        let window: HashMap<String, bool> = files.iter().map(|f| (f.file_name.clone(), f.loaded())).collect();
        for f in files {
            if self.seen.contains_key(&f.file_name) || !self.primed {
                continue;
            }
            if f.loaded() {
                new.loaded.push((f.file_name.clone(), f.row_count));
            } else {
                let why = f.first_error.clone().unwrap_or_else(|| f.status.clone());
                new.failed.push((f.file_name.clone(), why));
            }
        }
        // Names leave the window as they age and never come back: forget them.
        self.seen = window;
        self.primed = true;
        new
    }
}

#[derive(Clone)]
pub struct MonitorArgs {
    pub api: Arc<SqlApi>,
    pub config: Arc<Config>,
}

pub enum MonitorMsg {
    Poll,
}

pub struct MonitorState {
    args: MonitorArgs,
    seen: SeenFiles,
}

impl MonitorState {
    async fn poll(&mut self) -> Result<(), SnowflakeError> {
        let (sf, table) = (&self.args.config.warehouse.snowflake, &self.args.config.warehouse.table);
        let api = &self.args.api;
        let state = pipe::parse_pipe_status(&api.execute(&pipe::pipe_status_sql(sf)).await?)?;
        events::pending(state.pending_file_count as usize, None);
        if state.execution_state != "RUNNING" {
            let why = state.error.clone().or(state.fault.clone()).unwrap_or_default();
            tracing::warn!(state = state.execution_state, "snowpipe is not running: {why}");
        }
        let history = api
            .execute(&pipe::copy_history_sql(sf, table, sf.history_minutes))
            .await?;
        let new = self.seen.record(&pipe::parse_copy_history(&history)?);
        for (file, rows) in &new.loaded {
            events::snowpipe_loaded(file, *rows);
        }
        for (file, why) in &new.failed {
            events::file_failed(file, why);
        }
        Ok(())
    }
}

/// The actor; see the module docs.
pub struct SnowpipeMonitor;

impl Actor for SnowpipeMonitor {
    type Msg = MonitorMsg;
    type State = MonitorState;
    type Arguments = MonitorArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<MonitorMsg>,
        args: MonitorArgs,
    ) -> Result<MonitorState, ActorProcessingErr> {
        events::watcher_started();
        myself.send_message(MonitorMsg::Poll)?;
        Ok(MonitorState {
            args,
            seen: SeenFiles::default(),
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<MonitorMsg>,
        MonitorMsg::Poll: MonitorMsg,
        st: &mut MonitorState,
    ) -> Result<(), ActorProcessingErr> {
        if let Err(e) = st.poll().await {
            events::poll_failed(&crate::error::chain(&e));
        }
        let every = st.args.config.warehouse.snowflake.poll_interval();
        myself.send_after(every, || MonitorMsg::Poll);
        Ok(())
    }
}

/// The monitor as a supervised child (replaces the SQLite watcher in Snowflake mode).
pub fn monitor_spec(config: &Config, reach: Arc<Reachability>, restart: Restart) -> Result<ChildSpec, SnowflakeError> {
    let args = MonitorArgs {
        api: Arc::new(connect(config)?.reporting_to(reach)),
        config: Arc::new(config.clone()),
    };
    tracing::info!(
        url = args.api.config().base_url,
        pipe = config.warehouse.snowflake.pipe,
        "snowpipe monitor: watching SYSTEM$PIPE_STATUS and COPY_HISTORY"
    );
    Ok(ChildSpec::new(
        "snowpipe-monitor",
        "snowpipe_monitor",
        restart,
        move |sup| {
            let args = args.clone();
            async move {
                SnowpipeMonitor::spawn_linked(None, SnowpipeMonitor, args, sup)
                    .await
                    .map(|(a, _)| a.get_cell())
            }
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, status: &str, rows: u64) -> CopyFile {
        CopyFile {
            file_name: name.into(),
            status: status.into(),
            row_count: rows,
            error_count: 0,
            first_error: (status != "Loaded").then(|| "Error parsing JSON".into()),
            last_load_ms: None,
        }
    }

    #[test]
    fn each_file_counts_once_and_the_first_poll_only_primes() {
        let mut seen = SeenFiles::default();
        assert_eq!(seen.record(&[file("a", "Loaded", 100)]), NewFiles::default());
        let new = seen.record(&[
            file("a", "Loaded", 100),
            file("b", "Loaded", 50),
            file("c", "Load failed", 0),
        ]);
        assert_eq!(new.loaded, vec![("b".to_string(), 50)]);
        assert_eq!(new.failed, vec![("c".to_string(), "Error parsing JSON".to_string())]);
        // The same window again: nothing new; "a" aged out: still nothing.
        let again = seen.record(&[file("b", "Loaded", 50), file("c", "Load failed", 0)]);
        assert_eq!(again, NewFiles::default());
    }

    #[test]
    fn missing_settings_are_named_with_their_variable() {
        let mut c = Config::default();
        c.warehouse.snowflake.account = Some("myorg-myaccount".into());
        let e = connect(&c).err().expect("no user").to_string();
        assert!(
            e.contains("warehouse.snowflake.user") && e.contains("TICKSTREAM_SNOWFLAKE_USER"),
            "{e}"
        );
    }
}
