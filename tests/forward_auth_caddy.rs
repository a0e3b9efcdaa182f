//! Real Caddy (Debian's package) in front of a protected app, configured from the
//! app block of `packaging/caddy/Caddyfile`, with the real Gatehouse binary: anonymous
//! visitors are sent to sign in, signed-in staff and portal users reach the app with
//! their identity, and no `Remote-*` header a visitor sends — nor a literal Caddy
//! placeholder — ever reaches the app. Also keeps the other packaged proxy examples
//! (nginx, Traefik, the compose example) copying every identity header.

use std::path::Path;
use std::process::{Command, Stdio};

use actix_web::{App, HttpServer, web};

use crate::common::binary::{HttpBrowser, Install, code_now, free_port};
use crate::forward_auth_nginx::{
    FORGED, IDENTITY_HEADERS, ProxyProcess, assert_identity, echo, proxy_binary, seen,
    wait_listening,
};

const CADDY: &str = "/usr/bin/caddy";

/// The `app.example.com { … }` block of a Caddyfile.
fn app_block(caddyfile: &str) -> &str {
    let start = caddyfile
        .find("app.example.com {")
        .expect("an app.example.com site");
    let len = caddyfile[start..]
        .find("\n}")
        .expect("the site block closes")
        + 2;
    &caddyfile[start..start + len]
}

/// Starts Caddy with the packaged app block twice — staff on `staff_port`, the
/// portal of client `acme` on `portal_port` — with no admin endpoint, no automatic
/// HTTPS and its own home, on loopback only.
fn start_caddy(
    binary: &str,
    dir: &Path,
    (staff_port, portal_port): (u16, u16),
    gatehouse: u16,
    app: u16,
) -> ProxyProcess {
    let packaged = std::fs::read_to_string("packaging/caddy/Caddyfile").unwrap();
    let block = app_block(&packaged);
    assert!(
        block.contains("forward_auth 127.0.0.1:8080")
            && block.contains("uri /api/authz/forward-auth?realm=staff")
            && block.contains(&format!("copy_headers {}", IDENTITY_HEADERS.join(" ")))
            && block.contains("reverse_proxy 127.0.0.1:3000"),
        "{block}"
    );
    let site = |port: u16| {
        block
            .replace(
                "app.example.com {",
                &format!("http://127.0.0.1:{port} {{\n\tbind 127.0.0.1"),
            )
            .replace("127.0.0.1:8080", &format!("127.0.0.1:{gatehouse}"))
            .replace("127.0.0.1:3000", &format!("127.0.0.1:{app}"))
    };
    let caddyfile = format!(
        "{{\n\tadmin off\n\tauto_https off\n}}\n\n{}\n\n{}\n",
        site(staff_port),
        site(portal_port).replace("?realm=staff", "?client=acme")
    );
    std::fs::write(dir.join("Caddyfile"), &caddyfile).unwrap();
    let log = std::fs::File::create(dir.join("caddy.log")).unwrap();
    let child = Command::new(binary)
        .args(["run", "--adapter", "caddyfile", "--config"])
        .arg(dir.join("Caddyfile"))
        .current_dir(dir)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("HOME", dir)
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .env("XDG_DATA_HOME", dir.join("data"))
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start caddy");
    let mut caddy = ProxyProcess(child);
    for port in [staff_port, portal_port] {
        wait_listening(&mut caddy, port, "caddy", &dir.join("caddy.log"));
    }
    caddy
}

#[actix_web::test]
async fn caddy_sends_visitors_to_sign_in_and_passes_only_gatehouses_identity_on() {
    let Some(binary) = proxy_binary(CADDY, "caddy") else {
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

    let (staff_port, portal_port) = crate::common::binary::two_free_ports();
    let install = Install::with_config(&format!(
        "trusted_proxies = ['127.0.0.1']\n[forward_auth]\nallowed_hosts = ['127.0.0.1:{staff_port}', '127.0.0.1:{portal_port}']\n"
    ));
    let admin_password = "caddy test staff passphrase";
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
        &format!("{admin_password}\n"),
    );
    install.cli_ok(
        &["client", "add", "--slug", "acme", "--name", "Acme Corp"],
        "",
    );
    install.cli_ok(&["client", "set", "acme", "--mfa-required", "off"], "");
    let invited = install.cli_ok(
        &[
            "user",
            "invite",
            "--email",
            "pat@acme.example",
            "--name",
            "Pat Portal",
            "--client",
            "acme",
        ],
        "",
    );
    let invite_path = invited
        .split_whitespace()
        .find_map(|w| w.find("/p/acme/invite/").map(|at| w[at..].to_owned()))
        .unwrap_or_else(|| panic!("an invitation link in: {invited}"));
    let server = install.start();
    let caddy_dir = tempfile::tempdir().unwrap();
    let _caddy = start_caddy(
        binary,
        caddy_dir.path(),
        (staff_port, portal_port),
        install.port,
        app_port,
    );
    let staff_app = format!("http://127.0.0.1:{staff_port}/tickets/7?view=full&sort=new");
    let portal_app = format!("http://127.0.0.1:{portal_port}/reports");

    // Anonymous: sent to the realm's sign-in page with the return address; forged
    // identity headers change nothing.
    let mut visitor = HttpBrowser::new(&install.base());
    let page = visitor.get_with(&staff_app, &FORGED).await;
    assert_eq!(page.status, 302, "{}", page.body);
    assert_eq!(
        page.location,
        format!(
            "{}/login?rd=http%3A%2F%2F127.0.0.1%3A{staff_port}%2Ftickets%2F7%3Fview%3Dfull%26sort%3Dnew",
            install.base()
        )
    );
    assert!(!page.body.contains("app saw"), "the app was not reached");
    let staff_login = page.location;
    let page = visitor.get_with(&portal_app, &FORGED).await;
    assert_eq!(page.status, 302, "{}", page.body);
    assert_eq!(
        page.location,
        format!(
            "{}/p/acme/login?rd=http%3A%2F%2F127.0.0.1%3A{portal_port}%2Freports",
            install.base()
        )
    );

    // Staff: sign in (first time: enrol TOTP), then reach the app as themselves.
    let login = visitor.get(&staff_login).await;
    assert_eq!(
        login.input_value("next").as_deref(),
        Some(staff_app.as_str()),
        "return address kept through sign-in"
    );
    let step = visitor
        .post(
            "/login",
            &[
                ("email", "ops@example.com"),
                ("password", admin_password),
                ("next", &staff_app),
            ],
        )
        .await;
    assert_eq!(step.location, "/mfa/setup", "{}", step.body);
    let secret = visitor
        .get("/mfa/setup")
        .await
        .input_value("secret")
        .unwrap();
    visitor
        .submit("/mfa/setup", &[("code", &code_now(&secret, 0))])
        .await;
    let page = visitor.get_with(&staff_app, &FORGED).await;
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
    assert_eq!(
        seen(&page.body, "Remote-Client"),
        Some(""),
        "Caddy passes Gatehouse's empty Remote-Client on (over the visitor's `acme`)"
    );
    // The staff session opens no portal app.
    assert_eq!(visitor.get(&portal_app).await.status, 302);

    // A portal user (invited, no second factor required) reaches the portal's app.
    let mut pat = HttpBrowser::new(&install.base());
    pat.get(&invite_path).await;
    let password = "pats own long passphrase";
    let accepted = pat
        .post(
            &invite_path,
            &[("password", password), ("password_confirm", password)],
        )
        .await;
    assert_eq!(accepted.location, "/p/acme/account", "{}", accepted.body);
    let page = pat.get_with(&portal_app, &FORGED).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.starts_with("app saw /reports"), "{}", page.body);
    let pat_id = serde_json::from_str::<serde_json::Value>(&install.cli_ok(
        &[
            "--json",
            "user",
            "show",
            "--email",
            "pat@acme.example",
            "--client",
            "acme",
        ],
        "",
    ))
    .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_identity(
        &page.body,
        &[
            ("Remote-User", &pat_id),
            ("Remote-Email", "pat@acme.example"),
            ("Remote-Name", "Pat Portal"),
            ("Remote-Realm", "client"),
            ("Remote-Client", "acme"),
            ("Remote-Role", "member"),
            ("Remote-Groups", "member"),
            ("Remote-Auth", "password"),
        ],
    );
    assert_eq!(
        pat.get_with(&staff_app, &FORGED).await.status,
        302,
        "the portal session opens no staff app"
    );

    // Signing out closes the door again.
    visitor.get("/account").await;
    visitor.post("/logout", &[]).await;
    assert_eq!(visitor.get(&staff_app).await.status, 302);

    server.stop();
    upstream_handle.stop(false).await;
}

#[test]
fn every_packaged_proxy_example_passes_every_identity_header() {
    for file in [
        "packaging/caddy/Caddyfile",
        "packaging/compose/Caddyfile",
        "packaging/traefik/gatehouse.yml",
        "packaging/nginx/gatehouse-protected-app.conf",
    ] {
        let text = std::fs::read_to_string(file).unwrap();
        for name in IDENTITY_HEADERS {
            assert!(text.contains(name), "{file} passes {name} on");
        }
    }
    // The compose example's app block is the tested one with service names.
    let packaged = std::fs::read_to_string("packaging/caddy/Caddyfile").unwrap();
    let compose = std::fs::read_to_string("packaging/compose/Caddyfile").unwrap();
    let tested = app_block(&packaged)
        .replace("127.0.0.1:8080", "gatehouse:8080")
        .replace("127.0.0.1:3000", "whoami:80");
    assert_eq!(
        app_block(&compose),
        tested,
        "packaging/compose/Caddyfile's app block follows packaging/caddy/Caddyfile's"
    );
}
