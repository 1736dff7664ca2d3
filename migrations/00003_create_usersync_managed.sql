-- usersync's own record of the users it manages, so that pruning (opt-in)
-- can never touch an account the sync did not create. origin is 'created'
-- (the sync created the user: prunable) or 'adopted' (the user existed when
-- the file first named it: never pruned). pruned_at is set when a prune
-- disabled the user; the users table itself is not changed by this schema.
-- +goose Up
CREATE TABLE IF NOT EXISTS usersync_managed (
    username        TEXT PRIMARY KEY,
    subject         TEXT NOT NULL,
    origin          TEXT NOT NULL CHECK (origin IN ('created', 'adopted')),
    first_synced_at BIGINT NOT NULL,
    pruned_at       BIGINT NULL
);

-- +goose Down
DROP TABLE usersync_managed;
