//! The web layer's one error type and its one mapping to HTTP. Users see fixed,
//! plain messages; details go to the log only. The match is exhaustive so a new
//! failure forces a decision about what users see.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};

use crate::service::ServiceError;
use crate::service::sso::SsoFailure;
use crate::web::views;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error(transparent)]
    Service(#[from] ServiceError),
    /// The form's CSRF token or the request's Origin/Sec-Fetch-Site was wrong.
    #[error("CSRF check failed")]
    Csrf,
    #[error("request body too large")]
    TooLarge,
    /// A form that could not be read; the text says what was wrong with it.
    #[error("bad form: {0}")]
    BadForm(String),
    #[error("unsupported content type")]
    UnsupportedMedia,
    #[error("page not found")]
    NotFound,
    /// The page needs a signed-in user; go here to sign in.
    #[error("sign-in required")]
    SignInRequired { login: String },
    /// Signed in, but not a staff admin.
    #[error("admins only")]
    AdminOnly,
    /// The client's portal is switched off.
    #[error("portal disabled")]
    PortalDisabled,
}

pub type WebResult<T> = Result<T, WebError>;

/// What the error page says.
struct Shown {
    status: StatusCode,
    title: &'static str,
    message: String,
}

impl WebError {
    /// Status, title and message of the page this error shows.
    pub fn describe(&self) -> (StatusCode, &'static str, String) {
        let shown = self.shown();
        (shown.status, shown.title, shown.message)
    }

    fn shown(&self) -> Shown {
        let shown = |status, title, message: &str| Shown {
            status,
            title,
            message: message.to_owned(),
        };
        match self {
            WebError::Csrf => shown(
                StatusCode::FORBIDDEN,
                "Form expired",
                "This form could not be accepted. Go back, reload the page and try again.",
            ),
            WebError::TooLarge => shown(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Too much data",
                "What you sent is too large to process.",
            ),
            WebError::BadForm(why) => Shown {
                status: StatusCode::BAD_REQUEST,
                title: "Form not understood",
                message: format!("The form could not be read: {why}. Go back and try again."),
            },
            WebError::UnsupportedMedia => shown(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Form not understood",
                "Forms must be sent as application/x-www-form-urlencoded.",
            ),
            WebError::NotFound => shown(
                StatusCode::NOT_FOUND,
                "Page not found",
                "There is nothing at this address.",
            ),
            WebError::SignInRequired { .. } => {
                shown(StatusCode::SEE_OTHER, "Sign in", "Please sign in.")
            }
            WebError::PortalDisabled => shown(
                StatusCode::FORBIDDEN,
                "Portal disabled",
                "This portal is currently disabled. Contact your provider.",
            ),
            WebError::AdminOnly => shown(
                StatusCode::FORBIDDEN,
                "Admins only",
                "This page is for administrators.",
            ),
            WebError::Service(e) => match e {
                ServiceError::LoginFailed => shown(
                    StatusCode::UNAUTHORIZED,
                    "Sign-in failed",
                    "The email or password is not right.",
                ),
                ServiceError::InvalidCode => shown(
                    StatusCode::UNAUTHORIZED,
                    "Code not accepted",
                    "That code is not right, or was already used.",
                ),
                ServiceError::Throttled { retry_after_secs } => Shown {
                    status: StatusCode::TOO_MANY_REQUESTS,
                    title: "Too many attempts",
                    message: format!(
                        "Too many failed attempts. Wait {}, then try again.",
                        views::components::wait_in_words(*retry_after_secs)
                    ),
                },
                ServiceError::Invalid(message) => Shown {
                    status: StatusCode::BAD_REQUEST,
                    title: "Please check your input",
                    message: message.clone(),
                },
                ServiceError::LinkInvalid => shown(
                    StatusCode::NOT_FOUND,
                    "Link not valid",
                    "This link is not valid: it may have been used already or mistyped. Ask your administrator for a new one.",
                ),
                ServiceError::LinkExpired => shown(
                    StatusCode::GONE,
                    "Link expired",
                    "This link has expired. Ask your administrator for a new one.",
                ),
                ServiceError::SignInExpired => shown(
                    StatusCode::UNAUTHORIZED,
                    "Sign-in expired",
                    "Your sign-in took too long or was interrupted. Please start again.",
                ),
                ServiceError::NotFound(_) => shown(
                    StatusCode::NOT_FOUND,
                    "Not found",
                    "What you asked for does not exist (any more).",
                ),
                ServiceError::Forbidden(message) => Shown {
                    status: StatusCode::FORBIDDEN,
                    title: "Not allowed",
                    message: message.clone(),
                },
                ServiceError::Conflict(message) => Shown {
                    status: StatusCode::CONFLICT,
                    title: "Cannot do that",
                    message: message.clone(),
                },
                ServiceError::Sso(failure) => sso_shown(failure),
                ServiceError::Store(_) => shown(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Temporarily unavailable",
                    "We could not read or save data just now. Try again in a moment; if it keeps happening, tell your administrator.",
                ),
                ServiceError::Internal(_) => shown(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Temporarily unavailable",
                    "Something went wrong on our side. Try again in a moment.",
                ),
            },
        }
    }
}

/// What a failed Microsoft sign-in tells the user.
fn sso_shown(failure: &SsoFailure) -> Shown {
    let shown = |status, title, message: &str| Shown {
        status,
        title,
        message: message.to_owned(),
    };
    match failure {
        SsoFailure::NotAvailable => shown(
            StatusCode::NOT_FOUND,
            "Sign-in is off",
            "Sign-in with this provider is not turned on here.",
        ),
        SsoFailure::BadState => shown(
            StatusCode::BAD_REQUEST,
            "Sign-in not recognised",
            "This sign-in answer is not valid here: it was already used, or started in another browser. Please start again.",
        ),
        SsoFailure::Expired => shown(
            StatusCode::BAD_REQUEST,
            "Sign-in expired",
            "The sign-in took too long. Please try again.",
        ),
        SsoFailure::Unreachable => shown(
            StatusCode::BAD_GATEWAY,
            "Microsoft is not answering",
            "Microsoft could not be reached just now. Try again in a moment; if it keeps happening, tell your administrator.",
        ),
        SsoFailure::NotVerified => shown(
            StatusCode::UNAUTHORIZED,
            "Sign-in could not be verified",
            "Your organisation's sign-in answer could not be verified, so you were not signed in. Please try again or tell your administrator.",
        ),
        SsoFailure::NotRegistered => shown(
            StatusCode::FORBIDDEN,
            "Not registered here",
            "Your organisation's account is not registered here. Ask your administrator to invite you — or, if you already sign in here with a password, do that and link your account from your account page.",
        ),
        SsoFailure::Disabled => shown(
            StatusCode::FORBIDDEN,
            "Account disabled",
            "Your account here is disabled. Ask your administrator.",
        ),
        SsoFailure::AlreadyLinked => shown(
            StatusCode::CONFLICT,
            "Already linked",
            "That Microsoft account is already linked to another user here (or you linked the maximum of five).",
        ),
        SsoFailure::MfaNotProven => shown(
            StatusCode::FORBIDDEN,
            "Multi-factor authentication required",
            "You signed in at your organisation without a second factor (or it did not tell us you used one), and this site requires one. Your organisation must require multi-factor authentication for this sign-in; ask its administrator, then try again.",
        ),
        SsoFailure::Provider { description } => Shown {
            status: StatusCode::UNAUTHORIZED,
            title: "Microsoft did not sign you in",
            message: format!("Microsoft reported: {description}"),
        },
    }
}

impl ResponseError for WebError {
    fn status_code(&self) -> StatusCode {
        self.shown().status
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            WebError::Service(ServiceError::Store(e)) => {
                tracing::error!(error = %e, "storage failure")
            }
            WebError::Service(ServiceError::Internal(e)) => {
                tracing::error!(error = %e, "internal failure")
            }
            WebError::BadForm(why) => {
                tracing::debug!(why = %crate::domain::text::neutralise(why), "bad form")
            }
            _ => {}
        }
        if let WebError::SignInRequired { login } = self {
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, login.as_str()))
                .finish();
        }
        let shown = self.shown();
        let mut response = HttpResponse::build(shown.status);
        if let WebError::Service(ServiceError::Throttled { retry_after_secs }) = self
            && let Ok(value) = HeaderValue::from_str(&(*retry_after_secs).max(1).to_string())
        {
            response.insert_header((header::RETRY_AFTER, value));
        }
        response
            .content_type("text/html; charset=utf-8")
            .body(views::errors::page(shown.title, &shown.message).into_string())
    }
}
