-- Ballots (core/voting): a motion or an election put to the units. The
-- rules (method, config, options, counting, quorum, threshold, times,
-- secrecy, eligibility, double-vote resolution) are kept as one JSON
-- document; rules_hash is its SHA-256 once the ballot opens, after which
-- the rules cannot change. result is the stored tally output (aggregate
-- figures only; never per-unit choices). reminded_at is when the
-- scheduled reminder to units that had not voted went out.
CREATE TABLE ballots (
	tenant_id TEXT NOT NULL REFERENCES tenants (id),
	id TEXT NOT NULL,
	title TEXT NOT NULL,
	state TEXT NOT NULL,
	rules TEXT NOT NULL,
	rules_hash TEXT NOT NULL,
	opens_at TIMESTAMP NOT NULL,
	closes_at TIMESTAMP NOT NULL,
	created_by TEXT NOT NULL,
	created_at TIMESTAMP NOT NULL,
	updated_at TIMESTAMP NOT NULL,
	opened_at TIMESTAMP,
	closed_at TIMESTAMP,
	tallied_at TIMESTAMP,
	published_at TIMESTAMP,
	reminded_at TIMESTAMP,
	result TEXT NOT NULL,
	PRIMARY KEY (tenant_id, id),
	CHECK (state IN ('draft', 'open', 'closed', 'tallied', 'published'))
);
CREATE INDEX ballots_state ON ballots (tenant_id, state, closes_at);

-- One voting right per eligible unit and ballot, created when the ballot
-- opens, with the unit's weight at that moment. online_at is set in the
-- transaction that stores the unit's online vote, by a conditional update
-- that only one transaction can win.
CREATE TABLE ballot_rights (
	tenant_id TEXT NOT NULL,
	ballot_id TEXT NOT NULL,
	unit_id TEXT NOT NULL,
	weight TEXT NOT NULL,
	online_at TIMESTAMP,
	PRIMARY KEY (tenant_id, ballot_id, unit_id),
	FOREIGN KEY (tenant_id, ballot_id) REFERENCES ballots (tenant_id, id) ON DELETE CASCADE
);

-- Vote records. A unit has at most one record per channel (online, paper,
-- proxy): the unique key makes a second online vote for the same unit
-- impossible whatever the number of sessions or hosts; which record
-- counts when a unit has several is the ballot's resolution rule. The
-- choice and where it came from are sealed with the tenant key; receipt is
-- the random code the online voter was given (it reveals no choice).
CREATE TABLE votes (
	tenant_id TEXT NOT NULL,
	id TEXT NOT NULL,
	ballot_id TEXT NOT NULL,
	unit_id TEXT NOT NULL,
	channel TEXT NOT NULL,
	cast_by TEXT NOT NULL,
	cast_at TIMESTAMP NOT NULL,
	revision INTEGER NOT NULL,
	choice BLOB NOT NULL,
	source BLOB,
	receipt TEXT,
	scan BLOB,
	scan_type TEXT,
	PRIMARY KEY (tenant_id, id),
	UNIQUE (tenant_id, ballot_id, unit_id, channel),
	FOREIGN KEY (tenant_id, ballot_id, unit_id) REFERENCES ballot_rights (tenant_id, ballot_id, unit_id) ON DELETE CASCADE,
	CHECK (channel IN ('online', 'paper', 'proxy'))
);
CREATE UNIQUE INDEX votes_receipt ON votes (tenant_id, ballot_id, receipt);

-- How each unit with vote records was counted: the record that counts (or
-- none), the rule's reason, and whether a person must decide (an
-- evaluation error of the tenant's expression flags the unit for review).
CREATE TABLE vote_resolutions (
	tenant_id TEXT NOT NULL,
	ballot_id TEXT NOT NULL,
	unit_id TEXT NOT NULL,
	vote_id TEXT,
	status TEXT NOT NULL,
	reason TEXT NOT NULL,
	decided_by TEXT NOT NULL,
	decided_at TIMESTAMP NOT NULL,
	PRIMARY KEY (tenant_id, ballot_id, unit_id),
	FOREIGN KEY (tenant_id, ballot_id) REFERENCES ballots (tenant_id, id) ON DELETE CASCADE,
	CHECK (status IN ('counted', 'none', 'review'))
);

-- Proxies: an owner lets another member of the association vote for a
-- unit, on one ballot or on every ballot of a meeting.
CREATE TABLE proxies (
	tenant_id TEXT NOT NULL,
	id TEXT NOT NULL,
	unit_id TEXT NOT NULL,
	grantor TEXT NOT NULL,
	holder TEXT NOT NULL,
	ballot_id TEXT NOT NULL,
	meeting TEXT NOT NULL,
	created_at TIMESTAMP NOT NULL,
	revoked_at TIMESTAMP,
	PRIMARY KEY (tenant_id, id),
	FOREIGN KEY (tenant_id, unit_id) REFERENCES units (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX proxies_holder ON proxies (tenant_id, holder);
