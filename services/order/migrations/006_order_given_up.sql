-- Up Migration
-- When a driver gave a pending order up (past its deadline, nothing decided: it is to be failed and its stock given
-- back), written before the release, by a conditional write while the order is still pending. From then on only
-- `failed` may be written for it: a driver whose lease ran out under it (a GC pause, a slow network) released the
-- stock of an order another driver had reserved and then confirmed, and the customer told "confirmed" saw it
-- cancelled by the audit. An order given up and not yet failed (its driver died after this write) is still pending:
-- the next driver releases and fails it without reserving again. NULL: not given up (every order placed before).
ALTER TABLE orders ADD COLUMN given_up_at timestamptz;
