//! The provisioning page of a realm (staff, or one client's portal): the SCIM base
//! URL and tokens, the Entra steps to set it up, the last provisioning request, the
//! last Graph sweep, and which users are provisioned or checked by the sweep.

use maud::{Markup, html};

use super::admin::admin_nav;
use super::components::{copy_field, csrf_input, notice_banner};
use super::layout::{Chrome, page};
use crate::service::provisioning::{GraphPermission, ProvisioningOverview, last_used_text};

pub struct ProvisioningView<'a> {
    pub chrome: Chrome<'a>,
    pub csrf: &'a str,
    /// "Staff" or the client's name.
    pub realm_name: &'a str,
    /// The page's own path (forms post below it).
    pub base: &'a str,
    /// Where "back" goes.
    pub back: Option<(&'a str, &'a str)>,
    pub overview: &'a ProvisioningOverview,
    /// A token just made: shown this once.
    pub new_token: Option<&'a str>,
    pub notice: Option<&'a str>,
}

pub fn provisioning_page(vm: &ProvisioningView) -> Markup {
    let o = vm.overview;
    page(
        &vm.chrome,
        html! {
            (admin_nav())
            @if let Some((href, label)) = vm.back { p.small { a href=(href) { "← " (label) } } }
            h1 { "Provisioning and leavers — " (vm.realm_name) }
            (notice_banner(vm.notice))
            @if let Some(token) = vm.new_token {
                section.card.notice {
                    h2 { "New SCIM token" }
                    p { "Copy it now: it is shown only this once (only a hash is kept)." }
                    (copy_field("scim-token", "Secret Token", token))
                }
            }
            section.card {
                h2 { "SCIM provisioning from Entra" }
                (copy_field("scim-url", "Tenant URL (SCIM base URL)", &o.base_url))
                ol {
                    li { "In the Microsoft Entra admin center: " strong { "Enterprise applications → New application → Create your own application" } " (“Integrate any other application you don't find in the gallery”)." }
                    li { strong { "Provisioning → Get started" } ", mode " strong { "Automatic" } "; under " em { "Admin Credentials" } " paste the " strong { "Tenant URL" } " above and a " strong { "Secret Token" } " made below, then " strong { "Test Connection" } " and save." }
                    li { strong { "Mappings → Provision Microsoft Entra ID Users" } ": map " code { "objectId" } " → " code { "externalId" } " (Gatehouse links the Microsoft sign-in by this immutable object id, never by email), " code { "userPrincipalName" } " → " code { "userName" } ", " code { "mail" } " → " code { "emails[type eq \"work\"].value" } ", " code { "Switch([IsSoftDeleted], , \"False\", \"True\", \"True\", \"False\")" } " → " code { "active" } " (Entra's default)." }
                    li { "Assign users and groups to the application, then " strong { "Start provisioning" } ". Unassigned, disabled or deleted users are deactivated here and signed out at once." }
                }
                h3 { "Tokens" }
                @if o.tokens.is_empty() {
                    p { "No token yet." }
                } @else {
                    table {
                        thead { tr { th { "Id" } th { "Label" } th { "Created" } th { "Last used" } th {} } }
                        tbody {
                            @for t in &o.tokens {
                                tr {
                                    td { code { (t.id) } }
                                    td { (t.label) }
                                    td { (t.created_at.to_display()) }
                                    td { (last_used_text(t)) }
                                    td {
                                        form.inline method="post" action=(format!("{}/tokens/{}/revoke", vm.base, t.id)) {
                                            (csrf_input(vm.csrf))
                                            button.danger type="submit" { "Revoke" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                form method="post" action=(format!("{}/tokens", vm.base)) {
                    (csrf_input(vm.csrf))
                    div.field {
                        label for="label" { "Label" }
                        input id="label" name="label" type="text" value="Entra provisioning" maxlength="100";
                    }
                    button type="submit" { "Create token" }
                }
                h3 { "Last provisioning request" }
                @match &o.state.last_request {
                    Some(r) => p { (r.at.to_display()) " — " code { (r.method) " " (r.route) } " → " (r.status) },
                    None => p { "None yet." },
                }
            }
            section.card {
                h2 { "Leavers sweep (Microsoft Graph)" }
                p { "For servers Microsoft cannot reach: every hour Gatehouse asks Microsoft Graph about each user linked to the realm's tenant and disables those deleted or disabled in Entra, ending their sessions. It needs the " strong { "application" } " permission " code { "User.Read.All" } " (Microsoft Graph) on the app registration, with admin consent." }
                @match &o.connection {
                    None => p.warn { "This realm has no Microsoft connection (tenant id and app), so there is nothing to sweep." },
                    Some((tenant, permission)) => p {
                        "Tenant " code { (tenant) } ": "
                        @match permission {
                            GraphPermission::Granted => strong.ok { "User.Read.All granted" },
                            GraphPermission::NotGranted => strong.warn { "User.Read.All not granted (Graph answered 403)" },
                            GraphPermission::Unknown => "permission not checked yet",
                        }
                    },
                }
                @match &o.state.last_sweep {
                    Some(s) => {
                        p { "Last sweep " (s.at.to_display()) ": " @if s.is_ok() { strong.ok { (s.summary()) } } @else { strong.warn { (s.summary()) } } }
                        @if !s.disabled.is_empty() { p { "Disabled: " (s.disabled.join(", ")) } }
                    },
                    None => p { "No sweep yet." },
                }
                form method="post" action=(format!("{}/sweep", vm.base)) {
                    (csrf_input(vm.csrf))
                    button.secondary type="submit" { "Sweep now" }
                }
            }
            section.card {
                h2 { "Users" }
                table {
                    thead { tr { th { "Email" } th { "Status" } th { "Provisioned by SCIM" } th { "Checked by the sweep" } } }
                    tbody {
                        @for u in &o.users {
                            tr {
                                td { (u.email) }
                                td { (u.status) }
                                td { @if u.provisioned { "yes" } @else { "—" } }
                                td { @if u.sweep_managed { "yes" } @else { "—" } }
                            }
                        }
                    }
                }
            }
        },
    )
}
