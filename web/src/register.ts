// Creating an account, then signing in: only the sign-in and checkout forms do it, so it is not in the first visit's
// bundle (state.tsx loads it when the form is sent).
import { notNow, ok, userApi } from './api/client.js';
import { sendKeyed } from './api/keyed.js';
import { signIn, type SessionUser } from './session.js';

/** The waits before the 2nd, 3rd and 4th try of a registration that got no final answer. */
const REGISTER_RETRY_MS: readonly number[] = [500, 1500, 3000];

/**
 * Registers and signs in. `key` names this submission of the form (its Idempotency-Key): a registration that got no
 * answer, or a 502/503/504, is sent again with it, and so is the same form pressed again after such a failure (the
 * form keeps the key until an answer is final or a field changes), so the user service answers the account the first
 * try made, not 409 email-taken to the person who just registered (docs/api.md). No answer in WRITE_TIMEOUT_MS
 * (api/client.ts) is said at once: the shop is stuck, not flaky.
 */
export async function createAccount(name: string, email: string, password: string, key: string, delaysMs: readonly number[] = REGISTER_RETRY_MS): Promise<SessionUser> {
  const send = () => userApi.POST('/user/register', { params: { header: { 'idempotency-key': key } }, body: { name, email, password } });
  ok(await sendKeyed(send, (res) => notNow(res.response.status), delaysMs));
  return signIn(email, password);
}
