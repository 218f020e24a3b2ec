/**
 * Qualified tool names: `<server>.<tool>`. Server names cannot contain a dot, so the first dot splits
 * a qualified name unambiguously and the tool part stays exactly what the downstream server calls it.
 */
import { SERVER_NAME } from '../config/schema.js';

/** Joins a server name and a downstream tool name. */
export function qualifyName(server: string, tool: string): string {
  return `${server}.${tool}`;
}

/** Splits a qualified name; undefined when it has no valid server prefix or no tool part. */
export function splitQualifiedName(name: string): { server: string; tool: string } | undefined {
  const dot = name.indexOf('.');
  if (dot <= 0 || dot === name.length - 1) return undefined;
  const server = name.slice(0, dot);
  if (!SERVER_NAME.test(server)) return undefined;
  return { server, tool: name.slice(dot + 1) };
}
