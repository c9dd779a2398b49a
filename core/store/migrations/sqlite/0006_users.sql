-- Tenant users: members, board and admins of one association. The same
-- e-mail address in two tenants is two accounts. The address and the name
-- are sealed with the tenant key; the address is found by its blind index.
CREATE TABLE users (
	tenant_id TEXT NOT NULL REFERENCES tenants (id),
	id TEXT NOT NULL,
	email_index BLOB NOT NULL,
	email BLOB NOT NULL,
	name BLOB,
	password_hash TEXT,
	status TEXT NOT NULL,
	created_at TIMESTAMP NOT NULL,
	updated_at TIMESTAMP NOT NULL,
	password_changed_at TIMESTAMP,
	last_sign_in_at TIMESTAMP,
	sso_subject_index BLOB,
	PRIMARY KEY (tenant_id, id),
	UNIQUE (tenant_id, email_index)
);
CREATE UNIQUE INDEX users_sso_subject ON users (tenant_id, sso_subject_index) WHERE sso_subject_index IS NOT NULL;

-- Server-side sessions. The id is the SHA-256 of the token in the
-- browser's cookie, so a database leak yields no usable token.
CREATE TABLE user_sessions (
	tenant_id TEXT NOT NULL,
	id TEXT NOT NULL,
	user_id TEXT NOT NULL,
	csrf_token TEXT NOT NULL,
	stage TEXT NOT NULL,
	created_at TIMESTAMP NOT NULL,
	last_seen_at TIMESTAMP NOT NULL,
	expires_at TIMESTAMP NOT NULL,
	idle_seconds INTEGER NOT NULL,
	auth_at TIMESTAMP NOT NULL,
	mfa_at TIMESTAMP,
	method TEXT NOT NULL,
	client BLOB,
	PRIMARY KEY (tenant_id, id),
	FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX user_sessions_user ON user_sessions (tenant_id, user_id);

-- Devices a user has signed in from (keyed digest of the user agent), to
-- tell the user about sign-ins from a new one.
CREATE TABLE user_devices (
	tenant_id TEXT NOT NULL,
	user_id TEXT NOT NULL,
	device TEXT NOT NULL,
	first_seen_at TIMESTAMP NOT NULL,
	PRIMARY KEY (tenant_id, user_id, device),
	FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);

-- Single-use tokens sent by e-mail: invitations and password resets. The
-- id is the SHA-256 of the token in the link.
CREATE TABLE user_tokens (
	tenant_id TEXT NOT NULL,
	id TEXT NOT NULL,
	user_id TEXT NOT NULL,
	purpose TEXT NOT NULL,
	created_at TIMESTAMP NOT NULL,
	expires_at TIMESTAMP NOT NULL,
	used_at TIMESTAMP,
	PRIMARY KEY (tenant_id, id),
	FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX user_tokens_user ON user_tokens (tenant_id, user_id, purpose);

-- Failed sign-in attempts per key: an account ("account:" + blind index of
-- the address, so unknown addresses behave like known ones) or a source
-- ("ip:" + blind index of the address).
CREATE TABLE signin_attempts (
	tenant_id TEXT NOT NULL,
	key TEXT NOT NULL,
	failures INTEGER NOT NULL,
	window_start TIMESTAMP NOT NULL,
	last_failure_at TIMESTAMP NOT NULL,
	locked_until TIMESTAMP,
	lockouts INTEGER NOT NULL DEFAULT 0,
	user_id TEXT,
	PRIMARY KEY (tenant_id, key)
);
CREATE INDEX signin_attempts_locked ON signin_attempts (tenant_id, locked_until);

-- A tenant's security settings (password length, lockout, MFA, SSO).
CREATE TABLE identity_settings (
	tenant_id TEXT PRIMARY KEY REFERENCES tenants (id),
	settings TEXT NOT NULL,
	updated_at TIMESTAMP NOT NULL,
	updated_by TEXT NOT NULL
);
