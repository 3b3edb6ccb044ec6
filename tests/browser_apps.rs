//! The Apps page (`#/apps`) in a real headless Chromium against a real node: a
//! listener makes an API key and an app password there, each shown once; a Subsonic
//! call signs in with each; revoking them on the page signs the app out. Screenshots
//! go under `test-artifacts/screenshots/apps/`.

mod support;

use serde_json::Value;
use support::app::{self, shared_app};
use support::browser::{self as driver, Browser};

const PASSWORD: &str = "apps need keys too";

/// `ping` through `/rest/` with these credentials: the Subsonic status and error code.
async fn ping(base: &str, creds: &[(&str, &str)]) -> (String, Option<u64>) {
    let mut q = vec![("f", "json"), ("v", "1.16.1"), ("c", "browser-test")];
    q.extend_from_slice(creds);
    let r = reqwest::Client::new()
        .get(format!("{base}/rest/ping"))
        .query(&q)
        .send()
        .await
        .expect("ping");
    let body: Value = r.json().await.expect("json");
    let s = &body["subsonic-response"];
    (
        s["status"].as_str().unwrap_or_default().to_owned(),
        s["error"]["code"].as_u64(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_and_the_app_password_made_on_the_apps_page_sign_an_app_in_until_revoked() {
    let base = shared_app().base.clone();
    let browser = Browser::start("apps", 1280, 900).await;
    browser.run(move |b| Box::pin(apps_page(b, base))).await;
    eprintln!(
        "screenshots: {}",
        driver::screenshot_dir().join("apps").display()
    );
}

async fn apps_page(b: &mut Browser, base: String) {
    let user = app::unique_name("appsuser");
    b.goto(&base).await;
    driver::sign_up_and_onboard(b, &user, PASSWORD).await;
    b.click("#nav-apps").await;
    b.until(
        "the apps page with the server address",
        "return document.getElementById('apps-server')?.textContent === location.origin",
    )
    .await;
    b.until(
        "no keys yet",
        "return document.getElementById('api-keys')?.textContent.includes('No API keys')",
    )
    .await;

    // An API key, shown once; the app signs in with it.
    b.type_into("#api-key-name", "Phone").await;
    b.click("#api-key-create").await;
    let key = b
        .until(
            "the new key",
            "return document.getElementById('api-key-value')?.textContent",
        )
        .await;
    let key = key.as_str().expect("key text").to_owned();
    b.until(
        "the key listed by name",
        "return document.getElementById('api-keys')?.textContent.includes('Phone')",
    )
    .await;
    let listed = b
        .js(
            "return document.getElementById('api-keys').textContent",
            vec![],
        )
        .await;
    assert!(
        !listed.as_str().unwrap_or_default().contains(&key),
        "the list shows the secret"
    );
    b.shot("key-made").await;
    assert_eq!(ping(&base, &[("apiKey", &key)]).await.0, "ok");

    // The app password works for u+p; the login password is not it.
    b.click("#app-password-create").await;
    let pw = b
        .until(
            "the app password",
            "return document.getElementById('app-password-value')?.textContent",
        )
        .await;
    let pw = pw.as_str().expect("password text").to_owned();
    assert_ne!(pw, PASSWORD);
    assert_eq!(ping(&base, &[("u", &user), ("p", &pw)]).await.0, "ok");
    b.shot("app-password-made").await;

    // Revoked on the page: the app is signed out.
    b.click("#api-keys button[aria-label='Revoke Phone']").await;
    b.until(
        "the key gone from the list",
        "return document.getElementById('api-keys')?.textContent.includes('No API keys')",
    )
    .await;
    let (status, code) = ping(&base, &[("apiKey", &key)]).await;
    assert_eq!((status.as_str(), code.is_some()), ("failed", true));
    b.click("#app-password-revoke").await;
    support::wait_for(
        "the app password refused",
        std::time::Duration::from_secs(10),
        || {
            let (base, user, pw) = (base.clone(), user.clone(), pw.clone());
            async move {
                let (status, _) = ping(&base, &[("u", &user), ("p", &pw)]).await;
                (status == "failed").then_some(())
            }
        },
    )
    .await;
    b.shot("revoked").await;
}
