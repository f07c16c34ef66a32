#!/usr/bin/env node
// Precompresses the built client: for every compressible file of dist/ over 1 KiB, writes
// `<file>.br` (brotli, best) and `<file>.gz` (gzip, best) beside it, so that `gochat serve` and
// nginx (gzip_static) send the smaller copy without compressing on every request. Runs after
// `vite build` (npm run build). Node's zlib only: no dependency, the same bytes on every run.
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const COMPRESSIBLE = /\.(js|mjs|css|html|svg|json|webmanifest|txt|map)$/;
const MIN_BYTES = 1024;

function* files(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* files(full);
    else if (COMPRESSIBLE.test(entry.name) && statSync(full).size > MIN_BYTES) yield full;
  }
}

let before = 0;
let after = 0;
for (const file of files(dist)) {
  const raw = readFileSync(file);
  const br = brotliCompressSync(raw, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
      [constants.BROTLI_PARAM_SIZE_HINT]: raw.length,
    },
  });
  const gz = gzipSync(raw, { level: constants.Z_BEST_COMPRESSION });
  writeFileSync(`${file}.br`, br);
  writeFileSync(`${file}.gz`, gz);
  before += raw.length;
  after += br.length;
  console.log(`${path.relative(dist, file)}: ${raw.length} B, gzip ${gz.length} B, brotli ${br.length} B`);
}
console.log(`precompressed ${before} B of client files to ${after} B (brotli)`);
