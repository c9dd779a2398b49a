-- Platform operators: accounts of the people who run the platform, separate
-- from every tenant's users. The e-mail address is sealed with the platform
-- key and found by its blind index. Platform tables.
CREATE TABLE operators (
	id TEXT PRIMARY KEY,
	email_index BYTEA NOT NULL UNIQUE,
	email BYTEA NOT NULL,
	password_hash TEXT NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL,
	last_sign_in_at TIMESTAMPTZ,
	disabled BOOLEAN NOT NULL DEFAULT FALSE
);

-- Server-side operator sessions; the id is the SHA-256 of the token the
-- browser holds, so a database leak yields no usable token.
CREATE TABLE operator_sessions (
	id TEXT PRIMARY KEY,
	operator_id TEXT NOT NULL REFERENCES operators (id) ON DELETE CASCADE,
	csrf_token TEXT NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	last_seen_at TIMESTAMPTZ NOT NULL,
	expires_at TIMESTAMPTZ NOT NULL,
	client BYTEA
);
CREATE INDEX operator_sessions_operator ON operator_sessions (operator_id);
