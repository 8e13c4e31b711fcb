// A separate process that appends N commits to a table: `node append-worker.ts <lake-url> <table> <worker> <commits>`.

import { Lake } from '../../src/lake/index.ts';
import { readings } from './helpers.ts';

const [url, table, worker, commits] = process.argv.slice(2);
const lake = await Lake.open(url);
const t = lake.table(table);
const w = Number(worker);
for (let i = 0; i < Number(commits); i++) {
  const res = await t.write(readings(10, (w * 1000 + i) * 10, `M${w}`), { filePrefix: `w${w}-` });
  if (res.status !== 'committed') throw new Error(`worker ${w} commit ${i}: ${JSON.stringify(res)}`);
}
await lake.close();
