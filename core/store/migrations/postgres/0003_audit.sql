-- Audit log: one hash chain per tenant (tenant_id is the chain id; the
-- platform's own chain is "platform").
CREATE TABLE audit_events (
	tenant_id TEXT NOT NULL,
	seq BIGINT NOT NULL,
	id TEXT NOT NULL,
	at TIMESTAMPTZ NOT NULL,
	actor TEXT NOT NULL,
	action TEXT NOT NULL,
	target TEXT NOT NULL,
	outcome TEXT NOT NULL,
	request_id TEXT NOT NULL,
	details TEXT NOT NULL,
	personal BYTEA,
	personal_digest BYTEA NOT NULL,
	prev_hash BYTEA NOT NULL,
	hash BYTEA NOT NULL,
	PRIMARY KEY (tenant_id, seq)
);
CREATE INDEX audit_events_at ON audit_events (tenant_id, at);

-- Events are append-only. The one change allowed is erasure of the sealed
-- personal data (the chain covers only its digest).
CREATE FUNCTION audit_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'UPDATE' AND NEW.personal IS NULL
		AND (NEW.tenant_id, NEW.seq, NEW.id, NEW.at, NEW.actor, NEW.action, NEW.target, NEW.outcome,
		     NEW.request_id, NEW.details, NEW.personal_digest, NEW.prev_hash, NEW.hash)
		IS NOT DISTINCT FROM
		    (OLD.tenant_id, OLD.seq, OLD.id, OLD.at, OLD.actor, OLD.action, OLD.target, OLD.outcome,
		     OLD.request_id, OLD.details, OLD.personal_digest, OLD.prev_hash, OLD.hash)
	THEN
		RETURN NEW;
	END IF;
	RAISE EXCEPTION 'audit events are append-only';
END
$$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
	FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();

-- The tip of each chain, locked by every append so appends serialise per chain.
CREATE TABLE audit_heads (
	tenant_id TEXT PRIMARY KEY,
	seq BIGINT NOT NULL,
	hash BYTEA NOT NULL
);

-- Signed checkpoints of chain heads.
CREATE TABLE audit_checkpoints (
	tenant_id TEXT NOT NULL,
	seq BIGINT NOT NULL,
	hash BYTEA NOT NULL,
	at TIMESTAMPTZ NOT NULL,
	key_id TEXT NOT NULL,
	signature BYTEA NOT NULL,
	PRIMARY KEY (tenant_id, seq)
);

-- Public keys that sign checkpoints. Platform table.
CREATE TABLE audit_signing_keys (
	key_id TEXT PRIMARY KEY,
	public_key BYTEA NOT NULL,
	created_at TIMESTAMPTZ NOT NULL
);

ALTER TABLE audit_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON audit_events
	USING (plenum_tenant_visible(tenant_id)) WITH CHECK (plenum_tenant_visible(tenant_id));
ALTER TABLE audit_heads ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_heads FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON audit_heads
	USING (plenum_tenant_visible(tenant_id)) WITH CHECK (plenum_tenant_visible(tenant_id));
ALTER TABLE audit_checkpoints ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_checkpoints FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON audit_checkpoints
	USING (plenum_tenant_visible(tenant_id)) WITH CHECK (plenum_tenant_visible(tenant_id));
