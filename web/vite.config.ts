import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));
/** Where `vite` (dev server) forwards API and socket calls: a running edge. */
const edge = process.env.PARLEY_EDGE_URL ?? 'http://127.0.0.1:3000';

export default defineConfig({
  root,
  base: '/',
  // Vite 8 transforms JSX with Oxc; Preact's automatic runtime, no Babel plugin needed.
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    // No inline scripts or styles: the CSP allows only 'self'.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
  },
  server: {
    proxy: {
      '/api': edge,
      '/docs': edge,
      '/admin/queues': edge,
      '/socket.io': { target: edge, ws: true },
    },
  },
});
