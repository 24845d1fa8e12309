import { describe, expect, it } from 'vitest';
import { dbErrorCode, isTransientDbError } from '../../../src/db/index.ts';

/** An error shaped like pg's DatabaseError (a SQLSTATE in `code`) or a Node socket error (errno name in `code`). */
function coded(code: string, message = `error ${code}`): Error {
  return Object.assign(new Error(message), { code });
}

describe('isTransientDbError', () => {
  it.each([
    [
      '57P01 admin shutdown (pg_terminate_backend)',
      coded('57P01', 'terminating connection due to administrator command'),
    ],
    ['57P02 crash shutdown', coded('57P02')],
    ['57P03 cannot connect now (server starting)', coded('57P03', 'the database system is starting up')],
    ['08006 connection failure', coded('08006')],
    ['08003 connection does not exist', coded('08003')],
    ['ECONNREFUSED', coded('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432')],
    ['ECONNRESET', coded('ECONNRESET', 'read ECONNRESET')],
    ['EPIPE', coded('EPIPE', 'write EPIPE')],
    ['pg: connection terminated unexpectedly', new Error('Connection terminated unexpectedly')],
    ['pg: client not queryable', new Error('Client has encountered a connection error and is not queryable')],
    ['pg-pool: connect timeout', new Error('timeout exceeded when trying to connect')],
    [
      'an AggregateError of refused addresses',
      new AggregateError([coded('ECONNREFUSED'), coded('ECONNREFUSED')], 'connect failed'),
    ],
    ['a wrapped cause', new Error('batch failed', { cause: coded('57P01') })],
  ])('%s is transient', (_name, err) => {
    expect(isTransientDbError(err)).toBe(true);
  });

  it.each([
    ['23505 unique violation', coded('23505', 'duplicate key value violates unique constraint')],
    ['42P01 undefined table', coded('42P01', 'relation "nope" does not exist')],
    ['22P02 invalid input', coded('22P02')],
    ['40001 serialization failure (the caller retries it, not the outage path)', coded('40001')],
    ['57014 query canceled (a statement timeout)', coded('57014')],
    ['a TypeError in a handler', new TypeError("Cannot read properties of undefined (reading 'x')")],
    ['a string', 'Connection lost'],
    ['null', null],
  ])('%s is not transient', (_name, err) => {
    expect(isTransientDbError(err)).toBe(false);
  });

  it('a self-referencing cause does not loop', () => {
    const e = coded('23505') as Error & { cause?: unknown };
    e.cause = e;
    expect(isTransientDbError(e)).toBe(false);
  });
});

describe('dbErrorCode', () => {
  it('finds the code on the error, in its cause or in its first aggregated error', () => {
    expect(dbErrorCode(coded('57P01'))).toBe('57P01');
    expect(dbErrorCode(new Error('wrapped', { cause: coded('ECONNRESET') }))).toBe('ECONNRESET');
    expect(dbErrorCode(new AggregateError([coded('ECONNREFUSED')]))).toBe('ECONNREFUSED');
    expect(dbErrorCode(new Error('Connection terminated unexpectedly'))).toBeUndefined();
  });
});
