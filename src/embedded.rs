//! The zero-set-up mode: Kafka and S3 in this process, on 127.0.0.1.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::auth::setup::KafkaAuth;
use crate::config::{Config, KafkaMode, S3Mode};
use crate::kafka::EmbeddedKafka;
use crate::pipeline::Infra;
use crate::s3::client::S3Endpoint;
use crate::s3::embedded::EmbeddedS3;

/// Embedded servers this process runs; stop them after the pipeline.
#[derive(Default)]
pub struct EmbeddedServers {
    pub kafka: Option<Arc<EmbeddedKafka>>,
    pub s3: Option<EmbeddedS3>,
}

impl EmbeddedServers {
    pub async fn stop(self) {
        if let Some(s3) = self.s3 {
            s3.stop().await;
        }
        if let Some(kafka) = self.kafka {
            match Arc::try_unwrap(kafka) {
                Ok(k) => tokio::task::spawn_blocking(move || k.stop()).await.unwrap_or(()),
                Err(_) => tracing::warn!("embedded Kafka still in use at exit"),
            }
        }
    }
}

/// Errors preparing the embedded mode.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    #[error("moving the previous embedded data {from} aside to {to}: {source}")]
    MoveAside {
        from: PathBuf,
        to: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Kafka(#[from] crate::kafka::mock::MockError),
    #[error(transparent)]
    S3(#[from] crate::s3::embedded::EmbeddedS3Error),
    #[error("MSK IAM: {0}")]
    Auth(#[from] crate::auth::AuthError),
    #[error("s3.mode names no endpoint")]
    NoEndpoint,
}

/// Starts what `config` asks to embed and says where everything is.
pub async fn start(config: &Config) -> Result<(Infra, EmbeddedServers), EmbeddedError> {
    let mut servers = EmbeddedServers::default();
    let bootstrap_servers = match config.kafka.mode {
        KafkaMode::Embedded => {
            let kafka = Arc::new(EmbeddedKafka::start(config.kafka.embedded_brokers)?);
            tracing::info!(
                bootstrap = kafka.bootstrap_servers(),
                "embedded Kafka (librdkafka mock cluster) is up"
            );
            let b = kafka.bootstrap_servers().to_owned();
            servers.kafka = Some(kafka);
            b
        }
        _ => config.kafka.bootstrap_servers.clone(),
    };
    let s3 = match config.s3.mode {
        S3Mode::Embedded => {
            let root = config.runtime.data_dir.join("s3");
            // The embedded broker keeps nothing across runs, so its offsets restart at 0: files of
            // an earlier run would collide with this run's keys.
            if let Some(to) = move_aside(&root)? {
                tracing::info!(
                    "embedded mode starts from an empty {}; the previous run's files are in {}",
                    root.display(),
                    to.display()
                );
            }
            // Its keys restart too, and the warehouse would skip them as already loaded.
            let warehouse = config.warehouse.sqlite_path(&config.runtime.data_dir);
            if let Some(to) = move_file_aside(&warehouse)? {
                tracing::info!(
                    "embedded mode starts a new warehouse {}; the previous one is {}",
                    warehouse.display(),
                    to.display()
                );
            }
            let server = EmbeddedS3::start(&root, config.s3.embedded_port).await?;
            tracing::info!(endpoint = server.url(), dir = %root.display(), "embedded S3 (s3s-fs) is up");
            let ep = server.endpoint();
            servers.s3 = Some(server);
            ep
        }
        S3Mode::Endpoint | S3Mode::Aws => S3Endpoint::from_config(&config.s3).ok_or(EmbeddedError::NoEndpoint)?,
    };
    let infra = Infra {
        bootstrap_servers,
        s3,
        embedded_kafka: servers.kafka.clone(),
        kafka_auth: match config.kafka.mode {
            KafkaMode::MskIam => Some(KafkaAuth::msk_iam(&config.kafka).await?),
            _ => None,
        },
        reachability: Default::default(),
    };
    Ok((infra, servers))
}

/// Renames an SQLite file (and its `-wal`/`-shm` companions) to `<name>.previous-<UTC time>`.
pub fn move_file_aside(file: &Path) -> Result<Option<PathBuf>, EmbeddedError> {
    if !file.exists() {
        return Ok(None);
    }
    let to = aside_name(file);
    for suffix in ["", "-wal", "-shm"] {
        let (from, dest) = (with_suffix(file, suffix), with_suffix(&to, suffix));
        if from.exists() {
            std::fs::rename(&from, &dest).map_err(|source| EmbeddedError::MoveAside { from, to: dest, source })?;
        }
    }
    Ok(Some(to))
}

fn with_suffix(p: &Path, suffix: &str) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(suffix);
    s.into()
}

/// `<path>.previous-<UTC time>`, beside `path`.
fn aside_name(path: &Path) -> PathBuf {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
    let name = format!(
        "{}.previous-{stamp}",
        path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()
    );
    path.with_file_name(name)
}

/// Renames a non-empty `dir` to `dir.previous-<UTC time>`; returns the new name.
pub fn move_aside(dir: &Path) -> Result<Option<PathBuf>, EmbeddedError> {
    let non_empty = std::fs::read_dir(dir).map(|mut d| d.next().is_some()).unwrap_or(false);
    if !non_empty {
        return Ok(None);
    }
    let to = aside_name(dir);
    std::fs::rename(dir, &to).map_err(|source| EmbeddedError::MoveAside {
        from: dir.into(),
        to: to.clone(),
        source,
    })?;
    Ok(Some(to))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_previous_run_is_moved_aside_not_deleted() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("s3");
        assert_eq!(move_aside(&dir).unwrap(), None);
        std::fs::create_dir_all(dir.join("bucket")).unwrap();
        std::fs::write(dir.join("bucket/file.json"), b"{}").unwrap();
        let to = move_aside(&dir).unwrap().unwrap();
        assert!(!dir.exists());
        assert_eq!(std::fs::read(to.join("bucket/file.json")).unwrap(), b"{}");
    }
}
