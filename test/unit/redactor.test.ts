import { expect } from 'chai';
import { REDACTED, Redactor } from '../../src/secrets/Redactor.ts';

describe('Redactor: the one place secrets are hidden in text from outside', () => {
  it('hides a value whole, and its token alone, but not the scheme word', () => {
    const redactor = Redactor.of(['Bearer tok-123456789', undefined, '', null]);
    expect(redactor.redact('sent Bearer tok-123456789; token tok-123456789 refused')).to.equal(
      `sent ${REDACTED}; token ${REDACTED} refused`,
    );
    expect(redactor.redact('use a Bearer token')).to.equal('use a Bearer token');
  });

  it('hides the decoded user and password of a Basic value', () => {
    const basic = `Basic ${Buffer.from('alice:s3cret-pass').toString('base64')}`;
    const redactor = Redactor.of([basic]);
    expect(redactor.redact('denied for alice:s3cret-pass')).to.equal(`denied for ${REDACTED}`);
    expect(redactor.redact('wrong password s3cret-pass')).to.equal(`wrong password ${REDACTED}`);
  });

  it('combines with others and walks JSON-like values, keys included', () => {
    const redactor = Redactor.of(['key-aaaa1111']).with(Redactor.of(['hdr-bbbb2222']), undefined);
    const value = { 'key-aaaa1111': ['x hdr-bbbb2222 y', 3, null], nested: { at: new Date(0) } };
    const redacted = redactor.redactDeep(value);
    expect(redacted).to.deep.equal({ [REDACTED]: [`x ${REDACTED} y`, 3, null], nested: { at: new Date(0) } });
    expect(value['key-aaaa1111']![0]).to.equal('x hdr-bbbb2222 y');
    expect(Redactor.none.isEmpty).to.equal(true);
    expect(Redactor.none.redact('anything')).to.equal('anything');
  });
});
