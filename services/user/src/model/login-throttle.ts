import { setTimeout as sleep } from 'node:timers/promises';
import { statementNotRun } from '@ecommerce/kit';
import { PENDING_SECONDS, type LoginFailureRepository } from '../data/login-failure-repository.js';
import { countedAddress } from './client-address.js';

export interface ThrottlePolicy {
  /** Failed logins for one account from one address before that pair is refused for a window. */
  maxPerAccountAddress: number;
  /** Failed logins from one address (any accounts) before the address is refused for a window. */
  maxPerAddress: number;
  windowSeconds: number;
  /** How long an attempt waits for attempts still being checked before it is refused (default 5 s). */
  queueMs?: number;
}

/** One key's count of an admitted attempt: the run it was counted in (LoginFailureRepository.claim), and when. */
interface Held {
  key: string;
  run: string;
  /** performance.now() when it was claimed. */
  admittedAt: number;
}

/** An admitted attempt, to settle with recordFailure, recordSuccess or abandon. */
export interface Attempt {
  pair: Held;
  address: Held;
}

/** claimAttempt's answer: wait 0 with the attempt to settle, or the seconds until another may be made. */
export type Claim = { wait: 0; attempt: Attempt } | { wait: number; attempt?: undefined };

interface Step {
  held: Held;
  op: 'fail' | 'succeed' | 'release';
  /** The key's limit (fail). */
  max?: number;
}

/** At most this many settlements wait to be tried again (a few hundred bytes each); more are left to expire. */
const MAX_WAITING_SETTLEMENTS = 1000;
/** The first try again after a failed settlement, doubled while the database stays away, up to RETRY_MAX_MS. */
const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 1000;

/**
 * Counts failed logins in PostgreSQL, so every replica sees the same counts (OWASP Authentication
 * Cheat Sheet). Keys are (account, address) and address, never the account alone: an account-wide
 * lock is one a stranger can put on anyone, and the owner's right password from their own address
 * must keep working. A key whose failures reach its limit is refused for one window. Attempts being checked count
 * too, apart from the failures (pending): a right password takes its attempt back, a wrong one makes it a failure.
 */
export class LoginThrottle {
  /** Settlements that did not reach the database, to be tried again (settle). */
  private readonly retries: Step[] = [];
  private retryTimer: NodeJS.Timeout | undefined;
  private retrying = false;
  private retryDelayMs = RETRY_FIRST_MS;
  private closed = false;

  constructor(
    private readonly failures: LoginFailureRepository,
    private readonly policy: ThrottlePolicy,
  ) {}

  /**
   * Admits an attempt to have its password checked: answers wait 0 and the attempt when it may be, else the seconds
   * until the next may be made. Attempts being checked count against the budget with the failures (claim), so guesses
   * sent at once cannot all pass a lock check first: 20 sent together were 20 checked, not 5. Every admitted attempt
   * must be settled: recordFailure, recordSuccess or abandon.
   *
   * A key may be over its limit only because of attempts still being checked, which may be right: this one then
   * waits for them (up to queueMs) instead of being refused, and is refused with a short wait if they are still
   * out. Refusing it for the window made 24 right logins at once, from one script, fail 8 of them.
   */
  async claimAttempt(email: string, address: string): Promise<Claim> {
    const [pair, byAddress] = [pairKey(email, address), addressKey(address)];
    const { windowSeconds, maxPerAccountAddress, maxPerAddress } = this.policy;
    // The monotonic clock: a wall clock stepped back would keep this attempt polling the database for that long.
    const deadline = performance.now() + (this.policy.queueMs ?? 5000);
    for (;;) {
      const locked = Math.ceil(await this.failures.lockedSeconds([pair, byAddress]));
      if (locked > 0) return { wait: locked };
      const admittedAt = performance.now();
      const pairRun = await this.failures.claim(pair, windowSeconds, maxPerAccountAddress);
      if (pairRun !== null) {
        const held = { key: pair, run: pairRun, admittedAt };
        let addressRun: string | null;
        try {
          addressRun = await this.failures.claim(byAddress, windowSeconds, maxPerAddress);
        } catch (err) {
          // The pair's place is given back (best effort) before the error answers the request: nobody settles it.
          await this.settle([{ held, op: 'release' }]).catch(() => undefined);
          throw err;
        }
        if (addressRun !== null) return { wait: 0, attempt: { pair: held, address: { key: byAddress, run: addressRun, admittedAt } } };
        await this.settle([{ held, op: 'release' }]);
      }
      if (performance.now() >= deadline) return { wait: 1 };
      await sleep(50 + Math.random() * 100);
    }
  }

  /** A wrong password: the attempt becomes a failure of both keys, and a key at its limit is locked for one window. */
  async recordFailure(attempt: Attempt): Promise<void> {
    await this.settle([
      { held: attempt.pair, op: 'fail', max: this.policy.maxPerAccountAddress },
      { held: attempt.address, op: 'fail', max: this.policy.maxPerAddress },
    ]);
  }

  /**
   * A right password: the pair's failures are cleared; the address keeps its count of real failures (it may be
   * guessing other accounts). The attempt no longer counts at either.
   */
  async recordSuccess(attempt: Attempt): Promise<void> {
    await this.settle([
      { held: attempt.pair, op: 'succeed' },
      { held: attempt.address, op: 'release' },
    ]);
  }

  /** An admitted attempt that ended without a verdict (the database or the hash failed): it no longer counts. */
  async abandon(attempt: Attempt): Promise<void> {
    await this.settle([
      { held: attempt.pair, op: 'release' },
      { held: attempt.address, op: 'release' },
    ]);
  }

  /** Stops trying settlements again (the app closes); those still waiting are left to PENDING_SECONDS. */
  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.retries.length = 0;
  }

  /**
   * Each step of a settlement, one key each, the second tried even when the first failed (it is another row). A step
   * that failed without reaching the database (statementNotRun: the connection never came, or the server refused
   * the statement) is kept to be tried again, so an outage between the claim and the verdict does not leave the
   * attempt counted for PENDING_SECONDS once the database is back; the first error is thrown all the same.
   */
  private async settle(steps: Step[]): Promise<void> {
    let first: unknown;
    for (const step of steps) {
      try {
        await this.apply(step, false);
      } catch (err) {
        first ??= err;
        if (statementNotRun(err)) this.retryLater(step);
      }
    }
    if (first !== undefined) throw first;
  }

  private async apply({ held, op, max }: Step, late: boolean): Promise<void> {
    const { key, run } = held;
    if (!late) {
      if (op === 'fail') return this.failures.fail(key, this.policy.windowSeconds, max ?? 1);
      if (op === 'succeed') return this.failures.succeed(key);
      return this.failures.release(key);
    }
    // Tried again: only in the attempt's own run, and a right password only gives its place back. Clearing the pair's
    // failures later would clear failures counted after it (another replica, the same address), so they wait for the
    // next right password; a wrong one is a failure whenever it is written.
    if (op === 'fail') return this.failures.failInRun(key, run, this.policy.windowSeconds, max ?? 1);
    return this.failures.releaseFromRun(key, run);
  }

  private retryLater(step: Step): void {
    if (this.closed) return;
    // Bounded: beyond MAX_WAITING the attempt is left to PENDING_SECONDS, as before.
    if (this.retries.length >= MAX_WAITING_SETTLEMENTS) return;
    this.retries.push(step);
    this.scheduleRetries();
  }

  private scheduleRetries(): void {
    if (this.closed || this.retrying || this.retryTimer !== undefined || this.retries.length === 0) return;
    this.retryTimer = setTimeout(() => void this.retryWaiting(), this.retryDelayMs);
    this.retryTimer.unref();
  }

  /**
   * Tries the waiting settlements in order, until one fails: the database is still away, so the rest waits too,
   * with a longer pause (up to RETRY_MAX_MS). One whose attempt has stopped counting anyway (PENDING_SECONDS after
   * it was admitted), or whose try failed after reaching the database (it may have been done), is dropped.
   */
  private async retryWaiting(): Promise<void> {
    this.retryTimer = undefined;
    this.retrying = true;
    try {
      while (this.retries.length > 0 && !this.closed) {
        const step = this.retries[0]!;
        if (performance.now() - step.held.admittedAt > PENDING_SECONDS * 1000) {
          this.retries.shift();
          continue;
        }
        try {
          await this.apply(step, true);
          this.retries.shift();
        } catch (err) {
          if (!statementNotRun(err)) this.retries.shift();
          break;
        }
      }
    } finally {
      this.retrying = false;
    }
    this.retryDelayMs = this.retries.length > 0 ? Math.min(this.retryDelayMs * 2, RETRY_MAX_MS) : RETRY_FIRST_MS;
    this.scheduleRetries();
  }

  async prune(): Promise<void> {
    await this.failures.prune(this.policy.windowSeconds);
  }
}

// Counted addresses contain no '/', so the pair key is unambiguous whatever the email holds. An IPv6 client counts by
// its /64 (client-address.ts).
const pairKey = (email: string, address: string) => `pair:${countedAddress(address)}/${email}`;
const addressKey = (address: string) => `address:${countedAddress(address)}`;
