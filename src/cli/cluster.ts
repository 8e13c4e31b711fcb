// `lakestream cluster up|down|status|kill|start|fetch`: a real local Kafka (KRaft), HDFS and Spark from Apache's jars.

import { clusterDown, clusterUp, killNode, startNode } from '../cluster/cluster.ts';
import {
  ALL_NODES,
  DEFAULT_CLUSTER_DIR,
  highestOffsetBelow,
  isNodeName,
  type Part,
  partsFromFlags,
} from '../cluster/config.ts';
import { ensureJars } from '../cluster/jars.ts';
import { clusterStatus, formatStatus } from '../cluster/status.ts';
import { LakestreamError } from '../errors.ts';
import { defineCommand, numberOption } from './command.ts';

function ports(flag: string, value: string | undefined, count: number): number[] | undefined {
  if (value === undefined) return undefined;
  const list = value.split(',').map((p) => p.trim().replace(/^127\.0\.0\.1:/, ''));
  const nums = list.map((p) => Number(p));
  if (nums.length !== count || nums.some((n) => !Number.isInteger(n) || n <= 0 || n > 65535))
    throw new LakestreamError(
      'BAD_ARGUMENT',
      `--${flag} takes ${count === 1 ? 'a port' : `${count} ports separated by a comma`}, got "${value}"`,
    );
  return nums;
}

const log = (line: string) => process.stderr.write(`${line}\n`);

const PART_NAME: Record<Part, string> = { kafka: 'Kafka', hdfs: 'HDFS', spark: 'Spark' };

/** The parts the flags name; none named means all three. */
function partNames(parts: Part[]): string {
  const names = parts.map((p) => PART_NAME[p]);
  return names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}

export default defineCommand({
  name: 'cluster',
  summary: 'start, stop or inspect a local Kafka + HDFS + Spark cluster',
  usage:
    'cluster up|down|status|fetch [--kafka] [--hdfs] [--spark] [--dir DIR] [options]\n       lakestream cluster kill|start NODE [--dir DIR]',
  description: `
A real cluster on 127.0.0.1 from Apache's jars, fetched by Maven from Maven Central on first use and
cached in ~/.cache/lakestream/jars:
  Kafka (KRaft): a dedicated controller (127.0.0.1:9093) and 2 brokers (127.0.0.1:9092, 127.0.0.1:9094);
    topics meters.*, trace.* with replication factor 2, min.insync.replicas 1, no unclean leader election.
    --brokers 3 adds broker-3 (127.0.0.1:9096): replication factor 3, min.insync.replicas 2.
  HDFS: a NameNode (RPC 127.0.0.1:8020, WebHDFS http://127.0.0.1:9870/webhdfs/v1) and 2 DataNodes,
    replication 2, permissions on; --hdfs-user is the superuser WebHDFS clients name with user.name=.
  Spark 4.0.1 with Delta Lake 4.0.0: a standalone master (spark://127.0.0.1:7077), one worker (2 cores,
    2 GB for executors; an executor of 1 GB, --spark-memory) and a Spark Connect server (sc://127.0.0.1:15002) as the driver; it reads
    hdfs://127.0.0.1:8020/… as the HDFS superuser.
With none of --kafka, --hdfs, --spark: all three. "up" is idempotent: what runs is only checked. Data, logs
and pid files live in --dir; "down" stops only the processes started from there, by pid. "fetch" only
downloads the jars (Spark's: ~330 MB) into the cache, as the first "up" would.
NODE is one of ${ALL_NODES.join(', ')} ("kill" sends SIGKILL).
Then: --transport kafka://127.0.0.1:9092,127.0.0.1:9094 --lake webhdfs://127.0.0.1:9870/lakestream
      --engine spark://127.0.0.1:15002

Examples:
  lakestream cluster up
  lakestream cluster status
  lakestream produce --source simulate --meters 20 --days 2 --transport kafka://127.0.0.1:9092,127.0.0.1:9094
  lakestream stream --drain --transport kafka://127.0.0.1:9092,127.0.0.1:9094 --lake webhdfs://127.0.0.1:9870/lakestream`,
  options: {
    kafka: { type: 'boolean', help: 'Kafka (alone, or with the other parts named)' },
    hdfs: { type: 'boolean', help: 'HDFS (alone, or with the other parts named)' },
    spark: {
      type: 'boolean',
      help: 'Spark: master, worker, Spark Connect (alone, or with the others named)',
    },
    dir: {
      type: 'string',
      value: 'DIR',
      default: DEFAULT_CLUSTER_DIR,
      help: 'data, logs, pid files (env LAKESTREAM_CLUSTER_DIR)',
    },
    json: { type: 'boolean', help: 'print the result as JSON on stdout' },
    wipe: { type: 'boolean', help: 'down: delete data and logs too' },
    partitions: { type: 'string', value: 'N', help: 'up: partitions of each topic (default 6)' },
    brokers: {
      type: 'string',
      value: 'N|PORT,PORT[,PORT]',
      help: "up: 3 for three brokers (replication factor 3, min.insync.replicas 2), or the brokers' ports (default 9092,9094)",
    },
    controller: { type: 'string', value: 'PORT', help: "up: the controller's port (default 9093)" },
    namenode: { type: 'string', value: 'PORT', help: "up: the NameNode's RPC port (default 8020)" },
    webhdfs: { type: 'string', value: 'PORT', help: "up: the NameNode's HTTP/WebHDFS port (default 9870)" },
    'port-offset': {
      type: 'string',
      value: 'N',
      help: `up: add N to every default port (a second cluster beside the first); up to ${highestOffsetBelow(32_768)} keeps every port below Linux's default ephemeral range (32768-60999), where another program's connection may hold one`,
    },
    'hdfs-user': {
      type: 'string',
      value: 'USER',
      help: 'up: HDFS superuser, the user.name WebHDFS clients give (default lakestream)',
    },
    'spark-memory': {
      type: 'string',
      value: 'MB',
      help: "up: the Spark executor's memory (default 1024; the worker offers at least as much)",
    },
    timeout: {
      type: 'string',
      value: 'SECONDS',
      help: 'up/start: how long to wait for each node (default 180)',
    },
  },
  async run({ values, positionals }) {
    const [action, nodeArg] = positionals;
    const dir =
      values.dir === DEFAULT_CLUSTER_DIR ? (process.env.LAKESTREAM_CLUSTER_DIR ?? values.dir) : values.dir;
    const parts = partsFromFlags(values);
    const timeoutMs = numberOption('timeout', values.timeout, 180, { min: 1 }) * 1000;
    switch (action) {
      case 'up': {
        const offset =
          values['port-offset'] === undefined
            ? undefined
            : numberOption('port-offset', values['port-offset'], 0, { integer: true });
        // a count (2 or 3: the ports at their defaults) or the brokers' ports
        const count =
          values.brokers !== undefined && /^\d$/.test(values.brokers) ? Number(values.brokers) : undefined;
        if (count !== undefined && count !== 2 && count !== 3)
          throw new LakestreamError(
            'BAD_ARGUMENT',
            `--brokers takes 2 or 3 (or the brokers' ports), got ${count}`,
          );
        const brokerList = values.brokers?.split(',') ?? [];
        const brokers =
          count === undefined ? ports('brokers', values.brokers, brokerList.length === 3 ? 3 : 2) : undefined;
        const r = await clusterUp({
          dir,
          parts,
          log,
          timeoutMs,
          portOffset: offset,
          brokerPorts: brokers,
          brokers: count,
          controllerPort: ports('controller', values.controller, 1)?.[0],
          rpcPort: ports('namenode', values.namenode, 1)?.[0],
          httpPort: ports('webhdfs', values.webhdfs, 1)?.[0],
          partitions:
            values.partitions === undefined
              ? undefined
              : numberOption('partitions', values.partitions, 6, { integer: true, min: 1 }),
          hdfsUser: values['hdfs-user'],
          sparkMemoryMb:
            values['spark-memory'] === undefined
              ? undefined
              : numberOption('spark-memory', values['spark-memory'], 1024, { integer: true, min: 512 }),
        });
        const what = partNames(parts);
        log(
          r.started.length > 0
            ? `${what} healthy after ${(r.elapsedMs / 1000).toFixed(1)} s (started ${r.started.join(', ')})`
            : `${what} already running and healthy`,
        );
        if (values.json) console.log(JSON.stringify({ ...r, dir: r.config.dir }, null, 2));
        else {
          if (parts.includes('kafka')) console.log(`kafka://${r.kafkaBootstrap}`);
          if (parts.includes('hdfs'))
            console.log(
              `webhdfs://${r.webhdfsUrl.replace(/^http:\/\//, '')}/lakestream  (user ${r.config.hdfs.user})`,
            );
          if (parts.includes('spark')) console.log(r.sparkConnectUrl.replace(/^sc:/, 'spark:'));
        }
        return 0;
      }
      case 'down': {
        const r = await clusterDown({ dir, parts, wipe: values.wipe, log });
        log(r.stopped.length > 0 ? `stopped ${r.stopped.join(', ')}` : 'nothing was running');
        if (values.json) console.log(JSON.stringify(r));
        return 0;
      }
      case 'fetch': {
        // the jars alone (what the first "up" would fetch), e.g. to download before going offline
        for (const dir of await Promise.all(parts.map((p) => ensureJars(p, log)))) console.log(dir);
        return 0;
      }
      case 'status': {
        const s = await clusterStatus({ dir });
        console.log(values.json ? JSON.stringify(s, null, 2) : formatStatus(s));
        return s.healthy ? 0 : 1;
      }
      case 'kill':
      case 'start': {
        if (nodeArg === undefined || !isNodeName(nodeArg))
          throw new LakestreamError(
            'BAD_ARGUMENT',
            `"cluster ${action}" needs a node: ${ALL_NODES.slice(0, -1).join(', ')} or ${ALL_NODES.at(-1)}`,
          );
        if (action === 'kill') {
          const was = await killNode(dir, nodeArg);
          log(was ? `killed ${nodeArg}` : `${nodeArg} was not running`);
        } else {
          await startNode(dir, nodeArg, { timeoutMs, log });
          log(`${nodeArg} is running and healthy`);
        }
        return 0;
      }
      default:
        throw new LakestreamError(
          'BAD_ARGUMENT',
          `"cluster" needs an action: up, down, status, kill, start or fetch (got ${action === undefined ? 'nothing' : `"${action}"`}); see "lakestream cluster --help"`,
        );
    }
  },
});
