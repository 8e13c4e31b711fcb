// The layering rule of src/ as a checker: which folder may import which, front doors, no cycles.
// The rule itself is the table in docs/architecture.md (one source of truth); `npx node
// scripts/layering.ts` prints every break of it on the tree, test/layering.test.ts fails on any.

import { readFileSync } from 'node:fs';
import { glob } from 'node:fs/promises';
import { dirname, join, normalize } from 'node:path';

export interface LayerRule {
  /** lowest first; a folder may import its own folder and folders of lower ranks only */
  ranks: string[][];
  /** folders whose files outsiders import only through `<folder>/index.ts` */
  frontDoors: string[];
}

/** Files (path relative to the repo, e.g. `src/lake/table.ts`) and their source text. */
export type SourceTree = Map<string, string>;

const IMPORT =
  /(?:^|[;\s])(?:import|export)\s+(?:type\s+)?(?:[\w*${}\s,]+?\s+from\s+)?['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

/** The relative imports of one file, resolved to repo paths (packages and `node:` are not ours). */
export function importsOf(file: string, source: string): string[] {
  // comments may mention imports; strip them first (strings holding `//` are rare enough in imports)
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const out: string[] = [];
  for (const m of code.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2];
    if (spec.startsWith('.')) out.push(normalize(join(dirname(file), spec)));
  }
  return out;
}

/** The layer folder of a file: `src/lake/log/load.ts` → `lake`, `src/errors.ts` → `errors`. */
export function folderOf(file: string): string {
  const parts = file.split('/');
  return parts[1].replace(/\.ts$/, '');
}

/** Reads the rule from the table under "## The rule" in docs/architecture.md: `| rank | folders |`. */
export function ruleFromDoc(markdown: string): LayerRule {
  const section = markdown.split(/^## /m).find((s) => s.startsWith('The rule'));
  if (!section) throw new Error('docs/architecture.md has no "## The rule" section');
  const ranks: string[][] = [];
  for (const m of section.matchAll(/^\|\s*(\d+)\s*\|([^|]+)\|/gm))
    ranks[Number(m[1]) - 1] = [...m[2].matchAll(/`([^`]+)`/g)].map((x) => x[1]);
  const doors = /front doors?:([^\n]+)/i.exec(section);
  const frontDoors = doors ? [...doors[1].matchAll(/`([^`/]+)\/`/g)].map((x) => x[1]) : [];
  return { ranks, frontDoors };
}

/** `src/lake/index.ts`, or the index of a sub-folder (`src/engine/spark/index.ts`): an implementation's own door. */
function isDoor(dep: string, folder: string): boolean {
  return new RegExp(`^src/${folder}/(?:[\\w-]+/)?index\\.ts$`).test(dep);
}

/** Every break of the rule in the tree, one sentence each, sorted. */
export function breaks(tree: SourceTree, rule: LayerRule): string[] {
  const rank = new Map<string, number>();
  rule.ranks.forEach((folders, i) => {
    for (const f of folders) rank.set(f, i);
  });
  const out: string[] = [];
  const graph = new Map<string, string[]>();
  for (const [file, source] of tree) {
    const from = folderOf(file);
    const deps = importsOf(file, source).filter((d) => d.startsWith('src/'));
    graph.set(file, deps);
    if (!rank.has(from)) out.push(`${file}: folder "${from}" has no rank in the rule`);
    for (const dep of deps) {
      const to = folderOf(dep);
      if (to === from) continue;
      if (rank.has(from) && rank.has(to) && rank.get(to)! >= rank.get(from)!)
        out.push(`${file} imports ${dep}: ${from} may not import ${to} (not below it)`);
      if (rule.frontDoors.includes(to) && !isDoor(dep, to))
        out.push(`${file} imports ${dep}: past the front door src/${to}/index.ts`);
    }
  }
  for (const cycle of cycles(graph)) out.push(`import cycle: ${cycle.join(' → ')} → ${cycle[0]}`);
  return out.sort();
}

/** The strongly connected components of more than one file (Tarjan), each from its first file. */
export function cycles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) found.push(scc.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return found;
}

/** The TypeScript files under src/ of the repo at `root`. */
export async function readTree(root: string): Promise<SourceTree> {
  const tree: SourceTree = new Map();
  for await (const f of glob('src/**/*.ts', { cwd: root }))
    if (!f.includes('/gen/') && !f.endsWith('.d.ts')) tree.set(f, readFileSync(join(root, f), 'utf8'));
  return tree;
}

if (import.meta.main) {
  const root = join(import.meta.dirname, '..');
  const rule = ruleFromDoc(readFileSync(join(root, 'docs/architecture.md'), 'utf8'));
  const found = breaks(await readTree(root), rule);
  for (const b of found) console.log(b);
  console.log(`${found.length} breaks of the layering rule`);
  process.exit(found.length === 0 ? 0 : 1);
}
