/**
 * Token counts with a real tokenizer (cl100k_base, via js-tiktoken; its ranks ship in the package, so
 * counting needs no network). Used to show what the gateway saves against loading the whole catalog.
 */
import { Tiktoken } from 'js-tiktoken/lite';
import cl100k from 'js-tiktoken/ranks/cl100k_base';

let encoder: Tiktoken | undefined;

/** cl100k tokens of `text`. */
export function countTokens(text: string): number {
  encoder ??= new Tiktoken(cl100k);
  return encoder.encode(text).length;
}

/** cl100k tokens of `value` serialised as JSON. */
export function countJsonTokens(value: unknown): number {
  return countTokens(JSON.stringify(value));
}
