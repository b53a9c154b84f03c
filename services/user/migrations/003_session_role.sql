-- Up Migration
-- The role an account had when its session (refresh token family) began, copied on every rotation. A refresh
-- whose account has another role now ends the session: a session never gains the admin role it did not log in
-- with (an account promoted by ADMIN_EMAIL keeps no session from before). NULL: a session from before this
-- migration, taken as a customer's.
ALTER TABLE refresh_tokens ADD COLUMN role text CHECK (role IN ('customer', 'admin'));

