import { expect } from 'chai';
import { decodeJwt } from 'jose';
import { AccessTokens } from '../../src/auth/AccessTokens.ts';

describe('access tokens', () => {
  const tokens = new AccessTokens('a secret of more than thirty-two characters', 900);
  const claims = { userId: '01a2012f-0000-7000-8000-000000000001', role: 'user' } as const;

  it('differ for one user within one second, each with its own jti, and both verify', async () => {
    // Sign pairs until both fall in the same second (the first pair almost always does).
    let pair: [string, string] = ['', ''];
    for (let attempt = 0; attempt < 5; attempt++) {
      pair = [await tokens.sign(claims), await tokens.sign(claims)];
      if (decodeJwt(pair[0]).iat === decodeJwt(pair[1]).iat) break;
    }
    const [first, second] = pair;
    expect(decodeJwt(first).iat).to.equal(decodeJwt(second).iat);
    expect(first).not.to.equal(second);
    const ids = [decodeJwt(first).jti, decodeJwt(second).jti];
    for (const id of ids)
      expect(id).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(ids[0]).not.to.equal(ids[1]);
    for (const token of pair) expect(await tokens.verify(token)).to.deep.equal(claims);
  });
});
