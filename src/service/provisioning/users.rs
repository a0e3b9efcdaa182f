//! SCIM Users of the caller's realm: list with a filter, get, create, replace, patch,
//! delete. Every user of the realm is a SCIM User (one made by an admin shows with
//! their email as `userName` until SCIM writes to them).
//!
//! Effects that matter: `active=false` disables the user and ends all their sessions
//! in the same transaction, so the very next forward-auth check refuses; DELETE
//! removes the user with their sessions. Provisioned users are active without an
//! invitation and never get a password: they sign in with the realm's Microsoft
//! connection, to which an `externalId` that is an Entra object id links them by
//! (tenant id, object id) — never by userName or email.

use std::sync::Arc;

use serde_json::Value;

use crate::domain::audit::{Actor, AuditEvent, AuditKind};
use crate::domain::provisioning::ProvisionedUser;
use crate::domain::scim::filter::{self, Filter, FilterAttr};
use crate::domain::scim::render::{self, Meta};
use crate::domain::scim::user::{UserAttrs, apply_patch, parse_resource};
use crate::domain::scim::{ScimError, ScimResult, patch_operations};
use crate::domain::time::Timestamp;
use crate::domain::user::{
    Email, Realm, Role, SsoLink, User, UserId, UserStatus, clean_display_name,
};
use crate::store::prelude::*;
use crate::store::{StoreError, Writer};

use super::ScimCaller;
use crate::service::admin::guard_last_admin;
use crate::service::{ServiceError, Services};

/// A service failure as a SCIM error: storage trouble is a 500 (detail in the log
/// only), a clash a 409 `uniqueness`.
pub(crate) fn scim_error(e: ServiceError) -> ScimError {
    match e {
        ServiceError::Store(StoreError::Conflict(why)) | ServiceError::Conflict(why) => {
            ScimError::uniqueness(why)
        }
        ServiceError::NotFound(what) => ScimError::not_found(what),
        ServiceError::Invalid(why) | ServiceError::Forbidden(why) => ScimError::invalid_value(why),
        other => {
            tracing::error!(error = %other, "SCIM request failed");
            ScimError::internal()
        }
    }
}

impl From<StoreError> for ScimError {
    fn from(e: StoreError) -> Self {
        scim_error(ServiceError::Store(e))
    }
}

impl From<ServiceError> for ScimError {
    fn from(e: ServiceError) -> Self {
        scim_error(e)
    }
}

/// An audit event by a SCIM caller.
pub(crate) fn by_scim(caller: &ScimCaller, kind: AuditKind) -> AuditEvent {
    AuditEvent::new(kind, Timestamp(0))
        .by(Actor::Anonymous, &format!("scim token {}", caller.token_id))
        .in_realm(caller.realm)
}

/// SCIM's view of `user`.
fn attrs_of(user: &User, record: Option<&ProvisionedUser>) -> UserAttrs {
    let display = (!user.display_name.trim().is_empty()).then(|| user.display_name.clone());
    UserAttrs {
        user_name: record.map_or_else(|| user.email.to_string(), |r| r.user_name.clone()),
        external_id: record.and_then(|r| r.external_id.clone()),
        given_name: record.and_then(|r| r.given_name.clone()),
        family_name: record.and_then(|r| r.family_name.clone()),
        formatted_name: record.and_then(|r| r.formatted_name.clone()),
        display_name: display,
        work_email: Some(user.email.to_string()),
        active: user.status != UserStatus::Disabled,
    }
}

/// A user id from a request path; anything malformed is just "not found".
pub(crate) fn user_id(text: &str) -> ScimResult<UserId> {
    uuid::Uuid::parse_str(text)
        .map(UserId)
        .map_err(|_| ScimError::not_found("User"))
}

/// The email a user gets from SCIM: the work email, else the userName.
fn email_of(attrs: &UserAttrs) -> ScimResult<Email> {
    match &attrs.work_email {
        Some(e) => Email::parse(e).map_err(|_| {
            ScimError::invalid_value("emails[type eq \"work\"].value is not an email address")
        }),
        None => Email::parse(&attrs.user_name).map_err(|_| {
            ScimError::invalid_value(
                "an email address is needed: a work email, or a userName that is one",
            )
        }),
    }
}

impl Services {
    fn user_json(&self, user: &User, record: Option<&ProvisionedUser>) -> Value {
        let base = self.scim_base_url();
        render::user(
            &attrs_of(user, record),
            &Meta {
                base: &base,
                id: user.id.to_string(),
                created: user.created_at,
                modified: record.map_or(user.updated_at, |r| r.updated_at.max(user.updated_at)),
            },
        )
    }

    /// The (tenant id, object id) identity `external_id` stands for in `realm`, when
    /// the realm has an Entra connection and it is an object id.
    fn entra_identity(
        &self,
        realm: Realm,
        external_id: Option<&str>,
    ) -> ScimResult<Option<(String, String)>> {
        let Some(oid) = external_id.and_then(|e| uuid::Uuid::parse_str(e).ok()) else {
            return Ok(None);
        };
        let connection = self.realm_entra_connection(realm)?;
        Ok(connection.map(|c| (c.tenant_id, oid.hyphenated().to_string())))
    }

    /// `GET /Users` with an optional filter, one page.
    pub async fn scim_list_users(
        self: &Arc<Self>,
        caller: ScimCaller,
        filter: Option<String>,
        start: usize,
        count: usize,
    ) -> ScimResult<Value> {
        let filter = filter.as_deref().map(filter::parse).transpose()?;
        let realm = caller.realm;
        self.blocking(move |s| {
            s.read(|r| {
                let matched = match &filter {
                    Some(f) => s.filtered_users(r, realm, f)?,
                    None => r.users_in_realm(realm)?,
                };
                let total = matched.len();
                let mut page = Vec::new();
                for user in matched.iter().skip(start - 1).take(count) {
                    let record = r.provisioned_user(realm, user.id)?;
                    page.push(s.user_json(user, record.as_ref()));
                }
                Ok(render::list(page, total, start))
            })
        })
        .await
        .map_err(scim_error)
    }

    /// The users of `realm` a filter selects (through the indexes where it can).
    fn filtered_users(
        &self,
        r: &impl Tables,
        realm: Realm,
        f: &Filter,
    ) -> crate::service::Result<Vec<User>> {
        let in_realm = |u: Option<User>| u.filter(|u| u.realm == realm);
        let found = match f.attr {
            FilterAttr::ExternalId => match r.user_id_by_external_id(realm, &f.value)? {
                Some(id) => in_realm(r.user(id)?),
                None => None,
            },
            FilterAttr::UserName => match r.user_id_by_user_name(realm, &f.value)? {
                Some(id) => in_realm(r.user(id)?),
                // A user SCIM never wrote to answers to their email.
                None => match Email::parse(&f.value) {
                    Ok(email) => match r.user_by_email(realm, &email)? {
                        Some(u) if r.provisioned_user(realm, u.id)?.is_none() => Some(u),
                        _ => None,
                    },
                    Err(_) => None,
                },
            },
            FilterAttr::Id => match uuid::Uuid::parse_str(&f.value) {
                Ok(id) => in_realm(r.user(UserId(id))?),
                Err(_) => None,
            },
            FilterAttr::Email => match Email::parse(&f.value) {
                Ok(email) => r.user_by_email(realm, &email)?,
                Err(_) => None,
            },
            FilterAttr::DisplayName => {
                return Ok(r
                    .users_in_realm(realm)?
                    .into_iter()
                    .filter(|u| f.matches(&u.display_name))
                    .collect());
            }
        };
        Ok(found.into_iter().collect())
    }

    /// `GET /Users/{id}`.
    pub fn scim_get_user(&self, caller: &ScimCaller, id: &str) -> ScimResult<Value> {
        let id = user_id(id)?;
        let realm = caller.realm;
        self.read(|r| {
            let user = r.user(id)?.filter(|u| u.realm == realm);
            let record = r.provisioned_user(realm, id)?;
            Ok(user.map(|u| self.user_json(&u, record.as_ref())))
        })?
        .ok_or_else(|| ScimError::not_found("User"))
    }

    /// `POST /Users`: an active member without a password (or disabled, when
    /// `active` is false), linked to their Entra identity when `externalId` is one.
    pub async fn scim_create_user(
        self: &Arc<Self>,
        caller: ScimCaller,
        body: Value,
    ) -> ScimResult<Value> {
        let attrs = parse_resource(&body)?;
        let email = email_of(&attrs)?;
        let link = self.entra_identity(caller.realm, attrs.external_id.as_deref())?;
        self.blocking(move |s| {
            s.write(|w| {
                let realm = caller.realm;
                if w.user_by_email(realm, &email)?.is_some()
                    || w.user_id_by_user_name(realm, &attrs.user_name)?.is_some()
                {
                    return Err(ServiceError::Conflict(
                        "a user with this userName or email exists".to_owned(),
                    ));
                }
                let now = s.clock.now();
                let status = if attrs.active {
                    UserStatus::Active
                } else {
                    UserStatus::Disabled
                };
                let name = clean_display_name(&attrs.shown_name());
                let mut user = User::new(realm, email.clone(), name, Role::Member, status, now);
                if let Some((tenant, oid)) = &link {
                    user.sso_links.push(SsoLink {
                        tenant: tenant.clone(),
                        subject: oid.clone(),
                        username: attrs.user_name.clone(),
                        linked_at: now,
                    });
                }
                w.put_user(&user)?;
                let record = ProvisionedUser {
                    user_name: attrs.user_name.clone(),
                    external_id: attrs.external_id.clone(),
                    given_name: attrs.given_name.clone(),
                    family_name: attrs.family_name.clone(),
                    formatted_name: attrs.formatted_name.clone(),
                    work_email: attrs.work_email.clone(),
                    linked: link.clone(),
                    created_by_scim: true,
                    provisioned_at: now,
                    updated_at: now,
                };
                w.put_provisioned_user(realm, user.id, &record)?;
                let linked = if link.is_some() {
                    ", Microsoft identity linked"
                } else {
                    ""
                };
                s.audit(
                    w,
                    by_scim(&caller, AuditKind::UserCreated)
                        .about(user.id, user.email.as_str())
                        .detail(format!(
                            "provisioned by SCIM ({}){linked}",
                            user.status.as_str()
                        )),
                )?;
                Ok(s.user_json(&user, Some(&record)))
            })
        })
        .await
        .map_err(scim_error)
    }

    /// `PUT /Users/{id}`: the resource replaces what SCIM keeps.
    pub async fn scim_replace_user(
        self: &Arc<Self>,
        caller: ScimCaller,
        id: &str,
        body: Value,
    ) -> ScimResult<Value> {
        let attrs = parse_resource(&body)?;
        self.scim_change_user(caller, id, move |current| {
            *current = UserAttrs { ..attrs };
            Ok(())
        })
        .await
    }

    /// `PATCH /Users/{id}` in either of Entra's dialects.
    pub async fn scim_patch_user(
        self: &Arc<Self>,
        caller: ScimCaller,
        id: &str,
        body: Value,
    ) -> ScimResult<Value> {
        let ops = patch_operations(&body)?;
        self.scim_change_user(caller, id, move |current| apply_patch(current, &ops))
            .await
    }

    /// Applies `change` to SCIM's view of user `id` and carries the result over to the
    /// user in one transaction.
    async fn scim_change_user(
        self: &Arc<Self>,
        caller: ScimCaller,
        id: &str,
        change: impl FnOnce(&mut UserAttrs) -> ScimResult<()> + Send + 'static,
    ) -> ScimResult<Value> {
        let id = user_id(id)?;
        let realm = caller.realm;
        let (before_user, before_record) = self.read(|r| {
            Ok((
                r.user(id)?.filter(|u| u.realm == realm),
                r.provisioned_user(realm, id)?,
            ))
        })?;
        let before_user = before_user.ok_or_else(|| ScimError::not_found("User"))?;
        let mut attrs = attrs_of(&before_user, before_record.as_ref());
        change(&mut attrs)?;
        let email = email_of(&attrs)?;
        let link = self.entra_identity(realm, attrs.external_id.as_deref())?;
        self.blocking(move |s| {
            s.write(|w| {
                let mut user = w
                    .user(id)?
                    .filter(|u| u.realm == realm)
                    .ok_or(ServiceError::NotFound("User"))?;
                let old = w.provisioned_user(realm, id)?;
                s.apply_attrs(w, &caller, &mut user, old, &attrs, email, link)
            })
        })
        .await
        .map_err(scim_error)
    }

    #[allow(clippy::too_many_arguments)]
    fn apply_attrs(
        &self,
        w: &mut Writer,
        caller: &ScimCaller,
        user: &mut User,
        old: Option<ProvisionedUser>,
        attrs: &UserAttrs,
        email: Email,
        link: Option<(String, String)>,
    ) -> crate::service::Result<Value> {
        let now = self.clock.now();
        user.email = email;
        let name = clean_display_name(&attrs.shown_name());
        if !name.is_empty() {
            user.display_name = name;
        }
        let previous_link = old.as_ref().and_then(|o| o.linked.clone());
        if previous_link != link {
            if let Some((t, o)) = &previous_link {
                user.sso_links
                    .retain(|l| !(&l.tenant == t && &l.subject == o));
            }
            if let Some((t, o)) = &link
                && !user
                    .sso_links
                    .iter()
                    .any(|l| &l.tenant == t && &l.subject == o)
            {
                user.sso_links.push(SsoLink {
                    tenant: t.clone(),
                    subject: o.clone(),
                    username: attrs.user_name.clone(),
                    linked_at: now,
                });
            }
        }
        let was_disabled = user.status == UserStatus::Disabled;
        let mut event = None;
        if !attrs.active && !was_disabled {
            guard_last_admin(w, user)?;
            user.status = UserStatus::Disabled;
            let ended = w.delete_sessions_of_user(user.id, |_, _| true)?;
            event = Some((
                AuditKind::UserDisabled,
                format!("deactivated by SCIM: {ended} sessions ended"),
            ));
        } else if attrs.active && was_disabled {
            let created_by_scim = old.as_ref().is_some_and(|o| o.created_by_scim);
            user.status =
                if created_by_scim || user.password_hash.is_some() || !user.sso_links.is_empty() {
                    UserStatus::Active
                } else {
                    UserStatus::Invited
                };
            event = Some((AuditKind::UserEnabled, "reactivated by SCIM".to_owned()));
        }
        user.updated_at = now;
        w.put_user(user)?;
        let record = ProvisionedUser {
            user_name: attrs.user_name.clone(),
            external_id: attrs.external_id.clone(),
            given_name: attrs.given_name.clone(),
            family_name: attrs.family_name.clone(),
            formatted_name: attrs.formatted_name.clone(),
            work_email: attrs.work_email.clone(),
            linked: link,
            created_by_scim: old.as_ref().is_some_and(|o| o.created_by_scim),
            provisioned_at: old.as_ref().map_or(now, |o| o.provisioned_at),
            updated_at: now,
        };
        w.put_provisioned_user(user.realm, user.id, &record)?;
        if let Some((kind, detail)) = event {
            self.audit(
                w,
                by_scim(caller, kind)
                    .about(user.id, user.email.as_str())
                    .detail(detail),
            )?;
        }
        Ok(self.user_json(user, Some(&record)))
    }

    /// `DELETE /Users/{id}`: removes the user with their sessions and SCIM data.
    pub async fn scim_delete_user(
        self: &Arc<Self>,
        caller: ScimCaller,
        id: &str,
    ) -> ScimResult<()> {
        let id = user_id(id)?;
        self.blocking(move |s| {
            s.write(|w| {
                let realm = caller.realm;
                let user = w
                    .user(id)?
                    .filter(|u| u.realm == realm)
                    .ok_or(ServiceError::NotFound("User"))?;
                guard_last_admin(w, &user)?;
                let ended = w.delete_sessions_of_user(id, |_, _| true)?;
                w.delete_provisioned_user(realm, id)?;
                w.delete_user(id)?;
                s.audit(
                    w,
                    by_scim(&caller, AuditKind::UserDisabled)
                        .about(id, user.email.as_str())
                        .detail(format!(
                            "deleted by SCIM: user removed, {ended} sessions ended"
                        )),
                )
            })
        })
        .await
        .map_err(scim_error)
    }
}
