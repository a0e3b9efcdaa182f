//! `gatehouse staff show|set` through the real binary: on a stopped install (the
//! store directly) and on a running one (its admin socket), with bad input refused.

use crate::common::binary::Install;

fn get(url: &str) -> (u16, String, String) {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let answer = reqwest::get(url).await.unwrap();
            let status = answer.status().as_u16();
            let content_type = answer
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            let body = String::from_utf8_lossy(&answer.bytes().await.unwrap()).into_owned();
            (status, content_type, body)
        })
}

#[test]
fn the_staff_look_is_set_from_the_cli_and_bad_input_changes_nothing() {
    let install = Install::new();
    install.start().stop();
    let ok = |args: &[&str]| install.cli_ok(args, "");
    let fails = |args: &[&str]| {
        let out = install.cli(args, "");
        assert_eq!(out.status.code(), Some(1), "{args:?} should fail");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let shown = || -> serde_json::Value {
        serde_json::from_str(&install.cli_ok(&["--json", "staff", "show"], "")).unwrap()
    };
    assert_eq!(shown()["org_name"], serde_json::Value::Null);
    assert_eq!(shown()["logo"], false);

    // Stopped: straight into the store.
    let png = install.dir.path().join("logo.png");
    std::fs::write(&png, b"\x89PNG\r\n\x1a\nfake png body").unwrap();
    let out = ok(&[
        "staff",
        "set",
        "--org-name",
        "Northwind Traders",
        "--logo",
        png.to_str().unwrap(),
    ]);
    assert!(
        out.contains("Northwind Traders") && out.contains("Logo: set"),
        "{out}"
    );

    let svg = install.dir.path().join("logo.svg");
    std::fs::write(&svg, b"<svg onload='alert(1)'/>").unwrap();
    let big = install.dir.path().join("big.png");
    std::fs::write(
        &big,
        [b"\x89PNG\r\n\x1a\n".as_slice(), &[0u8; 70 * 1024]].concat(),
    )
    .unwrap();
    let long = "N".repeat(81);
    for (args, message) in [
        (
            vec!["staff", "set", "--logo", svg.to_str().unwrap()],
            "PNG or JPEG",
        ),
        (
            vec!["staff", "set", "--logo", big.to_str().unwrap()],
            "64 KiB",
        ),
        (
            vec!["staff", "set", "--org-name", long.as_str()],
            "at most 80 characters",
        ),
        (
            vec!["staff", "set", "--org-name", "Evil\u{1b}[2J"],
            "one line",
        ),
        (
            vec!["staff", "set", "--logo", "/no/such/file.png"],
            "while reading the logo",
        ),
    ] {
        let err = fails(&args);
        assert!(err.contains(message), "{args:?}: {err}");
    }
    assert_eq!(
        shown()["org_name"],
        "Northwind Traders",
        "refusals changed nothing"
    );
    assert_eq!(shown()["logo"], true);

    // Running: through the admin socket, seen on the next page.
    let server = install.start();
    let (status, _, login) = get(&format!("{}/login", install.base()));
    assert_eq!(status, 200);
    assert!(
        login.contains("<title>Sign in · Northwind Traders</title>"),
        "{login}"
    );
    assert!(login.contains("class=\"card-logo\""), "{login}");
    let (status, content_type, _) = get(&format!("{}/logo", install.base()));
    assert_eq!((status, content_type.as_str()), (200, "image/png"));

    ok(&["staff", "set", "--org-name", "", "--logo", ""]);
    let (_, _, login) = get(&format!("{}/login", install.base()));
    assert!(
        login.contains("<title>Sign in · Gatehouse</title>"),
        "{login}"
    );
    assert!(!login.contains("card-logo"));
    assert_eq!(get(&format!("{}/logo", install.base())).0, 404);
    server.stop();

    let audit = ok(&["audit", "--limit", "20"]);
    assert!(
        audit.contains("organisation name: none → Northwind Traders"),
        "{audit}"
    );
    assert!(
        audit.contains("organisation name: Northwind Traders → none"),
        "{audit}"
    );
}
