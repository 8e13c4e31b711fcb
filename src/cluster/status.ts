// `cluster status`: per node whether its pid lives and its port answers, brokers registered with the
// controller, topics and their replication, DataNodes live and capacity as the NameNode reports them,
// Spark's worker and Connect application as its master reports them.

import {
  ALL_NODES,
  ALL_PARTS,
  brokerNodes,
  type ClusterConfig,
  type HdfsNode,
  type KafkaNode,
  kafkaBootstrap,
  kafkaNodes,
  loadConfig,
  type NodeName,
  nodePort,
  type Part,
  partOf,
  resolveConfig,
  sparkConnectUrl,
  sparkMasterUrl,
  webhdfsUrl,
} from './config.ts';
import { dataNodeLive, type NameNodeReport, nameNodeReport } from './hdfs.ts';
import { describeTopics, KAFKA_NODE_IDS, registeredBrokers, type TopicState } from './kafka.ts';
import { alivePid, logFile, portOpen } from './processes.ts';
import { connectAnswers, connectApp, type MasterState, masterState, ourWorker } from './spark.ts';

export interface NodeStatus {
  node: NodeName;
  part: Part;
  pid: number | null;
  /** the process of the pid file runs and is this node */
  alive: boolean;
  port: number;
  portOpen: boolean;
  /** alive, port open, and known to its coordinator (broker registered / DataNode live) */
  healthy: boolean;
  detail: string;
  log: string;
}

export interface ClusterStatus {
  dir: string;
  /** `up` has run in this directory */
  configured: boolean;
  nodes: NodeStatus[];
  kafka: { bootstrap: string; brokersRegistered: number[]; topics: TopicState[]; error?: string } | null;
  hdfs: {
    webhdfsUrl: string;
    user: string;
    liveDataNodes: number;
    deadDataNodes: number;
    safemode: boolean;
    capacityBytes: number;
    usedBytes: number;
    remainingBytes: number;
    error?: string;
  } | null;
  spark: {
    connectUrl: string;
    masterUrl: string;
    /** workers the master lists as alive */
    aliveWorkers: number;
    /** the Spark Connect server's application at the master, with the cores it holds */
    app: { id: string; state: string; cores: number } | null;
    error?: string;
  } | null;
  /** every node of every part that has a running node is healthy */
  healthy: boolean;
  /** parts with all three nodes healthy */
  healthyParts: Part[];
}

export async function clusterStatus(o: { dir?: string } = {}): Promise<ClusterStatus> {
  const c: ClusterConfig = resolveConfig({ dir: o.dir });
  const configured = loadConfig(c.dir) !== undefined;
  const nodes: NodeStatus[] = await Promise.all(
    // broker-3 only where the cluster has three brokers
    ALL_NODES.filter((n) => partOf(n) !== 'kafka' || kafkaNodes(c).includes(n as KafkaNode)).map(
      async (node) => {
        const pid = alivePid(c.dir, node);
        const port = nodePort(c, node);
        // generous: on a loaded machine a live JVM can take a while to accept
        const open = await portOpen(c.host, port, 2000);
        return {
          node,
          part: partOf(node),
          pid: pid ?? null,
          alive: pid !== undefined,
          port,
          portOpen: open,
          healthy: false,
          detail: '',
          log: logFile(c.dir, node),
        };
      },
    ),
  );
  const byNode = (n: NodeName) => nodes.find((s) => s.node === n)!;
  const anyAlive = (part: Part) => nodes.some((s) => s.part === part && s.alive);

  let kafka: ClusterStatus['kafka'] = null;
  if (anyAlive('kafka')) {
    kafka = { bootstrap: kafkaBootstrap(c), brokersRegistered: [], topics: [] };
    try {
      kafka.brokersRegistered = await registeredBrokers(c);
      kafka.topics = await describeTopics(c);
    } catch (e) {
      kafka.error = (e as Error).message;
    }
    const ctl = byNode('controller');
    ctl.healthy = ctl.alive && ctl.portOpen;
    ctl.detail = ctl.healthy ? 'metadata quorum (single voter)' : 'down';
    for (const b of brokerNodes(c)) {
      const s = byNode(b);
      const registered = kafka.brokersRegistered.includes(KAFKA_NODE_IDS[b]);
      s.healthy = s.alive && s.portOpen && registered;
      s.detail = !s.alive
        ? 'down'
        : registered
          ? `registered as node ${KAFKA_NODE_IDS[b]}`
          : 'not registered with the controller';
    }
  }

  let hdfs: ClusterStatus['hdfs'] = null;
  if (anyAlive('hdfs')) {
    let report: NameNodeReport | undefined;
    let error: string | undefined;
    try {
      report = await nameNodeReport(c);
    } catch (e) {
      error = (e as Error).message;
    }
    hdfs = {
      webhdfsUrl: webhdfsUrl(c),
      user: c.hdfs.user,
      liveDataNodes: report?.live.length ?? 0,
      deadDataNodes: report?.deadCount ?? 0,
      safemode: report?.safemode ?? false,
      capacityBytes: report?.capacityBytes ?? 0,
      usedBytes: report?.usedBytes ?? 0,
      remainingBytes: report?.remainingBytes ?? 0,
      error,
    };
    const nn = byNode('namenode');
    nn.healthy = nn.alive && nn.portOpen && report !== undefined && !report.safemode;
    nn.detail = !nn.alive
      ? 'down'
      : report
        ? report.safemode
          ? 'in safe mode'
          : `${report.live.length} DataNodes live`
        : 'not answering';
    for (const d of ['datanode-1', 'datanode-2'] as HdfsNode[]) {
      const s = byNode(d);
      const live = report !== undefined && dataNodeLive(c, report, d);
      s.healthy = s.alive && s.portOpen && live;
      const r = report?.live.find((x) =>
        x.address.endsWith(`:${c.hdfs.datanodes[d === 'datanode-1' ? 0 : 1].data}`),
      );
      s.detail = !s.alive
        ? live
          ? 'down (the NameNode has not noticed yet)'
          : 'down'
        : r
          ? `live, ${gb(r.remainingBytes)} free of ${gb(r.capacityBytes)}`
          : 'not live at the NameNode';
    }
  }

  let spark: ClusterStatus['spark'] = null;
  if (anyAlive('spark')) {
    let m: MasterState | undefined;
    let error: string | undefined;
    try {
      m = await masterState(c);
    } catch (e) {
      error = (e as Error).message;
    }
    const app = m ? connectApp(c, m) : undefined;
    spark = {
      connectUrl: sparkConnectUrl(c),
      masterUrl: sparkMasterUrl(c),
      aliveWorkers: m?.workers.filter((w) => w.state === 'ALIVE').length ?? 0,
      app: app ? { id: app.id, state: app.state, cores: app.cores } : null,
      error,
    };
    const master = byNode('spark-master');
    master.healthy = master.alive && master.portOpen && m?.status === 'ALIVE';
    master.detail = !master.alive
      ? 'down'
      : m
        ? `${m.status}, ${spark.aliveWorkers} workers`
        : 'not answering';
    const worker = byNode('spark-worker');
    const w = m ? ourWorker(c, m) : undefined;
    worker.healthy = worker.alive && w !== undefined;
    worker.detail = !worker.alive
      ? 'down'
      : w
        ? `registered, ${w.coresused}/${w.cores} cores and ${w.memoryused}/${w.memory} MB in use`
        : 'not registered with the master';
    const connect = byNode('spark-connect');
    const answers = connect.alive && connect.portOpen && (await connectAnswers(c).catch(() => false));
    connect.healthy = answers && app !== undefined;
    connect.detail = !connect.alive
      ? 'down'
      : !connect.portOpen
        ? 'not listening'
        : !answers
          ? 'does not answer SELECT 1'
          : app
            ? `${sparkConnectUrl(c)} answers; application ${app.id} ${app.state} with ${app.cores} cores`
            : 'answers, but has no application at the master';
  }

  const healthyParts = ALL_PARTS.filter((p) => nodes.filter((s) => s.part === p).every((s) => s.healthy));
  const activeParts = ALL_PARTS.filter(anyAlive);
  return {
    dir: c.dir,
    configured,
    nodes,
    kafka,
    hdfs,
    spark,
    healthy: activeParts.length > 0 && activeParts.every((p) => healthyParts.includes(p)),
    healthyParts,
  };
}

export function gb(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(1)} GB`;
}

/** The human-readable table `cluster status` prints. */
export function formatStatus(s: ClusterStatus): string {
  const lines = [`cluster in ${s.dir}${s.configured ? '' : ' (never started)'}`];
  lines.push('');
  lines.push(`${'node'.padEnd(15)}${'pid'.padEnd(9)}${'port'.padEnd(7)}${'state'.padEnd(10)}detail`);
  for (const n of s.nodes) {
    const state = n.healthy ? 'healthy' : n.alive ? 'unhealthy' : 'down';
    lines.push(
      `${n.node.padEnd(15)}${String(n.pid ?? '-').padEnd(9)}${String(n.port).padEnd(7)}${state.padEnd(10)}${n.detail || (n.portOpen ? 'port in use by another process' : '')}`,
    );
  }
  if (s.kafka) {
    lines.push(
      '',
      `Kafka ${s.kafka.bootstrap}: brokers registered [${s.kafka.brokersRegistered.join(', ')}]${s.kafka.error ? ` — ${s.kafka.error}` : ''}`,
    );
    for (const t of s.kafka.topics)
      lines.push(
        `  ${t.name.padEnd(22)} ${t.partitions} partitions, replication ${t.replicationFactor}` +
          (t.underReplicated ? `, ${t.underReplicated} under-replicated` : '') +
          (t.offline ? `, ${t.offline} OFFLINE` : ''),
      );
  }
  if (s.hdfs) {
    const h = s.hdfs;
    lines.push(
      '',
      `HDFS ${h.webhdfsUrl}/webhdfs/v1 (user ${h.user}): ${h.liveDataNodes} DataNodes live, ${h.deadDataNodes} dead, ` +
        `capacity ${gb(h.capacityBytes)}, used ${gb(h.usedBytes)}, free ${gb(h.remainingBytes)}${h.safemode ? ', SAFE MODE' : ''}` +
        (h.error ? ` — ${h.error}` : ''),
    );
  }
  if (s.spark) {
    const sp = s.spark;
    lines.push(
      '',
      `Spark Connect ${sp.connectUrl} on ${sp.masterUrl}: ${sp.aliveWorkers} workers alive, ` +
        (sp.app
          ? `application ${sp.app.id} ${sp.app.state} with ${sp.app.cores} cores`
          : 'no Connect application') +
        (sp.error ? ` — ${sp.error}` : ''),
    );
  }
  lines.push('', s.healthy ? 'healthy' : s.nodes.some((n) => n.alive) ? 'NOT healthy' : 'not running');
  return lines.join('\n');
}
