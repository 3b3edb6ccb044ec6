//! Secrets of Subsonic apps: API keys (random, stored only as SHA-256) and the app
//! password (random, shown once, kept encrypted with ChaCha20-Poly1305 under a key
//! from the settings, because token auth `t = md5(password + salt)` needs the password
//! itself on the server).

use std::io::Write;
use std::path::PathBuf;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use sha2::{Digest, Sha256};

use crate::config::Settings;
use crate::store::ListenerId;

/// The app field that holds the sealed app password.
pub const APP_PASSWORD_FIELD: &str = "app_password";
/// The key file made in the data directory when the settings name none.
const DEFAULT_KEY_FILE: &str = "app-password.key";
const MIN_KEY_CHARS: usize = 16;
const NONCE_BYTES: usize = 12;

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("app password key {path}: {why}")]
    Key { path: String, why: String },
    #[error("a stored app password does not open with this node's key (was the key changed?)")]
    Open,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of a secret, hex: what the store keeps of an API key.
pub fn hash_key(key: &str) -> String {
    hex(&Sha256::digest(key.as_bytes()))
}

/// A new API key (192 random bits, hex) and its id for the listener's list.
pub fn new_api_key() -> (String, String) {
    let key: [u8; 24] = rand::random();
    let id: [u8; 6] = rand::random();
    (hex(&key), hex(&id))
}

/// A new app password: 24 letters and digits (about 143 bits), easy to type into an app.
pub fn new_app_password() -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..24)
        .map(|_| char::from(CHARS[rng.random_range(0..CHARS.len())]))
        .collect()
}

fn key_path(settings: &Settings) -> PathBuf {
    if settings.subsonic.app_password_key_file.is_empty() {
        settings.data_dir.join(DEFAULT_KEY_FILE)
    } else {
        PathBuf::from(&settings.subsonic.app_password_key_file)
    }
}

/// The cipher under the configured key (made once in the data directory if unset).
fn cipher(settings: &Settings) -> Result<ChaCha20Poly1305, SecretError> {
    let path = key_path(settings);
    let err = |why: String| SecretError::Key {
        path: path.display().to_string(),
        why,
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e)
            if e.kind() == std::io::ErrorKind::NotFound
                && settings.subsonic.app_password_key_file.is_empty() =>
        {
            let fresh: [u8; 32] = rand::random();
            let fresh = hex(&fresh);
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            match options.open(&path) {
                Ok(mut f) => {
                    f.write_all(fresh.as_bytes())
                        .and_then(|()| f.sync_all())
                        .map_err(|e| err(e.to_string()))?;
                    fresh
                }
                // Another request made it first: use theirs.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    std::fs::read_to_string(&path).map_err(|e| err(e.to_string()))?
                }
                Err(e) => return Err(err(e.to_string())),
            }
        }
        Err(e) => return Err(err(e.to_string())),
    };
    let secret = text.trim();
    if secret.chars().count() < MIN_KEY_CHARS {
        return Err(err(format!("needs at least {MIN_KEY_CHARS} characters")));
    }
    let mut hasher = Sha256::new();
    hasher.update(b"spoofify app password v1\0");
    hasher.update(secret.as_bytes());
    let key: [u8; 32] = hasher.finalize().into();
    Ok(ChaCha20Poly1305::new(Key::from_slice(&key)))
}

/// The app password sealed for the store: nonce, then ciphertext bound to the listener.
pub fn seal(
    settings: &Settings,
    listener: &ListenerId,
    password: &str,
) -> Result<Vec<u8>, SecretError> {
    let cipher = cipher(settings)?;
    let nonce: [u8; NONCE_BYTES] = rand::random();
    let sealed = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: password.as_bytes(),
                aad: listener.as_str().as_bytes(),
            },
        )
        .map_err(|_| SecretError::Open)?;
    let mut out = nonce.to_vec();
    out.extend(sealed);
    Ok(out)
}

/// The app password from what [`seal`] made.
pub fn open(
    settings: &Settings,
    listener: &ListenerId,
    sealed: &[u8],
) -> Result<String, SecretError> {
    if sealed.len() < NONCE_BYTES {
        return Err(SecretError::Open);
    }
    let (nonce, body) = sealed.split_at(NONCE_BYTES);
    let plain = cipher(settings)?
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: body,
                aad: listener.as_str().as_bytes(),
            },
        )
        .map_err(|_| SecretError::Open)?;
    String::from_utf8(plain).map_err(|_| SecretError::Open)
}

/// Equal without an early exit (the comparison time does not tell how much matched).
pub fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
