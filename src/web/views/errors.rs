//! The error page.

use maud::{Markup, html};

use super::layout::{Chrome, page as layout};

pub fn page(title: &str, message: &str) -> Markup {
    layout(
        &Chrome::plain(title),
        html! {
            section.card {
                h1 { (title) }
                p { (message) }
                p { a href="/" { "Go to the start page" } }
            }
        },
    )
}
