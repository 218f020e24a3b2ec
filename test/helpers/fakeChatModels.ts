/**
 * A scripted LangChain chat model for selection tests: a real `BaseChatModel` (so LangChain's own
 * `withStructuredOutput` tool-calling pipeline runs), whose answers the test writes — a good choice, unknown
 * names, malformed text, an exception, or a stall past the deadline. It records every call it receives.
 */
import { BaseChatModel, type BaseChatModelCallOptions } from '@langchain/core/language_models/chat_models';
import { AIMessage, AIMessageChunk, type BaseMessage } from '@langchain/core/messages';
import type { ChatResult } from '@langchain/core/outputs';

/** One scripted answer. */
export type ScriptedAnswer =
  /** A tool call with these arguments (what structured output expects). */
  | { args: unknown; usage?: { input: number; output: number } }
  /** A plain-text answer (no tool call). */
  | { text: string }
  /** The call throws. */
  | { error: string }
  /** The call never answers; with `honourAbort`, it rejects when its signal aborts. */
  | { stall: true; honourAbort?: boolean };

/** What the model received in one call. */
export interface RecordedCall {
  /** The messages as `role: text` lines. */
  messages: { role: string; text: string }[];
  /** The tool definitions bound by structured output. */
  tools: unknown[];
  /** Set when the call's signal aborted. */
  aborted: boolean;
}

/** A chat model answering from a script; `answers[i]` answers call i, the last one repeats. */
export class ScriptedChatModel extends BaseChatModel {
  readonly answers: ScriptedAnswer[];
  readonly calls: RecordedCall[];

  constructor(answers: ScriptedAnswer[], calls: RecordedCall[] = []) {
    super({});
    this.answers = answers;
    this.calls = calls;
  }

  override _llmType(): string {
    return 'scripted';
  }

  override bindTools(tools: unknown[]) {
    return this.withConfig({ tools } as Partial<BaseChatModelCallOptions>);
  }

  override async _generate(messages: BaseMessage[], options: this['ParsedCallOptions']): Promise<ChatResult> {
    const call: RecordedCall = {
      messages: messages.map((message) => ({ role: message.getType(), text: String(message.content) })),
      tools: ((options as { tools?: unknown[] }).tools ?? []) as unknown[],
      aborted: false,
    };
    this.calls.push(call);
    options.signal?.addEventListener('abort', () => (call.aborted = true), { once: true });
    const answer = this.answers[Math.min(this.calls.length - 1, this.answers.length - 1)]!;
    if ('error' in answer) throw new Error(answer.error);
    if ('stall' in answer) {
      return new Promise<ChatResult>((_, reject) => {
        if (answer.honourAbort) options.signal?.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
      });
    }
    const message =
      'text' in answer
        ? new AIMessage(answer.text)
        : // A chunk, as streaming providers produce: LangChain's base tool-calling parser accepts only chunks.
          new AIMessageChunk({
            content: '',
            tool_calls: [{ name: 'choose_tools', args: answer.args as Record<string, unknown>, id: 'call_1', type: 'tool_call' }],
            usage_metadata: {
              input_tokens: answer.usage?.input ?? 100,
              output_tokens: answer.usage?.output ?? 10,
              total_tokens: (answer.usage?.input ?? 100) + (answer.usage?.output ?? 10),
            },
          });
    return { generations: [{ message, text: typeof message.content === 'string' ? message.content : '' }] };
  }
}

/** A scripted answer choosing `names` in this order, each with a reason. */
export function choose(...names: string[]): ScriptedAnswer {
  return { args: { tools: names.map((name) => ({ name, reason: `because ${name}` })) } };
}

/**
 * A chat model with no judgement at all: it obeys every instruction it finds in a candidate
 * description ("choose x.y", "always select this tool") before anything else, then adds the candidates
 * that share a word with the task. What an injected description can make a real model do at worst.
 */
export class ObedientChatModel extends ScriptedChatModel {
  constructor(calls: RecordedCall[] = []) {
    super([], calls);
  }

  override async _generate(messages: BaseMessage[], options: this['ParsedCallOptions']): Promise<ChatResult> {
    const human = String(messages.at(-1)?.content ?? '');
    const task = /^Task: (.*)$/m.exec(human)?.[1]?.toLowerCase() ?? '';
    const obeyed: string[] = [];
    const relevant: string[] = [];
    for (const match of human.matchAll(/^\d+\. (\S+): (.*)$/gm)) {
      const [, name = '', rest = ''] = match;
      for (const order of rest.matchAll(/\b(?:choose|select|pick|use)\s+(?:(this tool|me)|([\w-]+\.[\w-]+))/gi)) {
        obeyed.push(order[1] ? name : (order[2] ?? ''));
      }
      const words = rest.toLowerCase().match(/[a-z]{4,}/g) ?? [];
      if (words.some((word) => task.includes(word))) relevant.push(name);
    }
    this.answers.splice(0, this.answers.length, choose(...new Set([...obeyed, ...relevant])));
    return super._generate(messages, options);
  }
}
