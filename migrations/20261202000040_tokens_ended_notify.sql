-- Tokens that end are pushed to every process: NOTIFY tokens_ended in the
-- transaction that ends them (delivered at its commit), whichever process or
-- tool made the change. Listeners drop their cached "this token is live"
-- answers and GraphQL WebSockets re-check (platform::auth::revocations).
-- Payloads: {"token": jti} | {"user": username} | {"client": client_id}.
CREATE FUNCTION notify_tokens_ended() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    IF TG_TABLE_NAME = 'revoked_access_tokens' THEN
        PERFORM pg_notify('tokens_ended', json_build_object('token', NEW.jti)::text);
    ELSIF TG_TABLE_NAME = 'users' THEN
        PERFORM pg_notify('tokens_ended', json_build_object('user', OLD.username)::text);
    ELSE
        PERFORM pg_notify('tokens_ended', json_build_object('client', OLD.client_id)::text);
    END IF;
    RETURN NULL;
END
$$;

-- Logout.
CREATE TRIGGER revoked_access_tokens_notify_ended
    AFTER INSERT ON revoked_access_tokens
    FOR EACH ROW EXECUTE FUNCTION notify_tokens_ended();

-- Disable, enable, role change, password reset: every change that moves what
-- the liveness check reads.
CREATE TRIGGER users_notify_ended
    AFTER UPDATE ON users
    FOR EACH ROW
    WHEN (OLD.enabled IS DISTINCT FROM NEW.enabled
        OR OLD.role IS DISTINCT FROM NEW.role
        OR OLD.tokens_valid_after IS DISTINCT FROM NEW.tokens_valid_after
        OR OLD.username IS DISTINCT FROM NEW.username)
    EXECUTE FUNCTION notify_tokens_ended();
CREATE TRIGGER users_notify_ended_on_delete
    AFTER DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION notify_tokens_ended();

-- Client disable, enable, secret rotation.
CREATE TRIGGER oauth_clients_notify_ended
    AFTER UPDATE ON oauth_clients
    FOR EACH ROW
    WHEN (OLD.enabled IS DISTINCT FROM NEW.enabled
        OR OLD.role IS DISTINCT FROM NEW.role
        OR OLD.tokens_valid_after IS DISTINCT FROM NEW.tokens_valid_after)
    EXECUTE FUNCTION notify_tokens_ended();
CREATE TRIGGER oauth_clients_notify_ended_on_delete
    AFTER DELETE ON oauth_clients
    FOR EACH ROW EXECUTE FUNCTION notify_tokens_ended();
