//! The client and portal-app commands through the real binary.

use crate::common::binary::{Install, file_contains};

#[test]
fn clients_are_managed_from_the_cli_and_bad_input_changes_nothing() {
    let install = Install::new();
    let ok = |args: &[&str]| install.cli_ok(args, "");
    let fails = |args: &[&str]| {
        let out = install.cli(args, "");
        assert_eq!(
            out.status.code(),
            Some(1),
            "{args:?} should fail: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    };

    // Management commands need an existing store (DESIGN §14): the first install.
    install.start().stop();
    let out = ok(&["client", "add", "--slug", "acme", "--name", "Acme Corp"]);
    assert!(out.contains("/p/acme/login"), "{out}");
    assert!(
        fails(&["client", "add", "--slug", "acme", "--name", "Again"]).contains("already exists")
    );
    assert!(fails(&["client", "add", "--slug", "Bad Slug", "--name", "X"]).contains("slug"));
    assert!(fails(&["client", "show", "nope"]).contains("No such client"));

    ok(&[
        "client",
        "set",
        "acme",
        "--tenant-id",
        "aaaaaaaa-0000-4000-8000-00000000000a",
        "--mfa-required",
        "off",
        "--accent",
        "#123456",
        "--session-idle",
        "20m",
    ]);
    for (args, message) in [
        (
            vec!["client", "set", "acme", "--tenant-id", "common"],
            "multi-tenant",
        ),
        (vec!["client", "set", "acme", "--accent", "blue"], "Accent"),
        (
            vec!["client", "set", "acme", "--session-idle", "soon"],
            "duration",
        ),
        (
            vec!["client", "set", "acme", "--password", "off"],
            "at least one way",
        ),
        (
            vec!["client", "set", "nope", "--name", "X"],
            "No such client",
        ),
        (
            vec!["sso-only", "on", "--client", "acme"],
            "cannot be turned on",
        ),
    ] {
        assert!(fails(&args).contains(message), "{args:?}");
    }
    let shown: serde_json::Value =
        serde_json::from_str(&ok(&["--json", "client", "show", "acme"])).unwrap();
    assert_eq!(shown["mfa_required"], false);
    assert_eq!(shown["accent"], "#123456");
    assert_eq!(shown["session_idle_secs"], 1200);
    assert_eq!(
        shown["password_login"], true,
        "the refused change left it alone"
    );

    // A logo: PNG accepted, anything else refused.
    let png = install.dir.path().join("logo.png");
    std::fs::write(&png, b"\x89PNG\r\n\x1a\nfake png body").unwrap();
    ok(&["client", "set", "acme", "--logo", png.to_str().unwrap()]);
    let svg = install.dir.path().join("logo.svg");
    std::fs::write(&svg, b"<svg onload='alert(1)'/>").unwrap();
    assert!(
        fails(&["client", "set", "acme", "--logo", svg.to_str().unwrap()]).contains("PNG or JPEG")
    );

    assert!(fails(&["client", "consent-link", "acme"]).contains("portal app"));
    let secret = "portal-secret-value-123";
    install.cli_ok(
        &[
            "portal-app",
            "set",
            "--client-id",
            "cccccccc-1111-4222-8333-444444444444",
            "--client-secret-stdin",
            "--secret-expires",
            "2027-01-31",
        ],
        &format!("{secret}\n"),
    );
    let out = ok(&["portal-app", "show"]);
    assert!(
        out.contains("expires on 2027-01-31")
            && out.contains("/sso/consent")
            && !out.contains(secret),
        "{out}"
    );
    let link = ok(&["client", "consent-link", "acme"]);
    assert!(link.contains("/aaaaaaaa-0000-4000-8000-00000000000a/v2.0/adminconsent?client_id=cccccccc-1111-4222-8333-444444444444&scope=openid%20profile%20email&redirect_uri="), "{link}");

    let out = ok(&[
        "user",
        "invite",
        "--email",
        "eve@acme.example",
        "--client",
        "acme",
    ]);
    assert!(out.contains("/p/acme/invite/"), "{out}");
    assert!(ok(&["user", "list", "--client", "acme"]).contains("eve@acme.example"));
    assert!(
        !ok(&["user", "list"]).contains("eve@acme.example"),
        "not a staff user"
    );
    assert!(
        fails(&[
            "user",
            "invite",
            "--email",
            "x@acme.example",
            "--client",
            "acme",
            "--role",
            "admin"
        ])
        .contains("cannot be admins")
    );
    assert!(fails(&["user", "list", "--client", "nope"]).contains("No such client"));
    ok(&[
        "user",
        "disable",
        "--email",
        "eve@acme.example",
        "--client",
        "acme",
    ]);

    let list = ok(&["client", "list"]);
    assert!(list.contains("acme") && list.contains("Acme Corp"));
    ok(&["client", "set", "acme", "--enabled", "off"]);
    assert!(ok(&["client", "list"]).contains("disabled"));
    let out = ok(&["client", "remove", "acme"]);
    assert!(
        out.contains("Removed client acme with its 1 user(s)"),
        "{out}"
    );
    assert!(fails(&["client", "show", "acme"]).contains("No such client"));
    assert!(!file_contains(
        &install.data_dir().join("gatehouse.redb"),
        secret.as_bytes()
    ));
}
