//! `spoofify cluster certs`: what a cluster needs for mutual TLS between nodes — a
//! cluster CA, one certificate per node whose DNS name is the node id (a node dials a
//! peer by that name, see the service's `cluster::tls`), and a random cookie.
//!
//! Files in the output directory: `ca.pem`, `ca.key` (keep it to add nodes later:
//! run again with new ids and the CA is reused), `<node>.pem`, `<node>.key` and
//! `cookie` (48 random characters), the keys and the cookie readable by the owner only.

use std::path::{Path, PathBuf};

use rand::distr::{Alphanumeric, SampleString};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

#[derive(Debug, thiserror::Error)]
pub enum CertError {
    #[error("{0}")]
    Rcgen(#[from] rcgen::Error),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("node id {0:?} cannot name a certificate: use letters, digits and '-' (a DNS label)")]
    BadNode(String),
    #[error("no nodes given")]
    NoNodes,
}

/// Clap arguments of `spoofify cluster certs`.
#[derive(clap::Args, Debug, Clone)]
pub struct CertsArgs {
    /// Where to write the CA, the node certificates and the cookie.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// The node ids, comma-separated (each node's `node_id`).
    #[arg(long, value_delimiter = ',', required = true)]
    pub nodes: Vec<String>,
}

/// What [`make`] wrote.
#[derive(Debug, Clone)]
pub struct Made {
    pub ca: PathBuf,
    /// Per node: (id, certificate, key).
    pub nodes: Vec<(String, PathBuf, PathBuf)>,
    pub cookie: PathBuf,
}

const CA_NAME: &str = "Spoofify cluster CA";

fn ca_params() -> Result<CertificateParams, CertError> {
    let mut p = CertificateParams::new(Vec::<String>::new())?;
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    p.distinguished_name.push(DnType::CommonName, CA_NAME);
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    Ok(p)
}

fn write(path: PathBuf, text: &str, private: bool) -> Result<PathBuf, CertError> {
    let io = |source| CertError::Io {
        path: path.clone(),
        source,
    };
    std::fs::write(&path, text).map_err(io)?;
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
    }
    #[cfg(not(unix))]
    let _ = private;
    Ok(path)
}

fn valid_node(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 63
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !id.starts_with('-')
        && !id.ends_with('-')
}

/// Writes the CA (or reuses the one in `out`), a certificate per node, and the
/// cookie (kept if present).
pub fn make(out: &Path, nodes: &[String]) -> Result<Made, CertError> {
    if nodes.is_empty() {
        return Err(CertError::NoNodes);
    }
    if let Some(bad) = nodes.iter().find(|n| !valid_node(n)) {
        return Err(CertError::BadNode(bad.clone()));
    }
    std::fs::create_dir_all(out).map_err(|source| CertError::Io {
        path: out.to_owned(),
        source,
    })?;
    let (ca_pem, ca_key) = (out.join("ca.pem"), out.join("ca.key"));
    let ca_key_pair = match std::fs::read_to_string(&ca_key) {
        Ok(pem) if ca_pem.exists() => KeyPair::from_pem(&pem)?,
        _ => {
            let key = KeyPair::generate()?;
            let cert = ca_params()?.self_signed(&key)?;
            write(ca_pem.clone(), &cert.pem(), false)?;
            write(ca_key.clone(), &key.serialize_pem(), true)?;
            key
        }
    };
    let issuer = Issuer::new(ca_params()?, ca_key_pair);
    let mut made = Vec::new();
    for node in nodes {
        let mut p = CertificateParams::new(vec![node.clone()])?;
        p.distinguished_name.push(DnType::CommonName, node.as_str());
        p.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        p.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        p.use_authority_key_identifier_extension = true;
        let key = KeyPair::generate()?;
        let cert = p.signed_by(&key, &issuer)?;
        let c = write(out.join(format!("{node}.pem")), &cert.pem(), false)?;
        let k = write(out.join(format!("{node}.key")), &key.serialize_pem(), true)?;
        made.push((node.clone(), c, k));
    }
    let cookie = out.join("cookie");
    if !cookie.exists() {
        let value = Alphanumeric.sample_string(&mut rand::rng(), 48);
        write(cookie.clone(), &format!("{value}\n"), true)?;
    }
    Ok(Made {
        ca: ca_pem,
        nodes: made,
        cookie,
    })
}

/// `spoofify cluster certs`: makes them and prints the settings to use.
pub fn run(args: &CertsArgs) -> Result<(), CertError> {
    let made = make(&args.out, &args.nodes)?;
    println!("cluster CA: {}", made.ca.display());
    for (node, cert, key) in &made.nodes {
        println!(
            "{node}: SPOOFIFY_CLUSTER_LINK__TLS_CERT={} SPOOFIFY_CLUSTER_LINK__TLS_KEY={} SPOOFIFY_CLUSTER_LINK__TLS_CA={}",
            cert.display(),
            key.display(),
            made.ca.display()
        );
    }
    println!(
        "every node: cluster_cookie_file = {:?} (or SPOOFIFY_CLUSTER_COOKIE)",
        made.cookie.display().to_string()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn makes_a_ca_node_certificates_and_a_cookie() {
        let dir = tempfile::tempdir().unwrap();
        let made = make(dir.path(), &["n1".into(), "n2".into()]).unwrap();
        assert_eq!(made.nodes.len(), 2);
        let cookie = std::fs::read_to_string(&made.cookie).unwrap();
        assert!(spoofify_service::config::cookie_weakness(cookie.trim()).is_none());
        let ca_before = std::fs::read_to_string(&made.ca).unwrap();
        make(dir.path(), &["n3".into()]).unwrap();
        assert_eq!(std::fs::read_to_string(&made.ca).unwrap(), ca_before);
        assert!(make(dir.path(), &["bad_id".into()]).is_err());
    }
}
