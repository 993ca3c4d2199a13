//! The real processes a chaos run starts: spawn with logs in the run directory, SIGKILL,
//! SIGSTOP/SIGCONT, SIGTERM, restart with the same command line.

use std::fs::OpenOptions;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Errors managing a process.
#[derive(Debug, thiserror::Error)]
pub enum ProcError {
    #[error("{name}: starting {program}: {source}")]
    Spawn {
        name: String,
        program: String,
        source: std::io::Error,
    },
    #[error("{name}: {what}: {source}")]
    Io {
        name: String,
        what: &'static str,
        source: std::io::Error,
    },
    #[error("{name}: not listening on {addr} after {waited:?} (see {log})")]
    NotListening {
        name: String,
        addr: SocketAddr,
        waited: Duration,
        log: String,
    },
}

/// One managed process.
pub struct Proc {
    pub name: String,
    program: PathBuf,
    args: Vec<String>,
    envs: Vec<(String, String)>,
    cwd: PathBuf,
    log: PathBuf,
    child: Option<Child>,
    /// Incarnations started so far (the first is 1).
    pub starts: u32,
}

impl Proc {
    /// Describes a process; nothing runs until [`Proc::start`].
    pub fn new(name: &str, program: impl Into<PathBuf>, args: &[String], cwd: &Path) -> Self {
        Self {
            name: name.to_owned(),
            program: program.into(),
            args: args.to_vec(),
            envs: Vec::new(),
            cwd: cwd.to_owned(),
            log: cwd.join(format!("{name}.log")),
            child: None,
            starts: 0,
        }
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.envs.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Starts it, appending stdout and stderr to `<cwd>/<name>.log`.
    pub fn start(&mut self) -> Result<(), ProcError> {
        let io = |what, source| ProcError::Io {
            name: self.name.clone(),
            what,
            source,
        };
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .map_err(|e| io("opening the log", e))?;
        let err = log.try_clone().map_err(|e| io("opening the log", e))?;
        let child = Command::new(&self.program)
            .args(&self.args)
            .envs(self.envs.iter().map(|(k, v)| (k, v)))
            .current_dir(&self.cwd)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err)
            .spawn()
            .map_err(|source| ProcError::Spawn {
                name: self.name.clone(),
                program: self.program.display().to_string(),
                source,
            })?;
        self.child = Some(child);
        self.starts += 1;
        Ok(())
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// SIGKILL, and reap it.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Sends a signal by name (`STOP`, `CONT`, `TERM`) with the system's `kill`.
    pub fn signal(&self, sig: &str) -> Result<(), ProcError> {
        let Some(pid) = self.pid() else { return Ok(()) };
        Command::new("kill")
            .args(["-s", sig, &pid.to_string()])
            .status()
            .map(|_| ())
            .map_err(|source| ProcError::Io {
                name: self.name.clone(),
                what: "sending a signal",
                source,
            })
    }

    /// SIGTERM, then waits up to `grace` for the exit (SIGKILL after that).
    pub fn terminate(&mut self, grace: Duration) -> Option<ExitStatus> {
        let _ = self.signal("TERM");
        let deadline = Instant::now() + grace;
        let mut child = self.child.take()?;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Some(status);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Has it exited on its own? Returns the status if so.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.as_mut().and_then(|c| c.try_wait().ok().flatten())
    }

    /// Peak resident memory of the running incarnation (`VmHWM`), in KiB.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()?)).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }

    /// Waits until something accepts TCP connections at `addr`.
    pub fn wait_listening(&self, addr: SocketAddr, limit: Duration) -> Result<(), ProcError> {
        let started = Instant::now();
        while std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            if started.elapsed() > limit {
                return Err(ProcError::NotListening {
                    name: self.name.clone(),
                    addr,
                    waited: limit,
                    log: self.log.display().to_string(),
                });
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

pub use crate::ports::free_port;

/// An s3s-fs server on 127.0.0.1:`port` serving `<cwd>/s3` with one key pair (not started).
pub fn s3s_fs(cwd: &Path, port: u16, access_key: &str, secret_key: &str) -> Proc {
    let args: Vec<String> = [
        "--host",
        "127.0.0.1",
        "--port",
        &port.to_string(),
        "--access-key",
        access_key,
        "--secret-key",
        secret_key,
        "s3",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    Proc::new("s3s-fs", "s3s-fs", &args, cwd)
}

/// A tansu broker on 127.0.0.1:`port` with `storage` (`memory://…` or `sqlite://relative.db`),
/// not started.
pub fn tansu(cwd: &Path, port: u16, storage: &str) -> Proc {
    let listener = format!("tcp://127.0.0.1:{port}");
    let args: Vec<String> = [
        "broker",
        "--listener-url",
        &listener,
        "--advertised-listener-url",
        &listener,
        "--storage-engine",
        storage,
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    Proc::new("tansu", "tansu", &args, cwd)
}

/// Creates `topic` on the tansu broker at `listener` with `tansu topic create`, retrying: a
/// broker that has just started to listen can still close the first connection ("early eof",
/// seen once in CI). A retry that finds the topic already there counts as created.
pub fn tansu_create_topic(cwd: &Path, listener: &str, topic: &str, partitions: u32) -> Result<(), String> {
    const ATTEMPTS: u32 = 5;
    let mut last = String::new();
    for attempt in 1..=ATTEMPTS {
        let out = Command::new("tansu")
            .args(["topic", "create", topic, "--partitions"])
            .arg(partitions.to_string())
            .args(["--broker", listener])
            .current_dir(cwd)
            .output()
            .map_err(|e| format!("running tansu topic create: {e}"))?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        if out.status.success() || (attempt > 1 && stderr.contains("already exists")) {
            return Ok(());
        }
        last = format!("{}: {}", out.status, stderr.trim());
        eprintln!("chaos: tansu topic create {topic} (attempt {attempt}/{ATTEMPTS}) failed: {last}");
        std::thread::sleep(Duration::from_secs(1));
    }
    Err(format!(
        "tansu topic create {topic} on {listener} failed {ATTEMPTS} times; last: {last}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sleeper(dir: &Path) -> Proc {
        Proc::new("sleeper", "sleep", &["30".to_owned()], dir)
    }

    #[test]
    fn a_process_can_be_stopped_continued_killed_and_restarted() {
        let dir = tempfile::tempdir().unwrap();
        let mut p = sleeper(dir.path());
        p.start().unwrap();
        let first = p.pid().unwrap();
        p.signal("STOP").unwrap();
        // A signal is delivered asynchronously: poll for the stopped state.
        let stat = || std::fs::read_to_string(format!("/proc/{first}/stat")).unwrap();
        let deadline = Instant::now() + Duration::from_secs(2);
        while stat().split_whitespace().nth(2) != Some("T") {
            assert!(Instant::now() < deadline, "stopped: {}", stat());
            std::thread::sleep(Duration::from_millis(10));
        }
        p.signal("CONT").unwrap();
        assert!(p.exited().is_none());
        assert!(p.peak_rss_kib().is_some_and(|k| k > 0));
        p.kill();
        assert!(p.pid().is_none());
        p.start().unwrap();
        assert_ne!(p.pid(), Some(first));
        assert_eq!(p.starts, 2);
        assert!(p.terminate(Duration::from_secs(5)).is_some(), "sleep exits on SIGTERM");
    }

    #[test]
    fn a_missing_program_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let err = Proc::new("ghost", "/no/such/program", &[], dir.path())
            .start()
            .unwrap_err();
        assert!(err.to_string().starts_with("ghost: starting /no/such/program"), "{err}");
    }

    #[test]
    fn waiting_for_a_port_that_never_opens_times_out_with_the_log_path() {
        let dir = tempfile::tempdir().unwrap();
        let p = sleeper(dir.path());
        // Bound but not listening: no other process can take the port and open it meanwhile
        // (a port that was merely free once was, when tests ran side by side).
        let held = tokio::net::TcpSocket::new_v4().unwrap();
        held.bind(SocketAddr::from(([127, 0, 0, 1], 0))).unwrap();
        let addr = held.local_addr().unwrap();
        let err = p.wait_listening(addr, Duration::from_millis(300)).unwrap_err();
        assert!(err.to_string().contains("sleeper.log"), "{err}");
    }
}
