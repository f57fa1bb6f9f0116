// Empties dist/ before a build, so a renamed module leaves nothing behind.
import { rmSync } from 'node:fs';

rmSync(new URL('dist/', `file://${process.cwd()}/`), { recursive: true, force: true });
