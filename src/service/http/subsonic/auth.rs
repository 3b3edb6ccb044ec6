//! Who is calling: the OpenSubsonic `apiKey` alone, or `u` with `p` (plain or `enc:`
//! hex) or `t`+`s` (token: `md5(password + salt)`).
//!
//! `p` is checked against the listener's app password, then their login password
//! (argon2, counted by the login limiter per username like the web login). A token
//! needs the password itself, which only the app password is kept as (sealed,
//! `secret`); without one the answer is 41. Errors are Subsonic codes: 10 missing
//! parameter, 40 wrong credentials, 41 token auth unavailable, 43 conflicting
//! mechanisms, 44 a bad API key.

use md5::{Digest, Md5};

use super::envelope::Fail;
use super::params::Params;
use super::secret::{self, APP_PASSWORD_FIELD};
use crate::http::password::{self, Password};
use crate::http::AppState;
use crate::store::{Account, ListenerId, Username};

/// The authenticated listener.
#[derive(Debug, Clone)]
pub struct Caller {
    pub id: ListenerId,
    pub username: Username,
}

fn wrong() -> Fail {
    Fail::new(40, "wrong username or password")
}

fn store_down(e: impl std::fmt::Display) -> Fail {
    Fail::generic(format!("the store is unavailable: {e}"))
}

pub async fn authenticate(state: &AppState, params: &Params) -> Result<Caller, Fail> {
    if let Some(key) = params.get("apiKey") {
        if params.has("u") || params.has("p") || params.has("t") {
            return Err(Fail::new(
                43,
                "give either apiKey or u with p or t+s, not both",
            ));
        }
        let bad = || Fail::new(44, "invalid API key");
        let found = state
            .store
            .api_key(&secret::hash_key(key))
            .await
            .map_err(store_down)?
            .ok_or_else(bad)?;
        let account = state
            .store
            .account(&found.listener)
            .await
            .map_err(store_down)?
            .ok_or_else(bad)?;
        return Ok(caller(account));
    }
    let user = params.get("u").ok_or_else(|| Fail::missing("u"))?;
    let account = match Username::parse(user) {
        Ok(name) => state
            .store
            .account_by_username(&name)
            .await
            .map_err(store_down)?,
        Err(_) => None,
    };
    if let Some(token) = params.get("t") {
        let salt = params.get("s").ok_or_else(|| Fail::missing("s"))?;
        let account = account.ok_or_else(wrong)?;
        let app = app_password(state, &account.id).await?.ok_or_else(|| {
            Fail::new(
                41,
                "token authentication needs an app password: create one in the web app \
                 (Settings → Apps), or use an API key",
            )
        })?;
        let expected = format!("{:x}", Md5::digest(format!("{app}{salt}").as_bytes()));
        return if secret::same(expected.as_bytes(), token.to_ascii_lowercase().as_bytes()) {
            Ok(caller(account))
        } else {
            Err(wrong())
        };
    }
    let raw = params.get("p").ok_or_else(|| Fail::missing("p"))?;
    let offered = decode_password(raw).ok_or_else(wrong)?;
    let Some(account) = account else {
        // Same work as for a real account, so timing does not tell names apart.
        let _ = password::verify(Password(offered), None).await;
        return Err(wrong());
    };
    if let Some(app) = app_password(state, &account.id).await? {
        if secret::same(app.as_bytes(), offered.as_bytes()) {
            return Ok(caller(account));
        }
    }
    let key = account.username.to_string();
    if state.limits.by_username.is_exhausted(&key) {
        return Err(Fail::new(
            40,
            "too many failed attempts for this user; try again later",
        ));
    }
    let ok = password::verify(Password(offered), Some(account.password_hash.clone()))
        .await
        .map_err(|e| Fail::generic(e.message))?;
    if ok {
        Ok(caller(account))
    } else {
        let _ = state.limits.by_username.reserve(&key);
        Err(wrong())
    }
}

fn caller(account: Account) -> Caller {
    Caller {
        id: account.id,
        username: account.username,
    }
}

/// `p` as sent: plain, or `enc:` and the UTF-8 bytes in hex.
pub fn decode_password(raw: &str) -> Option<String> {
    let Some(hex) = raw.strip_prefix("enc:") else {
        return Some(raw.to_owned());
    };
    if hex.len() % 2 != 0 {
        return None;
    }
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    String::from_utf8(bytes).ok()
}

async fn app_password(state: &AppState, listener: &ListenerId) -> Result<Option<String>, Fail> {
    let Some(sealed) = state
        .store
        .app_field(listener, APP_PASSWORD_FIELD)
        .await
        .map_err(store_down)?
    else {
        return Ok(None);
    };
    secret::open(&state.settings, listener, &sealed)
        .map(Some)
        .map_err(|e| Fail::generic(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enc_passwords_are_hex_utf8() {
        assert_eq!(decode_password("sesame").as_deref(), Some("sesame"));
        assert_eq!(
            decode_password("enc:736573616D65").as_deref(),
            Some("sesame")
        );
        assert_eq!(decode_password("enc:c3a9").as_deref(), Some("é"));
        assert_eq!(decode_password("enc:7"), None);
        assert_eq!(decode_password("enc:zz"), None);
    }
}
