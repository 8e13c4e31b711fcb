// HDFS from Apache's jars: 1 NameNode + 2 DataNodes on 127.0.0.1 with WebHDFS, replication 2 and
// permissions on; their configuration, NameNode format, start, and health from the NameNode's JMX.

import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { LakestreamError } from '../errors.ts';
import { type ClusterConfig, type HdfsNode, webhdfsUrl } from './config.ts';
import { portOpen, runJava, startDaemon, waitUntil } from './processes.ts';

export function hdfsDir(c: ClusterConfig): string {
  return join(c.dir, 'hdfs');
}

/** Folder put first on the classpath: core-site.xml, hdfs-site.xml, log4j.properties. */
export function hdfsConfDir(c: ClusterConfig): string {
  return join(hdfsDir(c), 'conf');
}

function nameDir(c: ClusterConfig): string {
  return join(hdfsDir(c), 'name');
}

function dataDir(c: ClusterConfig, i: 0 | 1): string {
  return join(hdfsDir(c), 'data', `datanode-${i + 1}`);
}

function siteXml(props: Record<string, string | number | boolean>): string {
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const body = Object.entries(props)
    .map(([k, v]) => `  <property><name>${k}</name><value>${esc(String(v))}</value></property>`)
    .join('\n');
  return `<?xml version="1.0"?>\n<!-- written by lakestream cluster up -->\n<configuration>\n${body}\n</configuration>\n`;
}

export function coreSite(c: ClusterConfig): Record<string, string | number | boolean> {
  return {
    'fs.defaultFS': `hdfs://${c.host}:${c.hdfs.rpcPort}`,
    'hadoop.security.authentication': 'simple',
    'hadoop.tmp.dir': join(hdfsDir(c), 'tmp'),
    // the web UI browses as the cluster's user rather than the anonymous dr.who
    'hadoop.http.staticuser.user': c.hdfs.user,
    // groups without shelling out to `id` for users this machine does not have; the cluster's user and
    // the OS user who ran `up` are in the superuser group, everyone else gets permission checks
    'hadoop.user.group.static.mapping.overrides': [...new Set([c.hdfs.user, userInfo().username])]
      .map((u) => `${u}=supergroup;`)
      .join('')
      .concat('dr.who=;'),
  };
}

export function hdfsSite(c: ClusterConfig): Record<string, string | number | boolean> {
  const h = c.host;
  return {
    'dfs.replication': c.hdfs.replication,
    'dfs.permissions.enabled': true,
    'dfs.permissions.superusergroup': 'supergroup',
    'dfs.namenode.name.dir': `file://${nameDir(c)}`,
    'dfs.namenode.rpc-address': `${h}:${c.hdfs.rpcPort}`,
    'dfs.namenode.http-address': `${h}:${c.hdfs.httpPort}`,
    'dfs.namenode.secondary.http-address': `${h}:0`,
    'dfs.webhdfs.enabled': true,
    'dfs.namenode.datanode.registration.ip-hostname-check': false,
    // leave safe mode as soon as the blocks are reported, without the 30 s extension
    'dfs.namenode.safemode.extension': 0,
    // WebHDFS redirects CREATE/OPEN to a DataNode by this name; without it, by whatever DNS says
    'dfs.datanode.hostname': h,
    // declare a killed DataNode dead after ~40 s rather than 10.5 min (resilience tests, `status`)
    'dfs.namenode.heartbeat.recheck-interval': 5000,
    // A DataNode writes a WebHDFS CREATE through its own DFS client, whose close() sleeps this long
    // before asking the NameNode again when the block is not reported yet: 400 ms by default, which
    // held small writes (Delta commits) to ~2.5/s; ~9/s with 20 ms (src/bench/hdfs.ts)
    'dfs.client.block.write.locateFollowingBlock.initial.delay.ms': 20,
    // with 2 DataNodes and one down there is no replacement: write on with the one left
    'dfs.client.block.write.replace-datanode-on-failure.best-effort': true,
    // small local disks: do not go read-only while the disk has a few GB left
    'dfs.namenode.resource.du.reserved': 256 * 1024 * 1024,
  };
}

const LOG4J = `# HDFS daemon logging (Hadoop logs through reload4j, the log4j 1 API)
log4j.rootLogger=WARN,console
log4j.appender.console=org.apache.log4j.ConsoleAppender
log4j.appender.console.target=System.err
log4j.appender.console.layout=org.apache.log4j.PatternLayout
log4j.appender.console.layout.ConversionPattern=%d{ISO8601} %p %c{2}: %m%n
log4j.logger.org.apache.hadoop.hdfs.server.namenode.NameNode=INFO
log4j.logger.org.apache.hadoop.hdfs.server.datanode.DataNode=INFO
log4j.logger.org.apache.hadoop.util.NativeCodeLoader=ERROR
`;

export async function writeHdfsConfig(c: ClusterConfig): Promise<void> {
  await mkdir(hdfsConfDir(c), { recursive: true });
  await writeFile(join(hdfsConfDir(c), 'core-site.xml'), siteXml(coreSite(c)));
  await writeFile(join(hdfsConfDir(c), 'hdfs-site.xml'), siteXml(hdfsSite(c)));
  await writeFile(join(hdfsConfDir(c), 'log4j.properties'), LOG4J);
}

/** What Hadoop's own scripts add on Java 17+: its RPC and web code reflect into these JDK packages. */
const ADD_OPENS = [
  'java.io',
  'java.lang',
  'java.lang.reflect',
  'java.math',
  'java.net',
  'java.text',
  'java.util',
  'java.util.concurrent',
  'java.util.zip',
  'sun.security.util',
  'sun.security.x509',
].map((p) => `--add-opens=java.base/${p}=ALL-UNNAMED`);

export function hdfsJvm(heapMb: number): string[] {
  return [
    `-Xmx${heapMb}m`,
    `-Xms${Math.min(heapMb, 256)}m`,
    '-XX:+IgnoreUnrecognizedVMOptions',
    ...ADD_OPENS,
    '-Djava.net.preferIPv4Stack=true',
    '-Djava.awt.headless=true',
  ];
}

/** HADOOP_USER_NAME makes the daemons run as the configured user, who is then HDFS's superuser. */
export function hdfsEnv(c: ClusterConfig): Record<string, string> {
  return { HADOOP_USER_NAME: c.hdfs.user };
}

function isFormatted(c: ClusterConfig): boolean {
  return existsSync(join(nameDir(c), 'current', 'VERSION'));
}

/** Formats the NameNode unless it is; DataNode folders of an earlier format go too ("Incompatible clusterIDs"). */
export async function formatNameNode(c: ClusterConfig, cp: string, log: (s: string) => void): Promise<void> {
  if (isFormatted(c)) return;
  log('formatting the HDFS NameNode …');
  await rm(join(hdfsDir(c), 'data'), { recursive: true, force: true });
  await mkdir(nameDir(c), { recursive: true });
  await runJava({
    classpath: cp,
    mainClass: 'org.apache.hadoop.hdfs.server.namenode.NameNode',
    // without -nonInteractive -force, -format asks on the terminal
    args: ['-format', '-nonInteractive', '-force'],
    jvm: [...hdfsJvm(512), '-XX:TieredStopAtLevel=1'],
    what: 'formatting the HDFS NameNode',
  });
}

function dataNodeIndex(node: HdfsNode): 0 | 1 {
  return node === 'datanode-1' ? 0 : 1;
}

export function startHdfsNode(c: ClusterConfig, node: HdfsNode, cp: string): Promise<number> {
  if (node === 'namenode')
    return startDaemon({
      dir: c.dir,
      node,
      classpath: cp,
      mainClass: 'org.apache.hadoop.hdfs.server.namenode.NameNode',
      args: [],
      jvm: hdfsJvm(c.heapMb.namenode),
      env: hdfsEnv(c),
    });
  const i = dataNodeIndex(node);
  const p = c.hdfs.datanodes[i];
  // one conf folder for all daemons; what differs per DataNode is given as -D overrides
  const overrides = {
    'dfs.datanode.data.dir': `file://${dataDir(c, i)}`,
    'dfs.datanode.address': `${c.host}:${p.data}`,
    'dfs.datanode.http.address': `${c.host}:${p.http}`,
    'dfs.datanode.ipc.address': `${c.host}:${p.ipc}`,
  };
  return startDaemon({
    dir: c.dir,
    node,
    classpath: cp,
    mainClass: 'org.apache.hadoop.hdfs.server.datanode.DataNode',
    args: Object.entries(overrides).flatMap(([k, v]) => ['-D', `${k}=${v}`]),
    jvm: hdfsJvm(c.heapMb[node]),
    env: hdfsEnv(c),
  });
}

export interface DataNodeReport {
  /** host:port of its data transfer address */
  address: string;
  capacityBytes: number;
  usedBytes: number;
  remainingBytes: number;
  /** seconds since its last heartbeat */
  lastContactS: number;
}

export interface NameNodeReport {
  safemode: boolean;
  live: DataNodeReport[];
  deadCount: number;
  capacityBytes: number;
  usedBytes: number;
  remainingBytes: number;
}

async function jmx(c: ClusterConfig, bean: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${webhdfsUrl(c)}/jmx?qry=${encodeURIComponent(bean)}`, {
    signal: AbortSignal.timeout(3000),
  });
  if (!res.ok)
    throw new LakestreamError(
      'UNAVAILABLE',
      `NameNode JMX ${bean} at ${webhdfsUrl(c)} answered ${res.status}`,
    );
  const body = (await res.json()) as { beans: Record<string, unknown>[] };
  const b = body.beans[0];
  if (!b)
    throw new LakestreamError('UNAVAILABLE', `NameNode at ${webhdfsUrl(c)} has no JMX bean ${bean} yet`);
  return b;
}

/** Live DataNodes, capacity and safe mode, from the NameNode's JMX (the numbers `hdfs dfsadmin -report` shows). */
export async function nameNodeReport(c: ClusterConfig): Promise<NameNodeReport> {
  const info = await jmx(c, 'Hadoop:service=NameNode,name=NameNodeInfo');
  const live = JSON.parse(String(info.LiveNodes ?? '{}')) as Record<
    string,
    { xferaddr: string; capacity: number; usedSpace: number; remaining: number; lastContact: number }
  >;
  const dead = JSON.parse(String(info.DeadNodes ?? '{}')) as Record<string, unknown>;
  return {
    safemode: String(info.Safemode ?? '') !== '',
    live: Object.values(live).map((d) => ({
      address: d.xferaddr,
      capacityBytes: d.capacity,
      usedBytes: d.usedSpace,
      remainingBytes: d.remaining,
      lastContactS: d.lastContact,
    })),
    deadCount: Object.keys(dead).length,
    capacityBytes: Number(info.Total ?? 0),
    usedBytes: Number(info.Used ?? 0),
    remainingBytes: Number(info.Free ?? 0),
  };
}

/** Whether the NameNode lists this DataNode (by its data port) as live. */
export function dataNodeLive(c: ClusterConfig, report: NameNodeReport, node: HdfsNode): boolean {
  const port = c.hdfs.datanodes[dataNodeIndex(node)].data;
  return report.live.some((d) => d.address.endsWith(`:${port}`));
}

/** Whether the DataNode itself says it is registered and heartbeating (its JMX BPServiceActorInfo). */
export async function dataNodeRunning(c: ClusterConfig, node: HdfsNode): Promise<boolean> {
  const p = c.hdfs.datanodes[dataNodeIndex(node)];
  const bean = 'Hadoop:service=DataNode,name=DataNodeInfo';
  const res = await fetch(`http://${c.host}:${p.http}/jmx?qry=${encodeURIComponent(bean)}`, {
    signal: AbortSignal.timeout(3000),
  });
  if (!res.ok) return false;
  const b = ((await res.json()) as { beans: Record<string, unknown>[] }).beans[0];
  const actors = JSON.parse(String(b?.BPServiceActorInfo ?? '[]')) as { ActorState?: string }[];
  return actors.length > 0 && actors.every((a) => a.ActorState === 'RUNNING');
}

export async function waitHdfsNode(c: ClusterConfig, node: HdfsNode, timeoutMs: number): Promise<void> {
  if (node === 'namenode') {
    await waitUntil(`the NameNode's WebHDFS on ${webhdfsUrl(c)}`, () => portOpen(c.host, c.hdfs.httpPort), {
      timeoutMs,
      dir: c.dir,
      node,
    });
    return;
  }
  const p = c.hdfs.datanodes[dataNodeIndex(node)];
  await waitUntil(`${node} to listen on ${c.host}:${p.http}`, () => portOpen(c.host, p.http), {
    timeoutMs,
    dir: c.dir,
    node,
  });
  // both sides: the DataNode registered (a restarted one is not yet while the NameNode still lists its
  // previous life as live), and the NameNode lists it
  await waitUntil(
    `${node} to register with the NameNode`,
    async () => (await dataNodeRunning(c, node)) && dataNodeLive(c, await nameNodeReport(c), node),
    { timeoutMs, dir: c.dir, node, intervalMs: 500 },
  );
}

/** Waits until the NameNode has left safe mode (it does once the DataNodes report their blocks). */
export async function waitOutOfSafemode(c: ClusterConfig, timeoutMs: number): Promise<void> {
  await waitUntil('the NameNode to leave safe mode', async () => !(await nameNodeReport(c)).safemode, {
    timeoutMs,
    dir: c.dir,
    node: 'namenode',
    intervalMs: 500,
  });
}
