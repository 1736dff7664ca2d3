-- The identity provider's per-user properties: one row per (owner, key),
-- value holding the JSON encoding of the value. owner is users.subject.
-- +goose Up
CREATE TABLE IF NOT EXISTS properties (
    owner      TEXT NOT NULL,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (owner, key)
);

-- +goose Down
DROP TABLE properties;
