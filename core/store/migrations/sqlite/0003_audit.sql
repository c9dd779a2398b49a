-- Audit log: one hash chain per tenant (tenant_id is the chain id; the
-- platform's own chain is "platform").
CREATE TABLE audit_events (
	tenant_id TEXT NOT NULL,
	seq BIGINT NOT NULL,
	id TEXT NOT NULL,
	at TIMESTAMP NOT NULL,
	actor TEXT NOT NULL,
	action TEXT NOT NULL,
	target TEXT NOT NULL,
	outcome TEXT NOT NULL,
	request_id TEXT NOT NULL,
	details TEXT NOT NULL,
	personal BLOB,
	personal_digest BLOB NOT NULL,
	prev_hash BLOB NOT NULL,
	hash BLOB NOT NULL,
	PRIMARY KEY (tenant_id, seq)
);
CREATE INDEX audit_events_at ON audit_events (tenant_id, at);

-- Events are append-only. The one change allowed is erasure of the sealed
-- personal data (the chain covers only its digest).
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
	SELECT RAISE(ABORT, 'audit events are append-only');
END;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
WHEN NOT (NEW.personal IS NULL
	AND NEW.tenant_id IS OLD.tenant_id AND NEW.seq IS OLD.seq AND NEW.id IS OLD.id
	AND NEW.at IS OLD.at AND NEW.actor IS OLD.actor AND NEW.action IS OLD.action
	AND NEW.target IS OLD.target AND NEW.outcome IS OLD.outcome
	AND NEW.request_id IS OLD.request_id AND NEW.details IS OLD.details
	AND NEW.personal_digest IS OLD.personal_digest AND NEW.prev_hash IS OLD.prev_hash
	AND NEW.hash IS OLD.hash)
BEGIN
	SELECT RAISE(ABORT, 'audit events are append-only');
END;

-- The tip of each chain, locked by every append so appends serialise per chain.
CREATE TABLE audit_heads (
	tenant_id TEXT PRIMARY KEY,
	seq BIGINT NOT NULL,
	hash BLOB NOT NULL
);

-- Signed checkpoints of chain heads.
CREATE TABLE audit_checkpoints (
	tenant_id TEXT NOT NULL,
	seq BIGINT NOT NULL,
	hash BLOB NOT NULL,
	at TIMESTAMP NOT NULL,
	key_id TEXT NOT NULL,
	signature BLOB NOT NULL,
	PRIMARY KEY (tenant_id, seq)
);

-- Public keys that sign checkpoints. Platform table.
CREATE TABLE audit_signing_keys (
	key_id TEXT PRIMARY KEY,
	public_key BLOB NOT NULL,
	created_at TIMESTAMP NOT NULL
);
