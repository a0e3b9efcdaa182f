//! The connection test of an app registration against Microsoft, one routine for the
//! staff app and for the portal app in a client's tenant: discovery for the tenant,
//! then the app's client credentials there, each reported as a line an admin can act
//! on. It records nothing; the callers decide what a pass means and audit it.

use super::AppConfig;
use super::client::EntraError;
use super::settings::TestItem;
use crate::domain::entra::explain_aadsts;
use crate::domain::time::Timestamp;
use crate::service::Services;

/// Which app registration is tested: the words of the report differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tested {
    /// The staff app in the business's own tenant; its signing keys are listed.
    Staff,
    /// The portal app in a client's tenant, where a refused secret usually means
    /// the client's admin has not consented yet.
    Portal,
}

impl Tested {
    fn tenant_item(self) -> &'static str {
        match self {
            Tested::Staff => "Tenant and discovery document",
            Tested::Portal => "Client's tenant",
        }
    }

    fn credentials_item(self) -> &'static str {
        match self {
            Tested::Staff => "Client ID and secret",
            Tested::Portal => "Portal app in the client's tenant",
        }
    }

    fn credentials_detail(self, result: Result<(), EntraError>) -> String {
        match (self, result) {
            (Tested::Staff, Ok(())) => "Accepted by Microsoft".to_owned(),
            (Tested::Portal, Ok(())) => {
                "Consent granted: the portal app is present in the client's tenant".to_owned()
            }
            (
                Tested::Portal,
                Err(EntraError::Refused {
                    code: Some(700016),
                    ..
                }),
            ) => "Consent not granted yet: send the admin-consent link to the client's Entra administrator (AADSTS700016)".to_owned(),
            (_, Err(e)) => explain(&e),
        }
    }
}

/// What a connection test found.
#[derive(Debug)]
pub(crate) struct Probe {
    pub items: Vec<TestItem>,
    /// The tenant id discovery reported, when it succeeded.
    pub tenant_id: Option<String>,
}

fn item(name: &str, passed: bool, detail: String) -> TestItem {
    TestItem {
        name: name.to_owned(),
        passed,
        warning: false,
        detail,
    }
}

impl Services {
    /// Tests `app` in `tenant` (an id or a verified domain) against Microsoft.
    pub(crate) async fn probe_app(
        &self,
        tested: Tested,
        tenant: &str,
        app: &AppConfig,
        now: Timestamp,
    ) -> Probe {
        let mut items = Vec::new();
        let mut tenant_id = None;
        match self.entra.discover(tenant, now).await {
            Ok(provider) => {
                items.push(item(
                    tested.tenant_item(),
                    true,
                    format!("Found; issuer {}", provider.issuer),
                ));
                if tested == Tested::Staff {
                    items.push(item(
                        "Signing keys",
                        true,
                        format!("{} RSA signing key(s) published", provider.key_count()),
                    ));
                }
                tenant_id = Some(provider.tenant_id.clone());
                let credentials = self
                    .entra
                    .client_credentials(
                        &provider.token_endpoint,
                        &app.client_id,
                        &app.client_secret,
                    )
                    .await;
                items.push(item(
                    tested.credentials_item(),
                    credentials.is_ok(),
                    tested.credentials_detail(credentials),
                ));
            }
            Err(EntraError::NoSigningKey) if tested == Tested::Staff => {
                items.push(item(tested.tenant_item(), true, "Found".to_owned()));
                items.push(item(
                    "Signing keys",
                    false,
                    "Microsoft published no RSA signing key for this tenant.".to_owned(),
                ));
            }
            Err(e) => items.push(item(tested.tenant_item(), false, explain(&e))),
        }
        Probe { items, tenant_id }
    }
}

/// An Entra failure in words an admin can act on.
pub fn explain(e: &EntraError) -> String {
    match e {
        EntraError::Refused { code: Some(code), description, .. } => match explain_aadsts(*code) {
            Some(text) => format!("{text} (AADSTS{code})"),
            None => format!("Microsoft said: {description}"),
        },
        EntraError::Refused { description, .. } => format!("Microsoft said: {description}"),
        EntraError::Unreachable(why) => format!("Microsoft could not be reached ({why}). Check the server's internet access and entra.authority_host."),
        EntraError::Redirected => "Microsoft answered with a redirect; Gatehouse never follows redirects. Check entra.authority_host.".to_owned(),
        EntraError::IssuerMismatch { expected, found } => format!("The discovery document names issuer {found}, expected {expected}."),
        EntraError::BadResponse(why) => format!("Unexpected answer from Microsoft: {why}."),
        EntraError::NoSigningKey => "No RSA signing key is published for this tenant.".to_owned(),
        EntraError::Token(why) => format!("Token refused: {why}."),
    }
}
