/**
 * Text for people (and JSON for scripts) about the selector: `automcp select --explain`, and
 * `automcp runs show` for a recorded run, lay the lexical ranking, the model's choice and its reasons
 * side by side; `automcp check` states what the selector runs on and what a probe found. Pure
 * formatting: the commands in inspect.ts and runs.ts do the writing.
 */
import type { Profile } from '../config/load.js';
import type { LlmTrace, SelectionMode } from '../selection/graph.js';
import type { ProbeResult } from '../selection/llm.js';
import type { SelectorState } from '../selection/providers.js';
import type { Selection } from '../selection/selector.js';

/** `select --explain`: a table for a person, or the same facts as JSON. */
export function explainSelection({
  selection,
  profile,
  limit,
  json,
}: {
  selection: Selection;
  profile: Profile;
  limit: number;
  json: boolean;
}): string {
  return explainRanking({
    profile: profile.name,
    mode: selection.mode,
    limit,
    candidates: selection.candidates.map((entry) => ({ name: entry.tool.name, score: entry.score })),
    ...(selection.llm ? { llm: selection.llm } : {}),
    selected: selection.tools.map((tool) => tool.name),
    json,
  });
}

/** The facts of one selection that {@link explainRanking} lays out (a live one, or a run trace). */
export interface RankingFacts {
  profile: string;
  mode: SelectionMode;
  limit: number;
  /** The lexical ranking, best first. */
  candidates: { name: string; score: number }[];
  llm?: LlmTrace;
  selected: string[];
}

/** The lexical ranking, the model's choice and its reasons side by side (`select --explain`, `runs show`). */
export function explainRanking({
  profile,
  mode,
  limit,
  candidates,
  llm,
  selected,
  json,
}: RankingFacts & { json: boolean }): string {
  // The rows the model saw (or, without a model, the ranking that stood), best lexical first.
  const shown = candidates.slice(0, Math.max(llm?.candidates ?? 0, limit));
  if (json) {
    const report = {
      profile,
      mode,
      limit,
      lexical: shown.map((entry, index) => ({ rank: index + 1, name: entry.name, score: round(entry.score) })),
      ...(llm ? { llm } : {}),
      selected,
    };
    return `${JSON.stringify(report, null, 2)}\n`;
  }
  const head = [`profile ${profile}`, `mode ${mode}`, `limit ${limit}`];
  if (llm) {
    head.push(`model ${llm.model}`, llm.cached ? 'cached' : `${llm.latencyMs} ms`);
    if (llm.usage) head.push(`${llm.usage.inputTokens} in + ${llm.usage.outputTokens} out tokens`);
  }
  const out = [`${head.join(' · ')}\n`];
  if (llm?.error !== undefined) out.push(`model answer not used: ${llm.error}\n`);
  // With selector.decompose, the candidates are the needs' rankings interleaved, not one ranking.
  if (llm?.needs) out.push(`needs: ${llm.needs.map((need, index) => `${index + 1}. ${need}`).join(' · ')}\n`);
  // With selector.serverFirst, the picked servers' best tools joined the candidates.
  if (llm?.servers) out.push(`servers picked: ${llm.servers.join(' · ')}\n`);
  const chosen = llm?.chosen ?? [];
  const width = Math.max(22, ...shown.map((entry) => entry.name.length + 9));
  const choiceWidth = Math.max(16, ...chosen.map((entry) => entry.name.length + 2));
  out.push(`rank  ${'lexical (score)'.padEnd(width)}${llm ? `${'llm choice'.padEnd(choiceWidth)}reason` : ''}\n`);
  const rows = Math.max(shown.length, chosen.length);
  for (let index = 0; index < rows; index++) {
    const entry = shown[index];
    const lexical = entry ? `${entry.name} (${round(entry.score)})` : '';
    const choice = chosen[index];
    const right = choice ? `${choice.name.padEnd(choiceWidth)}${choice.reason}` : '';
    out.push(`${String(index + 1).padStart(4)}  ${lexical.padEnd(width)}${right}`.trimEnd() + '\n');
  }
  if (llm && llm.dropped.length > 0) out.push(`dropped (not candidates): ${llm.dropped.join(', ')}\n`);
  out.push(`selected: ${selected.length > 0 ? selected.join(', ') : '(none)'}\n`);
  return out.join('');
}

/** The selector's state (and probe) for `automcp check`, as a line for a person and as JSON. */
export function selectorReport({
  state,
  candidates,
  probe,
}: {
  state: SelectorState;
  candidates: number;
  probe: ProbeResult | undefined;
}): { text: string; json: Record<string, unknown> } {
  const json: Record<string, unknown> = { ...state, candidates, ...(probe ? { probe } : {}) };
  let text =
    state.kind === 'llm'
      ? `selector: llm ${state.provider} ${state.model}${state.baseUrl ? ` at ${state.baseUrl}` : ''} (${candidates} candidates, timeout ${state.timeoutMs} ms)\n`
      : `selector: lexical (${candidates} candidates): ${state.reason}\n`;
  if (probe) {
    text += probe.ok
      ? `  ok  probe answered in ${probe.latencyMs} ms, chose ${probe.chosen?.join(', ') || '(none)'}${probe.usage ? `, ${probe.usage.totalTokens} tokens` : ''}\n`
      : `  ERR probe failed${probe.latencyMs > 0 ? ` after ${probe.latencyMs} ms` : ''}: ${probe.error}\n`;
  }
  return { text, json };
}

function round(score: number): number {
  return Math.round(score * 100) / 100;
}
