-- Second factors of tenant users (core/identity/mfa). user_id names a row
-- of users but carries no foreign key, so that this migration does not
-- depend on the users table's shape; mfa.Service.Reset removes a user's
-- factors.

-- One TOTP authenticator per user. secret is sealed with the tenant key;
-- last_step is the last time step accepted, so a code is used only once.
CREATE TABLE mfa_totp (
	tenant_id TEXT NOT NULL REFERENCES tenants (id),
	user_id TEXT NOT NULL,
	id TEXT NOT NULL,
	secret BLOB NOT NULL,
	confirmed BOOLEAN NOT NULL,
	last_step BIGINT NOT NULL,
	created_at TIMESTAMP NOT NULL,
	PRIMARY KEY (tenant_id, user_id)
);

-- Unused recovery codes, by SHA-256 digest (hex).
CREATE TABLE mfa_recovery_codes (
	tenant_id TEXT NOT NULL REFERENCES tenants (id),
	user_id TEXT NOT NULL,
	code_hash TEXT NOT NULL,
	created_at TIMESTAMP NOT NULL,
	PRIMARY KEY (tenant_id, user_id, code_hash)
);

-- The outstanding one-time code of each user and purpose (e-mail or SMS),
-- by keyed digest; attempts counts verifications tried.
CREATE TABLE mfa_codes (
	tenant_id TEXT NOT NULL REFERENCES tenants (id),
	user_id TEXT NOT NULL,
	purpose TEXT NOT NULL,
	channel TEXT NOT NULL,
	code_hash BLOB NOT NULL,
	expires_at TIMESTAMP NOT NULL,
	attempts INTEGER NOT NULL,
	PRIMARY KEY (tenant_id, user_id, purpose)
);

-- WebAuthn credentials (passkeys). credential (the library's credential
-- record, public key included) is sealed; sign_count is kept in clear so
-- that it can be advanced by a conditional UPDATE.
CREATE TABLE mfa_webauthn (
	tenant_id TEXT NOT NULL REFERENCES tenants (id),
	user_id TEXT NOT NULL,
	credential_id BLOB NOT NULL,
	label TEXT NOT NULL,
	aaguid BLOB NOT NULL,
	credential BLOB NOT NULL,
	sign_count BIGINT NOT NULL,
	created_at TIMESTAMP NOT NULL,
	last_used_at TIMESTAMP,
	PRIMARY KEY (tenant_id, credential_id)
);
CREATE INDEX mfa_webauthn_user ON mfa_webauthn (tenant_id, user_id);

-- Pending WebAuthn ceremonies (sealed session data), one per kind.
CREATE TABLE mfa_webauthn_sessions (
	tenant_id TEXT NOT NULL REFERENCES tenants (id),
	user_id TEXT NOT NULL,
	kind TEXT NOT NULL,
	data BLOB NOT NULL,
	expires_at TIMESTAMP NOT NULL,
	PRIMARY KEY (tenant_id, user_id, kind)
);
