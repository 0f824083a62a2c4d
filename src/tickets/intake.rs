//! What a customer files: the request and its field-by-field checks.

use serde::Deserialize;
use utoipa::ToSchema;

use super::{TicketError, invalid};
use crate::triage::TriageConfig;

pub const MAX_EMAIL_CHARS: usize = 254;
pub const MAX_SUBJECT_CHARS: usize = 200;
pub const MAX_DESCRIPTION_CHARS: usize = 5000;

/// `POST /api/v1/tickets`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketRequest {
    pub email: String,
    pub subject: String,
    pub description: String,
    /// The customer's plan: enterprise, business, professional, starter or free (as configured);
    /// it scales the SLA targets.
    pub customer_tier: Option<String>,
    pub session_id: Option<String>,
    /// Leave empty: a field only bots fill in.
    #[serde(default)]
    pub website: Option<String>,
}

fn check_text(field: &'static str, v: &str, max: usize) -> Result<String, TicketError> {
    let v = v.trim();
    if v.is_empty() {
        return Err(invalid(field, format!("{field} is required")));
    }
    if v.chars().count() > max {
        return Err(invalid(
            field,
            format!("{field} is longer than {max} characters"),
        ));
    }
    if v.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(invalid(
            field,
            format!("{field} contains control characters"),
        ));
    }
    Ok(v.to_string())
}

/// A plausible address: one `@`, a dotted domain, no spaces. Returns (email, lower-case domain).
fn check_email(v: &str) -> Result<(String, String), TicketError> {
    let v = v.trim();
    if v.is_empty() {
        return Err(invalid("email", "email is required"));
    }
    let ok = v.chars().count() <= MAX_EMAIL_CHARS
        && !v.chars().any(|c| c.is_whitespace() || c.is_control())
        && v.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if !ok {
        return Err(invalid(
            "email",
            "email must be an address like name@example.com",
        ));
    }
    let domain = v.rsplit_once('@').map_or("", |(_, d)| d).to_lowercase();
    Ok((v.to_string(), domain))
}

/// A checked ticket request.
#[derive(Debug, Clone)]
pub struct NewTicket {
    pub email: String,
    pub email_domain: String,
    pub subject: String,
    pub description: String,
    pub customer_tier: String,
    pub session_id: Option<String>,
}

/// Checks every field; the error names the first bad one.
pub fn check(req: &TicketRequest, config: &TriageConfig) -> Result<NewTicket, TicketError> {
    if req.website.as_deref().is_some_and(|w| !w.trim().is_empty()) {
        return Err(invalid("website", "leave this field empty"));
    }
    let (email, email_domain) = check_email(&req.email)?;
    let subject = check_text("subject", &req.subject, MAX_SUBJECT_CHARS)?;
    let description = check_text("description", &req.description, MAX_DESCRIPTION_CHARS)?;
    let customer_tier = match req.customer_tier.as_deref().map(str::trim) {
        None | Some("") => config.default_customer_tier.clone(),
        Some(t) => {
            let t = t.to_lowercase();
            if !config.tier_multipliers.contains_key(&t) {
                return Err(invalid(
                    "customer_tier",
                    format!(
                        "customer_tier must be one of: {}",
                        config.customer_tier_names().join(", ")
                    ),
                ));
            }
            t
        }
    };
    let session_id = req.session_id.clone().filter(|s| !s.is_empty());
    if let Some(s) = &session_id
        && (s.len() > 128
            || !s
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
    {
        return Err(invalid(
            "session_id",
            "session_id must be 1 to 128 letters, digits, - or _",
        ));
    }
    Ok(NewTicket {
        email,
        email_domain,
        subject,
        description,
        customer_tier,
        session_id,
    })
}
