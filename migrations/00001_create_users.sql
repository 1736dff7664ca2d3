-- The identity provider's users table, column for column. IF NOT EXISTS
-- adopts a table the identity provider created itself.
-- +goose Up
CREATE TABLE IF NOT EXISTS users (
    subject             TEXT PRIMARY KEY,
    username            TEXT NOT NULL UNIQUE,
    password_hash       TEXT NOT NULL,
    email               TEXT NULL,
    email_verified      BIGINT NOT NULL DEFAULT 0,
    created_at          BIGINT NOT NULL,
    enabled             BIGINT NOT NULL DEFAULT 1,
    requires_2fa        BIGINT NOT NULL DEFAULT 0,
    passkey_enrolled_at BIGINT NULL
);

-- +goose Down
DROP TABLE users;
