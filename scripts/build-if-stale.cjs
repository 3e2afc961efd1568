#!/usr/bin/env node
/**
 * Builds src/ into dist/ only when something changed since the last build:
 * every `npm run` command calls this before starting its compiled entry, so
 * a built checkout starts at once (tsc takes about 3.5 s, the check a few ms)
 * and an edited src/ is never run stale.
 *
 * Stale = dist/.build-stamp is missing or older than any file under src/, or
 * than tsconfig.json / package.json. The stamp is written only after tsc
 * succeeded, so a failed build is retried next time.
 *
 * Exit codes: 0 up to date or built, 1 the build failed (tsc's messages above).
 */
'use strict';
const { readdirSync, statSync, writeFileSync, mkdirSync, utimesSync } = require('node:fs');
const { join } = require('node:path');
const { spawnSync } = require('node:child_process');

const ROOT = join(__dirname, '..');
const STAMP = join(ROOT, 'dist', '.build-stamp');

/** newest modification time (ms) of a file or of any file below a folder */
function newest(path) {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) return 0;
  if (!st.isDirectory()) return st.mtimeMs;
  let max = st.mtimeMs; // a deleted or renamed file changes its folder's time
  for (const name of readdirSync(path)) max = Math.max(max, newest(join(path, name)));
  return max;
}

function stale() {
  const stamp = statSync(STAMP, { throwIfNoEntry: false });
  if (!stamp) return true;
  const sources = Math.max(newest(join(ROOT, 'src')), newest(join(ROOT, 'tsconfig.json')), newest(join(ROOT, 'package.json')));
  return sources > stamp.mtimeMs;
}

if (process.argv.includes('--force') || stale()) {
  const startedAt = new Date(); // the stamp gets this time: a file saved during the build is newer
  const tsc = require.resolve('typescript/bin/tsc', { paths: [ROOT] });
  const r = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.json')], { stdio: 'inherit' });
  if (r.status !== 0) {
    process.stderr.write(`build: tsc -p tsconfig.json failed (exit ${r.status ?? r.signal}); fix the errors above and run the command again\n`);
    process.exit(1);
  }
  mkdirSync(join(ROOT, 'dist'), { recursive: true });
  writeFileSync(STAMP, `${startedAt.toISOString()}\n`);
  utimesSync(STAMP, startedAt, startedAt);
}
