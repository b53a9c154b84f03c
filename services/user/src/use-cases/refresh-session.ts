import { timingSafeEqual } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Unauthorized, isUnavailableError, statementNotRun } from '@ecommerce/kit';
import type { RefreshTokenRow, SessionRepository } from '../data/session-repository.js';
import { refreshTokenDigest, type IssuedTokens } from '../model/session.js';
import type { TokenIssuer } from '../model/token-issuer.js';
import { issueRefreshToken } from './issue-refresh-token.js';

const REFUSED = {
  invalid: 'Invalid or expired refresh token',
  reuse: 'Refresh token was already used; the session has been revoked',
  role: "The account's role changed since this session began; sign in again",
} as const;

/** Who asked for the refresh: `gone()` says it can no longer be answered (its connection closed). */
export interface RefreshCaller {
  gone(): boolean;
}

const ALWAYS_THERE: RefreshCaller = { gone: () => false };

/**
 * How long a refresh whose COMMIT went unanswered keeps asking whether it committed while the database does not
 * answer (a restart, a failover's blip): each 503 in that case left the client a spent token, its retry a reuse.
 */
const COMMIT_CHECK_MS = 3_000;

/**
 * Whether the rotation's new token is stored, asked on another connection; while the database is unavailable, asked
 * again with backoff for up to COMMIT_CHECK_MS (each try bounded by what is left). False when it cannot tell.
 */
async function committed(sessions: SessionRepository, digest: Buffer): Promise<boolean> {
  // The monotonic clock: a wall clock stepped back would stretch the wait.
  const until = performance.now() + COMMIT_CHECK_MS;
  for (let delay = 100; ; delay = Math.min(delay * 2, 800)) {
    const left = until - performance.now();
    if (left <= 0) return false;
    const timer = new AbortController();
    const answer = await Promise.race([
      sessions.holds(digest).then(
        (held) => held,
        (err: unknown) => (isUnavailableError(err) ? undefined : false),
      ),
      sleep(left, false, { signal: timer.signal }).catch(() => false),
    ]).finally(() => timer.abort());
    if (answer !== undefined) return answer;
    await sleep(Math.min(delay, Math.max(0, until - performance.now())));
  }
}

/** A spent token presented with the Idempotency-Key of the refresh that spent it, within the retry window. */
function sameRefresh(row: RefreshTokenRow, keyDigest: Buffer | null): boolean {
  return row.retry_window_open && keyDigest !== null && row.rotation_key !== null && timingSafeEqual(row.rotation_key, keyDigest);
}

/**
 * The caller went away before its rotation committed; it was rolled back and the token it sent is as it was. Not a
 * ProblemError: there is nobody to answer, and the kit logs it as a closed connection (499).
 */
class RefreshAbandoned extends Error {
  constructor() {
    super('The caller of the refresh closed its connection before the rotation committed; rolled back');
  }
}

/**
 * Refresh: rotation with reuse detection. A live token is spent and replaced in the same family; presenting a
 * spent token revokes the whole family (someone else may hold a copy). A session keeps the role it began with:
 * when the account's role is another now (an account promoted to admin, an admin demoted), the session ends, so
 * nobody holding an old session of an account inherits a role that was given to whoever signs in with it now. A
 * session ends SESSION_MAX_AGE_SECONDS after its login however often it rotates (the token is then `expired`).
 *
 * The rotation commits only while its caller is still there: a browser that reloads the page during its refresh
 * drops the answer carrying the new token, and the next page would present the old one, spent, and lose the session
 * (reuse). Checked right before COMMIT; a caller that goes after it still loses its answer (docs/api.md).
 *
 * That caller can send the same refresh again: a refresh named by an Idempotency-Key (`key`) keeps the key's digest
 * on the token it spends. The same token with the same key, within REFRESH_RETRY_WINDOW_SECONDS and while the token
 * that refresh issued was never used, is that refresh again: the unused token is spent (whoever presents it later
 * forked the session: a reuse) and a new one issued in its place. Anything else presenting a spent token, without
 * the key or with another, is a reuse as before. The key is the client's secret beside the token: a copy of the
 * cookie alone is worth nothing more than before.
 */
export async function refreshSession(
  deps: { sessionRepository: SessionRepository; tokenIssuer: TokenIssuer },
  token: string,
  caller: RefreshCaller = ALWAYS_THERE,
  key?: string,
): Promise<IssuedTokens> {
  const hash = refreshTokenDigest(token);
  const keyDigest = key === undefined ? null : refreshTokenDigest(key);
  // The rotation this refresh made, once it is ready to commit: its new token's digest and the answer.
  let rotated: { digest: Buffer; issued: IssuedTokens } | undefined;
  const outcome = await deps.sessionRepository.transaction(async (sessions) => {
    const row = await sessions.lock(hash);
    if (!row || row.revoked_at || row.expired) return { refused: REFUSED.invalid };
    if (row.spent_at && !(sameRefresh(row, keyDigest) && (await sessions.spendUnusedSuccessor(row.family_id, hash)))) {
      await sessions.revokeFamily(row.family_id);
      return { refused: REFUSED.reuse };
    }
    if ((row.role ?? 'customer') !== row.current_role) {
      await sessions.revokeFamily(row.family_id);
      return { refused: REFUSED.role };
    }
    if (!row.spent_at) await sessions.spend(hash, keyDigest);
    // The same session, from the same start: the new token ends at the session's maximum age if that comes first.
    const session = { familyId: row.family_id, startedAt: row.session_started_at, rotatedFrom: hash };
    const next = await issueRefreshToken(sessions, row.user_id, row.current_role, deps.tokenIssuer.lifetimes.refreshSeconds, session);
    // Signed before COMMIT, so that after it only the COMMIT's round trip and the write are left to lose the answer.
    const pair = await deps.tokenIssuer.pair(row.user_id, row.current_role, next.token, next.expiresIn);
    // Thrown, the transaction rolls back (Database.tx). No await between this check and the COMMIT.
    if (caller.gone()) throw new RefreshAbandoned();
    const issued = { pair, refreshExpiresIn: next.expiresIn };
    rotated = { digest: refreshTokenDigest(next.token), issued };
    return { issued };
  }, hash).catch(async (err: unknown) => {
    // The connection was lost with the COMMIT sent (or maybe sent): it may have committed, and then the token the
    // client holds is spent, and a 503 would leave it nothing but a reuse at its next refresh, which ends the session.
    // Asked on another connection, the new token says which: there, the rotation committed and its answer stands.
    if (rotated && isUnavailableError(err) && !statementNotRun(err) && (await committed(deps.sessionRepository, rotated.digest))) return { issued: rotated.issued };
    throw err;
  });
  if ('refused' in outcome) throw new Unauthorized(outcome.refused);
  return outcome.issued;
}
