import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * The dashboard's pages: `vite build --config ui/vite.config.ts` writes dist/ui/ (run by
 * `npm run build`). Asset URLs are relative (`base: './'`) and routing uses the hash, so one
 * build works under any base path (`run serve --base-path /jobs`) and when mounted in another
 * server. JSX goes through vite's esbuild with Preact's runtime: no babel plugin needed.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: fileURLToPath(new URL('../dist/ui', import.meta.url)),
    emptyOutDir: true,
    // Served from the package: no source maps to ship, and no inlined assets that a strict CSP
    // would have to allow.
    sourcemap: false,
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 200,
  },
  logLevel: 'warn',
});
