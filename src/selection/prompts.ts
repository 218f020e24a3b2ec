/**
 * The selection prompt: what the chat model reads and the shape it must answer in. The model sees the
 * task, the caller's profile (`description`, `instructions`) and the lexical candidates only, each as
 * one line of qualified name, a truncated description and parameter names — never full schemas and
 * never the rest of the catalog — so the prompt's size depends on the number of candidates alone.
 */
import { z } from 'zod';
import type { Profile } from '../config/load.js';
import type { CatalogTool } from '../catalog/types.js';

/** Longest candidate description in the prompt, in characters (cut at a word boundary). */
export const DESCRIPTION_CHARS = 160;
/** Most parameter names listed per candidate. */
export const MAX_PARAMS = 8;
/** Longest profile `description` or `instructions` in the prompt, in characters. */
export const PROFILE_CHARS = 1_000;
/** Longest reason kept from the model's answer. */
export const REASON_CHARS = 160;

/** The answer the model must give: the tools that help, most useful first, each with a short reason. */
export const choiceSchema = z
  .object({
    tools: z
      .array(
        z.object({
          name: z.string().describe('a candidate tool name, exactly as listed'),
          reason: z.string().describe('why it helps with the task, in at most 12 words'),
        }),
      )
      .describe('the tools that help with the task, most useful first; empty when none does'),
  })
  .describe('The tools chosen for the task.');

/** A parsed answer. */
export type Choice = z.infer<typeof choiceSchema>;

/** The name under which the answer's schema is sent (the tool or JSON-schema name the provider sees). */
export const CHOICE_NAME = 'choose_tools';

/** One chat message of the prompt, as plain data (LangChain accepts `[role, text]` pairs). */
export type PromptMessage = ['system' | 'human', string];

const SYSTEM = [
  'You choose tools for an AI agent.',
  'The agent states its task; from the candidate tools listed, pick the ones it needs to do the task, most useful first.',
  'Rules:',
  '- Choose only names from the candidate list, spelled exactly as listed.',
  '- Choose at most {limit} tools. Fewer is better when fewer suffice; every tool costs the agent context.',
  "- Respect the caller's profile: it says who the agent is, what it should and should not do, and what to prefer.",
  '- Give each tool a short reason (at most 12 words).',
  '- If no candidate helps, answer with an empty list.',
].join('\n');

/** What one prompt is built from. */
export interface PromptInput {
  query: string;
  profile: Pick<Profile, 'name' | 'description' | 'instructions'>;
  candidates: readonly CatalogTool[];
  limit: number;
}

/** The messages sent to the chat model for one selection. */
export function buildSelectionPrompt(input: PromptInput): PromptMessage[] {
  const profile = [
    `Caller profile "${input.profile.name}": ${clip(input.profile.description, PROFILE_CHARS) || '(no description)'}`,
  ];
  const instructions = clip(input.profile.instructions ?? '', PROFILE_CHARS);
  if (instructions) profile.push(`Instructions for choosing: ${instructions}`);
  const lines = input.candidates.map((tool, index) => `${index + 1}. ${candidateLine(tool)}`);
  const human = [
    ...profile,
    '',
    `Task: ${input.query}`,
    '',
    `Candidate tools (${input.candidates.length}; name: description [parameters]):`,
    ...lines,
  ].join('\n');
  return [
    ['system', SYSTEM.replace('{limit}', String(input.limit))],
    ['human', human],
  ];
}

/** One candidate as the model sees it: `name: description [param, param]`. */
export function candidateLine(tool: CatalogTool): string {
  const description = clip(tool.definition.description, DESCRIPTION_CHARS);
  const params = parameterNames(tool);
  const shown = params.slice(0, MAX_PARAMS);
  const more = params.length > shown.length ? `, +${params.length - shown.length} more` : '';
  return `${tool.name}: ${description || '(no description)'} [${shown.join(', ')}${more}]`;
}

function parameterNames(tool: CatalogTool): string[] {
  const properties = (tool.definition.inputSchema as { properties?: unknown }).properties;
  if (properties === null || typeof properties !== 'object') return [];
  return Object.keys(properties).map((name) => (name.length > 40 ? `${name.slice(0, 39)}…` : name));
}

/** Whitespace collapsed to single spaces and cut to `max` characters at a word boundary. */
export function clip(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= max) return flat;
  const cut = flat.slice(0, max - 1);
  const space = cut.lastIndexOf(' ');
  return `${(space > max * 0.6 ? cut.slice(0, space) : cut).replace(/[\s.,;:]+$/, '')}…`;
}
