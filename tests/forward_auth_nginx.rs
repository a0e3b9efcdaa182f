//! Real nginx in front of a protected app, configured from
//! `packaging/nginx/gatehouse-protected-app.conf`, with the real Gatehouse binary:
//! anonymous visitors are sent to sign in, signed-in visitors reach the app with
//! their identity, and no Remote-* header sent by a visitor gets through. Also the
//! pieces the other real-proxy tests share (starting, waiting for and stopping a
//! proxy; the echo app; the identity checks).

use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};

use crate::common::binary::{HttpBrowser, Install, code_now, free_port};

const NGINX: &str = "/usr/sbin/nginx";

/// `path` if installed, or `None` to skip — except under CI, where a missing proxy
/// fails the test.
pub(crate) fn proxy_binary(path: &'static str, package: &str) -> Option<&'static str> {
    if Path::new(path).exists() {
        return Some(path);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{path} is required under CI=true (apt-get install -y {package})");
    }
    eprintln!("skipping: {path} not installed (apt-get install -y {package})");
    None
}

/// A proxy process started by a test, stopped when dropped.
pub(crate) struct ProxyProcess(pub(crate) Child);

impl Drop for ProxyProcess {
    fn drop(&mut self) {
        // SIGTERM, not SIGKILL: a killed nginx master leaves its worker running, and
        // Caddy shuts its servers down gracefully on SIGTERM.
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.0.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while matches!(self.0.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits until `port` accepts connections; `log` explains a proxy that did not start.
pub(crate) fn wait_listening(proxy: &mut ProxyProcess, port: u16, what: &str, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline && matches!(proxy.0.try_wait(), Ok(None)),
            "{what} did not start: {}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Starts nginx with the packaged site file, its ports replaced by the test's.
fn start_nginx(binary: &str, dir: &Path, port: u16, gatehouse: u16, app: u16) -> ProxyProcess {
    let site = std::fs::read_to_string("packaging/nginx/gatehouse-protected-app.conf").unwrap();
    assert!(
        site.contains("listen 80;")
            && site.contains("127.0.0.1:8080")
            && site.contains("127.0.0.1:3000")
    );
    let site = site
        .replace("listen 80;", &format!("listen 127.0.0.1:{port};"))
        .replace("server_name app.example.com;", "server_name 127.0.0.1;")
        .replace("127.0.0.1:8080", &format!("127.0.0.1:{gatehouse}"))
        .replace("127.0.0.1:3000", &format!("127.0.0.1:{app}"));
    let d = dir.display();
    std::fs::write(dir.join("site.conf"), site).unwrap();
    let main = format!(
        "user root;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\nevents {{ worker_connections 64; }}\nhttp {{\n  access_log {d}/access.log;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n  fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n  include {d}/site.conf;\n}}\n"
    );
    std::fs::write(dir.join("nginx.conf"), main).unwrap();
    let child = Command::new(binary)
        .args([
            "-p",
            &d.to_string(),
            "-c",
            &format!("{d}/nginx.conf"),
            "-g",
            "daemon off;",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start nginx");
    let mut nginx = ProxyProcess(child);
    wait_listening(&mut nginx, port, "nginx", &dir.join("error.log"));
    nginx
}

/// Every identity header Gatehouse answers with (DESIGN §5, §14).
pub(crate) const IDENTITY_HEADERS: [&str; 8] = [
    "Remote-User",
    "Remote-Email",
    "Remote-Name",
    "Remote-Realm",
    "Remote-Client",
    "Remote-Role",
    "Remote-Auth",
    "Remote-Groups",
];

/// The app's view of one request header (`None` when it did not arrive).
pub(crate) fn seen<'a>(page: &'a str, name: &str) -> Option<&'a str> {
    let prefix = format!("{}: ", name.to_ascii_lowercase());
    page.lines().find_map(|l| {
        l.strip_prefix(&prefix)
            .or_else(|| (l == prefix.trim_end()).then_some(""))
    })
}

/// Headers a visitor sends to pass as someone else: every identity header, with
/// `attacker` in each value but Remote-Client, which claims a client's realm.
pub(crate) const FORGED: [(&str, &str); 8] = [
    ("Remote-User", "attacker"),
    ("Remote-Email", "attacker@evil.example"),
    ("Remote-Name", "attacker name"),
    ("Remote-Realm", "attacker-realm"),
    ("Remote-Client", "acme"),
    ("Remote-Role", "attacker-role"),
    ("Remote-Auth", "attacker-auth"),
    ("Remote-Groups", "attacker-group"),
];

/// The app's page passed the identity through and nothing forged or unexpanded.
pub(crate) fn assert_identity(page: &str, expected: &[(&str, &str)]) {
    for (name, value) in expected {
        assert_eq!(seen(page, name).unwrap_or(""), *value, "{name} in:\n{page}");
    }
    assert!(
        !page.contains("attacker"),
        "visitor-sent identity headers never reach the app:\n{page}"
    );
    assert!(
        !page.contains("{http."),
        "no unexpanded proxy placeholder reaches the app:\n{page}"
    );
}

/// The protected app: answers with the request headers it received, one per line.
pub(crate) async fn echo(req: HttpRequest) -> HttpResponse {
    let mut lines: Vec<String> = req
        .headers()
        .iter()
        .map(|(k, v)| {
            format!(
                "{}: {}",
                k.as_str().to_ascii_lowercase(),
                v.to_str().unwrap_or("?")
            )
        })
        .collect();
    lines.sort();
    HttpResponse::Ok().body(format!("app saw {}\n{}", req.uri(), lines.join("\n")))
}

#[actix_web::test]
async fn nginx_sends_visitors_to_sign_in_and_passes_the_identity_on() {
    let Some(binary) = proxy_binary(NGINX, "nginx") else {
        return;
    };
    let app_port = free_port();
    let upstream = HttpServer::new(|| App::new().default_service(web::to(echo)))
        .workers(1)
        .bind(("127.0.0.1", app_port))
        .unwrap()
        .run();
    let upstream_handle = upstream.handle();
    actix_web::rt::spawn(upstream);

    let nginx_port = free_port();
    let install = Install::with_config(&format!(
        "trusted_proxies = ['127.0.0.1']\n[forward_auth]\nallowed_hosts = ['127.0.0.1:{nginx_port}']\n"
    ));
    install.cli_ok(
        &[
            "admin",
            "create",
            "--email",
            "ops@example.com",
            "--name",
            "Ops Person",
            "--password-stdin",
        ],
        "a long passphrase\n",
    );
    let server = install.start();
    let nginx_dir = tempfile::tempdir().unwrap();
    let _nginx = start_nginx(binary, nginx_dir.path(), nginx_port, install.port, app_port);
    let protected = format!("http://127.0.0.1:{nginx_port}/tickets/7?view=full&sort=new");

    // Anonymous: sent to sign in, with the return address encoded; a forged identity
    // header changes nothing.
    let mut visitor = HttpBrowser::new(&install.base());
    let page = visitor.get_with(&protected, &FORGED).await;
    assert_eq!(page.status, 302, "{}", page.body);
    assert_eq!(
        page.location,
        format!(
            "{}/login?rd=http%3A%2F%2F127.0.0.1%3A{nginx_port}%2Ftickets%2F7%3Fview%3Dfull%26sort%3Dnew",
            install.base()
        )
    );
    assert!(!page.body.contains("app saw"), "the app was not reached");

    // Sign in at Gatehouse (first sign-in: enrol TOTP) and come back.
    let login = visitor.get(&page.location).await;
    assert_eq!(
        login.input_value("next").as_deref(),
        Some(protected.as_str()),
        "return address kept through sign-in"
    );
    let step = visitor
        .post(
            "/login",
            &[
                ("email", "ops@example.com"),
                ("password", "a long passphrase"),
                ("next", &protected),
            ],
        )
        .await;
    assert_eq!(step.location, "/mfa/setup");
    let secret = visitor
        .get("/mfa/setup")
        .await
        .input_value("secret")
        .unwrap();
    let done = visitor
        .submit("/mfa/setup", &[("code", &code_now(&secret, 0))])
        .await;
    assert!(
        done.body.contains(&protected.replace('&', "&amp;")),
        "continue link back to the app"
    );

    let page = visitor.get_with(&protected, &FORGED).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body
            .starts_with("app saw /tickets/7?view=full&sort=new"),
        "{}",
        page.body
    );
    let id = serde_json::from_str::<serde_json::Value>(&install.cli_ok(
        &["--json", "user", "show", "--email", "ops@example.com"],
        "",
    ))
    .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // nginx drops a header set to an empty value, so Remote-Client (empty for staff)
    // does not arrive at all — and neither does the visitor's own.
    assert_identity(
        &page.body,
        &[
            ("Remote-User", &id),
            ("Remote-Email", "ops@example.com"),
            ("Remote-Name", "Ops Person"),
            ("Remote-Realm", "staff"),
            ("Remote-Client", ""),
            ("Remote-Role", "admin"),
            ("Remote-Groups", "admin"),
            ("Remote-Auth", "password+totp"),
        ],
    );

    // Signing out closes the door again.
    let account = visitor.get("/account").await;
    assert_eq!(account.status, 200);
    visitor.post("/logout", &[]).await;
    assert_eq!(visitor.get(&protected).await.status, 302);

    server.stop();
    upstream_handle.stop(false).await;
}
