//! Schema migration 3 on a store written by the release of 2026-11-30
//! (tests/fixtures/store-v1): the staff Entra settings and the client `acme`'s tenant
//! open as providers of kind `entra`, in effect as before; a client without a tenant
//! gets none; and the old spellings keep working next to `gatehouse idp`.

use crate::common::binary::Install;

fn fixture_install() -> Install {
    let install = Install::new();
    let data = install.data_dir();
    std::fs::create_dir_all(&data).unwrap();
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/store-v1");
    for file in ["gatehouse.redb", "master.key"] {
        std::fs::copy(fixture.join(file), data.join(file)).unwrap();
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            data.join("master.key"),
            std::fs::Permissions::from_mode(0o600),
        )
        .unwrap();
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    install
}

fn json(install: &Install, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    serde_json::from_str(&install.cli_ok(&all, "")).unwrap()
}

#[test]
fn a_v1_store_opens_with_its_entra_settings_as_providers() {
    let install = fixture_install();
    let staff = json(&install, &["idp", "list"]);
    let providers = staff["providers"].as_array().unwrap();
    assert_eq!(providers.len(), 1, "{staff}");
    assert_eq!(providers[0]["id"], "microsoft");
    assert_eq!(providers[0]["kind"], "entra");
    assert_eq!(
        providers[0]["enabled"], true,
        "staff Microsoft sign-in was on"
    );

    let acme = json(&install, &["idp", "list", "--client", "acme"]);
    assert_eq!(acme["providers"][0]["kind"], "entra", "{acme}");
    assert_eq!(acme["providers"][0]["enabled"], true);
    let beta = json(&install, &["idp", "list", "--client", "beta"]);
    assert_eq!(beta["providers"].as_array().unwrap().len(), 0, "{beta}");

    // The store is at the current version now, and the list was written by the migration
    // (not only computed): it is in the store file's providers table.
    let store = gatehouse::store::Store::open(&install.data_dir().join("gatehouse.redb")).unwrap();
    assert_eq!(
        store
            .write(gatehouse::store::migrations::stored_version)
            .unwrap(),
        gatehouse::store::migrations::CURRENT_VERSION
    );
    let list = store
        .read(|r| {
            use gatehouse::store::prelude::*;
            r.providers(gatehouse::domain::user::Realm::Staff)
        })
        .unwrap();
    assert_eq!(list.providers.len(), 1);
    assert_eq!(list.providers[0].id, "microsoft");
    drop(store);

    // The old spellings still read and write the same settings.
    let sso = json(&install, &["sso", "show"]);
    assert_eq!(
        sso["tenant"], "5d2f0c7a-3b8e-4c1d-9a6f-0e7b1c2d3e4f",
        "{sso}"
    );
    assert_eq!(sso["enabled"], true);
    install.cli_ok(&["sso", "disable"], "");
    let staff = json(&install, &["idp", "list"]);
    assert_eq!(
        staff["providers"][0]["enabled"], false,
        "one switch: {staff}"
    );
    install.cli_ok(&["idp", "enable", "microsoft"], "");
    assert_eq!(json(&install, &["sso", "show"])["enabled"], true);
    // Its new settings: MFA through an authentication context.
    let shown = json(
        &install,
        &[
            "idp",
            "set",
            "microsoft",
            "--require-mfa",
            "on",
            "--auth-context",
            "c1",
        ],
    );
    assert_eq!(shown["require_mfa"], true, "{shown}");
    assert_eq!(shown["auth_context"], "c1");
}
