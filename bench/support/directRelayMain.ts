/**
 * The relay benchmark's baseline server in a process of its own (so its CPU is read from /proc like
 * the pipeline's edge and worker): `node bench/support/directRelayMain.ts <groq base URL>` prints
 * one JSON line `{"url": ...}` once listening, and closes on SIGTERM.
 */
import { DirectRelay } from './DirectRelay.ts';

const baseURL = process.argv[2];
if (!baseURL) {
  console.error('usage: node bench/support/directRelayMain.ts <groq base URL>');
  process.exit(2);
}
const relay = await DirectRelay.start(baseURL);
process.stdout.write(`${JSON.stringify({ url: relay.url })}\n`);
process.once('SIGTERM', () => {
  void relay.close().finally(() => process.exit(0));
});
