/**
 * `automcp reload`: asks every running `automcp serve` of a configuration to read runtime.yaml and its
 * profiles again now — for editors and file systems where watching misses a change. The gateways are
 * found through their status files (state/statusFile.ts) and sent {@link RELOAD_SIGNAL}; the command
 * then waits for each to report how its reload ended, and prints it.
 */
import { loadConfig } from '../config/load.js';
import { RELOAD_SIGNAL } from '../ops/reload.js';
import { resolveStateDir } from '../state/stateDir.js';
import { readGatewayStatuses, type GatewayStatus } from '../state/statusFile.js';

/** How long to wait for the gateways to report their reload. */
const REPORT_WAIT_MS = 10_000;

/** Signals the gateways; exit code 1 when none runs, one refused the edit or did not answer. */
export async function reloadCommand(options: { config?: string; json?: boolean }): Promise<number> {
  // An invalid file stops here with the same words as `automcp check`; the gateways keep running as they are.
  const config = await loadConfig(options.config !== undefined ? { path: options.config } : {});
  const stateDir = resolveStateDir(config.stateDir !== undefined ? { configured: config.stateDir } : {});
  const targets = (await readGatewayStatuses(stateDir)).filter((gateway) => gateway.config === config.file);
  if (targets.length === 0) {
    process.stderr.write(`automcp: no running automcp serve uses ${config.file} (state directory ${stateDir})\n`);
    return 1;
  }
  const since = Date.now();
  const signalled = targets.filter((gateway) => {
    try {
      process.kill(gateway.pid, RELOAD_SIGNAL);
      return true;
    } catch {
      return false;
    }
  });
  const reports = new Map<number, GatewayStatus>();
  const deadline = Date.now() + REPORT_WAIT_MS;
  while (reports.size < signalled.length && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    for (const gateway of await readGatewayStatuses(stateDir)) {
      const at = gateway.reload?.last?.at;
      if (at !== undefined && Date.parse(at) >= since - 1) reports.set(gateway.pid, gateway);
    }
  }
  const results = signalled.map((gateway) => {
    const report = reports.get(gateway.pid)?.reload;
    return {
      pid: gateway.pid,
      profile: gateway.profile,
      outcome: report?.last?.outcome ?? 'no answer',
      revision: report?.revision,
      ...(report?.last?.outcome === 'refused' && report.refusedEdit ? { refused: report.refusedEdit.message } : {}),
    };
  });
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ config: config.file, gateways: results }, null, 2)}\n`);
  } else {
    for (const result of results) {
      const detail =
        result.outcome === 'refused'
          ? `refused, still running the previous configuration: ${result.refused ?? ''}`
          : result.outcome === 'no answer'
            ? `did not report within ${REPORT_WAIT_MS / 1000} s`
            : `${result.outcome} (revision ${result.revision ?? '?'})`;
      process.stdout.write(`gateway pid ${result.pid} (profile ${result.profile}): ${detail}\n`);
    }
  }
  return results.every((result) => result.outcome === 'applied' || result.outcome === 'unchanged') ? 0 : 1;
}
