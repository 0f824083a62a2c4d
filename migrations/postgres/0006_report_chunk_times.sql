-- Report chunks (whole days or hours) are kept as soon as they are over; one computed before
-- its numbers were final (late clicks, a ticket within 24 h) is refreshed after a few minutes.
ALTER TABLE report_days ADD COLUMN computed_at TIMESTAMPTZ;
