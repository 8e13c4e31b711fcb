// Retention for the embedded log: drops stored batches that every group reading the topic has
// committed past. A topic no group has committed on keeps everything. Freed pages go back to the
// disk (auto_vacuum=INCREMENTAL), so a long demo's file shrinks instead of growing forever.

import type { EmbeddedLog } from './log.ts';
import { writeTransaction } from './sqlite.ts';

export function truncateCommitted(log: EmbeddedLog): number {
  const db = log.db;
  const topics = db.prepare('SELECT id FROM topics').all() as { id: number }[];
  // Per partition, the lowest "next offset" over the groups that committed on the topic (a group
  // that committed other partitions but not this one holds it at 0).
  const floors = db.prepare(
    `SELECT p.partition AS partition, MIN(COALESCE(o.next_offset, 0)) AS floor
     FROM partitions p
     CROSS JOIN (SELECT DISTINCT group_id FROM group_offsets WHERE topic_id = ?) g
     LEFT JOIN group_offsets o ON o.group_id = g.group_id AND o.topic_id = p.topic_id AND o.partition = p.partition
     WHERE p.topic_id = ? GROUP BY p.partition`,
  );
  const count = db.prepare(
    'SELECT COALESCE(SUM(end_offset - base_offset), 0) AS n FROM batches WHERE topic_id = ? AND partition = ? AND end_offset <= ?',
  );
  const drop = db.prepare('DELETE FROM batches WHERE topic_id = ? AND partition = ? AND end_offset <= ?');
  let deleted = 0;
  for (const { id } of topics) {
    writeTransaction(db, () => {
      for (const f of floors.all(id, id) as { partition: number; floor: number }[]) {
        if (f.floor <= 0) continue;
        deleted += (count.get(id, f.partition, f.floor) as { n: number }).n;
        drop.run(id, f.partition, f.floor);
      }
    });
  }
  if (deleted > 0) {
    db.exec('PRAGMA incremental_vacuum');
    // Move the shrunken pages from the WAL into the file now (without waiting for readers).
    db.exec('PRAGMA wal_checkpoint(PASSIVE)');
  }
  return deleted;
}
