// Fails the build when the GraphiQL page would load anything from another
// host: every URL in index.html must be a file of the build under
// /graphql/assets/, and no stylesheet may import or url() a remote resource.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dist = new URL('../dist/graphiql/', import.meta.url).pathname;
const problems = [];

const html = readFileSync(join(dist, 'index.html'), 'utf8');
const refs = [...html.matchAll(/\b(?:src|href)\s*=\s*["']([^"']*)["']/g)].map((m) => m[1]);
if (refs.length === 0) problems.push('index.html references no script or stylesheet');
for (const ref of refs) {
  if (!ref.startsWith('/graphql/assets/')) {
    problems.push(`index.html references ${ref} (expected /graphql/assets/…)`);
  } else if (!existsSync(join(dist, 'assets', ref.slice('/graphql/assets/'.length)))) {
    problems.push(`index.html references ${ref}, which the build does not contain`);
  }
}
if (/(?:https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}/i.test(html.replace(/<!--[\s\S]*?-->/g, ''))) {
  problems.push('index.html contains an absolute URL');
}

for (const name of readdirSync(join(dist, 'assets')).filter((n) => n.endsWith('.css'))) {
  const css = readFileSync(join(dist, 'assets', name), 'utf8');
  for (const m of css.matchAll(/(?:url\(\s*["']?|@import\s+["'])([^"')\s]+)/g)) {
    const target = m[1];
    if (target.startsWith('data:') || target.startsWith('#')) continue;
    if (/^(?:[a-z]+:)?\/\//i.test(target) || !(target.startsWith('/graphql/assets/') || !target.startsWith('/'))) {
      problems.push(`${name} loads ${target}`);
    }
  }
}

if (problems.length > 0) {
  console.error(`dist/graphiql would load from elsewhere:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`dist/graphiql: ${refs.length} references, all under /graphql/assets/`);
