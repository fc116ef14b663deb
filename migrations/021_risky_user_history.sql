-- riskyUserHistoryItem: every change of a user's risk (dismiss,
-- confirmCompromised, the lab's setRiskLevel), written in the action's own
-- transaction, so /identityProtection/riskyUsers/{id}/history never misses
-- or invents one. A row is the riskyUser state the change left, with the
-- activity (its riskDetail) and who initiated it (the admin's object id,
-- or an app id).
CREATE TABLE risky_user_history (
    id                          uuid PRIMARY KEY,
    user_id                     uuid NOT NULL REFERENCES risky_users (user_id) ON DELETE CASCADE,
    user_principal_name         text NOT NULL,
    user_display_name           text NOT NULL,
    risk_level                  text NOT NULL,
    risk_state                  text NOT NULL,
    risk_detail                 text NOT NULL,
    risk_last_updated_date_time timestamptz NOT NULL,
    initiated_by                text NOT NULL DEFAULT ''
);
CREATE INDEX risky_user_history_user_idx ON risky_user_history (user_id, risk_last_updated_date_time DESC, id DESC);
