/**
 * Argument validation against a tool's inputSchema, with ajv. Validators are compiled once per tool
 * hash. The draft is chosen from `$schema` (2020-12, 2019-09, else draft-07). A schema ajv cannot
 * compile is not the caller's fault: the call is forwarded and the downstream server judges it.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { CatalogTool } from '../catalog/types.js';
import type { Logger } from '../logging/logger.js';

// ajv-formats is CommonJS; under NodeNext its default import is the module object.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/** One schema violation, with a JSON Pointer to the offending value. */
export interface Violation {
  path: string;
  message: string;
}

/** Validates arguments per tool, caching compiled validators by definition hash. */
export class ArgumentValidator {
  readonly #logger: Logger;
  readonly #compiled = new Map<string, ValidateFunction | null>();
  readonly #engines: Record<'draft7' | '2019' | '2020', Ajv>;

  constructor({ logger }: { logger: Logger }) {
    this.#logger = logger;
    const options = { strict: false, allErrors: true, validateSchema: false } as const;
    this.#engines = {
      draft7: addFormats(new Ajv(options)),
      '2019': addFormats(new Ajv2019(options) as unknown as Ajv),
      '2020': addFormats(new Ajv2020(options) as unknown as Ajv),
    };
  }

  /** The violations of `args` against the tool's inputSchema; empty when valid or not checkable. */
  validate(tool: CatalogTool, args: Record<string, unknown>): Violation[] {
    const validate = this.#validator(tool);
    if (!validate || validate(args)) return [];
    return (validate.errors ?? []).map(describe);
  }

  #validator(tool: CatalogTool): ValidateFunction | null {
    let validate = this.#compiled.get(tool.hash);
    if (validate !== undefined) return validate;
    const schema = tool.definition.inputSchema;
    const draft = String(schema.$schema ?? '');
    const engine = draft.includes('2020-12')
      ? this.#engines['2020']
      : draft.includes('2019-09')
        ? this.#engines['2019']
        : this.#engines.draft7;
    try {
      const { $schema: _ignored, ...rest } = schema;
      validate = engine.compile(rest);
    } catch (error) {
      this.#logger.warn(
        { tool: tool.name, err: (error as Error).message },
        'inputSchema does not compile; arguments are not checked',
      );
      validate = null;
    }
    this.#compiled.set(tool.hash, validate);
    return validate;
  }
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
