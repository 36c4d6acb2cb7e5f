// Where things are, for tests: the repository root found from this module's own location,
// which is test/helpers/ in the sources and dist/test/helpers/ once compiled.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRepoRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).name === 'exolab') {
      return dir;
    }
    if (dirname(dir) === dir) {
      throw new Error(`no exolab package.json above ${start}`);
    }
  }
}

export const repoRoot = findRepoRoot(dirname(fileURLToPath(import.meta.url)));

/** A path inside the repository, from '/'-separated parts relative to its root. */
export function repoPath(...parts: string[]): string {
  return resolve(repoRoot, ...parts);
}

/** Guest test programs (C sources) and the runtime they link with. */
export const guestDir = repoPath('test', 'guest');

/** Built guest binaries; build/ is ignored by git. */
export const guestBuildDir = repoPath('build', 'guest');

/** The shared captures: `<repo>/../shared/pcaps`, beside the repository, not in it. */
export function sharedPcapDir(): string {
  return repoPath('..', 'shared', 'pcaps');
}

/**
 * The shared captures' directory, or null when it is absent, after one visible line saying
 * what is skipped (`what`), so a run without the captures never passes in silence.
 */
export function sharedPcaps(what: string): string | null {
  const dir = sharedPcapDir();
  if (existsSync(dir)) return dir;
  console.log(`  skipped: ../shared/pcaps not found (looked for ${dir}): ${what}`);
  return null;
}
