//! Users in the admin console, for staff or for one client's portal: the list with
//! the invitation form, and one user with the actions an admin can take.

use maud::{Markup, html};

use super::admin::admin_nav_at;
use super::components::{Field, copy_field, csrf_input, error_banner, notice_banner};
use super::layout::{Chrome, page};
use crate::domain::time::Timestamp;
use crate::domain::user::{Role, SsoLink, UserId, UserStatus};
use crate::web::paths;

/// A user as the admin pages show them: no password hash, no sealed authenticator
/// secret, no recovery-code hashes — only whether they exist.
pub struct UserFacts {
    pub id: UserId,
    pub email: String,
    /// The display name, or the email when there is none.
    pub name: String,
    pub role: Role,
    pub status: UserStatus,
    pub break_glass: bool,
    pub totp: bool,
    pub recovery_codes_left: usize,
    pub sso_links: Vec<SsoLink>,
    pub created_at: Timestamp,
    pub last_login_at: Option<Timestamp>,
}

/// Whose users a page shows.
pub struct Scope<'a> {
    /// "Staff users" or "Users of Acme".
    pub title: &'a str,
    /// `/admin/users` or `/admin/clients/{slug}/users`.
    pub base: &'a str,
    /// Staff users have roles an admin can change.
    pub roles: bool,
}

/// The user list with the invite form.
pub struct UsersView<'a> {
    pub chrome: Chrome<'a>,
    pub scope: Scope<'a>,
    pub csrf: &'a str,
    pub users: &'a [UserFacts],
    pub error: Option<&'a str>,
    pub notice: Option<&'a str>,
    /// An invitation just created: (email, link).
    pub invited: Option<(&'a str, &'a str)>,
    /// The invitation was also emailed.
    pub invite_emailed: bool,
}

pub fn users_page(vm: &UsersView) -> Markup {
    let scope = &vm.scope;
    page(
        &vm.chrome,
        html! {
            (admin_nav_at(Some(if vm.scope.roles { paths::ADMIN_USERS } else { paths::ADMIN_CLIENTS })))
            h1 { (scope.title) }
            (error_banner(vm.error))
            (notice_banner(vm.notice))
            @if let Some((email, link)) = vm.invited {
                section.card.highlight {
                    h2 { "Invitation for " (email) }
                    @if vm.invite_emailed {
                        p { "We emailed the invitation. You can also send this link yourself; it works once and expires in 7 days." }
                    } @else {
                        p { "Send this link to them. It works once and expires in 7 days." }
                    }
                    (copy_field("invite-link", "Invitation link", link))
                }
            }
            section.card {
                table {
                    thead { tr { th { "Name" } th { "Email" } @if scope.roles { th { "Role" } } th { "Status" } th { "Authenticator" } th { "Microsoft" } th { "Last sign-in" } } }
                    tbody {
                        @for u in vm.users {
                            tr {
                                td { a href=(format!("{}/{}", scope.base, u.id)) { (u.name) } }
                                td { (u.email) }
                                @if scope.roles {
                                    td { (u.role.as_str()) @if u.break_glass { " " span.tag { "break-glass" } } }
                                }
                                td { (u.status.as_str()) }
                                td { @if u.totp { "yes" } @else { "no" } }
                                td { @if u.sso_links.is_empty() { "no" } @else { "linked" } }
                                td { @if let Some(t) = u.last_login_at { (t.to_display()) } @else { "never" } }
                            }
                        }
                    }
                }
                @if vm.users.is_empty() {
                    p.small { "No users yet." }
                }
            }
            section.card {
                h2 { "Invite a user" }
                form method="post" action=(scope.base) {
                    (csrf_input(vm.csrf))
                    (Field::new("email", "Email", "email", "off").render())
                    (Field::new("name", "Name", "text", "off").optional().render())
                    @if scope.roles {
                        div.field {
                            label for="role" { "Role" }
                            select #role name="role" {
                                option value="member" selected { "member" }
                                option value="admin" { "admin" }
                            }
                        }
                    } @else {
                        input type="hidden" name="role" value="member";
                    }
                    button.primary type="submit" { "Create invitation" }
                }
            }
        },
    )
}

/// One user with the actions an admin can take.
pub struct UserView<'a> {
    pub chrome: Chrome<'a>,
    pub scope: Scope<'a>,
    pub csrf: &'a str,
    pub user: &'a UserFacts,
    pub sessions: usize,
    pub notice: Option<&'a str>,
    pub error: Option<&'a str>,
    /// A reset or invitation link just made: (what it is, the link).
    pub shown_link: Option<(&'a str, &'a str)>,
    /// Email is on: links made here are also emailed.
    pub mail_enabled: bool,
}

pub fn user_page(vm: &UserView) -> Markup {
    let u = vm.user;
    let id = u.id.to_string();
    let action = |name: &str, label: &str, class: &str| {
        html! {
            form.inline method="post" action=(format!("{}/{id}/{name}", vm.scope.base)) {
                (csrf_input(vm.csrf))
                button type="submit" class=(class) { (label) }
            }
        }
    };
    // Actions that cannot be undone at once lead to a page that says what they do.
    let confirmed = |name: &str, label: &str, class: &str| {
        html! {
            a.button class=(class) href=(format!("{}/{id}/{name}", vm.scope.base)) { (label) }
        }
    };
    page(
        &vm.chrome,
        html! {
            (admin_nav_at(Some(if vm.scope.roles { paths::ADMIN_USERS } else { paths::ADMIN_CLIENTS })))
            p.small { a href=(vm.scope.base) { "← " (vm.scope.title) } }
            h1 { (u.name) }
            (error_banner(vm.error))
            (notice_banner(vm.notice))
            @if let Some((what, link)) = vm.shown_link {
                section.card.highlight {
                    h2 { (what) }
                    p {
                        @if vm.mail_enabled { "It was emailed to " (u.email) ". You can also pass this link on yourself; it works once." }
                        @else { "Send this link to " (u.email) ". It works once." }
                    }
                    (copy_field("shown-link", what, link))
                }
            }
            section.card {
                dl.facts {
                    dt { "Email" } dd { (u.email) }
                    @if vm.scope.roles { dt { "Role" } dd { (u.role.as_str()) } }
                    dt { "Status" } dd { (u.status.as_str()) }
                    dt { "Authenticator app" } dd { @if u.totp { "set up (" (u.recovery_codes_left) " recovery codes left)" } @else { "not set up" } }
                    dt { "Microsoft accounts" } dd {
                        @if u.sso_links.is_empty() { "none" }
                        @for link in &u.sso_links { (link.username) " (linked " (link.linked_at.to_display()) ") " }
                    }
                    @if vm.scope.roles { dt { "Break-glass" } dd { @if u.break_glass { "yes (set from the command line)" } @else { "no" } } }
                    dt { "Sessions" } dd { (vm.sessions) }
                    dt { "User id" } dd { code { (id) } }
                    dt { "Created" } dd { (u.created_at.to_display()) }
                }
            }
            section.card {
                h2 { "Actions" }
                div.actions {
                    @if u.status == UserStatus::Disabled {
                        (action("enable", "Enable", "secondary"))
                    } @else {
                        (confirmed("disable", "Disable and sign out…", "danger"))
                    }
                    @if u.status == UserStatus::Invited {
                        (action("resend-invite", "Resend invitation", "secondary"))
                    }
                    @if u.status == UserStatus::Active {
                        (action("reset-password", "Send password reset link", "secondary"))
                    }
                    (confirmed("reset-mfa", "Reset authenticator…", "secondary"))
                    (confirmed("revoke-sessions", "Sign out everywhere…", "secondary"))
                    @if vm.scope.roles {
                        @if u.role == Role::Admin {
                            (action("make-member", "Make member", "secondary"))
                        } @else {
                            (action("make-admin", "Make admin", "secondary"))
                        }
                    }
                }
            }
            section.card {
                h2 { "Change email address" }
                form method="post" action=(format!("{}/{id}/set-email", vm.scope.base)) {
                    (csrf_input(vm.csrf))
                    (Field::new("new_email", "New email", "email", "off").render())
                    button.secondary type="submit" { "Change email" }
                }
            }
            section.card {
                h2 { "Remove user" }
                p { "Removes the user for good with their authenticator, recovery codes, linked Microsoft accounts, sessions and open invitation. The audit log keeps the event; the address can be invited again." }
                form method="post" action=(format!("{}/{id}/remove", vm.scope.base)) {
                    (csrf_input(vm.csrf))
                    div.field {
                        label { input type="checkbox" name="confirm" value="yes"; " Yes, remove " (u.email) }
                    }
                    button.danger type="submit" { "Remove user" }
                }
            }
        },
    )
}
