// Accessibility checks with axe-core, run inside the page.

import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let axeSource;

/** The impacts that fail a test. */
export const FAILING_IMPACTS = ['serious', 'critical'];

/**
 * Runs axe-core on the page (or on `include`, a CSS selector) and fails on
 * any violation of impact serious or critical, naming each rule, its help
 * and the nodes it found. Options: `include`, `exclude` (selectors),
 * `disableRules` (rule ids, each with a reason in the test). Returns the
 * whole axe result, minor and moderate violations included.
 *
 * axe is evaluated through the DevTools protocol, not added as a <script>:
 * the dashboard's CSP (no inline script) would refuse a script tag, and the
 * tests keep CSP on.
 */
export async function expectAccessible(page, { include, exclude, disableRules = [] } = {}) {
  axeSource ??= await readFile(require.resolve('axe-core/axe.min.js'), 'utf8');
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) {
    await page.evaluate(axeSource);
  }
  const results = await page.evaluate(
    async ({ include, exclude, disableRules }) => {
      const context = include || exclude
        ? { ...(include ? { include: [include] } : {}), ...(exclude ? { exclude: [exclude] } : {}) }
        : document;
      const rules = Object.fromEntries(disableRules.map((id) => [id, { enabled: false }]));
      return window.axe.run(context, { resultTypes: ['violations'], rules });
    },
    { include, exclude, disableRules },
  );
  const failing = results.violations.filter((v) => FAILING_IMPACTS.includes(v.impact));
  if (failing.length > 0) {
    throw new Error(`accessibility violations on ${page.url()}:\n${failing.map(describe).join('\n')}`);
  }
  return results;
}

function describe(v) {
  const nodes = v.nodes
    .map((n) => `    - ${n.target.join(' ')}${n.failureSummary ? `\n      ${n.failureSummary.replace(/\n/g, '\n      ')}` : ''}`)
    .join('\n');
  return `  [${v.impact}] ${v.id}: ${v.help} (${v.helpUrl})\n${nodes}`;
}
