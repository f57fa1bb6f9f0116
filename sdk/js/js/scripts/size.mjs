// Prints the size of @portcullis/js as an application ships it: the whole
// package bundled from dist/index.js, minified by esbuild, then gzipped.
import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';

const result = await build({
  entryPoints: [new URL('../dist/index.js', import.meta.url).pathname],
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2022',
  write: false,
});
const code = result.outputFiles[0].contents;
const gzipped = gzipSync(code, { level: 9 }).length;
const kb = (n) => `${(n / 1024).toFixed(2)} KB`;
console.log(`@portcullis/js: ${kb(code.length)} minified, ${kb(gzipped)} minified+gzipped (${gzipped} bytes)`);
