-- +goose Up
-- The escalation ladder: an approval climbs from the CSM (level 1) through
-- managers to level 4.
ALTER TABLE approvals ADD COLUMN level integer NOT NULL DEFAULT 1 CHECK (level BETWEEN 1 AND 4);

-- +goose Down
ALTER TABLE approvals DROP COLUMN level;
