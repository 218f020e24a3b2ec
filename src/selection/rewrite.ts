/**
 * The query rewrite (`selector.rewrite`): the model restates the request as actions and objects, in the
 * plain words tool descriptions use ("what PRs are waiting to go into develop" → "list open pull requests
 * targeting the develop branch"). It is asked in the one structured call the server-first stage makes
 * before retrieval (serverFirst.ts), never in a call of its own, and the restatement is ranked next to
 * the request the way a decomposition's single need is (graph.ts retrieve): the request's own ranking
 * keeps its place, so a poor restatement can add candidates but not remove the request's best ones.
 *
 * When the same call also asks for the request's needs (`selector.decompose`), the needs already
 * restate it and no rewrite is asked.
 */
import { z } from 'zod';
import { clip } from './prompts.js';

/** Longest restatement kept, in characters. */
export const REWRITE_CHARS = 200;

/** The answer field that carries the restatement. */
export const rewriteField = z
  .string()
  .describe('the whole task restated as actions and their objects, in at most 25 plain words a tool description would use');

/** The instruction line for the call's system message. */
export const REWRITE_INSTRUCTION =
  'Restate the whole task as actions and their objects ("request"), in at most 25 plain words a tool description would use, like "read a PDF file and send its summary by email".';

/** The usable restatement of an answer, or undefined (missing, not text, empty, or the request itself). */
export function readRewrite(parsed: unknown, query: string): string | undefined {
  const value = (parsed as { request?: unknown } | null)?.request;
  if (typeof value !== 'string') return undefined;
  const rewrite = clip(value, REWRITE_CHARS);
  if (!rewrite || rewrite.toLowerCase() === clip(query, REWRITE_CHARS).toLowerCase()) return undefined;
  return rewrite;
}
