// What the kit makes of a PostgreSQL or connection error, code by code: is the server gone (readiness stops trusting
// earlier answers), does a request answer 503 + Retry-After, does start-up wait it out and why, did the statement
// certainly not run. The pinned rows are the answers the kit gave before its three classifiers read one table.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import pg from 'pg';
import { POOL_SHARE_FULL } from '../src/pool-share.js';
import { DB_FAILURES, ProblemError, isStaleStatement, isUnavailableError, serverGone, startupWaitReason, statementNotRun } from '../src/index.js';

/** An error the server answered, as pg reports it. */
function answered(code: string, message = 'x', fields: Partial<pg.DatabaseError> = {}): pg.DatabaseError {
  return Object.assign(new pg.DatabaseError(message, 1, 'error'), { code }, fields);
}

/** A failure of the connection, as Node reports it (no answer from the server). */
function failed(message: string, code?: string): Error {
  return code === undefined ? new Error(message) : Object.assign(new Error(message), { code });
}

/** A FATAL, by its severity or a code PostgreSQL sends only as one (class 08, 57P01, 57P02, 57P04, 57P05). */
const endsSession = (err: pg.DatabaseError): boolean => err.severity === 'FATAL' || err.severity === 'PANIC' || /^(?:08...|57P0[1245])$/.test(err.code ?? '');

const waitedGeneric = (code: string): string => `the server does not accept connections (${code})`;

/** [what, error, serverGone, isUnavailableError, startupWaitReason, statementNotRun] */
type Row = [string, unknown, boolean, boolean, string | undefined, boolean];

const PINNED: Row[] = [
  // Class 08, connection exceptions: gone, a request's 503, waited out at start-up. Each ends the session (a FATAL),
  // which may come after the statement in flight ran: not statementNotRun (as 57P01, 57P02, 57P04, 57P05 below).
  ...['08000', '08001', '08003', '08004', '08006', '08007', '08P01'].map((code): Row => [code, answered(code), true, true, waitedGeneric(code), false]),
  // Shutting down, crashed, starting, ended for idleness: gone.
  ['57P01', answered('57P01'), true, true, waitedGeneric('57P01'), false],
  ['57P02', answered('57P02'), true, true, waitedGeneric('57P02'), false],
  ['57P03', answered('57P03'), true, true, 'the server is starting up or recovering', true],
  // The database dropped under the session (a standby replaying DROP DATABASE): the connection ended.
  ['57P04', answered('57P04', 'terminating connection due to conflict with recovery'), true, true, 'the database was dropped (its connections ended)', false],
  ['57P05', answered('57P05'), true, true, waitedGeneric('57P05'), false],
  // Short of resources: gone; the connection limit: busy, not gone.
  ['53000', answered('53000'), true, true, 'the server is short of resources', true],
  ['53100', answered('53100'), true, true, 'the server has no disk space left', true],
  ['53200', answered('53200'), true, true, 'the server is out of memory', true],
  ['53300', answered('53300'), false, true, 'the server has no free connection slot', true],
  // The database or role not there (yet): gone for readiness, a misconfiguration for a request, waited out at start-up.
  ['3D000', answered('3D000'), true, false, 'the database does not exist yet', true],
  ['28000', answered('28000'), true, false, 'the role does not exist yet or cannot log in yet', true],
  ['28P01', answered('28P01'), true, false, 'the role does not exist yet or cannot log in yet', true],
  ['42501', answered('42501'), false, false, 'the role has no rights on its database or schema yet', true],
  // Out of time: a request's 503, never waited out at start-up (a migration would run again).
  ['57014', answered('57014'), false, true, undefined, true],
  ['25P04', answered('25P04'), false, true, undefined, true],
  // Conflicts with another session: run again.
  ['40001', answered('40001'), false, true, 'a conflict with another session', true],
  ['40P01', answered('40P01'), false, true, 'a deadlock with another session', true],
  ['55P03', answered('55P03'), false, true, 'a lock another session holds (lock_timeout)', true],
  // A server that takes no writes, a statement prepared before a migration.
  // Start-up says what happened, not that the server refuses connections: it answered.
  ['25006', answered('25006'), false, true, 'the server takes no writes (a standby, or a primary being failed over)', true],
  ['26000', answered('26000'), false, true, 'a statement prepared on a connection no longer exists there', true],
  ['0A000 cached plan', answered('0A000', 'cached plan must not change result type'), false, true, 'a statement prepared on a connection returns other types since a migration', true],
  ['0A000 RevalidateCachedQuery', answered('0A000', 'x', { routine: 'RevalidateCachedQuery' }), false, true, 'a statement prepared on a connection returns other types since a migration', true],
  // Any FATAL ends the session, whatever its code: it may have come after the statement ran.
  ['FATAL XX000', answered('XX000', 'x', { severity: 'FATAL' }), false, false, undefined, false],
  ['PANIC XX000', answered('XX000', 'x', { severity: 'PANIC' }), false, false, undefined, false],
  // None of them: the request's own data, a bug, a limit the same statement meets again, another meaning of the code.
  ...['0A000', '53400', '40002', '55000', '23505', '42601', '42P01', '22P02', 'XX000'].map((code): Row => [code, answered(code), false, false, undefined, true]),
  // No answer from the server: the connection failed, or was lost.
  ...['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN'].map((code): Row => [code, failed('x', code), true, true, waitedGeneric(code), false]),
  ['EACCES', failed('x', 'EACCES'), true, false, undefined, false],
  ...[
    'Connection terminated',
    'Connection terminated unexpectedly',
    'Client has encountered a connection error and is not queryable',
    'Client was closed and is not queryable',
    'Query read timeout',
    // A pg.Client's own connect timeout (connectionTimeoutMillis), on the connections the kit opens beside the pool
    // (a session lock, a ping aside): the server did not answer the connection in time.
    'timeout expired',
  ].map((message): Row => [message, failed(message), true, true, 'the connection failed', false]),
  // The pool's own queue timing out: busy, not gone.
  ['pool connect timeout', failed('timeout exceeded when trying to connect'), false, true, 'the connection failed', false],
  // The turn of a lock wait (Database.lockWaiting) not had in time: as the pool's own queue.
  ['lock-wait share full', failed(POOL_SHARE_FULL), false, true, 'the connection failed', false],
  ['a failure the kit does not know', failed('boom'), true, false, undefined, false],
  ['every address refused', new AggregateError([failed('x', 'ECONNREFUSED')], 'connect failed'), true, true, 'the connection failed', false],
];

describe('PostgreSQL and connection errors, code by code', () => {
  it('when a code, message or error the kit knows is met, then each classifier answers as pinned', () => {
    for (const [what, err, gone, unavailable, reason, notRun] of PINNED) {
      assert.deepEqual(
        { gone: serverGone(err), unavailable: isUnavailableError(err), reason: startupWaitReason(err), notRun: statementNotRun(err) },
        { gone, unavailable, reason, notRun },
        what,
      );
    }
    assert.equal(isStaleStatement(answered('26000')) && isStaleStatement(answered('0A000', 'cached plan must not change result type')), true);
    assert.equal(isStaleStatement(answered('0A000')), false);
  });

  it('when a code is in the table, then a row above pins it (a class by one of its codes)', () => {
    const pinned = PINNED.map(([, err]) => codeOf(err)).filter((code) => code !== undefined);
    for (const key of Object.keys(DB_FAILURES)) assert.ok(pinned.some((code) => code === key || (key.length === 2 && code.length === 5 && code.startsWith(key))), key);
  });
});

/** The server's answers the kit knows (some classifier says more than "none of them"). */
const KNOWN_ANSWERS = PINNED.flatMap(([, err, ...answers]) => (err instanceof pg.DatabaseError && answers.slice(0, 3).some(Boolean) ? [err] : []));

describe('PostgreSQL and connection errors, relations', () => {
  it('when a SQLSTATE the kit knows comes on a pg.DatabaseError or on any other error, then the answers are the same: the code says what happened', () => {
    fc.assert(
      fc.property(fc.constantFrom(...KNOWN_ANSWERS), (fromServer) => {
        const other = Object.assign(new Error(fromServer.message), { code: fromServer.code, routine: fromServer.routine });
        assert.deepEqual(
          { gone: serverGone(other), unavailable: isUnavailableError(other), reason: startupWaitReason(other) },
          { gone: serverGone(fromServer), unavailable: isUnavailableError(fromServer), reason: startupWaitReason(fromServer) },
          fromServer.code,
        );
      }),
    );
  });

  it('when any error comes (every code in the table, random codes, message-only, code-less, AggregateError, pg.DatabaseError), then the classifiers agree with each other', () => {
    fc.assert(
      fc.property(errorArb, (err) => {
        const code = codeOf(err);
        const gone = serverGone(err);
        const unavailable = isUnavailableError(err);
        const reason = startupWaitReason(err);
        const what = `${(err as object | null)?.constructor?.name ?? String(err)} ${code} ${(err as { message?: string } | null)?.message}: gone ${gone}, 503 ${unavailable}, start-up ${reason}`;
        const missing = code === '3D000' || (code?.length === 5 && code.startsWith('28'));
        // A server gone is a request's 503, but for a database or role that is not there (a misconfiguration) and a
        // failure the kit does not know that the server did not answer (no answer came: readiness asks again).
        if (gone && (err instanceof pg.DatabaseError || knows(err))) assert.ok(unavailable || missing, what);
        // Start-up waits out every failure a request answers 503 for, but a statement that ran out of time.
        if (unavailable && code !== '57014' && code !== '25P04') assert.ok(reason, what);
        if (code === '57014' || code === '25P04') assert.equal(reason, undefined, what);
        // And nothing else, but a database, role or rights not there yet.
        if (reason !== undefined) assert.ok(unavailable || missing || code === '42501', what);
        // Start-up's log line says the server does not accept connections only when it is so: the server, or the way to
        // it, is gone; a server that answered otherwise (read-only, a stale statement) has a reason of its own.
        if (reason?.startsWith('the server does not accept connections') && knownCode(err)) assert.ok(gone, what);
        // The connection limit: busy, not gone.
        if (code === '53300') assert.ok(unavailable && !gone && reason !== undefined, what);
        // A code the kit does not know, from the server: none of them; the statement did not run.
        if (err instanceof pg.DatabaseError && !knows(err)) assert.ok(!gone && !unavailable && reason === undefined, what);
        // The server's answer changed nothing, unless it ended the session (it may have come after the statement ran).
        if (err instanceof pg.DatabaseError) assert.equal(statementNotRun(err), !endsSession(err), what);
        else assert.equal(statementNotRun(err), false, what);
        if (err instanceof ProblemError) assert.equal(unavailable, false, what);
        // An AggregateError of its own says nothing: its errors do.
        if (err instanceof AggregateError && !knows(err)) {
          assert.equal(unavailable, err.errors.some(isUnavailableError), what);
          assert.equal(reason, unavailable ? 'the connection failed' : undefined, what);
        }
      }),
      { numRuns: 2_000 },
    );
  });
});

const KNOWN_MESSAGES = [
  'Connection terminated unexpectedly',
  'Connection terminated',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
  'Query read timeout',
  'timeout exceeded when trying to connect',
  POOL_SHARE_FULL,
  'timeout expired',
];

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Whether the table knows err by its code (its own entry, else its class's). */
function knownCode(err: unknown): boolean {
  const code = codeOf(err);
  const entry = (key: string) => (Object.hasOwn(DB_FAILURES, key) ? DB_FAILURES[key] : undefined);
  const known = code === undefined || code.length === 2 ? undefined : (entry(code) ?? (code.length === 5 ? entry(code.slice(0, 2)) : undefined));
  return known !== undefined && (known.when === undefined || known.when(err as object));
}

/** Whether the table, or the messages pg reports without a code, know err (what the classifiers answer is the test's). */
function knows(err: unknown): boolean {
  const message = (err as { message?: unknown } | null)?.message;
  return knownCode(err) || (typeof message === 'string' && KNOWN_MESSAGES.some((known) => message.startsWith(known)));
}

const SQLSTATE_CHAR = fc.constantFrom(...'0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ');
const codeArb = fc.oneof(
  // Every code in the table, a class's with random codes of that class.
  fc.constantFrom(...Object.keys(DB_FAILURES)).chain((key) => (key.length === 2 ? fc.string({ unit: SQLSTATE_CHAR, minLength: 3, maxLength: 3 }).map((rest) => key + rest) : fc.constant(key))),
  fc.string({ unit: SQLSTATE_CHAR, minLength: 5, maxLength: 5 }),
  fc.constantFrom('53400', '57P04', '40002', '55000', '23505', 'EACCES'),
  fc.constant(undefined),
);
const messageArb = fc.oneof(fc.constantFrom(...KNOWN_MESSAGES, 'cached plan must not change result type', 'x'), fc.string({ maxLength: 12 }));
const leafArb = fc
  .record({ carrier: fc.constantFrom('server', 'node', 'plain', 'problem'), code: codeArb, message: messageArb, routine: fc.constantFrom(undefined, 'RevalidateCachedQuery') })
  .map(({ carrier, code, message, routine }): object => {
    const err = carrier === 'server' ? new pg.DatabaseError(message, 1, 'error') : carrier === 'node' ? new Error(message) : carrier === 'problem' ? new ProblemError(503, 'x', 'X') : { message };
    // A problem (a 4xx or 5xx the service decided on) carries no SQLSTATE.
    return err instanceof ProblemError ? err : Object.assign(err, code === undefined ? {} : { code }, routine === undefined ? {} : { routine });
  });
const errorArb = fc.oneof(
  leafArb,
  // As net's connect to each address of a name: its own message is Node's, never one of pg's.
  fc.tuple(fc.array(leafArb, { maxLength: 3 }), fc.string({ maxLength: 12 }).filter((m) => !KNOWN_MESSAGES.some((known) => m.startsWith(known)))).map(([errors, message]) => new AggregateError(errors, message)),
  fc.constantFrom(null, undefined, 'a string', 42),
);
