// What a bench run's lake holds, to reconcile with what the producer had acknowledged.

/** What the lake holds: bronze rows and distinct (meter_id, ts), and silver's sum of n_readings. */
export interface LakeCount {
  bronze_rows: number;
  bronze_distinct: number;
  silver_readings: number;
}

export async function countLake(lakeUrl: string): Promise<LakeCount> {
  const { Lake } = await import('../lake/index.ts');
  const lake = await Lake.open(lakeUrl);
  try {
    const b = await lake.query(
      'SELECT count(*) AS n, count(DISTINCT (meter_id, ts)) AS d FROM meters_bronze_readings',
    );
    const s = await lake
      .query('SELECT coalesce(sum(n_readings), 0) AS n FROM meters_silver_readings')
      .catch(() => ({ rows: [{ n: 0 }] }));
    return {
      bronze_rows: Number(b.rows[0]?.n ?? 0),
      bronze_distinct: Number(b.rows[0]?.d ?? 0),
      silver_readings: Number(s.rows[0]?.n ?? 0),
    };
  } finally {
    await lake.close();
  }
}
