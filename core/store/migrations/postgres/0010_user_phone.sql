-- A phone number for one-time codes by SMS, the weakest fallback: sealed
-- with the tenant key like the e-mail address.
ALTER TABLE users ADD COLUMN phone BYTEA;
