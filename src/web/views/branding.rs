//! The admin console's "Branding" page: the organisation name and logo of the staff
//! pages (sign-in, account, admin console, staff emails). Portals have their own,
//! on each client's page.

use maud::{Markup, html};

use super::admin::admin_nav_at;
use super::components::{Field, csrf_input, error_banner, notice_banner};
use super::layout::{Chrome, page};
use crate::domain::branding::ORG_NAME_LIMIT;
use crate::domain::client::LOGO_LIMIT;
use crate::web::paths;

/// The branding page.
pub struct BrandingView<'a> {
    pub chrome: Chrome<'a>,
    pub csrf: &'a str,
    /// The organisation name as stored, or what the admin just typed after an error.
    pub org_name: &'a str,
    /// The current logo's address (with its cache-busting version), if one is set.
    pub logo_url: Option<&'a str>,
    /// The text alternative the logo has on the sign-in card.
    pub logo_alt: &'a str,
    pub error: Option<&'a str>,
    pub notice: Option<&'a str>,
}

pub fn branding_page(vm: &BrandingView) -> Markup {
    let name_hint = format!(
        "Shown instead of “Gatehouse” on the staff sign-in, account and admin pages, in page titles and in staff emails. One line, at most {ORG_NAME_LIMIT} characters; empty: “Gatehouse”."
    );
    let logo_hint = format!(
        "A PNG or JPEG of at most {} KiB, shown on the staff sign-in card and in the top bar of staff pages.",
        LOGO_LIMIT / 1024
    );
    page(
        &vm.chrome,
        html! {
            (admin_nav_at(Some(paths::ADMIN_BRANDING)))
            h1 { "Branding of the staff pages" }
            (error_banner(vm.error))
            (notice_banner(vm.notice))
            p { "What your colleagues see when they sign in. Each client's portal has its own name, colour and logo on the client's page; these settings never show there." }
            section.card {
                h2 { "Organisation name" }
                form method="post" action=(paths::ADMIN_BRANDING) {
                    (csrf_input(vm.csrf))
                    (Field::new("org_name", "Organisation name", "text", "organization").value(vm.org_name).optional().hint(&name_hint).render())
                    button.primary type="submit" { "Save name" }
                }
            }
            section.card {
                h2 { "Logo" }
                p.small { (logo_hint) }
                @if let Some(url) = vm.logo_url {
                    p { img.logo src=(url) alt=(vm.logo_alt) height="40"; }
                }
                form method="post" action=(paths::ADMIN_BRANDING_LOGO) enctype="multipart/form-data" {
                    (csrf_input(vm.csrf))
                    div.field {
                        label for="logo" { "Image file" }
                        input #logo type="file" name="logo" accept="image/png,image/jpeg" required;
                    }
                    button.secondary type="submit" { "Upload logo" }
                }
                @if vm.logo_url.is_some() {
                    form method="post" action=(paths::ADMIN_BRANDING) {
                        (csrf_input(vm.csrf))
                        input type="hidden" name="action" value="remove-logo";
                        button.secondary type="submit" { "Remove logo" }
                    }
                }
            }
        },
    )
}
