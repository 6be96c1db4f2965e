// Starts a cluster for scripts/load and prints, like resocket-server, one
// line `listening on http://HOST:PORT` (HAProxy's address with several
// nodes, the node's with one), then `redis-port N`; runs until SIGTERM or
// SIGINT, then stops everything it started (e2e/cluster-support.mjs).
//
// node scripts/cluster-up.mjs --nodes N [--binary PATH] -- [resocket-server flags]
// (a `--port` among the server flags is ignored: each node gets a free port)
import { parseArgs } from "node:util";
import { freePort, startHaproxy, startNode, startRedis, stopAll } from "../e2e/cluster-support.mjs";

const split = process.argv.indexOf("--");
const own = split === -1 ? process.argv.slice(2) : process.argv.slice(2, split);
const serverArgs = split === -1 ? [] : process.argv.slice(split + 1);
for (let i = serverArgs.indexOf("--port"); i !== -1; i = serverArgs.indexOf("--port")) serverArgs.splice(i, 2);
const { values: flags } = parseArgs({
  args: own,
  options: {
    nodes: { type: "string", default: "1" },
    binary: { type: "string", default: "target/release/resocket-server" },
  },
});
const count = Number(flags.nodes);
if (!Number.isInteger(count) || count < 1) {
  console.error(`cluster-up: --nodes must be a whole number >= 1, got ${flags.nodes}`);
  process.exit(2);
}

const stop = () => {
  stopAll();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
try {
  const redisPort = await startRedis();
  const nodes = [];
  for (let i = 0; i < count; i++) {
    nodes.push(await startNode({ port: await freePort() }, { binary: flags.binary, args: serverArgs, redisPort }));
  }
  const front = count === 1 ? nodes[0].url : await startHaproxy(nodes);
  console.log(`listening on ${front}`);
  console.log(`redis-port ${redisPort}`);
} catch (error) {
  console.error(`cluster-up: ${error.message}`);
  stopAll();
  process.exit(1);
}
