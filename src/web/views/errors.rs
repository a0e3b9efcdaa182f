//! The error page.

use maud::{Markup, html};

use super::layout::{Chrome, page as layout};

pub fn page(title: &str, message: &str) -> Markup {
    page_with_link(title, message, "Go to the start page", "/")
}

/// An error page in a realm's own frame (a portal's branding), whose way out is
/// `href`, typically the realm's sign-in page.
pub fn page_in(chrome: Chrome, message: &str, link_text: &str, href: &str) -> Markup {
    let title = chrome.title;
    layout(
        &chrome,
        html! {
            section.card {
                h1 { (title) }
                p { (message) }
                p { a href=(href) { (link_text) } }
            }
        },
    )
}

/// An error page whose way out is `href` (e.g. the realm's sign-in page).
pub fn page_with_link(title: &str, message: &str, link_text: &str, href: &str) -> Markup {
    layout(
        &Chrome::plain(title),
        html! {
            section.card {
                h1 { (title) }
                p { (message) }
                p { a href=(href) { (link_text) } }
            }
        },
    )
}
