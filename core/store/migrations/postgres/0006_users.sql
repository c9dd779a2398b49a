-- Tenant users: members, board and admins of one association. The same
-- e-mail address in two tenants is two accounts. The address and the name
-- are sealed with the tenant key; the address is found by its blind index.
CREATE TABLE users (
	tenant_id TEXT NOT NULL REFERENCES tenants (id),
	id TEXT NOT NULL,
	email_index BYTEA NOT NULL,
	email BYTEA NOT NULL,
	name BYTEA,
	password_hash TEXT,
	status TEXT NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL,
	password_changed_at TIMESTAMPTZ,
	last_sign_in_at TIMESTAMPTZ,
	sso_subject_index BYTEA,
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
	created_at TIMESTAMPTZ NOT NULL,
	last_seen_at TIMESTAMPTZ NOT NULL,
	expires_at TIMESTAMPTZ NOT NULL,
	idle_seconds INTEGER NOT NULL,
	auth_at TIMESTAMPTZ NOT NULL,
	mfa_at TIMESTAMPTZ,
	method TEXT NOT NULL,
	client BYTEA,
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
	first_seen_at TIMESTAMPTZ NOT NULL,
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
	created_at TIMESTAMPTZ NOT NULL,
	expires_at TIMESTAMPTZ NOT NULL,
	used_at TIMESTAMPTZ,
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
	window_start TIMESTAMPTZ NOT NULL,
	last_failure_at TIMESTAMPTZ NOT NULL,
	locked_until TIMESTAMPTZ,
	lockouts INTEGER NOT NULL DEFAULT 0,
	user_id TEXT,
	PRIMARY KEY (tenant_id, key)
);
CREATE INDEX signin_attempts_locked ON signin_attempts (tenant_id, locked_until);

-- A tenant's security settings (password length, lockout, MFA, SSO).
CREATE TABLE identity_settings (
	tenant_id TEXT PRIMARY KEY REFERENCES tenants (id),
	settings JSONB NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL,
	updated_by TEXT NOT NULL
);

ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON users
	USING (plenum_tenant_visible(tenant_id)) WITH CHECK (plenum_tenant_visible(tenant_id));
ALTER TABLE user_sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE user_sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON user_sessions
	USING (plenum_tenant_visible(tenant_id)) WITH CHECK (plenum_tenant_visible(tenant_id));
ALTER TABLE user_devices ENABLE ROW LEVEL SECURITY;
ALTER TABLE user_devices FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON user_devices
	USING (plenum_tenant_visible(tenant_id)) WITH CHECK (plenum_tenant_visible(tenant_id));
ALTER TABLE user_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE user_tokens FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON user_tokens
	USING (plenum_tenant_visible(tenant_id)) WITH CHECK (plenum_tenant_visible(tenant_id));
ALTER TABLE signin_attempts ENABLE ROW LEVEL SECURITY;
ALTER TABLE signin_attempts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON signin_attempts
	USING (plenum_tenant_visible(tenant_id)) WITH CHECK (plenum_tenant_visible(tenant_id));
ALTER TABLE identity_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE identity_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON identity_settings
	USING (plenum_tenant_visible(tenant_id)) WITH CHECK (plenum_tenant_visible(tenant_id));
