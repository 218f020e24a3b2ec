/**
 * Argument validation against a tool's inputSchema, with ajv. Validators are compiled once per
 * definition hash and kept in a bounded LRU. The draft is chosen from `$schema` (2020-12, 2019-09, else
 * draft-07). A schema ajv cannot compile is not the caller's fault: the call is forwarded and the
 * downstream server judges it.
 *
 * Each definition is compiled by an ajv instance of its own. A shared instance registers every `$id` it
 * compiles (the root's and nested ones) and refuses a second schema with the same `$id` — a changed
 * definition, or two forks of one server — which left that tool unchecked; it also keeps every compiled
 * schema for its lifetime, so no cache in front of it could bound the memory. A fresh instance costs
 * about as much as the compile itself (well under a millisecond) and is paid once per definition.
 */
import { Ajv, type ErrorObject, type Options, type ValidateFunction } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { LRUCache } from 'lru-cache';
import type { CatalogTool } from '../catalog/types.js';
import type { Logger } from '../logging/logger.js';

// ajv-formats is CommonJS; under NodeNext its default import is the module object.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

const AJV_OPTIONS: Options = { strict: false, allErrors: true, validateSchema: false };

/** Compiled validators kept by default: far more tools than a gateway's callers use between list changes. */
export const DEFAULT_MAX_VALIDATORS = 2_000;

/** One schema violation, with a JSON Pointer to the offending value. */
export interface Violation {
  path: string;
  message: string;
}

/** A schema that did not compile: remembered, so it is not compiled (and logged) again on every call. */
const UNCHECKED = Symbol('unchecked');

/** Validates arguments per tool, caching compiled validators by definition hash. */
export class ArgumentValidator {
  readonly #logger: Logger;
  readonly #compiled: LRUCache<string, ValidateFunction | typeof UNCHECKED>;

  constructor({ logger, maxValidators = DEFAULT_MAX_VALIDATORS }: { logger: Logger; maxValidators?: number }) {
    this.#logger = logger;
    this.#compiled = new LRUCache({ max: maxValidators });
  }

  /** How many compiled validators are held (at most `maxValidators`). */
  get size(): number {
    return this.#compiled.size;
  }

  /** The violations of `args` against the tool's inputSchema; empty when valid or not checkable. */
  validate(tool: CatalogTool, args: Record<string, unknown>): Violation[] {
    const validate = this.#validator(tool);
    if (validate === UNCHECKED || validate(args)) return [];
    return (validate.errors ?? []).map(describe);
  }

  #validator(tool: CatalogTool): ValidateFunction | typeof UNCHECKED {
    let validate = this.#compiled.get(tool.hash);
    if (validate !== undefined) return validate;
    const schema = tool.definition.inputSchema;
    try {
      const { $schema: _ignored, ...rest } = schema;
      validate = engineFor(String(schema.$schema ?? '')).compile(rest);
    } catch (error) {
      this.#logger.warn(
        { tool: tool.name, err: (error as Error).message },
        'inputSchema does not compile; arguments are not checked',
      );
      validate = UNCHECKED;
    }
    this.#compiled.set(tool.hash, validate);
    return validate;
  }
}

/** A new ajv instance for the schema's draft; it lives as long as the validator compiled with it. */
function engineFor(draft: string): Ajv {
  if (draft.includes('2020-12')) return addFormats(new Ajv2020(AJV_OPTIONS) as unknown as Ajv);
  if (draft.includes('2019-09')) return addFormats(new Ajv2019(AJV_OPTIONS) as unknown as Ajv);
  return addFormats(new Ajv(AJV_OPTIONS));
}

function describe(error: ErrorObject): Violation {
  const path = error.instancePath === '' ? '/' : error.instancePath;
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'required') return { path, message: `missing required property "${String(params.missingProperty)}"` };
  if (error.keyword === 'additionalProperties') {
    return { path, message: `unknown property "${String(params.additionalProperty)}"` };
  }
  if (error.keyword === 'enum')
    return { path, message: `${error.message ?? 'must be one of'}: ${JSON.stringify(params.allowedValues)}` };
  return { path, message: error.message ?? error.keyword };
}
