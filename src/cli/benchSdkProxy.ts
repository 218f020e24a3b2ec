/**
 * The peer, for `automcp bench overhead`: a proxy built the way most TypeScript MCP gateways are, from
 * the SDK's `Server` on stdio upstream and its `Client` on stdio downstream, with tools/list and
 * tools/call forwarded as they are (cancellation included, as automcp does). Run as
 * `node benchSdkProxy.js <command> [args...]`; it spawns the server and exits when stdin closes.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';

const [command, ...args] = process.argv.slice(2);
if (command === undefined) {
  process.stderr.write('usage: benchSdkProxy.js <command> [args...]\n');
  process.exit(2);
}
const client = new Client({ name: 'sdk-proxy', version: '0.0.0' });
await client.connect(new StdioClientTransport({ command, args, env: getDefaultEnvironment(), stderr: 'ignore' }));
const server = new Server({ name: 'sdk-proxy', version: '0.0.0' }, { capabilities: { tools: {} } });
server.setRequestHandler(ListToolsRequestSchema, (request, extra) => client.listTools(request.params, { signal: extra.signal }));
server.setRequestHandler(CallToolRequestSchema, (request, extra) =>
  client.callTool(request.params, undefined, { signal: extra.signal }),
);
process.stdin.on('end', () => void client.close().finally(() => process.exit(0)));
await server.connect(new StdioServerTransport());
