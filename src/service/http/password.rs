//! Password hashing on a fixed pool: argon2id (the crate's defaults: 19 MiB, 2 passes,
//! 1 lane) on a few dedicated threads (the cores, at most [`MAX_POOL_THREADS`]), each owning its 19 MiB of argon2 memory
//! for the life of the process.
//!
//! Why a pool of our own: hashing on the blocking pool allocated 19 MiB per hash on
//! whichever of its (up to 512) threads ran it, and glibc gives threads their own malloc
//! arenas, which keep freed memory — RSS grew by hundreds of MB after a hundred logins and
//! stayed there. Here the memory is allocated once per worker and reused, so hashing
//! costs at most `MAX_POOL_THREADS × 19 MiB`, however many logins come. Requests wait for a
//! worker at most [`MAX_HASH_WAIT`], then get 503 (a login storm sheds load instead of
//! queueing work whose clients gave up).
//!
//! A login for an unknown name still verifies against a dummy hash, so response time
//! does not reveal which usernames exist.

use std::sync::mpsc;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use argon2::password_hash::{Output, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::{oneshot, Semaphore};

use super::ApiError;

/// Most hashing threads: each holds 19 MiB and keeps a core busy for tens of ms, so more
/// than the cores (or than this) only queue work in memory.
const MAX_POOL_THREADS: usize = 4;
/// How long a request waits for a hashing worker before it is turned away with 503.
const MAX_HASH_WAIT: Duration = Duration::from_secs(2);
/// Salt length in bytes, the recommended size.
const SALT_BYTES: usize = 16;

/// A password as typed, kept out of logs.
pub struct Password(pub String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(..)")
    }
}

enum Job {
    Hash {
        password: Password,
        reply: oneshot::Sender<Result<String, String>>,
    },
    Verify {
        password: Password,
        phc: String,
        reply: oneshot::Sender<bool>,
    },
}

struct Pool {
    jobs: mpsc::Sender<Job>,
    slots: Semaphore,
}

static POOL: LazyLock<Option<Pool>> = LazyLock::new(start_pool);

/// Verified when the username is unknown, so that case costs the same time.
static DUMMY_HASH: LazyLock<Option<String>> = LazyLock::new(|| {
    let mut blocks = vec![Block::default(); Params::DEFAULT.block_count()];
    hash_with(&mut blocks, "not a real password").ok()
});

fn start_pool() -> Option<Pool> {
    let (tx, rx) = mpsc::channel::<Job>();
    let rx = Arc::new(Mutex::new(rx));
    let mut started = 0;
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(MAX_POOL_THREADS);
    for i in 0..threads {
        let rx = rx.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("argon2-{i}"))
            .spawn(move || worker(&rx));
        match spawned {
            Ok(_) => started += 1,
            Err(e) => tracing::error!(error = %e, "could not start a password hashing thread"),
        }
    }
    (started > 0).then(|| Pool {
        jobs: tx,
        slots: Semaphore::new(started),
    })
}

/// A worker: its argon2 memory, allocated once, then one job at a time.
fn worker(rx: &Mutex<mpsc::Receiver<Job>>) {
    let mut blocks = vec![Block::default(); Params::DEFAULT.block_count()];
    loop {
        let job = {
            let guard = match rx.lock() {
                Ok(g) => g,
                Err(poisoned) => poisoned.into_inner(),
            };
            guard.recv()
        };
        match job {
            Ok(Job::Hash { password, reply }) => {
                let _ = reply.send(hash_with(&mut blocks, &password.0));
            }
            Ok(Job::Verify {
                password,
                phc,
                reply,
            }) => {
                let _ = reply.send(verify_with(&mut blocks, &password.0, &phc));
            }
            Err(_) => return,
        }
    }
}

async fn run<T>(make: impl FnOnce(oneshot::Sender<T>) -> Job) -> Result<T, ApiError> {
    let pool = POOL
        .as_ref()
        .ok_or_else(|| ApiError::internal("password hashing could not start"))?;
    let _slot = match tokio::time::timeout(MAX_HASH_WAIT, pool.slots.acquire()).await {
        Ok(Ok(slot)) => slot,
        Ok(Err(_)) => return Err(ApiError::internal("password hashing is shut down")),
        Err(_) => {
            return Err(ApiError::unavailable(
                "too many sign-ups and logins right now; retry in a few seconds",
            ))
        }
    };
    let (tx, rx) = oneshot::channel();
    pool.jobs
        .send(make(tx))
        .map_err(|_| ApiError::internal("password hashing is shut down"))?;
    rx.await
        .map_err(|_| ApiError::internal("a password hashing worker failed"))
}

/// The PHC string of a new hash of `password`.
pub async fn hash(password: Password) -> Result<String, ApiError> {
    run(|reply| Job::Hash { password, reply })
        .await?
        .map_err(|e| ApiError::internal(format!("hashing failed: {e}")))
}

/// True when `phc` is present and the password matches it. Without a stored hash the
/// password is checked against a dummy hash anyway (and fails), to take the same time.
pub async fn verify(password: Password, phc: Option<String>) -> Result<bool, ApiError> {
    let real = phc.is_some();
    let Some(phc) = phc.or_else(|| DUMMY_HASH.clone()) else {
        return Ok(false);
    };
    let matches = run(|reply| Job::Verify {
        password,
        phc,
        reply,
    })
    .await?;
    Ok(real && matches)
}

fn hash_with(blocks: &mut [Block], password: &str) -> Result<String, String> {
    // 16 bytes from the thread's CSPRNG (reseeded from the OS).
    let salt: [u8; SALT_BYTES] = rand::random();
    let params = Params::DEFAULT;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(password.as_bytes(), &salt, &mut out, blocks)
        .map_err(|e| e.to_string())?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    let out = Output::new(&out).map_err(|e| e.to_string())?;
    Ok(format!(
        "$argon2id$v=19$m={},t={},p={}${}${}",
        params.m_cost(),
        params.t_cost(),
        params.p_cost(),
        salt.as_str(),
        out
    ))
}

/// Checks `password` against a stored PHC string, in the worker's memory. Hashes asking
/// for more memory than ours (none we write) are refused rather than allocated.
fn verify_with(blocks: &mut [Block], password: &str, phc: &str) -> bool {
    let checked = (|| -> Result<bool, String> {
        let parsed = PasswordHash::new(phc).map_err(|e| e.to_string())?;
        let algorithm = Algorithm::try_from(parsed.algorithm).map_err(|e| e.to_string())?;
        let version = match parsed.version {
            Some(v) => Version::try_from(v).map_err(|e| e.to_string())?,
            None => Version::V0x13,
        };
        let params = Params::try_from(&parsed).map_err(|e| e.to_string())?;
        let need = params.block_count();
        if need > blocks.len() {
            return Err(format!(
                "needs {need} blocks of memory, more than the pool's"
            ));
        }
        let expected = parsed.hash.ok_or("no hash in the PHC string")?;
        let salt = parsed.salt.ok_or("no salt in the PHC string")?;
        let mut salt_buf = [0u8; 64];
        let salt = salt.decode_b64(&mut salt_buf).map_err(|e| e.to_string())?;
        let mut out = vec![0u8; expected.len()];
        Argon2::new(algorithm, version, params)
            .hash_password_into_with_memory(
                password.as_bytes(),
                salt,
                &mut out,
                &mut blocks[..need],
            )
            .map_err(|e| e.to_string())?;
        let out = Output::new(&out).map_err(|e| e.to_string())?;
        // Output's equality is constant-time.
        Ok(out == expected)
    })();
    match checked {
        Ok(matches) => matches,
        Err(e) => {
            tracing::error!(error = %e, "a stored password hash could not be checked");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::PasswordVerifier;

    #[test]
    fn our_hashes_are_standard_phc_and_verify_both_ways() {
        let mut blocks = vec![Block::default(); Params::DEFAULT.block_count()];
        let phc = hash_with(&mut blocks, "correct horse").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify_with(&mut blocks, "correct horse", &phc));
        assert!(!verify_with(&mut blocks, "wrong horse", &phc));
        // The argon2 crate agrees (hashes made before the pool still verify, and ours
        // verify with the crate).
        let parsed = PasswordHash::new(&phc).unwrap();
        assert!(Argon2::default()
            .verify_password(b"correct horse", &parsed)
            .is_ok());
        use argon2::PasswordHasher;
        let theirs = Argon2::default()
            .hash_password(b"pw12345678", &SaltString::encode_b64(&[7u8; 16]).unwrap())
            .unwrap()
            .to_string();
        assert!(verify_with(&mut blocks, "pw12345678", &theirs));
    }
}
