-- Units of an association (flats, houses, shares, memberships): each has
-- one say in a vote, weighted by its entitlement. The weight is an exact
-- rational in lowest terms ("1/3", "125/1"), never a float.
CREATE TABLE units (
	tenant_id TEXT NOT NULL REFERENCES tenants (id),
	id TEXT NOT NULL,
	label TEXT NOT NULL,
	weight TEXT NOT NULL,
	created_at TIMESTAMP NOT NULL,
	updated_at TIMESTAMP NOT NULL,
	PRIMARY KEY (tenant_id, id),
	UNIQUE (tenant_id, label)
);

-- Who owns which unit. A unit may have several owners, a user several units.
CREATE TABLE unit_owners (
	tenant_id TEXT NOT NULL,
	unit_id TEXT NOT NULL,
	user_id TEXT NOT NULL,
	since TIMESTAMP NOT NULL,
	PRIMARY KEY (tenant_id, unit_id, user_id),
	FOREIGN KEY (tenant_id, unit_id) REFERENCES units (tenant_id, id) ON DELETE CASCADE,
	FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX unit_owners_user ON unit_owners (tenant_id, user_id);
