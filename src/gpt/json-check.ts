/*
 * Checks a parsed reply against the JSON Schema a payload gave in `response_format`. A subset,
 * the part structured outputs use (https://platform.openai.com/docs/guides/structured-outputs,
 * "Supported schemas"): type (one or a list), properties, required, additionalProperties: false,
 * items, enum, const. Other keywords are not checked. No dependency: an OpenAI-compatible server
 * may ignore the schema, and a reply that misses it is retried like one that does not parse.
 */

/** The first way `value` breaks `schema`, as `path: problem`, or undefined when it fits. */
export function schemaProblem(value: unknown, schema: unknown, path = '$'): string | undefined {
  if (typeof schema !== 'object' || schema === null) return undefined;
  const s = schema as Record<string, unknown>;
  if (s.const !== undefined && !same(value, s.const))
    return `${path}: expected ${JSON.stringify(s.const)}`;
  if (Array.isArray(s.enum) && !s.enum.some((e) => same(value, e)))
    return `${path}: expected one of ${s.enum.map((e) => JSON.stringify(e)).join(', ')}`;
  const types = s.type === undefined ? [] : Array.isArray(s.type) ? s.type : [s.type];
  if (types.length > 0 && !types.some((t) => isType(value, t as string)))
    return `${path}: expected ${types.join(' or ')}, got ${typeOf(value)}`;
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const object = value as Record<string, unknown>;
    const properties = (s.properties ?? {}) as Record<string, unknown>;
    for (const key of Array.isArray(s.required) ? (s.required as string[]) : []) {
      if (!(key in object)) return `${path}: "${key}" is missing`;
    }
    for (const [key, item] of Object.entries(object)) {
      if (key in properties) {
        const problem = schemaProblem(item, properties[key], `${path}.${key}`);
        if (problem) return problem;
      } else if (s.additionalProperties === false) {
        return `${path}: "${key}" is not allowed`;
      }
    }
  }
  if (Array.isArray(value) && s.items !== undefined) {
    for (const [i, item] of value.entries()) {
      const problem = schemaProblem(item, s.items, `${path}[${i}]`);
      if (problem) return problem;
    }
  }
  return undefined;
}

function isType(value: unknown, type: string): boolean {
  switch (type) {
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    case 'array':
      return Array.isArray(value);
    case 'integer':
      return Number.isInteger(value);
    case 'null':
      return value === null;
    default:
      return typeof value === type;
  }
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
