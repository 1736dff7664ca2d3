-- usersync's own table: the fingerprint of the last successful sync, which
-- lets a re-run prove which passwords did not change without verifying
-- them (README, "Re-syncing without re-hashing"). One row per bucket of
-- users, and the row bucket = -1 for the fingerprint over all buckets.
-- Nothing here lets a reader test a password guess at less than Argon2
-- cost: fingerprint is an Argon2id PHC string with its own random salt,
-- hashes a SHA-256 of password_hash values already stored in users.
-- Numbered 00004: 00003 belongs to the managed-users table.
-- +goose Up
CREATE TABLE IF NOT EXISTS usersync_state (
    bucket      BIGINT PRIMARY KEY,
    buckets     BIGINT NOT NULL,
    fingerprint TEXT NOT NULL,
    hashes      TEXT NOT NULL,
    updated_at  BIGINT NOT NULL
);

-- +goose Down
DROP TABLE usersync_state;
