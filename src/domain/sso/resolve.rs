//! Who a verified sign-in is here (DESIGN §3), as a pure decision over what the token
//! says and whom the store already knows:
//! 1. the (tenant, subject) linked to an active user of the realm → sign in;
//! 2. else an invited user of the realm with the token's email, and the token came
//!    from the realm's own tenant with a verified email → link and sign in;
//! 3. else, with just-in-time provisioning on and the email's domain allowed (empty
//!    list = any), again only from the own tenant with a verified email → create;
//! 4. else refuse, with the reason for the audit trail.
//!
//! Email never links or provisions across tenants (nOAuth), nor when the provider
//! does not vouch for the address. Reading the users and applying the decision is the
//! service's job; nothing here touches the store.

use crate::domain::user::{Email, User, UserStatus};

/// What the identity provider vouched for, as far as resolution needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Presented {
    /// The address to match invitations and to name new users: `email`, else a
    /// `preferred_username` that looks like one.
    pub email: Option<Email>,
    /// A guest (B2B) account invited into the tenant from another directory.
    pub guest: bool,
    /// The token came from the tenant (or issuer) configured for the realm.
    pub from_own_tenant: bool,
    /// The provider vouches that the account owns `email`. For Entra the directory of
    /// the realm's own tenant is trusted for its accounts' addresses, so the Entra
    /// caller sets this to `from_own_tenant`; a generic provider passes its
    /// `email_verified` claim.
    pub email_verified: bool,
}

/// The realm's rules for letting a new account in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Admission<'a> {
    /// Just-in-time provisioning is on.
    pub jit: bool,
    /// Email domains that may be provisioned; empty = any user of the tenant.
    pub allowed_domains: &'a [String],
    /// Guest (B2B) accounts of the tenant may sign in.
    pub allow_guests: bool,
}

impl Admission<'_> {
    /// Whether `domain` may be provisioned just in time (case-insensitive).
    pub fn domain_allowed(&self, domain: &str) -> bool {
        self.allowed_domains.is_empty()
            || self
                .allowed_domains
                .iter()
                .any(|d| d.eq_ignore_ascii_case(domain))
    }
}

/// Whom the store already knows for this sign-in.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Known {
    /// The user of the realm linked to the token's (tenant, subject), if any.
    pub linked: Option<User>,
    /// The user of the realm with the token's email, if any. Only consulted when
    /// nobody is linked.
    pub by_email: Option<User>,
}

/// Why a sign-in is refused, as the user is told.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// Nobody here matches the account and it may not be created.
    NotRegistered,
    /// An account with this email exists here but is not linked.
    NotLinked,
    /// The matching account is disabled (or, when linked, not active).
    Disabled,
}

/// The decision for one sign-in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resolution {
    /// The linked, active user: sign them in.
    SignIn(User),
    /// The invited user with this email: link the account, activate, sign in.
    LinkInvited(User),
    /// Nobody has this email and the realm provisions it: create an active member.
    ProvisionJit(Email),
    /// Nobody may sign in; the text goes to the audit trail.
    Refuse(Refused, String),
}

/// Applies DESIGN §3's four steps (see the module docs).
pub fn resolve(presented: &Presented, admission: &Admission<'_>, known: Known) -> Resolution {
    if presented.guest && !admission.allow_guests {
        return refuse(
            Refused::NotRegistered,
            "guest accounts may not sign in here".to_owned(),
        );
    }
    if let Some(user) = known.linked {
        if !user.is_active() {
            return refuse(
                Refused::Disabled,
                format!("linked account {} is {}", user.email, user.status.as_str()),
            );
        }
        return Resolution::SignIn(user);
    }
    let Some(email) = &presented.email else {
        return refuse(
            Refused::NotRegistered,
            "token has no usable email or username".to_owned(),
        );
    };
    if !presented.from_own_tenant {
        return refuse(
            Refused::NotRegistered,
            format!("{email}: token not from the realm's own tenant; email is not matched"),
        );
    }
    if !presented.email_verified {
        return refuse(
            Refused::NotRegistered,
            format!("{email}: email not verified by the provider; email is not matched"),
        );
    }
    match known.by_email {
        Some(invited) if invited.status == UserStatus::Invited => Resolution::LinkInvited(invited),
        Some(existing) if existing.status == UserStatus::Disabled => {
            refuse(Refused::Disabled, format!("{} is disabled", existing.email))
        }
        Some(existing) => refuse(
            Refused::NotLinked,
            format!(
                "{} exists but is not linked to this Microsoft account",
                existing.email
            ),
        ),
        None if admission.jit && admission.domain_allowed(email.domain()) => {
            Resolution::ProvisionJit(email.clone())
        }
        None if admission.jit => refuse(
            Refused::NotRegistered,
            format!("{email}: domain not allowed for just-in-time provisioning"),
        ),
        None => refuse(
            Refused::NotRegistered,
            format!("{email}: not registered and just-in-time provisioning is off"),
        ),
    }
}

fn refuse(refused: Refused, reason: String) -> Resolution {
    Resolution::Refuse(refused, reason)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::time::Timestamp;
    use crate::domain::user::{Realm, Role};

    fn user(email: &str, status: UserStatus) -> User {
        User::new(
            Realm::Staff,
            Email::parse(email).unwrap(),
            String::new(),
            Role::Member,
            status,
            Timestamp(0),
        )
    }

    /// A token from the realm's own tenant with a verified address.
    fn own(email: &str) -> Presented {
        Presented {
            email: Email::parse(email).ok(),
            guest: false,
            from_own_tenant: true,
            email_verified: true,
        }
    }

    fn by_email(user: User) -> Known {
        Known {
            linked: None,
            by_email: Some(user),
        }
    }

    const ANY: &[String] = &[];

    fn open<'a>(domains: &'a [String]) -> Admission<'a> {
        Admission {
            jit: true,
            allowed_domains: domains,
            allow_guests: true,
        }
    }

    fn closed() -> Admission<'static> {
        Admission {
            jit: false,
            allowed_domains: ANY,
            allow_guests: true,
        }
    }

    fn refused(resolution: &Resolution) -> Option<(Refused, &str)> {
        match resolution {
            Resolution::Refuse(kind, reason) => Some((*kind, reason.as_str())),
            _ => None,
        }
    }

    #[test]
    fn a_linked_active_user_signs_in_whatever_the_email_says() {
        let ann = user("ann@contoso.com", UserStatus::Active);
        let known = Known {
            linked: Some(ann.clone()),
            by_email: None,
        };
        for presented in [own("someone.else@contoso.com"), own("not an address")] {
            assert_eq!(
                resolve(&presented, &closed(), known.clone()),
                Resolution::SignIn(ann.clone())
            );
        }
    }

    #[test]
    fn a_linked_user_who_is_not_active_is_refused_with_their_status() {
        for (status, reason) in [
            (
                UserStatus::Disabled,
                "linked account ann@contoso.com is disabled",
            ),
            (
                UserStatus::Invited,
                "linked account ann@contoso.com is invited",
            ),
        ] {
            let known = Known {
                linked: Some(user("ann@contoso.com", status)),
                by_email: None,
            };
            let resolution = resolve(&own("ann@contoso.com"), &open(ANY), known);
            assert_eq!(refused(&resolution), Some((Refused::Disabled, reason)));
        }
    }

    #[test]
    fn guests_are_refused_unless_the_realm_allows_them() {
        let mut guest = own("guest@fabrikam.com");
        guest.guest = true;
        let linked = Known {
            linked: Some(user("guest@fabrikam.com", UserStatus::Active)),
            by_email: None,
        };
        let mut no_guests = open(ANY);
        no_guests.allow_guests = false;
        for known in [linked.clone(), Known::default()] {
            assert_eq!(
                refused(&resolve(&guest, &no_guests, known)),
                Some((
                    Refused::NotRegistered,
                    "guest accounts may not sign in here"
                ))
            );
        }
        assert!(matches!(
            resolve(&guest, &open(ANY), linked),
            Resolution::SignIn(_)
        ));
        assert!(matches!(
            resolve(&guest, &open(ANY), Known::default()),
            Resolution::ProvisionJit(_)
        ));
    }

    /// Every way a guest or member may meet the store, with guests allowed or not:
    /// a guest never gets past the setting, a member never meets it.
    #[test]
    fn the_guest_setting_decides_for_guests_only() {
        #[derive(Debug, PartialEq)]
        enum Want {
            SignIn,
            Link,
            Create,
            Refused(Refused),
        }
        let linked = Known {
            linked: Some(user("x@fabrikam.com", UserStatus::Active)),
            by_email: None,
        };
        let invited = by_email(user("x@fabrikam.com", UserStatus::Invited));
        let unknown = Known::default();
        let table = [
            // (guest, guests allowed, known, want)
            (true, false, &linked, Want::Refused(Refused::NotRegistered)),
            (true, false, &invited, Want::Refused(Refused::NotRegistered)),
            (true, false, &unknown, Want::Refused(Refused::NotRegistered)),
            (true, true, &linked, Want::SignIn),
            (true, true, &invited, Want::Link),
            (true, true, &unknown, Want::Create),
            (false, false, &linked, Want::SignIn),
            (false, false, &invited, Want::Link),
            (false, false, &unknown, Want::Create),
            (false, true, &unknown, Want::Create),
        ];
        for (guest, allow_guests, known, want) in table {
            let presented = Presented {
                guest,
                ..own("x@fabrikam.com")
            };
            let admission = Admission {
                allow_guests,
                ..open(ANY)
            };
            let got = match resolve(&presented, &admission, known.clone()) {
                Resolution::SignIn(_) => Want::SignIn,
                Resolution::LinkInvited(_) => Want::Link,
                Resolution::ProvisionJit(_) => Want::Create,
                Resolution::Refuse(kind, _) => Want::Refused(kind),
            };
            assert_eq!(
                got, want,
                "guest {guest}, allowed {allow_guests}, {known:?}"
            );
        }
    }

    #[test]
    fn an_invited_user_links_only_from_the_own_tenant_with_a_verified_email() {
        let invited = user("bob@contoso.com", UserStatus::Invited);
        for from_own_tenant in [true, false] {
            for email_verified in [true, false] {
                let presented = Presented {
                    from_own_tenant,
                    email_verified,
                    ..own("bob@contoso.com")
                };
                let resolution = resolve(&presented, &closed(), by_email(invited.clone()));
                if from_own_tenant && email_verified {
                    assert_eq!(resolution, Resolution::LinkInvited(invited.clone()));
                } else {
                    assert_eq!(
                        refused(&resolution).map(|r| r.0),
                        Some(Refused::NotRegistered)
                    );
                }
            }
        }
    }

    /// Whatever the store holds under the email and however open the realm is.
    fn every_email_match() -> Vec<Known> {
        let mut all: Vec<Known> = [
            UserStatus::Invited,
            UserStatus::Active,
            UserStatus::Disabled,
        ]
        .into_iter()
        .map(|s| by_email(user("bob@contoso.com", s)))
        .collect();
        all.push(Known::default());
        all
    }

    #[test]
    fn cross_tenant_email_never_links_or_provisions() {
        let foreign = Presented {
            from_own_tenant: false,
            ..own("bob@contoso.com")
        };
        let contoso = ["contoso.com".to_owned()];
        for admission in [open(ANY), open(&contoso), closed()] {
            for known in every_email_match() {
                let resolution = resolve(&foreign, &admission, known);
                assert_eq!(
                    refused(&resolution),
                    Some((
                        Refused::NotRegistered,
                        "bob@contoso.com: token not from the realm's own tenant; email is not matched"
                    )),
                    "{resolution:?}"
                );
            }
        }
    }

    #[test]
    fn an_unverified_email_never_links_or_provisions() {
        let unverified = Presented {
            email_verified: false,
            ..own("bob@contoso.com")
        };
        for admission in [open(ANY), closed()] {
            for known in every_email_match() {
                let resolution = resolve(&unverified, &admission, known);
                assert_eq!(
                    refused(&resolution),
                    Some((
                        Refused::NotRegistered,
                        "bob@contoso.com: email not verified by the provider; email is not matched"
                    )),
                    "{resolution:?}"
                );
            }
        }
    }

    #[test]
    fn an_existing_unlinked_user_is_never_linked_by_email() {
        let table = [
            (
                UserStatus::Active,
                Refused::NotLinked,
                "bob@contoso.com exists but is not linked to this Microsoft account",
            ),
            (
                UserStatus::Disabled,
                Refused::Disabled,
                "bob@contoso.com is disabled",
            ),
        ];
        for (status, kind, reason) in table {
            let resolution = resolve(
                &own("bob@contoso.com"),
                &open(ANY),
                by_email(user("bob@contoso.com", status)),
            );
            assert_eq!(refused(&resolution), Some((kind, reason)));
        }
    }

    #[test]
    fn a_token_without_a_usable_address_is_refused() {
        let resolution = resolve(&own("no address"), &open(ANY), Known::default());
        assert_eq!(
            refused(&resolution),
            Some((
                Refused::NotRegistered,
                "token has no usable email or username"
            ))
        );
    }

    #[test]
    fn just_in_time_only_for_allowed_domains_and_empty_means_any() {
        let contoso = ["Contoso.com".to_owned()];
        let table: [(&str, Admission<'_>, Option<&str>); 5] = [
            ("new@contoso.com", open(ANY), None),
            ("new@fabrikam.com", open(ANY), None),
            ("new@contoso.com", open(&contoso), None),
            (
                "new@fabrikam.com",
                open(&contoso),
                Some("new@fabrikam.com: domain not allowed for just-in-time provisioning"),
            ),
            (
                "new@contoso.com",
                closed(),
                Some("new@contoso.com: not registered and just-in-time provisioning is off"),
            ),
        ];
        for (email, admission, refusal) in table {
            let resolution = resolve(&own(email), &admission, Known::default());
            match refusal {
                None => assert_eq!(
                    resolution,
                    Resolution::ProvisionJit(Email::parse(email).unwrap())
                ),
                Some(reason) => {
                    assert_eq!(refused(&resolution), Some((Refused::NotRegistered, reason)))
                }
            }
        }
    }
}
