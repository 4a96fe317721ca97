-- +goose Up
-- Four-band health models (seed 004: healthy, at risk, high risk, critical)
-- put accounts in orange, between yellow and red: snapshots and risk alerts
-- must be able to store it. Every row already passed the narrower checks, so
-- the wider ones always validate.
ALTER TABLE health_snapshots
    DROP CONSTRAINT health_snapshots_band_check,
    ADD CONSTRAINT health_snapshots_band_check CHECK (band IN ('green', 'yellow', 'orange', 'red'));
ALTER TABLE risk_alerts
    DROP CONSTRAINT risk_alerts_band_from_check,
    ADD CONSTRAINT risk_alerts_band_from_check CHECK (band_from IN ('green', 'yellow', 'orange', 'red')),
    DROP CONSTRAINT risk_alerts_band_to_check,
    ADD CONSTRAINT risk_alerts_band_to_check CHECK (band_to IN ('green', 'yellow', 'orange', 'red'));

-- +goose Down
-- Going back refuses while any orange band is stored, rather than deleting
-- history (snapshots, alerts and the firings that point at them) or
-- rewriting it to a band the model never gave. Rescore or remove those rows
-- first, knowingly.
-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM health_snapshots WHERE band = 'orange')
        OR EXISTS (SELECT 1 FROM risk_alerts WHERE band_from = 'orange' OR band_to = 'orange') THEN
        RAISE EXCEPTION 'cannot restore the three health bands: health_snapshots or risk_alerts still hold the band orange';
    END IF;
END
$$;
-- +goose StatementEnd
ALTER TABLE health_snapshots
    DROP CONSTRAINT health_snapshots_band_check,
    ADD CONSTRAINT health_snapshots_band_check CHECK (band IN ('green', 'yellow', 'red'));
ALTER TABLE risk_alerts
    DROP CONSTRAINT risk_alerts_band_from_check,
    ADD CONSTRAINT risk_alerts_band_from_check CHECK (band_from IN ('green', 'yellow', 'red')),
    DROP CONSTRAINT risk_alerts_band_to_check,
    ADD CONSTRAINT risk_alerts_band_to_check CHECK (band_to IN ('green', 'yellow', 'red'));
