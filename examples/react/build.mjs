// Bundles src/main.jsx (React, the SDK packages) into public/app.js.
import { build } from 'esbuild';

await build({
  entryPoints: [new URL('./src/main.jsx', import.meta.url).pathname],
  outfile: new URL('./public/app.js', import.meta.url).pathname,
  bundle: true,
  format: 'esm',
  target: 'es2022',
  jsx: 'automatic',
  minify: true,
  sourcemap: true,
  define: { 'process.env.NODE_ENV': '"production"' },
  logLevel: 'warning',
});
