-- +goose Up
ALTER TABLE tasks ADD COLUMN outcome text NOT NULL DEFAULT '';
ALTER TABLE tasks ADD COLUMN note text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE tasks DROP COLUMN note;
ALTER TABLE tasks DROP COLUMN outcome;
