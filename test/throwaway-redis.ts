import Redis from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { findRedisServer, startRedisServer, type RedisServerHandle } from '../src/stream/redis-server';

/** The server of one test file and a client on it (RESP2, as connectRedis pins it). */
export interface ThrowawayRedis {
  readonly server: RedisServerHandle;
  readonly url: string;
  readonly client: Redis;
}

/**
 * Start a throwaway local Redis before the file's tests and stop it after
 * them: a system redis-server >= 7, else the embedded one `npm run setup`
 * installs (src/stream/redis-server.ts). Fails loudly when there is neither.
 */
export function useThrowawayRedis(): ThrowawayRedis {
  let server: RedisServerHandle | undefined;
  let client: Redis | undefined;
  beforeAll(async () => {
    if (findRedisServer() === undefined) throw new Error('no Redis server: run `npm run setup` (it installs an embedded one into .venv) or install redis-server >= 7');
    server = await startRedisServer();
    client = new Redis(server.url, { protocol: 2, lazyConnect: true });
    await client.connect();
  });
  afterAll(async () => {
    client?.disconnect();
    await server?.stop();
  });
  const started = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error('the throwaway Redis is not started yet (use it inside a test)');
    return v;
  };
  return {
    get server() {
      return started(server);
    },
    get url() {
      return started(server).url;
    },
    get client() {
      return started(client);
    },
  };
}
