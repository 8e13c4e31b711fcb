// The cluster-trace workload for the stream worker (batch layer + speed layer): being built.

import { LakestreamError } from '../../errors.ts';
import type { Lake } from '../../lake/index.ts';
import type { Workload } from '../../stream/workload.ts';

export async function clusterTraceWorkload(_opts: { lake: Lake }): Promise<Workload> {
  throw new LakestreamError('UNSUPPORTED', 'the cluster-trace workload is not implemented yet');
}
