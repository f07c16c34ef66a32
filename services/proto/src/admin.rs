//! Roles, the sign-up policy, invitations and disabled accounts: the admin API's bodies, and the
//! events that carry session revocations and account access to every service instance.
//!
//! Every service keeps a replica of "which sessions are revoked and which accounts are disabled"
//! (see `gochat_kit::auth`). The auth service numbers each change (`seq`) in its ledger; live
//! events carry their `seq`, and an instance that missed some (disconnected from the broker, or
//! new) notices from the periodic [`SessionsHead`] and asks for the rest with
//! [`SessionsReplayRequested`], answered by [`SessionsReplayed`].

use crate::Timestamp;
use crate::dto::UserRef;
use crate::ids::UserId;
use serde::{Deserialize, Serialize};
#[cfg(feature = "ts")]
use ts_rs::TS;

/// Most uses one invitation may have.
pub const MAX_INVITE_USES: u32 = 1000;
/// Longest an invitation may stay valid, in hours (30 days).
pub const MAX_INVITE_HOURS: u32 = 720;
/// Defaults of a new invitation: one use, valid a week.
pub const DEFAULT_INVITE_USES: u32 = 1;
pub const DEFAULT_INVITE_HOURS: u32 = 168;
/// Longest invite code accepted on sign-up (codes are 22 characters; anything longer is junk).
pub const MAX_INVITE_CODE_CHARS: usize = 64;
/// Longest password reset code accepted, for the same reason.
pub const MAX_RESET_CODE_CHARS: usize = 64;
/// Most invitations `GET /api/admin/invites` lists (the newest).
pub const MAX_LISTED_INVITES: u32 = 200;
/// Letters of a code kept to tell invitations apart (of 22: not enough to guess the rest).
pub const INVITE_HINT_CHARS: usize = 4;

/// What an account may do. The first account ever created is `admin`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(TS), ts(export))]
pub enum Role {
    Admin,
    #[default]
    Member,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Member => "member",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "admin" => Ok(Self::Admin),
            "member" => Ok(Self::Member),
            other => Err(format!("unknown role {other:?}")),
        }
    }
}

/// Who may create an account.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(TS), ts(export))]
pub enum SignupPolicy {
    /// Anyone.
    #[default]
    Open,
    /// Only with a valid `inviteCode`.
    Invite,
    /// Nobody (but the very first account).
    Closed,
}

impl SignupPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Invite => "invite",
            Self::Closed => "closed",
        }
    }
}

impl std::str::FromStr for SignupPolicy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "open" => Ok(Self::Open),
            "invite" => Ok(Self::Invite),
            "closed" => Ok(Self::Closed),
            other => Err(format!("sign-up policy must be open, invite or closed, not {other:?}")),
        }
    }
}

// ----- admin API -----

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(TS), ts(export))]
pub struct AdminSettings {
    pub signup: SignupPolicy,
}

/// `GET` and `PATCH /api/admin/settings`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(TS), ts(export))]
pub struct AdminSettingsResponse {
    pub settings: AdminSettings,
}

/// `PATCH /api/admin/settings`: the settings to change.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(TS), ts(export))]
pub struct UpdateAdminSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub signup: Option<SignupPolicy>,
}

/// `POST /api/admin/invites`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ts", derive(TS), ts(export))]
pub struct CreateInviteRequest {
    /// 1 to [`MAX_INVITE_USES`]; default [`DEFAULT_INVITE_USES`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub max_uses: Option<u32>,
    /// 1 to [`MAX_INVITE_HOURS`]; default [`DEFAULT_INVITE_HOURS`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub expires_in_hours: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ts", derive(TS), ts(export))]
pub struct Invite {
    /// What a new user gives as `inviteCode` (or opens as `/?invite=<code>`).
    pub code: String,
    pub expires_at: Timestamp,
    pub uses_left: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(TS), ts(export))]
pub struct InviteResponse {
    pub invite: Invite,
}

/// How long a password reset link works (it works once).
pub const PASSWORD_RESET_HOURS: i64 = 24;

/// A password reset link's code, made by `POST /api/admin/users/{id}/password-reset`: whoever
/// opens `/reset-password#<code>` may set the account's password once, until `expiresAt`. A
/// newer code for the same account replaces it, `DELETE` on the same route revokes it; only
/// its hash is stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ts", derive(TS), ts(export))]
pub struct PasswordReset {
    pub code: String,
    pub expires_at: Timestamp,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(TS), ts(export))]
pub struct PasswordResetResponse {
    pub reset: PasswordReset,
}

/// An invitation that can still be used, as `GET /api/admin/invites` lists it. The code itself
/// is never stored, only its first letters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ts", derive(TS), ts(export))]
pub struct InviteSummary {
    /// What `DELETE /api/admin/invites/{id}` takes.
    pub id: String,
    /// The code's first [`INVITE_HINT_CHARS`] letters (empty for invitations made before they
    /// were kept).
    pub hint: String,
    pub created_by: UserRef,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub uses_left: u32,
}

/// `GET /api/admin/invites`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(TS), ts(export))]
pub struct InvitesList {
    pub invites: Vec<InviteSummary>,
}

/// An account as the admin sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ts", derive(TS), ts(export))]
pub struct AdminUser {
    pub id: UserId,
    pub username: String,
    pub email: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at: Timestamp,
    /// Until when the account's password reset link works, while it has one that does (only
    /// the expiry: the code is shown once, to the admin who made it). The admin page asks
    /// before a new link replaces it, and offers to revoke it.
    pub reset_expires_at: Option<Timestamp>,
}

/// `PATCH /api/admin/users/{id}`: what to change of an account.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(TS), ts(export))]
pub struct UpdateAdminUser {
    pub role: Role,
}

/// `PATCH /api/admin/users/{id}`: the account as it now is.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(TS), ts(export))]
pub struct AdminUserResponse {
    pub user: AdminUser,
}

/// `GET /api/admin/users`: oldest account first.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "ts", derive(TS), ts(export))]
pub struct AdminUsersPage {
    pub users: Vec<AdminUser>,
    pub next_cursor: Option<String>,
}

// ----- events: the session ledger -----

/// An account was disabled: every service refuses all its sessions from now on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserDisabled {
    pub access: AccountAccess,
    pub seq: i64,
}

/// An account was enabled again: new sessions work, those from before the disabling stay revoked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserEnabled {
    pub access: AccountAccess,
    pub seq: i64,
}

/// Every session an account had ended at once (its password changed); its new ones work.
/// `access` is the account's whole access as it is now, like that of `user.disabled`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserSessionsRevoked {
    pub access: AccountAccess,
    pub seq: i64,
    /// The session that changed the password goes on in the same tab under a new token: what
    /// belongs to that tab's session (its browser's push subscription) moves to the new one.
    /// Absent from publishers that predate it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renewed: Option<RenewedSession>,
}

/// A session continued under a new token (see [`UserSessionsRevoked::renewed`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RenewedSession {
    /// The `jti` of the token it replaces (refused from now on).
    pub from: String,
    /// The new token's `jti`, `iat` and `exp`.
    pub jti: String,
    pub issued_at: Timestamp,
    pub expires_at: Timestamp,
}

/// Whether an account may use its sessions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountAccess {
    pub user_id: UserId,
    pub disabled: bool,
    /// Sessions issued (`iat`) before this instant are refused, even after the account is
    /// enabled again: disabling (or changing the password) ends every session the account had.
    pub sessions_before: Timestamp,
}

/// One change of the ledger.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum LedgerChange {
    /// One session ended (signed out).
    Revoked {
        user_id: UserId,
        jti: String,
        expires_at: Timestamp,
    },
    /// An account's access, as it is now.
    Access(AccountAccess),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LedgerEntry {
    pub seq: i64,
    pub change: LedgerChange,
}

/// Published by auth every few seconds: the last `seq` of its ledger. `epoch` names the ledger
/// (a new auth database starts a new one), so a replica never mixes two.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionsHead {
    pub epoch: String,
    pub seq: i64,
}

/// A replica that is behind asks for what follows `after`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionsReplayRequested {
    pub epoch: String,
    pub after: i64,
}

/// Every change after `after` up to `through` that still matters (revocations of expired
/// sessions and superseded access states are left out). Every replica may use it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionsReplayed {
    pub epoch: String,
    pub after: i64,
    pub through: i64,
    pub entries: Vec<LedgerEntry>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_and_role_spell_as_the_contract_says() {
        assert_eq!(serde_json::to_string(&SignupPolicy::Invite).unwrap(), "\"invite\"");
        assert_eq!(serde_json::to_string(&Role::Admin).unwrap(), "\"admin\"");
        for policy in [SignupPolicy::Open, SignupPolicy::Invite, SignupPolicy::Closed] {
            assert_eq!(policy.as_str().parse::<SignupPolicy>().unwrap(), policy);
        }
        assert!("sometimes".parse::<SignupPolicy>().is_err());
    }

    #[test]
    fn ledger_entries_round_trip() {
        let entry = LedgerEntry {
            seq: 7,
            change: LedgerChange::Revoked {
                user_id: UserId::new(),
                jti: "j".into(),
                expires_at: chrono::Utc::now(),
            },
        };
        let json = serde_json::to_string(&entry).unwrap();
        assert!(json.contains(r#""kind":"revoked""#), "{json}");
        assert_eq!(serde_json::from_str::<LedgerEntry>(&json).unwrap(), entry);
    }
}
