/**
 * The `--model` options of `bench selection` and `bench suite`: the oracle (a label-knowing scripted
 * model whose Recall@k is the model path's ceiling), or a real provider configured as `selector.llm`
 * is in runtime.yaml, so a user with a key can measure their own model behind the real graph.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import type { SelectionBenchOptions } from '../bench/selection.js';
import type { Dataset } from '../bench/dataset.js';
import { resolveSelectorModel } from '../selection/providers.js';
import { UsageError } from './failure.js';

/** The parsed model options. */
export interface BenchModelOptions {
  model?: 'oracle' | 'openai' | 'anthropic' | 'ollama';
  modelName?: string;
  baseUrl?: string;
  apiKeyEnv?: string;
  timeoutMs: number;
  decompose?: boolean | 'always';
  compact?: boolean;
  serverFirst?: boolean | 'lexical';
  rewrite?: boolean;
  candidates?: number;
}

/** Adds `--model` and its settings to a bench command. */
export function addModelOptions(command: Command): Command {
  return command
    .addOption(
      new Option(
        '--model <which>',
        'a chat model behind the LLM node: oracle (knows the labels: the ceiling) or a provider',
      ).choices(['oracle', 'openai', 'anthropic', 'ollama']),
    )
    .option('--model-name <name>', 'the provider model, as selector.llm.model (required with a provider)')
    .option('--base-url <url>', 'as selector.llm.baseUrl (an OpenAI-compatible server, a remote Ollama)')
    .option('--api-key-env <name>', 'as selector.llm.apiKeyEnv: the variable holding the key')
    .option('--timeout-ms <n>', 'as selector.llm.timeoutMs', timeout, 10_000)
    .option(
      '--decompose [when]',
      "with --model: state the request's needs first and retrieve per need; 'always' also for one-need requests (selector.decompose)",
      (value: string) => {
        if (value !== 'always') throw new InvalidArgumentError("expected no value or 'always'");
        return value;
      },
    )
    .option('--compact', 'with --model: compact candidate lines, name and first clause (selector.compact)')
    .option(
      '--server-first [picker]',
      "with --model: pick servers before retrieval and add their best tools (selector.serverFirst); 'lexical': by BM25 over server lines, no call",
      (value: string) => {
        if (value !== 'lexical') throw new InvalidArgumentError("expected no value or 'lexical'");
        return value;
      },
    )
    .option('--rewrite', 'with --model: restate the request as actions and objects before retrieval (selector.rewrite)')
    .option('--candidates <n>', 'candidates shown to the model (overrides selector.candidates)', timeout);
}

/** What `runSelectionBench` gets for `dataset`, or undefined without `--model`. */
export async function benchModelFor(
  options: BenchModelOptions,
  dataset: Dataset,
): Promise<SelectionBenchOptions['model'] | undefined> {
  if (options.model === undefined) return undefined;
  if (options.model === 'oracle') {
    const { OracleChatModel } = await import('../bench/oracle.js');
    return { chat: new OracleChatModel(dataset.queries), label: 'oracle', timeoutMs: options.timeoutMs, oracle: true };
  }
  if (options.modelName === undefined) throw new UsageError(`--model ${options.model} needs --model-name`);
  const resolved = await resolveSelectorModel({
    llm: {
      provider: options.model,
      model: options.modelName,
      timeoutMs: options.timeoutMs,
      ...(options.baseUrl !== undefined ? { baseUrl: options.baseUrl } : {}),
      ...(options.apiKeyEnv !== undefined ? { apiKeyEnv: options.apiKeyEnv } : {}),
    },
  });
  if (!resolved.chat || !resolved.label) {
    throw new UsageError(`no chat model: ${resolved.state.kind === 'lexical' ? resolved.state.reason : 'none configured'}`);
  }
  return { chat: resolved.chat, label: resolved.label, timeoutMs: resolved.timeoutMs, oracle: false };
}

function timeout(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new InvalidArgumentError('expected a positive integer of milliseconds');
  return parsed;
}
