/**
 * The oracle: a scripted chat model for `bench selection --model oracle` that knows each query's labels.
 * It runs behind the real LLM node (LangChain's structured-output pipeline included) and, from the
 * candidates the prompt lists, picks exactly the labelled tools; asked for a request's needs, it answers
 * with the dataset's written `needs` where the query has them; asked to pick servers (the server-first
 * stage), it picks the servers of the labelled tools. Its Recall@k is therefore the most any model can
 * reach behind the graph — the ceiling set by the candidates — never a model's result.
 */
import { BaseChatModel, type BaseChatModelCallOptions } from '@langchain/core/language_models/chat_models';
import { AIMessageChunk, type BaseMessage } from '@langchain/core/messages';
import type { ChatResult } from '@langchain/core/outputs';
import { CHOICE_NAME, NEEDS_NAME } from '../selection/prompts.js';
import { PLAN_NAME } from '../selection/serverFirst.js';
import type { DatasetQuery } from './dataset.js';

/** What the oracle knows of one query. */
interface Labels {
  expected: readonly (readonly string[])[];
  needs?: readonly string[];
}

/** A chat model that answers from the dataset's labels. */
export class OracleChatModel extends BaseChatModel {
  readonly #labels = new Map<string, Labels>();

  constructor(queries: readonly DatasetQuery[]) {
    super({});
    for (const query of queries) {
      const needs = (query as { needs?: unknown }).needs;
      const written = Array.isArray(needs) && needs.every((need) => typeof need === 'string') ? (needs as string[]) : undefined;
      this.#labels.set(flat(query.query), { expected: query.expected, ...(written ? { needs: written } : {}) });
    }
  }

  override _llmType(): string {
    return 'oracle';
  }

  override bindTools(tools: unknown[]) {
    return this.withConfig({ tools } as Partial<BaseChatModelCallOptions>);
  }

  override async _generate(messages: BaseMessage[], options: this['ParsedCallOptions']): Promise<ChatResult> {
    const text = messages.map((message) => String(message.content)).join('\n');
    const tools = ((options as { tools?: { function?: { name?: string }; name?: string }[] }).tools ?? []).map(
      (tool) => tool.function?.name ?? tool.name,
    );
    // Both prompts put the request after "Task: ", ended by a blank line or the message.
    const task = /(?:^|\n)Task: ([\s\S]*?)(?:\n\n|$)/.exec(text)?.[1] ?? '';
    const labels = this.#labels.get(flat(task));
    let name = CHOICE_NAME;
    let args: Record<string, unknown>;
    if (tools.includes(PLAN_NAME)) {
      // The server-first call: the servers of the labelled tools among those listed. This is the stage's
      // ceiling (a label-knowing pick), never its measurement: `--server-first lexical` is that.
      name = PLAN_NAME;
      const listed = new Set([...text.matchAll(/^\d+\. ([^\s:]+):/gm)].map((match) => match[1]!));
      const servers: string[] = [];
      for (const group of labels?.expected ?? []) {
        const server = group.map((tool) => tool.split('.')[0]!).find((entry) => listed.has(entry));
        if (server !== undefined && !servers.includes(server)) servers.push(server);
      }
      const system = String(messages[0]?.content ?? '');
      args = {
        servers: servers.slice(0, 3),
        ...(system.includes('"needs"')
          ? { needs: labels?.needs && labels.needs.length > 0 ? [...labels.needs].slice(0, 4) : [task] }
          : {}),
        // No restatement is written in the datasets: the request itself, which the stage ignores.
        ...(system.includes('"request"') ? { request: task } : {}),
      };
    } else if (tools.includes(NEEDS_NAME)) {
      name = NEEDS_NAME;
      // Without written needs the oracle knows no better split than the request itself.
      args = { needs: labels?.needs && labels.needs.length > 0 ? [...labels.needs].slice(0, 4) : [task] };
    } else {
      const shown = new Set([...text.matchAll(/^\d+\. ([^\s:]+):/gm)].map((match) => match[1]!));
      const picks: string[] = [];
      for (const group of labels?.expected ?? []) {
        const hit = group.find((tool) => shown.has(tool));
        if (hit !== undefined && !picks.includes(hit)) picks.push(hit);
      }
      args = { tools: picks.map((tool) => ({ name: tool, reason: 'labelled' })) };
    }
    const message = new AIMessageChunk({ content: '', tool_calls: [{ name, args, id: 'call_1', type: 'tool_call' }] });
    return { generations: [{ message, text: '' }] };
  }
}

function flat(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
