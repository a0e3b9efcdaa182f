//! The emails Gatehouse sends, as plain text plus a simple HTML part, branded with the
//! realm's name and accent colour. Links come in already built from `public_url`; this
//! module never sees a request.

use maud::{Markup, html};

/// The look of an email: whose name it carries and its accent colour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Branding {
    /// "Gatehouse" (or the organisation's name) for staff, the client's display name for a portal.
    pub name: String,
    /// `#rrggbb` (validated when a client's accent is saved).
    pub accent: String,
}

/// The default accent, the same as the pages' stylesheet.
pub const DEFAULT_ACCENT: &str = "#1f4e79";

impl Branding {
    pub fn staff() -> Branding {
        Branding {
            name: "Gatehouse".to_owned(),
            accent: DEFAULT_ACCENT.to_owned(),
        }
    }

    /// The staff emails' look: the organisation's name when the admin set one.
    pub fn staff_of(branding: &crate::domain::branding::StaffBranding) -> Branding {
        Branding {
            name: branding.name().to_owned(),
            ..Branding::staff()
        }
    }
}

/// One email ready to queue.
#[derive(Clone, PartialEq, Eq)]
pub struct Mail {
    /// The recipient's address.
    pub to: String,
    /// The recipient's display name (may be empty).
    pub to_name: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// What kind of mail this is, for the admin's Email page ("password reset"…).
    pub kind: &'static str,
}

impl std::fmt::Debug for Mail {
    // The bodies may hold a reset or invitation link: never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mail")
            .field("to", &self.to)
            .field("subject", &self.subject)
            .field("kind", &self.kind)
            .finish()
    }
}

/// Who an email goes to.
#[derive(Debug, Clone)]
pub struct Recipient {
    pub email: String,
    pub name: String,
}

/// The common frame: a coloured header with the brand's name, the paragraphs, an
/// optional button, and a footer line.
struct Body<'a> {
    brand: &'a Branding,
    heading: &'a str,
    paragraphs: &'a [String],
    button: Option<(&'a str, &'a str)>,
    footer: &'a str,
}

fn render_html(b: &Body) -> Markup {
    html! {
        (maud::DOCTYPE)
        html lang="en" {
            head { meta charset="utf-8"; title { (b.heading) } }
            body style="margin:0;padding:0;background:#f4f5f7;font-family:Arial,Helvetica,sans-serif;color:#1b1f24" {
                table role="presentation" width="100%" cellpadding="0" cellspacing="0" {
                    tr { td style={"background:" (b.brand.accent) ";color:#ffffff;padding:16px 24px;font-size:18px;font-weight:bold"} { (b.brand.name) } }
                    tr { td style="padding:24px;background:#ffffff" {
                        h1 style="font-size:20px;margin:0 0 16px 0" { (b.heading) }
                        @for p in b.paragraphs { p style="margin:0 0 12px 0;line-height:1.5" { (p) } }
                        @if let Some((label, url)) = b.button {
                            p style="margin:20px 0" {
                                a href=(url) style={"background:" (b.brand.accent) ";color:#ffffff;padding:10px 18px;text-decoration:none;border-radius:4px;display:inline-block"} { (label) }
                            }
                            p style="font-size:13px;color:#555;word-break:break-all" { "Or open this link: " a href=(url) { (url) } }
                        }
                    } }
                    tr { td style="padding:16px 24px;font-size:12px;color:#666" { (b.footer) } }
                }
            }
        }
    }
}

fn render_text(b: &Body) -> String {
    let mut out = format!("{}\n\n{}\n\n", b.brand.name, b.heading);
    for p in b.paragraphs {
        out.push_str(p);
        out.push_str("\n\n");
    }
    if let Some((label, url)) = b.button {
        out.push_str(&format!("{label}: {url}\n\n"));
    }
    out.push_str("-- \n");
    out.push_str(b.footer);
    out.push('\n');
    out
}

fn mail(to: &Recipient, subject: String, kind: &'static str, body: &Body) -> Mail {
    Mail {
        to: to.email.clone(),
        to_name: to.name.clone(),
        subject,
        text: render_text(body),
        html: render_html(body).into_string(),
        kind,
    }
}

const AUTOMATIC: &str = "This message was sent automatically; replies are not read.";

/// An invitation to set a password.
pub fn invitation(brand: &Branding, to: &Recipient, link: &str, valid_days: i64) -> Mail {
    let paragraphs = [
        format!(
            "You have been invited to sign in to {}. Choose your password with the button below.",
            brand.name
        ),
        format!("The link works once and for {valid_days} days."),
    ];
    mail(
        to,
        format!("Your invitation to {}", brand.name),
        "invitation",
        &Body {
            brand,
            heading: "You are invited",
            paragraphs: &paragraphs,
            button: Some(("Accept the invitation", link)),
            footer: AUTOMATIC,
        },
    )
}

/// A password reset link.
pub fn password_reset(brand: &Branding, to: &Recipient, link: &str, valid_minutes: i64) -> Mail {
    let paragraphs = [
        format!(
            "Someone asked to reset the password of your {} account ({}). If it was you, choose a new password with the button below.",
            brand.name, to.email
        ),
        format!(
            "The link works once and for {valid_minutes} minutes. Your authenticator app is still asked for at your next sign-in."
        ),
        "If you did not ask for this, ignore this message: your password stays as it is."
            .to_owned(),
    ];
    mail(
        to,
        format!("Reset your {} password", brand.name),
        "password reset",
        &Body {
            brand,
            heading: "Reset your password",
            paragraphs: &paragraphs,
            button: Some(("Choose a new password", link)),
            footer: AUTOMATIC,
        },
    )
}

/// A security notice: something changed on the account.
pub fn security_notice(
    brand: &Branding,
    to: &Recipient,
    what: &str,
    details: &[String],
    account_url: &str,
) -> Mail {
    let mut paragraphs = vec![format!("{what}.")];
    paragraphs.extend(details.iter().cloned());
    paragraphs.push(
        "If this was you, there is nothing to do. If not, change your password now and tell your administrator."
            .to_owned(),
    );
    mail(
        to,
        format!("{}: {}", brand.name, what.to_lowercase()),
        "security notice",
        &Body {
            brand,
            heading: "Security notice",
            paragraphs: &paragraphs,
            button: Some(("Review your account", account_url)),
            footer: AUTOMATIC,
        },
    )
}

/// The admin's test message.
pub fn test_message(brand: &Branding, to: &Recipient) -> Mail {
    let paragraphs = ["Email from Gatehouse works: this test message arrived.".to_owned()];
    mail(
        to,
        format!("{}: test email", brand.name),
        "test",
        &Body {
            brand,
            heading: "Test email",
            paragraphs: &paragraphs,
            button: None,
            footer: AUTOMATIC,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_escaped_in_html_and_links_kept_whole() {
        let brand = Branding {
            name: "A&B <Corp>".into(),
            accent: "#123456".into(),
        };
        let to = Recipient {
            email: "ann@example.com".into(),
            name: "Ann".into(),
        };
        let m = password_reset(&brand, &to, "https://login.example.com/reset/abc", 30);
        assert!(m.html.contains("A&amp;B &lt;Corp&gt;"));
        assert!(m.html.contains("#123456"));
        assert!(m.text.contains("https://login.example.com/reset/abc"));
        assert!(!format!("{m:?}").contains("/reset/"));
    }
}
