-- +goose Up
-- An account brought into playbookd with years of history (an import, a
-- POST with contract_start) was a customer before playbookd saw it: its
-- ARR history starts on its contract_start, not at its creation, or
-- retention over any past period finds no accounts at its start.
--
-- Rows derived from the contract dates are marked: they precede the first
-- row playbookd saw (its creation), carry that row's ARR, and are written
-- again whenever the dates change. Every other row is a change playbookd
-- saw, valid from when it happened. Dates are UTC days, as the portfolio's
-- periods are.
--
-- An account first seen churned was a customer from its contract_start
-- until its renewal_date when that date lies between the two (the contract
-- was not renewed); without such a date it counts as churned from its
-- creation, the latest moment the data allows.
ALTER TABLE arr_history ADD COLUMN from_contract boolean NOT NULL DEFAULT false;

-- +goose StatementBegin
CREATE FUNCTION arr_history_from_contract(account text, contract_start date, renewal_date date) RETURNS void AS $$
DECLARE
    first_seen arr_history;
    started    timestamptz := contract_start::timestamp AT TIME ZONE 'UTC';
    renewed    timestamptz := renewal_date::timestamp AT TIME ZONE 'UTC';
BEGIN
    DELETE FROM arr_history h WHERE h.account_id = account AND h.from_contract;
    SELECT * INTO first_seen FROM arr_history h WHERE h.account_id = account ORDER BY h.valid_from, h.id LIMIT 1;
    IF NOT FOUND OR started IS NULL OR started >= first_seen.valid_from THEN
        RETURN;
    END IF;
    INSERT INTO arr_history (account_id, arr, status, valid_from, from_contract)
    VALUES (account, first_seen.arr, 'active', started, true);
    IF first_seen.status = 'churned' AND renewed > started AND renewed < first_seen.valid_from THEN
        INSERT INTO arr_history (account_id, arr, status, valid_from, from_contract)
        VALUES (account, first_seen.arr, 'churned', renewed, true);
    END IF;
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION accounts_arr_history() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO arr_history (account_id, arr, status) VALUES (NEW.id, NEW.arr, NEW.status);
        IF NEW.contract_start IS NOT NULL THEN
            PERFORM arr_history_from_contract(NEW.id, NEW.contract_start, NEW.renewal_date);
        END IF;
        RETURN NULL;
    END IF;
    IF NEW.arr IS DISTINCT FROM OLD.arr OR NEW.status IS DISTINCT FROM OLD.status THEN
        INSERT INTO arr_history (account_id, arr, status) VALUES (NEW.id, NEW.arr, NEW.status);
    END IF;
    IF NEW.contract_start IS DISTINCT FROM OLD.contract_start OR NEW.renewal_date IS DISTINCT FROM OLD.renewal_date THEN
        PERFORM arr_history_from_contract(NEW.id, NEW.contract_start, NEW.renewal_date);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd

-- The accounts already there: their history starts at their contract_start too.
SELECT arr_history_from_contract(id, contract_start, renewal_date) FROM accounts WHERE contract_start IS NOT NULL;

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION accounts_arr_history() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.arr IS DISTINCT FROM OLD.arr OR NEW.status IS DISTINCT FROM OLD.status THEN
        INSERT INTO arr_history (account_id, arr, status) VALUES (NEW.id, NEW.arr, NEW.status);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd
DROP FUNCTION arr_history_from_contract(text, date, date);
DELETE FROM arr_history WHERE from_contract;
ALTER TABLE arr_history DROP COLUMN from_contract;
