-- Platform operators: accounts of the people who run the platform, separate
-- from every tenant's users. The e-mail address is sealed with the platform
-- key and found by its blind index. Platform tables.
CREATE TABLE operators (
	id TEXT PRIMARY KEY,
	email_index BLOB NOT NULL UNIQUE,
	email BLOB NOT NULL,
	password_hash TEXT NOT NULL,
	created_at TIMESTAMP NOT NULL,
	updated_at TIMESTAMP NOT NULL,
	last_sign_in_at TIMESTAMP,
	disabled BOOLEAN NOT NULL DEFAULT FALSE
);

-- Server-side operator sessions; the id is the SHA-256 of the token the
-- browser holds, so a database leak yields no usable token.
CREATE TABLE operator_sessions (
	id TEXT PRIMARY KEY,
	operator_id TEXT NOT NULL REFERENCES operators (id) ON DELETE CASCADE,
	csrf_token TEXT NOT NULL,
	created_at TIMESTAMP NOT NULL,
	last_seen_at TIMESTAMP NOT NULL,
	expires_at TIMESTAMP NOT NULL,
	client BLOB
);
CREATE INDEX operator_sessions_operator ON operator_sessions (operator_id);
