//! moto's S3 server (PyPI `moto[server]`, in the tests' venv) as a separate process on
//! 127.0.0.1: unlike s3s-fs it keeps what S3 keeps beside the bytes (SSE-KMS with its own KMS,
//! ACLs, tags, storage class, content type). Killed when dropped.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tickstream::s3::client::S3Endpoint;

/// A running `moto_server`.
pub struct Moto {
    child: Child,
    pub url: String,
}

impl Moto {
    pub fn start() -> Self {
        let bin = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-venv/bin/moto_server");
        assert!(
            bin.exists(),
            "{} is missing: run scripts/install-test-deps (scripts/test does)",
            bin.display()
        );
        let port = crate::prometheus::free_port();
        let child = Command::new(&bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server starts");
        let moto = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "moto_server did not listen on {port} within 60 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        moto
    }

    /// The endpoint tickstream's S3 client uses (moto takes any credentials).
    pub fn endpoint(&self) -> S3Endpoint {
        S3Endpoint {
            url: Some(self.url.clone()),
            region: "us-east-1".into(),
            static_credentials: Some(("testing".into(), "testing".into())),
        }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
