import { expect } from 'chai';
import { describeFailure } from '../../src/mcp/mcpFailure.ts';
import { MAX_TOOL_CONTENT_CHARS, McpToolError, toToolOutcome } from '../../src/mcp/mcpToolOutcome.ts';
import { exposedToolNames, MODEL_TOOL_NAME_PATTERN } from '../../src/mcp/toolNames.ts';
import { SecretBox, UnreadableSecretError } from '../../src/secrets/SecretBox.ts';

describe('MCP tool names', () => {
  it('prefixes the server and keeps a plain name as it is', () => {
    expect([...exposedToolNames('shop', ['lookup_order', 'get-stock'])]).to.deep.equal([
      ['shop__lookup_order', 'lookup_order'],
      ['shop__get-stock', 'get-stock'],
    ]);
  });

  it('fits names the model would refuse, keeping each unique and stable', () => {
    const long = 'x'.repeat(128);
    const tools = ['orders.lookup', 'orders/lookup', 'orders_lookup', long, `${long}y`, 'ünïcode', '.'];
    const names = exposedToolNames('a-very-long-server-name1', tools);
    expect([...names.values()]).to.deep.equal(tools);
    for (const exposed of names.keys()) expect(exposed).to.match(MODEL_TOOL_NAME_PATTERN);
    expect(names.get('a-very-long-server-name1__orders_lookup')).to.equal('orders_lookup');
    expect(new Set(names.keys()).size).to.equal(tools.length);
    expect([...exposedToolNames('a-very-long-server-name1', tools).keys()]).to.deep.equal([...names.keys()]);
  });
});

describe('MCP tool results', () => {
  it('gives the model the text, describes other parts, and summarises without the content', () => {
    const outcome = toToolOutcome('shop', 'lookup_order', {
      content: [
        { type: 'text', text: 'Order A-1: shipped' },
        { type: 'image', mimeType: 'image/png', data: 'aGVsbG8=' },
        { type: 'resource', resource: { uri: 'file:///a.txt', text: 'embedded text' } },
      ],
    });
    expect(outcome.content).to.equal(
      'Order A-1: shipped\n[image (image/png, 6 bytes) not shown]\nembedded text',
    );
    expect(outcome.summary).to.equal(
      `shop answered: ${outcome.content.length} characters, 2 non-text part(s)`,
    );
    expect(outcome.summary).not.to.include('Order A-1');
  });

  it('caps a long result and says how much was cut', () => {
    const outcome = toToolOutcome('shop', 't', {
      content: [{ type: 'text', text: 'z'.repeat(MAX_TOOL_CONTENT_CHARS + 10) }],
    });
    expect(outcome.content.length).to.be.lessThan(MAX_TOOL_CONTENT_CHARS + 100);
    expect(outcome.content).to.match(/\[cut: 10 more characters\]$/);
  });

  it('reads structured content when there is no text, and throws an isError result', () => {
    expect(toToolOutcome('s', 't', { content: [], structuredContent: { ok: 1 } }).content).to.equal(
      '{"ok":1}',
    );
    expect(() => toToolOutcome('s', 't', { isError: true, content: [{ type: 'text', text: 'no stock' }] }))
      .to.throw(McpToolError)
      .with.property('message', 'no stock');
  });
});

describe('MCP failure descriptions', () => {
  it('redact header values (whole or the token alone), URLs and extra lines', () => {
    const headers = { Authorization: 'Bearer tok-123456789', 'X-Key': 'k-abcdef' };
    const error = new Error(
      'Error POSTing to endpoint: {"echo":"Bearer tok-123456789","key":"k-abcdef","again":"tok-123456789"} at https://u:p@host/x?key=1\nsecond line',
    );
    const text = describeFailure(error, { headers });
    expect(text).not.to.include('tok-123456789');
    expect(text).not.to.include('k-abcdef');
    expect(text).not.to.include('https://');
    expect(text).not.to.include('second line');
    expect(text).to.include('[redacted]').and.include('<url>');
  });
});

describe('SecretBox', () => {
  const box = new SecretBox('a server secret of at least thirty-two characters');

  it('opens what it sealed, for the same context only', () => {
    const sealed = box.seal('{"Authorization":"Bearer x"}', 'row-1');
    expect(sealed).to.match(/^v1\./).and.not.include('Bearer');
    expect(box.open(sealed, 'row-1')).to.equal('{"Authorization":"Bearer x"}');
    expect(() => box.open(sealed, 'row-2')).to.throw(UnreadableSecretError);
  });

  it('refuses a value sealed with another secret, or altered', () => {
    const sealed = box.seal('value', 'row-1');
    expect(() => new SecretBox('another server secret, also thirty-two long').open(sealed, 'row-1')).to.throw(
      UnreadableSecretError,
    );
    const altered = `${sealed.slice(0, -2)}${sealed.endsWith('A') ? 'B' : 'A'}A`;
    expect(() => box.open(altered, 'row-1')).to.throw(UnreadableSecretError);
    expect(box.seal('value', 'row-1')).not.to.equal(sealed); // a fresh IV each time
  });
});
