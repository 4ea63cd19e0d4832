import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';

/** Packages whose versions a result depends on. */
const PACKAGES = [
  '@nestjs/core', '@nestjs/platform-express', '@nestjs/platform-fastify', 'express', 'fastify', 'ioredis',
  '@nestjs/jwt', '@nestjs/passport', 'passport-jwt', 'express-session', 'connect-redis', 'redis', 'autocannon',
];

export interface Machine {
  cpuModel: string;
  cores: number;
  /** 1-minute load average when the run started: a busy machine makes every number noisy. */
  loadAverage: number;
  node: string;
  redisServer: string;
  postgres?: string;
  commit: string;
  packages: Record<string, string>;
}

function quietly(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

function packageVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(`node_modules/${name}/package.json`, 'utf8')) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

export function describeMachine(): Machine {
  const own = JSON.parse(readFileSync('package.json', 'utf8')) as { name: string; version: string };
  // The results file a previous run left is not a change to what is measured.
  const dirty = quietly('git', ['status', '--porcelain', '--', '.', ':(exclude)bench/RESULTS.md']) === '' ? '' : ' (uncommitted changes)';
  return {
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    loadAverage: loadavg()[0],
    node: process.version,
    redisServer: quietly(process.env.REDIS_SERVER_BIN ?? 'redis-server', ['--version']).replace(/^Redis server /, '').split(' ')[0],
    commit: `${quietly('git', ['rev-parse', '--short', 'HEAD'])}${dirty}`,
    packages: { [own.name]: own.version, ...Object.fromEntries(PACKAGES.map((name) => [name, packageVersion(name)])) },
  };
}
