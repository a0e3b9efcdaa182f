//! The page frame every HTML response shares: head with our own stylesheet and the
//! optional progressive-enhancement script (no inline script or style anywhere), the
//! top bar, and the main column.

use maud::{DOCTYPE, Markup, html};

use super::components::csrf_input;
use crate::web::assets;

/// What the top bar shows for a signed-in user.
pub struct Nav<'a> {
    pub user_name: &'a str,
    pub account_url: String,
    pub logout_url: String,
    pub csrf: &'a str,
    /// Show the admin console link.
    pub admin: bool,
}

/// The frame around a page's content.
pub struct Chrome<'a> {
    pub title: &'a str,
    /// "Gatehouse" for staff pages, the client's name on its portal.
    pub brand: &'a str,
    pub nav: Option<Nav<'a>>,
    /// A client portal's accent stylesheet.
    pub style_url: Option<&'a str>,
    /// A client portal's logo, or the staff side's organisation logo.
    pub logo_url: Option<&'a str>,
    /// The logo shown large on a sign-in card (staff pages with a logo).
    pub card_logo: Option<CardLogo<'a>>,
    /// The line at the foot of the page: "Protected by Gatehouse" on staff pages, the
    /// client's own line (or nothing) on its portal.
    pub footer: Option<&'a str>,
}

/// A logo standing on its own above a card's heading, so with a text alternative.
#[derive(Clone, Copy)]
pub struct CardLogo<'a> {
    pub url: &'a str,
    pub alt: &'a str,
}

/// The footer of staff pages.
pub const STAFF_FOOTER: &str = "Protected by Gatehouse";

impl<'a> Chrome<'a> {
    /// A staff-side page without a signed-in user.
    pub fn plain(title: &'a str) -> Chrome<'a> {
        Chrome {
            title,
            brand: "Gatehouse",
            nav: None,
            style_url: None,
            logo_url: None,
            card_logo: None,
            footer: Some(STAFF_FOOTER),
        }
    }
}

pub fn page(chrome: &Chrome, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                title { (chrome.title) " · " (chrome.brand) }
                link rel="stylesheet" href=(assets::url("gatehouse.css"));
                @if let Some(style) = chrome.style_url {
                    link rel="stylesheet" href=(style);
                }
                link rel="icon" href=(assets::url("favicon.svg")) type="image/svg+xml";
                script src=(assets::url("gatehouse.js")) defer {}
                script src=(assets::url("passkeys.js")) defer {}
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.topbar {
                    span.brand {
                        @if let Some(logo) = chrome.logo_url {
                            img.logo src=(logo) alt="" height="28";
                        }
                        (chrome.brand)
                    }
                    @if let Some(nav) = &chrome.nav {
                        nav.usernav aria-label="Account" {
                            @if nav.admin {
                                a href=(crate::web::paths::ADMIN) { "Admin" }
                            }
                            a href=(nav.account_url) { (nav.user_name) }
                            form.inline method="post" action=(nav.logout_url) {
                                (csrf_input(nav.csrf))
                                button.link type="submit" { "Sign out" }
                            }
                        }
                    }
                }
                main #main .container {
                    (content)
                }
                @if let Some(footer) = chrome.footer {
                    footer.footer { (footer) }
                }
            }
        }
    }
}
