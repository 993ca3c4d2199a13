//! TLS clients' settings, one for every HTTPS or WSS client of the process: rustls with
//! aws-lc-rs (the provider the AWS SDK already uses) over the host's CA certificates.

use std::sync::Arc;

/// The host's CA certificates (those that parse; an empty store if none is installed).
pub fn host_roots() -> rustls::RootCertStore {
    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    roots
}

/// A client trusting `roots`, with rustls's safe default protocol versions.
pub fn client_config(roots: rustls::RootCertStore) -> Result<rustls::ClientConfig, rustls::Error> {
    Ok(
        rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}
