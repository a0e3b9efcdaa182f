//! Free text from visitors and identity providers cannot forge a log line or put a
//! terminal escape on an admin's screen: a newline or ESC typed as the login email, or
//! sent as an IdP `error_description`, shows up escaped in the text log, the JSON log,
//! `gatehouse audit` and the admin console's audit page.

use actix_web::http::StatusCode;

use crate::common::binary::{HttpBrowser, Install};
use crate::common::fake_entra::FakeEntra;
use crate::common::sso::{CLIENT_ID, CLIENT_SECRET, TENANT, app_with_entra, configure_staff_sso};

/// A forged log line after a newline, an ANSI "clear screen, red", and a line separator.
const FORGED_EMAIL: &str =
    "mallory@example.com\nFORGED-LINE INFO gatehouse::audit: login succeeded";
const ANSI_EMAIL: &str = "\x1b[2J\x1b[31mansi@example.com";
const SEPARATOR_EMAIL: &str = "ls\u{2028}FORGED-LS@example.com";
const IDP_DESCRIPTION: &str = "denied\r\nFORGED-IDP\x1b[31m red";

/// How each input must appear wherever it is recorded or shown.
const EXPECTED: [&str; 4] = [
    "mallory@example.com\\nFORGED-LINE INFO",
    "\\u{1b}[2J\\u{1b}[31mansi@example.com",
    "ls\\u{2028}FORGED-LS@example.com",
    "denied\\r\\nFORGED-IDP\\u{1b}[31m red",
];

fn no_raw_control(text: &str, what: &str) {
    assert!(!text.contains('\x1b'), "raw ESC in {what}:\n{text:?}");
    assert!(!text.contains('\u{2028}'), "raw U+2028 in {what}");
    for line in text.lines() {
        for marker in ["FORGED-LINE", "FORGED-LS", "FORGED-IDP"] {
            if line.contains(marker) {
                assert!(
                    EXPECTED.iter().any(|e| line.contains(e)),
                    "{marker} begins a line of its own in {what}: {line:?}"
                );
            }
        }
    }
}

fn has_all_escaped(text: &str, what: &str) {
    for expected in EXPECTED {
        assert!(
            text.contains(expected),
            "{expected:?} not in {what}:\n{text}"
        );
    }
}

/// The `state` of the authorize URL Gatehouse redirected to.
fn state_of(authorize_url: &str) -> String {
    let url = reqwest::Url::parse(authorize_url).unwrap();
    url.query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .expect("state in the authorize URL")
}

fn callback_with_error(state: &str) -> String {
    let query = serde_urlencoded::to_string([
        ("state", state),
        ("error", "access_denied"),
        ("error_description", IDP_DESCRIPTION),
    ])
    .unwrap();
    format!("/sso/callback?{query}")
}

/// Runs a CLI command that must succeed; returns its stdout.
async fn run(install: &Install, args: &[&str], stdin: &str) -> String {
    let out = install.cli_async(args, stdin).await;
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs the real binary with `log.format = format`, types the forged inputs, and
/// returns (server stderr, `gatehouse audit` output).
async fn forged_inputs_through_the_binary(format: &str) -> (String, String) {
    let fake = FakeEntra::start().await;
    fake.add_tenant(TENANT);
    fake.register_app(TENANT, CLIENT_ID, CLIENT_SECRET);
    let install = Install::with_config(&format!(
        "[entra]\nauthority_host = '{}'\nallow_insecure_loopback = true\n[log]\nformat = '{format}'\n",
        fake.base
    ));
    let server = install.start();
    run(
        &install,
        &[
            "admin",
            "create",
            "--email",
            "ops@example.com",
            "--password-stdin",
        ],
        "a long passphrase\n",
    )
    .await;
    run(
        &install,
        &[
            "sso",
            "set",
            "--tenant-id",
            TENANT,
            "--client-id",
            CLIENT_ID,
            "--client-secret-stdin",
        ],
        &format!("{CLIENT_SECRET}\n"),
    )
    .await;
    run(&install, &["sso", "enable"], "").await;

    let mut browser = HttpBrowser::new(&install.base());
    browser.get("/login").await;
    for email in [FORGED_EMAIL, ANSI_EMAIL, SEPARATOR_EMAIL] {
        let answer = browser
            .post(
                "/login",
                &[("email", email), ("password", "not the password")],
            )
            .await;
        assert!((400..500).contains(&answer.status), "{}", answer.status);
    }
    let start = browser.get("/login/sso").await;
    assert_eq!(start.status, 303, "{}", start.body);
    let answer = browser
        .get(&callback_with_error(&state_of(&start.location)))
        .await;
    assert_eq!(answer.status, 401, "{}", answer.body);

    let audit = run(&install, &["audit", "--limit", "100"], "").await;
    let (_, stderr) = server.stop();
    (stderr, audit)
}

#[actix_web::test]
async fn forged_inputs_are_escaped_in_the_text_log_and_gatehouse_audit() {
    let (stderr, audit) = forged_inputs_through_the_binary("text").await;
    no_raw_control(&stderr, "the text log");
    has_all_escaped(&stderr, "the text log");
    no_raw_control(&audit, "gatehouse audit");
    has_all_escaped(&audit, "gatehouse audit");
}

#[actix_web::test]
async fn forged_inputs_are_escaped_in_the_json_log_and_gatehouse_audit() {
    let (stderr, audit) = forged_inputs_through_the_binary("json").await;
    assert!(!stderr.contains('\x1b'), "raw ESC in the JSON log");
    // The values themselves, once decoded, hold the escapes: a reader of the JSON
    // log sees no line break or ESC either.
    let mut values = String::new();
    for line in stderr.lines() {
        let record: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line:?}"));
        if let Some(fields) = record["fields"].as_object() {
            for value in fields.values().filter_map(|v| v.as_str()) {
                assert!(
                    !value.contains(['\n', '\r', '\x1b', '\u{2028}']),
                    "control character in a decoded log value: {value:?}"
                );
                values.push_str(value);
                values.push('\n');
            }
        }
    }
    no_raw_control(&values, "the JSON log's values");
    has_all_escaped(&values, "the JSON log's values");
    no_raw_control(&audit, "gatehouse audit");
    has_all_escaped(&audit, "gatehouse audit");
}

#[actix_web::test]
async fn forged_inputs_are_escaped_on_the_audit_page() {
    let (app, fake) = app_with_entra().await;
    configure_staff_sso(&app, false, "").await;
    app.create_admin("ann@example.com", "correct horse battery")
        .await;
    let mut admin = app.browser();
    admin
        .sign_in(&app, "ann@example.com", "correct horse battery", None)
        .await;
    let (secret, _) = admin.enrol(&app).await;
    admin.post("/logout", &[]).await;
    app.next_step();

    let mut visitor = app.browser();
    visitor.get("/login").await;
    for email in [FORGED_EMAIL, ANSI_EMAIL, SEPARATOR_EMAIL] {
        let page = visitor
            .post(
                "/login",
                &[("email", email), ("password", "not the password")],
            )
            .await;
        assert!(page.status.is_client_error(), "{}", page.status);
    }
    let start = visitor.get("/login/sso").await;
    assert_eq!(start.status, StatusCode::SEE_OTHER);
    let page = visitor
        .get(&callback_with_error(&state_of(start.location())))
        .await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED, "{}", page.body);
    drop(fake);

    admin
        .sign_in(
            &app,
            "ann@example.com",
            "correct horse battery",
            Some(&secret),
        )
        .await;
    let page = admin.get("/admin/audit").await;
    assert_eq!(page.status, StatusCode::OK);
    no_raw_control(&page.body, "the audit page");
    for expected in EXPECTED {
        // The page is HTML: `&` would be escaped, nothing else in these strings is.
        assert!(page.has(expected), "{expected:?} not on the audit page");
    }
}
