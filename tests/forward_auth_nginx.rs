//! Real nginx in front of a protected app, configured from
//! `packaging/nginx/gatehouse-protected-app.conf`, with the real Gatehouse binary:
//! anonymous visitors are sent to sign in, signed-in visitors reach the app with
//! their identity, and a Remote-User header sent by a visitor never gets through.

use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};

use crate::common::binary::{HttpBrowser, Install, code_now, free_port};

const NGINX: &str = "/usr/sbin/nginx";

/// nginx, or `None` to skip — except under CI, where a missing nginx fails the test.
fn nginx_binary() -> Option<&'static str> {
    if Path::new(NGINX).exists() {
        return Some(NGINX);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("nginx is required under CI=true (apt-get install -y nginx)");
    }
    eprintln!("skipping: {NGINX} not installed (apt-get install -y nginx)");
    None
}

struct Nginx(Child);

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM, not SIGKILL: a killed master leaves its worker process running.
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

/// Starts nginx with the packaged site file, its ports replaced by the test's.
fn start_nginx(binary: &str, dir: &Path, port: u16, gatehouse: u16, app: u16) -> Nginx {
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
    let nginx = Nginx(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "nginx did not start: {}",
            std::fs::read_to_string(dir.join("error.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    nginx
}

/// The protected app: answers with the request headers it received, one per line.
async fn echo(req: HttpRequest) -> HttpResponse {
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
    let Some(binary) = nginx_binary() else { return };
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
    let page = visitor
        .get_with(&protected, &[("Remote-User", "attacker")])
        .await;
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
        .post("/mfa/setup", &[("code", &code_now(&secret, 0))])
        .await;
    assert!(
        done.body.contains(&protected.replace('&', "&amp;")),
        "continue link back to the app"
    );

    let page = visitor
        .get_with(
            &protected,
            &[
                ("Remote-User", "attacker"),
                ("Remote-Email", "attacker@evil.example"),
            ],
        )
        .await;
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
    for expected in [
        format!("remote-user: {id}"),
        "remote-email: ops@example.com".to_owned(),
        "remote-name: Ops Person".to_owned(),
        "remote-realm: staff".to_owned(),
        "remote-role: admin".to_owned(),
        "remote-auth: password+totp".to_owned(),
    ] {
        assert!(
            page.body.lines().any(|l| l == expected),
            "{expected} in:\n{}",
            page.body
        );
    }
    assert!(
        !page.body.contains("attacker"),
        "visitor-sent identity headers never reach the app:\n{}",
        page.body
    );

    // Signing out closes the door again.
    let account = visitor.get("/account").await;
    assert_eq!(account.status, 200);
    visitor.post("/logout", &[]).await;
    assert_eq!(visitor.get(&protected).await.status, 302);

    server.stop();
    upstream_handle.stop(false).await;
}
