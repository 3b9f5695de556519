/**
 * A distributed `-d` from code: two workers in this process (a real deployment runs
 * `piaggio worker --queue URL` on each machine), a folder queued in shards of 8 pictures, the
 * grouping job's result awaited, then the queue's state per input.
 *
 *   node --import tsx examples/distributedDedup.ts redis://127.0.0.1:6379 IMAGES OUTPUT_DIR [MODEL]
 *
 * Redis should persist every write (redis-server --appendonly yes --appendfsync always): README,
 * "Distributed runs".
 */
import { enqueueDedup, queueStatus, runWorker } from 'piaggio';

const [queue, images, output, model] = process.argv.slice(2);
if (!queue || !images || !output) {
  console.error('usage: distributedDedup.ts REDIS_URL IMAGES OUTPUT_DIR [MODEL]');
  process.exit(2);
}

const stop = new AbortController();
const workers = [1, 2].map(() => runWorker({ queue }, { signal: stop.signal }));
try {
  const result = await enqueueDedup(images, output, { ...(model ? { model } : {}) }, { queue, shardSize: 8 });
  if (!('outputDirectory' in result)) throw new Error('not detached: the result is awaited');
  const status = await queueStatus(queue);
  const folder = status.inputs.find((input) => input.output === result.outputDirectory);
  console.log(JSON.stringify({ output: result.outputDirectory, pictures: result.outcome.pictures, jobs: folder?.jobs, state: folder?.state }));
} finally {
  // Stopping hands a running job back to the queue; none is running once the result is in.
  stop.abort();
  await Promise.all(workers);
}
