// Reconciliation by identity, not by count: every reading the producer had acknowledged is named by
// (meter_id, ts) — regenerated from the simulator it came from — and looked up in bronze; an identity
// more than once in bronze, or an hour more than once in silver, is a duplicate.

import { decodeReading } from '../domain/meters/reading.ts';
import { Lake } from '../lake/index.ts';
import { openSource } from '../sources/open-source.ts';
import { segmentDay } from './producer-loop.ts';

export interface Reconciled {
  /** readings acknowledged in the segments checked */
  acknowledged: number;
  /** of them, found in bronze */
  stored: number;
  missing: number;
  /** the first few missing identities, `meter_id@ts` */
  missing_ids: string[];
  /** identities (meter_id, ts) more than once in bronze, over the whole lake */
  duplicated_bronze: number;
  /** (meter_id, hour) more than once in silver, over the whole lake */
  duplicated_silver: number;
}

const idOf = (meter: string, tsMs: number) => `${meter}@${new Date(tsMs).toISOString()}`;

/** The identities of segment n's readings, from the same simulator and options as its producer. */
async function segmentIds(n: number, meters: number): Promise<string[]> {
  const source = await openSource({
    source: 'simulate',
    meters,
    start: segmentDay(n),
    days: 1,
    intervalMinutes: 30,
  });
  const ids: string[] = [];
  for await (const batch of source.batches())
    for (const m of batch) {
      const r = decodeReading(m.value);
      if (r.ok) ids.push(idOf(r.reading.meter_id, Date.parse(r.reading.ts)));
    }
  return ids;
}

/** Checks segments [from, to) against bronze, and the whole lake for duplicates. */
export async function reconcile(
  lakeUrl: string,
  from: number,
  to: number,
  meters: number,
): Promise<Reconciled> {
  const lake = await Lake.open(lakeUrl);
  try {
    const days = Array.from({ length: to - from }, (_, i) => `'${segmentDay(from + i)}'`);
    const stored = new Set<string>();
    if (days.length > 0) {
      // a segment is a local day of London meters in January (UTC), bronze's `day` partition; the
      // count comes along so that a result cut at maxRows cannot pass for a complete one
      const sql = `FROM meters_bronze_readings WHERE day IN (${days.join(', ')})`;
      const total = Number(
        (await lake.query(`SELECT count(DISTINCT (meter_id, ts))::BIGINT AS n ${sql}`)).rows[0].n,
      );
      const r = await lake.query(`SELECT DISTINCT meter_id, epoch_ms(ts)::BIGINT AS t ${sql}`, {
        maxRows: total + 1,
      });
      if (r.rows.length !== total) throw new Error(`bronze gave ${r.rows.length} of ${total} identities`);
      for (const row of r.rows) stored.add(idOf(String(row.meter_id), Number(row.t)));
    }
    let acknowledged = 0;
    let found = 0;
    const missing: string[] = [];
    for (let n = from; n < to; n++)
      for (const id of await segmentIds(n, meters)) {
        acknowledged++;
        if (stored.has(id)) found++;
        else missing.push(id);
      }
    const dupBronze = await lake.query(
      'SELECT count(*)::BIGINT AS n FROM (SELECT meter_id, ts FROM meters_bronze_readings GROUP BY ALL HAVING count(*) > 1)',
    );
    const dupSilver = await lake.query(
      'SELECT count(*)::BIGINT AS n FROM (SELECT meter_id, hour FROM meters_silver_readings GROUP BY ALL HAVING count(*) > 1)',
    );
    return {
      acknowledged,
      stored: found,
      missing: missing.length,
      missing_ids: missing.slice(0, 5),
      duplicated_bronze: Number(dupBronze.rows[0]?.n ?? 0),
      duplicated_silver: Number(dupSilver.rows[0]?.n ?? 0),
    };
  } finally {
    await lake.close();
  }
}
