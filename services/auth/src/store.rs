//! Accounts, site settings and invitations. Plain synchronous functions, run on the database
//! threads. (The session ledger has its own module, `ledger`.)

use chrono::{DateTime, Utc};
use gochat_proto::admin::{AccountAccess, AdminUser, InviteSummary, MAX_LISTED_INVITES, Role, SignupPolicy};
use gochat_proto::dto::{User, UserRef};
use gochat_proto::ids::UserId;
use rusqlite::{Connection, OptionalExtension, Row, params};

pub const MIGRATIONS: &[&str] = &[
    "
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    -- lower-cased copies: uniqueness and sign-in ignore letter case
    email_key TEXT NOT NULL UNIQUE,
    username TEXT NOT NULL,
    username_key TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL
);
",
    "
-- 'admin' for the first account ever created, 'member' for every later one
ALTER TABLE users ADD COLUMN role TEXT NOT NULL DEFAULT 'member';
ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
-- unix seconds of the last disabling: sessions issued up to then stay refused
ALTER TABLE users ADD COLUMN sessions_before INTEGER NOT NULL DEFAULT 0;
-- an existing site's first account becomes its admin (ids are UUIDv7: they sort by creation)
UPDATE users SET role = 'admin' WHERE id = (SELECT id FROM users ORDER BY created_at, id LIMIT 1);

-- values an admin set at run time; they win over the configuration
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE invites (
    -- SHA-256 of the code: the database never holds a usable code
    code_hash TEXT PRIMARY KEY,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    uses_left INTEGER NOT NULL CHECK (uses_left >= 0)
) WITHOUT ROWID;

-- every change of sessions and account access, numbered (see ledger.rs)
CREATE TABLE ledger (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id TEXT NOT NULL,
    -- a revocation: jti and expires_at; an access change: disabled and sessions_before
    jti TEXT,
    expires_at INTEGER,
    disabled INTEGER,
    sessions_before INTEGER
);
CREATE INDEX ledger_revocations ON ledger (expires_at) WHERE jti IS NOT NULL;
CREATE INDEX ledger_access ON ledger (user_id) WHERE jti IS NULL;
-- names this ledger: a replica that sees another epoch follows it from the start
INSERT INTO settings (key, value) VALUES ('ledger_epoch', lower(hex(randomblob(16))));
",
    "
-- the code's first letters, to tell invitations apart in the admin's list (not enough to use one)
ALTER TABLE invites ADD COLUMN hint TEXT NOT NULL DEFAULT '';
",
    "
-- at most one live password reset code per account, made by an admin
CREATE TABLE password_resets (
    user_id TEXT PRIMARY KEY,
    -- SHA-256 of the code, as for invitations
    code_hash TEXT NOT NULL UNIQUE,
    created_by TEXT NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
",
    "
-- the reset codes that work now: unexpired, and made by an admin who still is an enabled one
-- (disabling or demoting an admin, a stolen or rogue account, ends the links they handed out).
-- Using a code and listing which accounts have one read this one definition.
CREATE VIEW live_password_resets AS
SELECT r.user_id, r.code_hash, r.expires_at
FROM password_resets r JOIN users a ON a.id = r.created_by
WHERE r.expires_at > unixepoch() AND a.role = 'admin' AND NOT a.disabled;
",
];

/// An account with what sign-in needs.
pub struct Account {
    pub user: User,
    pub password_hash: String,
    pub disabled: bool,
    /// Unix seconds: sessions issued up to and including this second are refused (the account
    /// was disabled then).
    pub sessions_before: i64,
}

/// Which unique field a new account collides with.
pub enum Taken {
    Email,
    Username,
}

pub fn taken(c: &Connection, email: &str, username: &str) -> rusqlite::Result<Option<Taken>> {
    let email_taken: bool = c.query_row(
        "SELECT EXISTS(SELECT 1 FROM users WHERE email_key = ?1)",
        [email.to_lowercase()],
        |r| r.get(0),
    )?;
    if email_taken {
        return Ok(Some(Taken::Email));
    }
    let username_taken: bool = c.query_row(
        "SELECT EXISTS(SELECT 1 FROM users WHERE username_key = ?1)",
        [username.to_lowercase()],
        |r| r.get(0),
    )?;
    Ok(username_taken.then_some(Taken::Username))
}

pub fn any_user(c: &Connection) -> rusqlite::Result<bool> {
    c.query_row("SELECT EXISTS(SELECT 1 FROM users)", [], |r| r.get(0))
}

pub fn insert(c: &Connection, user: &User, password_hash: &str, created_at: &DateTime<Utc>) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO users (id, email, email_key, username, username_key, password_hash, created_at, role)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            user.id.to_string(),
            user.email,
            user.email.to_lowercase(),
            user.username,
            user.username.to_lowercase(),
            password_hash,
            created_at.to_rfc3339(),
            user.role.as_str(),
        ],
    )?;
    Ok(())
}

const ACCOUNT_COLUMNS: &str = "id, email, username, role, password_hash, disabled, sessions_before";

/// Looks an account up by email, or by username when `by_email` is false; ignores letter case.
pub fn find_account(c: &Connection, login: &str, by_email: bool) -> rusqlite::Result<Option<Account>> {
    let key = if by_email { "email_key" } else { "username_key" };
    c.prepare_cached(&format!("SELECT {ACCOUNT_COLUMNS} FROM users WHERE {key} = ?1"))?
        .query_row([login.to_lowercase()], account)
        .optional()
}

pub fn find_account_by_id(c: &Connection, id: UserId) -> rusqlite::Result<Option<Account>> {
    c.prepare_cached(&format!("SELECT {ACCOUNT_COLUMNS} FROM users WHERE id = ?1"))?
        .query_row([id.to_string()], account)
        .optional()
}

fn account(r: &Row<'_>) -> rusqlite::Result<Account> {
    Ok(Account {
        user: User {
            id: parse(r, "id")?,
            email: r.get("email")?,
            username: r.get("username")?,
            role: parse(r, "role")?,
        },
        password_hash: r.get("password_hash")?,
        disabled: r.get("disabled")?,
        sessions_before: r.get("sessions_before")?,
    })
}

pub fn find_user(c: &Connection, id: UserId) -> rusqlite::Result<Option<User>> {
    Ok(find_admin_user(c, id)?.map(|u| User {
        id: u.id,
        username: u.username,
        email: u.email,
        role: u.role,
    }))
}

/// An account as the admin sees it, with the expiry of its live reset link (`u` the account).
const ADMIN_USERS: &str = "SELECT u.id, u.username, u.email, u.role, u.disabled, u.created_at,
        r.expires_at AS reset_expires_at
    FROM users u LEFT JOIN live_password_resets r ON r.user_id = u.id";

pub fn find_admin_user(c: &Connection, id: UserId) -> rusqlite::Result<Option<AdminUser>> {
    c.prepare_cached(&format!("{ADMIN_USERS} WHERE u.id = ?1"))?
        .query_row([id.to_string()], admin_user)
        .optional()
}

/// Up to `limit` accounts after `after`, oldest first.
pub fn list_users(c: &Connection, after: Option<UserId>, limit: u32) -> rusqlite::Result<Vec<AdminUser>> {
    let after = after.map(|id| id.to_string()).unwrap_or_default();
    c.prepare_cached(&format!("{ADMIN_USERS} WHERE u.id > ?1 ORDER BY u.id LIMIT {limit}"))?
        .query_map([after], admin_user)?
        .collect()
}

fn admin_user(r: &Row<'_>) -> rusqlite::Result<AdminUser> {
    Ok(AdminUser {
        id: parse(r, "id")?,
        username: r.get("username")?,
        email: r.get("email")?,
        role: parse(r, "role")?,
        disabled: r.get("disabled")?,
        created_at: parse(r, "created_at")?,
        reset_expires_at: unix_time(r, "reset_expires_at")?,
    })
}

/// Disables an account: sessions issued up to `now` (unix seconds) are refused from then on,
/// even once it is enabled again, and a reset link made for it stops working (it could have
/// let someone in again the moment it is enabled). Returns that instant, or `None` when there
/// is no such account.
pub fn disable(c: &Connection, id: UserId, now: i64) -> rusqlite::Result<Option<i64>> {
    c.execute("DELETE FROM password_resets WHERE user_id = ?1", [id.to_string()])?;
    c.query_row(
        "UPDATE users SET disabled = 1, sessions_before = ?2 WHERE id = ?1 RETURNING sessions_before",
        params![id.to_string(), now],
        |r| r.get(0),
    )
    .optional()
}

/// Replaces an account's password hash, but only while it is still `old_hash` when one is given
/// (of two changes made with the same current password, one wins), and refuses every session
/// issued up to `now` (unix seconds; an instant already refused stays so). A reset link made
/// for the account stops working: whoever set this password knows it. Returns the account's
/// access, or `None` when there is no such account or its hash is no longer `old_hash`.
pub fn change_password(
    c: &Connection,
    id: UserId,
    old_hash: Option<&str>,
    new_hash: &str,
    now: i64,
) -> rusqlite::Result<Option<AccountAccess>> {
    let access = c
        .query_row(
            "UPDATE users SET password_hash = ?3, sessions_before = max(sessions_before, ?4)
         WHERE id = ?1 AND (?2 IS NULL OR password_hash = ?2) RETURNING disabled, sessions_before",
            params![id.to_string(), old_hash, new_hash, now],
            |r| {
                Ok(AccountAccess {
                    user_id: id,
                    disabled: r.get(0)?,
                    sessions_before: DateTime::from_timestamp(r.get(1)?, 0).unwrap_or_default(),
                })
            },
        )
        .optional()?;
    if access.is_some() {
        c.execute("DELETE FROM password_resets WHERE user_id = ?1", [id.to_string()])?;
    }
    Ok(access)
}

/// Keeps a password reset code (its hash) for an account, replacing the one it had; `false`
/// when there is no such account. Expired codes are forgotten on the way.
pub fn insert_password_reset(
    c: &Connection,
    user: UserId,
    code_hash: &str,
    by: UserId,
    expires_at: i64,
) -> rusqlite::Result<bool> {
    c.execute("DELETE FROM password_resets WHERE expires_at <= unixepoch()", [])?;
    let kept = c.execute(
        "INSERT INTO password_resets (user_id, code_hash, created_by, expires_at)
         SELECT id, ?2, ?3, ?4 FROM users WHERE id = ?1
         ON CONFLICT (user_id) DO UPDATE SET
             code_hash = excluded.code_hash, created_by = excluded.created_by, expires_at = excluded.expires_at",
        params![user.to_string(), code_hash, by.to_string(), expires_at],
    )?;
    Ok(kept == 1)
}

/// The account a live password reset code is for, if any.
pub fn password_reset_account(c: &Connection, code_hash: &str) -> rusqlite::Result<Option<UserId>> {
    c.query_row(
        "SELECT user_id FROM live_password_resets WHERE code_hash = ?1",
        [code_hash],
        |r| parse(r, "user_id"),
    )
    .optional()
}

/// Withdraws an account's password reset code. `false` when it had none that worked (no such
/// account, none made, or used, expired, or void with its admin), as revoking an invitation
/// that can no longer be used answers; a dead code is forgotten either way.
pub fn revoke_password_reset(c: &Connection, user: UserId) -> rusqlite::Result<bool> {
    let live: bool = c.query_row(
        "SELECT EXISTS(SELECT 1 FROM live_password_resets WHERE user_id = ?1)",
        [user.to_string()],
        |r| r.get(0),
    )?;
    c.execute("DELETE FROM password_resets WHERE user_id = ?1", [user.to_string()])?;
    Ok(live)
}

/// Gives an account a role; returns it as it now is, or `None` when there is no such account.
pub fn set_role(c: &Connection, id: UserId, role: Role) -> rusqlite::Result<Option<AdminUser>> {
    c.execute(
        "UPDATE users SET role = ?2 WHERE id = ?1",
        params![id.to_string(), role.as_str()],
    )?;
    find_admin_user(c, id)
}

/// Enables an account again. Returns its `sessions_before`, or `None` when there is no such account.
pub fn enable(c: &Connection, id: UserId) -> rusqlite::Result<Option<i64>> {
    c.query_row(
        "UPDATE users SET disabled = 0 WHERE id = ?1 RETURNING sessions_before",
        [id.to_string()],
        |r| r.get(0),
    )
    .optional()
}

pub fn signup_policy(c: &Connection) -> rusqlite::Result<Option<SignupPolicy>> {
    let stored: Option<String> = c
        .query_row("SELECT value FROM settings WHERE key = 'signup'", [], |r| r.get(0))
        .optional()?;
    Ok(stored.and_then(|v| v.parse().ok()))
}

pub fn set_signup_policy(c: &Connection, policy: SignupPolicy) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO settings (key, value) VALUES ('signup', ?1)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [policy.as_str()],
    )?;
    Ok(())
}

pub fn insert_invite(
    c: &Connection,
    code_hash: &str,
    hint: &str,
    created_by: UserId,
    expires_at: i64,
    uses: u32,
) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO invites (code_hash, hint, created_by, created_at, expires_at, uses_left)
         VALUES (?1, ?2, ?3, unixepoch(), ?4, ?5)",
        params![code_hash, hint, created_by.to_string(), expires_at, uses],
    )?;
    c.execute(
        "DELETE FROM invites WHERE expires_at < unixepoch() OR uses_left = 0",
        [],
    )?;
    Ok(())
}

pub fn invite_is_valid(c: &Connection, code_hash: &str) -> rusqlite::Result<bool> {
    c.query_row(
        "SELECT EXISTS(SELECT 1 FROM invites WHERE code_hash = ?1 AND uses_left > 0 AND expires_at > unixepoch())",
        [code_hash],
        |r| r.get(0),
    )
}

/// The invitations that can still be used, newest first (at most `MAX_LISTED_INVITES`).
pub fn live_invites(c: &Connection) -> rusqlite::Result<Vec<InviteSummary>> {
    c.prepare_cached(&format!(
        "SELECT i.code_hash, i.hint, i.created_by, u.username, i.created_at, i.expires_at, i.uses_left
         FROM invites i LEFT JOIN users u ON u.id = i.created_by
         WHERE i.uses_left > 0 AND i.expires_at > unixepoch()
         ORDER BY i.created_at DESC, i.code_hash LIMIT {MAX_LISTED_INVITES}"
    ))?
    .query_map([], |r| {
        let time = |i| -> rusqlite::Result<DateTime<Utc>> {
            DateTime::from_timestamp(r.get(i)?, 0).ok_or(rusqlite::Error::IntegralValueOutOfRange(i, 0))
        };
        Ok(InviteSummary {
            id: r.get(0)?,
            hint: r.get(1)?,
            created_by: UserRef {
                id: parse(r, "created_by")?,
                username: r.get::<_, Option<String>>(3)?.unwrap_or_default(),
            },
            created_at: time(4)?,
            expires_at: time(5)?,
            uses_left: r.get(6)?,
        })
    })?
    .collect()
}

/// Revokes an invitation that can still be used; false when there is none with that id.
pub fn revoke_invite(c: &Connection, id: &str) -> rusqlite::Result<bool> {
    let changed = c.execute(
        "DELETE FROM invites WHERE code_hash = ?1 AND uses_left > 0 AND expires_at > unixepoch()",
        [id],
    )?;
    Ok(changed == 1)
}

/// Uses the invitation once; false when it is unknown, expired or used up.
pub fn use_invite(c: &Connection, code_hash: &str) -> rusqlite::Result<bool> {
    let changed = c.execute(
        "UPDATE invites SET uses_left = uses_left - 1
         WHERE code_hash = ?1 AND uses_left > 0 AND expires_at > unixepoch()",
        [code_hash],
    )?;
    Ok(changed == 1)
}

/// Column `name`, unix seconds or NULL, as a time.
fn unix_time(r: &Row<'_>, name: &str) -> rusqlite::Result<Option<DateTime<Utc>>> {
    let Some(at) = r.get::<_, Option<i64>>(name)? else {
        return Ok(None);
    };
    DateTime::from_timestamp(at, 0).map(Some).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Integer,
            format!("{at} s is out of range").into(),
        )
    })
}

/// Column `name` parsed from its text (ids, roles, times).
fn parse<T>(r: &Row<'_>, name: &str) -> rusqlite::Result<T>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    let text: String = r.get(name)?;
    text.parse().map_err(|e: T::Err| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.to_string().into())
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use gochat_proto::admin::Role;

    fn db() -> Connection {
        let mut c = Connection::open_in_memory().unwrap();
        let steps = MIGRATIONS.iter().map(|m| rusqlite_migration::M::up(m)).collect();
        rusqlite_migration::Migrations::new(steps).to_latest(&mut c).unwrap();
        c
    }

    fn user(name: &str, role: Role) -> User {
        User {
            id: UserId::new(),
            username: name.into(),
            email: format!("{name}@example.org"),
            role,
        }
    }

    #[test]
    fn an_existing_site_gets_its_first_account_as_admin() {
        let mut c = Connection::open_in_memory().unwrap();
        let first = rusqlite_migration::Migrations::new(vec![rusqlite_migration::M::up(MIGRATIONS[0])]);
        first.to_latest(&mut c).unwrap();
        let (old, new) = (UserId::new(), UserId::new());
        for (id, name, at) in [
            (new, "newer", "2025-02-01T00:00:00+00:00"),
            (old, "older", "2025-01-01T00:00:00+00:00"),
        ] {
            c.execute(
                "INSERT INTO users VALUES (?1, ?2, ?2, ?2, ?2, 'h', ?3)",
                params![id.to_string(), name, at],
            )
            .unwrap();
        }
        let all = MIGRATIONS.iter().map(|m| rusqlite_migration::M::up(m)).collect();
        rusqlite_migration::Migrations::new(all).to_latest(&mut c).unwrap();
        assert_eq!(find_user(&c, old).unwrap().unwrap().role, Role::Admin);
        assert_eq!(find_user(&c, new).unwrap().unwrap().role, Role::Member);
    }

    #[test]
    fn invitations_are_used_up_and_expire() {
        let c = db();
        insert_invite(&c, "h1", "h1", UserId::new(), chrono::Utc::now().timestamp() + 60, 2).unwrap();
        insert_invite(&c, "old", "ol", UserId::new(), chrono::Utc::now().timestamp() - 1, 5).unwrap();
        assert!(invite_is_valid(&c, "h1").unwrap());
        assert!(use_invite(&c, "h1").unwrap());
        assert!(use_invite(&c, "h1").unwrap());
        assert!(!use_invite(&c, "h1").unwrap());
        assert!(!invite_is_valid(&c, "h1").unwrap());
        assert!(!use_invite(&c, "old").unwrap());
        assert!(!use_invite(&c, "unknown").unwrap());
    }

    #[test]
    fn users_page_by_creation_and_disabling_keeps_its_instant() {
        let c = db();
        let names = ["ann", "bob", "cat"];
        let users: Vec<User> = names.iter().map(|n| user(n, Role::Member)).collect();
        for u in &users {
            insert(&c, u, "h", &chrono::Utc::now()).unwrap();
        }
        let first = list_users(&c, None, 2).unwrap();
        assert_eq!(
            first.iter().map(|u| u.username.as_str()).collect::<Vec<_>>(),
            ["ann", "bob"]
        );
        let rest = list_users(&c, Some(first[1].id), 2).unwrap();
        assert_eq!(rest.len(), 1);
        assert_eq!(rest[0].username, "cat");

        assert_eq!(disable(&c, users[0].id, 1000).unwrap(), Some(1000));
        assert!(find_admin_user(&c, users[0].id).unwrap().unwrap().disabled);
        assert_eq!(enable(&c, users[0].id).unwrap(), Some(1000));
        assert!(!find_admin_user(&c, users[0].id).unwrap().unwrap().disabled);
        assert_eq!(disable(&c, UserId::new(), 1).unwrap(), None);
    }

    #[test]
    fn a_password_change_needs_the_hash_it_replaces_and_never_moves_sessions_before_back() {
        let c = db();
        let ann = user("ann", Role::Member);
        insert(&c, &ann, "old", &chrono::Utc::now()).unwrap();
        assert_eq!(change_password(&c, ann.id, Some("stale"), "new", 2000).unwrap(), None);
        assert_eq!(find_account_by_id(&c, ann.id).unwrap().unwrap().password_hash, "old");

        let access = change_password(&c, ann.id, Some("old"), "new", 2000).unwrap().unwrap();
        assert_eq!((access.disabled, access.sessions_before.timestamp()), (false, 2000));
        let account = find_account_by_id(&c, ann.id).unwrap().unwrap();
        assert_eq!((account.password_hash.as_str(), account.sessions_before), ("new", 2000));
        assert_eq!(
            change_password(&c, ann.id, Some("old"), "newer", 2001).unwrap(),
            None,
            "used once"
        );

        // A clock that went back never revives a session already refused.
        let access = change_password(&c, ann.id, Some("new"), "newer", 1000)
            .unwrap()
            .unwrap();
        assert_eq!(access.sessions_before.timestamp(), 2000);
        assert_eq!(find_account_by_id(&c, UserId::new()).unwrap().map(|a| a.user), None);
    }

    #[test]
    fn a_reset_code_works_only_while_the_admin_who_made_it_is_an_enabled_admin() {
        let c = db();
        let (ann, bob) = (user("ann", Role::Member), user("bob", Role::Admin));
        let now = chrono::Utc::now();
        insert(&c, &ann, "old", &now).unwrap();
        insert(&c, &bob, "old", &now).unwrap();
        assert!(insert_password_reset(&c, ann.id, "r1", bob.id, now.timestamp() + 60).unwrap());
        assert_eq!(password_reset_account(&c, "r1").unwrap(), Some(ann.id));
        disable(&c, bob.id, now.timestamp()).unwrap();
        assert_eq!(password_reset_account(&c, "r1").unwrap(), None, "its admin is disabled");
        enable(&c, bob.id).unwrap();
        assert_eq!(password_reset_account(&c, "r1").unwrap(), Some(ann.id));
        set_role(&c, bob.id, Role::Member).unwrap();
        assert_eq!(
            password_reset_account(&c, "r1").unwrap(),
            None,
            "its admin is a member now"
        );
    }

    #[test]
    fn a_reset_code_names_its_account_until_it_expires_is_replaced_or_a_password_is_set() {
        let c = db();
        let (ann, bob) = (user("ann", Role::Member), user("bob", Role::Admin));
        insert(&c, &ann, "old", &chrono::Utc::now()).unwrap();
        insert(&c, &bob, "old", &chrono::Utc::now()).unwrap();
        let later = chrono::Utc::now().timestamp() + 60;
        assert!(insert_password_reset(&c, ann.id, "r1", bob.id, later).unwrap());
        assert_eq!(password_reset_account(&c, "r1").unwrap(), Some(ann.id));
        assert!(
            !insert_password_reset(&c, UserId::new(), "r0", bob.id, later).unwrap(),
            "no such account"
        );

        assert!(insert_password_reset(&c, ann.id, "r2", bob.id, later).unwrap());
        assert_eq!(password_reset_account(&c, "r1").unwrap(), None, "replaced");
        assert_eq!(password_reset_account(&c, "r2").unwrap(), Some(ann.id));
        assert_eq!(change_password(&c, ann.id, Some("stale"), "x", 1).unwrap(), None);
        assert_eq!(
            password_reset_account(&c, "r2").unwrap(),
            Some(ann.id),
            "a refused change keeps it"
        );
        assert!(change_password(&c, ann.id, None, "new", 1).unwrap().is_some());
        assert_eq!(
            password_reset_account(&c, "r2").unwrap(),
            None,
            "used up by the new password"
        );

        let past = chrono::Utc::now().timestamp() - 1;
        insert_password_reset(&c, ann.id, "r3", bob.id, past).unwrap();
        assert_eq!(password_reset_account(&c, "r3").unwrap(), None, "expired");
    }

    #[test]
    fn the_admin_list_shows_until_when_a_working_reset_link_works_and_revoking_ends_it() {
        let c = db();
        let (ann, bob, cat) = (
            user("ann", Role::Member),
            user("bob", Role::Admin),
            user("cat", Role::Member),
        );
        for u in [&ann, &bob, &cat] {
            insert(&c, u, "old", &chrono::Utc::now()).unwrap();
        }
        let expiry = |id| find_admin_user(&c, id).unwrap().unwrap().reset_expires_at;
        let later = chrono::Utc::now().timestamp() + 60;
        assert_eq!(expiry(ann.id), None);
        insert_password_reset(&c, ann.id, "r1", bob.id, later).unwrap();
        insert_password_reset(&c, cat.id, "r2", bob.id, later).unwrap();
        assert_eq!(expiry(ann.id).map(|t| t.timestamp()), Some(later));
        let listed: Vec<_> = list_users(&c, None, 10)
            .unwrap()
            .into_iter()
            .map(|u| u.reset_expires_at.is_some())
            .collect();
        assert_eq!(listed, [true, false, true], "ann, bob, cat");
        assert_eq!(
            set_role(&c, cat.id, Role::Member)
                .unwrap()
                .unwrap()
                .reset_expires_at
                .map(|t| t.timestamp()),
            Some(later)
        );

        assert!(revoke_password_reset(&c, ann.id).unwrap());
        assert_eq!(
            (expiry(ann.id), password_reset_account(&c, "r1").unwrap()),
            (None, None)
        );
        assert!(!revoke_password_reset(&c, ann.id).unwrap(), "already revoked");
        assert!(!revoke_password_reset(&c, UserId::new()).unwrap(), "no such account");
        assert_eq!(password_reset_account(&c, "r2").unwrap(), Some(cat.id), "nobody else's");

        // A link that no longer works is not shown, nor revoked: it is only forgotten.
        set_role(&c, bob.id, Role::Member).unwrap();
        assert_eq!(expiry(cat.id), None, "its admin is a member now");
        assert!(!revoke_password_reset(&c, cat.id).unwrap());
        set_role(&c, bob.id, Role::Admin).unwrap();
        assert_eq!(
            password_reset_account(&c, "r2").unwrap(),
            None,
            "forgotten, not only hidden"
        );
        insert_password_reset(&c, ann.id, "r3", bob.id, chrono::Utc::now().timestamp() - 1).unwrap();
        assert_eq!(expiry(ann.id), None, "expired");
    }

    #[test]
    fn the_stored_signup_policy_is_read_back() {
        let c = db();
        assert_eq!(signup_policy(&c).unwrap(), None);
        set_signup_policy(&c, SignupPolicy::Invite).unwrap();
        set_signup_policy(&c, SignupPolicy::Closed).unwrap();
        assert_eq!(signup_policy(&c).unwrap(), Some(SignupPolicy::Closed));
    }
}
