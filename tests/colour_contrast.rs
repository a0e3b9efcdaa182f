//! Colour that always reads: the stylesheet's own text/background pairs in the light and
//! the dark theme, and a portal's accent stylesheet for colours a client may pick (the
//! trial's unreadable yellow among them), all at WCAG AA contrast (4.5:1) or better.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use gatehouse::domain::colour::{AA_TEXT, Rgb, contrast};
use gatehouse::service::admin::AdminActor;
use gatehouse::service::clients::ClientUpdate;

use crate::common::TestApp;

const CSS: &str = include_str!("../assets/gatehouse.css");

/// The custom properties set in the block that starts at `from` (the first `:root {`
/// after it).
fn variables(css: &str, from: &str) -> BTreeMap<String, Rgb> {
    let start = css.find(from).expect("block present");
    let root = start + css[start..].find(":root {").expect(":root block") + ":root {".len();
    let body = &css[root..root + css[root..].find('}').expect("block end")];
    body.split([';', '\n'])
        .filter_map(|line| {
            let (name, value) = line.trim().strip_prefix("--")?.split_once(':')?;
            let colour = Rgb::parse(value.trim().trim_end_matches(';'))?;
            Some((name.to_owned(), colour))
        })
        .collect()
}

/// Text colours and the backgrounds each is shown on.
const PAIRS: &[(&str, &[&str])] = &[
    ("ink", &["card", "bg", "field-bg"]),
    ("muted", &["card", "bg"]),
    ("accent-text", &["card", "bg"]),
    ("accent-ink", &["accent"]),
    ("danger", &["card", "error-bg"]),
    ("ok", &["card", "notice-bg"]),
    ("warn", &["card", "warn-bg"]),
];

fn check_theme(theme: &BTreeMap<String, Rgb>) -> Vec<String> {
    let mut failures = Vec::new();
    for (text, backgrounds) in PAIRS {
        for bg in *backgrounds {
            let (t, b) = (theme[*text], theme[*bg]);
            let ratio = contrast(t, b);
            if ratio < AA_TEXT {
                failures.push(format!("--{text} on --{bg}: {ratio:.2}:1"));
            }
        }
    }
    failures
}

#[test]
fn the_light_and_dark_themes_read_at_aa() {
    let light = variables(CSS, ":root {");
    let mut dark = light.clone();
    dark.extend(variables(CSS, "@media (prefers-color-scheme: dark)"));
    assert_ne!(light["card"], dark["card"], "a dark theme exists");
    for (name, theme) in [("light", &light), ("dark", &dark)] {
        let failures = check_theme(theme);
        assert!(failures.is_empty(), "{name} theme: {failures:?}");
    }
    // White text on the danger buttons.
    assert!(contrast(Rgb(255, 255, 255), light["danger-fill"]) >= AA_TEXT);
}

/// The accent stylesheet a portal with `accent` serves.
async fn brand_css(accent: &str) -> String {
    let app = TestApp::new().await;
    app.services
        .create_client(AdminActor::cli(), "tint".into(), "Tint Ltd".into())
        .await
        .unwrap();
    app.services
        .update_client(
            AdminActor::cli(),
            "tint".into(),
            ClientUpdate {
                accent: Some(accent.into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let mut visitor = app.browser();
    let login = visitor.get("/p/tint/login").await;
    let href = login
        .body
        .split("href=\"")
        .map(|rest| rest.split('"').next().unwrap().replace("&amp;", "&"))
        .find(|href| href.starts_with("/p/tint/brand.css"))
        .expect("brand.css linked");
    let css = visitor.get(&href).await;
    assert_eq!(css.status, StatusCode::OK);
    css.body
}

#[actix_web::test]
async fn any_accent_gets_text_that_reads_in_both_themes() {
    let light = variables(CSS, ":root {");
    let mut dark = light.clone();
    dark.extend(variables(CSS, "@media (prefers-color-scheme: dark)"));
    // The trial's yellow, a pale pastel, pure white, mid grey, and dark navy.
    for accent in ["#f5e663", "#ffe4f0", "#ffffff", "#808080", "#0b1f3a"] {
        let css = brand_css(accent).await;
        let mut portal_light = light.clone();
        portal_light.extend(variables(&css, ":root {"));
        let mut portal_dark = dark.clone();
        portal_dark.extend(variables(&css, ":root {"));
        portal_dark.extend(variables(&css, "@media (prefers-color-scheme: dark)"));
        assert_eq!(portal_light["accent"], Rgb::parse(accent).unwrap(), "{css}");
        for (name, theme) in [("light", &portal_light), ("dark", &portal_dark)] {
            let failures = check_theme(theme);
            assert!(
                failures.is_empty(),
                "{accent}, {name} theme: {failures:?}\n{css}"
            );
        }
    }
}
