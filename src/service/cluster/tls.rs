//! Mutual TLS between nodes: the rustls configurations ractor_cluster's encryption
//! mode runs on, built from the `[cluster_link]` PEM files.
//!
//! Every node holds a certificate signed by the cluster CA whose DNS name is its node
//! id (`spoofify cluster certs` makes them). Both sides present one and both verify
//! the other's against the CA, so a peer without a valid certificate never reaches
//! the cookie challenge. A dialing node names the peer it means (its node id), so a
//! certificate for another node does not pass; an accepting node keeps the client's
//! certificate, and the peer's claimed node name is trusted only if that certificate
//! is valid for it ([`certifies`]).

use std::path::Path;
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use tokio_rustls::{TlsAcceptor, TlsConnector};

use crate::config::ClusterLinkSettings;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("reading {what} from {path}: {reason}")]
    Read {
        what: &'static str,
        path: String,
        reason: String,
    },
    #[error("building the TLS configuration: {0}")]
    Config(String),
    #[error("node id {0:?} cannot name a TLS certificate (it must be a valid DNS name)")]
    BadName(String),
}

/// Both sides of this node's TLS.
#[derive(Clone)]
pub struct Tls {
    pub acceptor: TlsAcceptor,
    pub connector: TlsConnector,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tls")
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// The TLS identity of `node`: the DNS name its certificate must carry.
pub fn server_name(node: &str) -> Result<ServerName<'static>, TlsError> {
    ServerName::try_from(node.to_ascii_lowercase()).map_err(|_| TlsError::BadName(node.into()))
}

impl Tls {
    /// Loads this node's certificate, key and the cluster CA; `None` when TLS is off.
    pub fn load(link: &ClusterLinkSettings, node: &str) -> Result<Option<Self>, TlsError> {
        if !link.tls_enabled() {
            return Ok(None);
        }
        server_name(node)?;
        let read = |what: &'static str, path: &str, e: String| TlsError::Read {
            what,
            path: path.into(),
            reason: e,
        };
        let certs = load_certs(Path::new(&link.tls_cert))
            .map_err(|e| read("the node certificate", &link.tls_cert, e))?;
        let key = PrivateKeyDer::from_pem_file(&link.tls_key)
            .map_err(|e| read("the node key", &link.tls_key, e.to_string()))?;
        let ca = load_certs(Path::new(&link.tls_ca))
            .map_err(|e| read("the cluster CA", &link.tls_ca, e))?;
        let mut roots = RootCertStore::empty();
        for c in ca {
            roots
                .add(c)
                .map_err(|e| read("the cluster CA", &link.tls_ca, e.to_string()))?;
        }
        let roots = Arc::new(roots);
        let cfg = |e: rustls::Error| TlsError::Config(e.to_string());
        let verifier = WebPkiClientVerifier::builder_with_provider(roots.clone(), provider())
            .build()
            .map_err(|e| TlsError::Config(e.to_string()))?;
        let server = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(cfg)?
            .with_client_cert_verifier(verifier)
            .with_single_cert(certs.clone(), key.clone_key())
            .map_err(cfg)?;
        let client = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(cfg)?
            .with_root_certificates(roots)
            .with_client_auth_cert(certs, key)
            .map_err(cfg)?;
        Ok(Some(Self {
            acceptor: TlsAcceptor::from(Arc::new(server)),
            connector: TlsConnector::from(Arc::new(client)),
        }))
    }
}

fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| e.to_string())?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    if certs.is_empty() {
        return Err("no certificate in the file".into());
    }
    Ok(certs)
}

/// Whether `cert` (already verified against the cluster CA) is `node`'s certificate.
pub fn certifies(cert: &CertificateDer<'_>, node: &str) -> bool {
    let Ok(name) = server_name(node) else {
        return false;
    };
    let Ok(parsed) = rustls::server::ParsedCertificate::try_from(cert) else {
        return false;
    };
    rustls::client::verify_server_name(&parsed, &name).is_ok()
}
