import { expect } from 'chai';
import {
  AppError,
  briefOutage,
  conflict,
  forbidden,
  notFound,
  rateLimited,
  unavailable,
} from '../../src/errors/AppError.ts';
import { problemFor } from '../../src/http/problem.ts';
import { createLogger } from '../../src/logger.ts';
import { ackErrorFor } from '../../src/realtime/answer.ts';

/** One AppError, two transports: the same code and message, retry hints in each one's form. */
describe('AppError: one error, mapped once to HTTP and once to socket acks', () => {
  const logger = createLogger('silent');

  it('gives each code its HTTP status', () => {
    const cases: [AppError, number][] = [
      [notFound('message'), 404],
      [conflict('busy'), 409],
      [forbidden('admins only'), 403],
      [new AppError('refresh_token_reused', 'sign in again'), 401],
      [new AppError('unsupported_document', 'no'), 415],
      [rateLimited(3, 'requests'), 429],
      [unavailable('later'), 503],
      [new AppError('embedder_unavailable', 'later', { retryAfterSeconds: 60 }), 503],
    ];
    for (const [error, status] of cases) {
      const problem = problemFor(error);
      expect(problem.status, error.code).to.equal(status);
      expect(problem.toBody()).to.include({ code: error.code, detail: error.message, status });
    }
  });

  it('sends retryAfterSeconds as Retry-After over HTTP and in the ack over sockets', () => {
    const limited = rateLimited(7, 'messages');
    expect(limited.message).to.equal('Too many messages; try again in 7 s.');
    expect(problemFor(limited).headers).to.deep.equal({ 'Retry-After': '7' });
    expect(problemFor(limited).toBody()).not.to.have.property('retryAfterSeconds');
    expect(ackErrorFor(limited, logger)).to.deep.equal({
      code: 'rate_limited',
      message: limited.message,
      retryAfterSeconds: 7,
    });
    expect(problemFor(briefOutage()).headers).to.deep.equal({ 'Retry-After': '5' });
  });

  it('adds no retry hint when there is none', () => {
    const error = unavailable('Your message is saved, but the answer could not be started.');
    expect(problemFor(error).headers).to.deep.equal({});
    expect(ackErrorFor(error, logger)).to.deep.equal({ code: 'unavailable', message: error.message });
  });

  it('keeps field errors and extensions in the problem body', () => {
    const error = new AppError('validation_failed', 'not valid', {
      errors: [{ path: 'body.name', message: 'is required' }],
      extensions: { limitBytes: 10 },
    });
    expect(problemFor(error).toBody()).to.deep.include({
      errors: [{ path: 'body.name', message: 'is required' }],
      limitBytes: 10,
    });
  });
});
