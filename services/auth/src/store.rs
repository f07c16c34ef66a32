//! The credentials table. Plain synchronous functions, run on the database threads.

use gochat_proto::dto::User;
use gochat_proto::ids::UserId;
use rusqlite::{Connection, OptionalExtension, params};

pub const MIGRATIONS: &[&str] = &["
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
"];

/// A user with their password hash.
pub struct Credentials {
    pub user: User,
    pub password_hash: String,
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

pub fn insert(c: &Connection, user: &User, password_hash: &str, created_at: &str) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO users (id, email, email_key, username, username_key, password_hash, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            user.id.to_string(),
            user.email,
            user.email.to_lowercase(),
            user.username,
            user.username.to_lowercase(),
            password_hash,
            created_at
        ],
    )?;
    Ok(())
}

/// Looks a user up by email, or by username when `by_email` is false; ignores letter case.
pub fn find_credentials(c: &Connection, login: &str, by_email: bool) -> rusqlite::Result<Option<Credentials>> {
    let sql = if by_email {
        "SELECT id, email, username, password_hash FROM users WHERE email_key = ?1"
    } else {
        "SELECT id, email, username, password_hash FROM users WHERE username_key = ?1"
    };
    c.prepare_cached(sql)?
        .query_row([login.to_lowercase()], |r| {
            Ok(Credentials {
                user: User {
                    id: parse_id(r.get_ref(0)?.as_str()?)?,
                    email: r.get(1)?,
                    username: r.get(2)?,
                },
                password_hash: r.get(3)?,
            })
        })
        .optional()
}

pub fn find_user(c: &Connection, id: UserId) -> rusqlite::Result<Option<User>> {
    c.prepare_cached("SELECT email, username FROM users WHERE id = ?1")?
        .query_row([id.to_string()], |r| {
            Ok(User {
                id,
                email: r.get(0)?,
                username: r.get(1)?,
            })
        })
        .optional()
}

fn parse_id(s: &str) -> rusqlite::Result<UserId> {
    s.parse()
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e)))
}
