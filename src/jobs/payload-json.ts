/*
 * A payload is stored as JSON text and its handler gets what JSON.parse makes of it (through the
 * job's schema, if any). JSON changes some values without a word: a Date becomes a string, a Map
 * or a Set becomes {}, NaN becomes null, a function in an array becomes null. A dispatch that
 * holds one is refused, with the path of the value and how to fix it, instead of failing every
 * attempt later. A property whose value is undefined is dropped, which reads the same.
 */

/** A value JSON would change, where it is, and what to do instead. */
export interface JsonChange {
  /** `at`, `items.2.when`, or '' for the payload itself (zod's path style). */
  path: string;
  /** `a Date, which JSON stores as an ISO string` */
  what: string;
  /** What to pass instead, without a schema. */
  fix: string;
  /** What to change in the schema, when there is one. */
  schemaFix: string;
}

type Kind = Omit<JsonChange, 'path'>;

const PASS_DATA = 'pass plain data (objects, arrays, strings, finite numbers, booleans, null)';

const DATE: Kind = {
  what: 'a Date, which JSON stores as an ISO string',
  fix: 'pass date.toISOString() and read it with new Date(), or give the job a schema with z.coerce.date() for it so the handler gets a Date',
  schemaFix: 'use z.coerce.date() for it in the schema, so the handler gets a Date back',
};
const MAP: Kind = {
  what: 'a Map, which JSON stores as {}',
  fix: 'pass Object.fromEntries(map) (or [...map]) instead',
  schemaFix:
    'pass Object.fromEntries(map) and read it with z.record() (add .transform((o) => new Map(Object.entries(o))) for a Map)',
};
const SET: Kind = {
  what: 'a Set, which JSON stores as {}',
  fix: 'pass [...set] instead',
  schemaFix:
    'pass [...set] and read it with z.array() (add .transform((a) => new Set(a)) for a Set)',
};
const BIGINT: Kind = {
  what: 'a BigInt, which JSON cannot store',
  fix: 'pass value.toString() instead',
  schemaFix: 'pass value.toString() and use z.coerce.bigint() for it in the schema',
};
const CIRCULAR: Kind = {
  what: 'the object that holds it (a circular reference), which JSON cannot store',
  fix: PASS_DATA,
  schemaFix: PASS_DATA,
};

function notFinite(n: number): Kind {
  const fix = 'pass a finite number, null or a string instead';
  return { what: `${n}, which JSON stores as null`, fix, schemaFix: fix };
}

function inArray(type: string): Kind {
  const fix = 'use null, or leave the item out';
  return { what: `${type} in an array, which JSON stores as null`, fix, schemaFix: fix };
}

function dropped(type: string): Kind {
  return { what: `${type}, which JSON leaves out`, fix: PASS_DATA, schemaFix: PASS_DATA };
}

function withToJson(name: string): Kind {
  const fix = `pass what its toJSON() returns (or plain data) instead`;
  return {
    what: `${article(name)} with its own toJSON(), which JSON stores as what toJSON() returns`,
    fix,
    schemaFix: fix,
  };
}

function instance(name: string): Kind {
  const fix = 'pass a plain object instead';
  return {
    what: `${article(name)}, which JSON stores as a plain object of its own fields, without its class`,
    fix,
    schemaFix: fix,
  };
}

function boxed(name: string): Kind {
  const fix = 'pass the plain value (value.valueOf()) instead';
  return { what: `a ${name} object, which JSON stores as a plain value`, fix, schemaFix: fix };
}

function article(name: string): string {
  // 'a URL', 'a Uint8Array': U sounds as a consonant in type names.
  return /^[AEIO]/i.test(name) ? `an ${name}` : `a ${name}`;
}

function typeName(value: object): string {
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === 'string' && name !== '' ? name : 'object of a class';
}

/**
 * The first value in `payload` that a JSON round trip would change or lose, else undefined.
 * One walk over the payload, most of it typeof checks: it runs on every dispatch.
 */
export function findJsonChange(payload: unknown): JsonChange | undefined {
  // The payload itself: undefined is stored as null (a job without a payload), as before.
  if (payload === undefined) return undefined;
  const path: Array<string | number> = [];
  const ancestors: object[] = [];
  const kind = visit(payload, path, ancestors, 'top');
  return kind && { path: path.join('.'), ...kind };
}

/** `where`: what holds the value, which decides what JSON does with undefined and functions. */
function visit(
  value: unknown,
  path: Array<string | number>,
  ancestors: object[],
  where: 'top' | 'array' | 'object',
): Kind | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(value) ? undefined : notFinite(value);
    case 'bigint':
      return BIGINT;
    case 'undefined':
      // A property that is undefined is left out, and reads back as undefined: the same.
      return where === 'array' ? inArray('undefined') : undefined;
    case 'function':
    case 'symbol':
      return where === 'array' ? inArray(`a ${typeof value}`) : dropped(`a ${typeof value}`);
    default:
      break;
  }
  if (value === null) return undefined;
  const object = value as object;
  if (ancestors.includes(object)) return CIRCULAR;
  if (Array.isArray(object)) {
    ancestors.push(object);
    for (let i = 0; i < object.length; i++) {
      const item: unknown = object[i];
      if (isLeaf(item)) continue;
      path.push(i);
      const kind = visit(item, path, ancestors, 'array');
      if (kind) return kind;
      path.pop();
    }
    ancestors.pop();
    return undefined;
  }
  if (typeof (object as { toJSON?: unknown }).toJSON === 'function') {
    return object instanceof Date ? DATE : withToJson(typeName(object));
  }
  const proto = Object.getPrototypeOf(object);
  if (proto !== Object.prototype && proto !== null) {
    if (object instanceof Map) return MAP;
    if (object instanceof Set) return SET;
    if (object instanceof String || object instanceof Number || object instanceof Boolean)
      return boxed(typeName(object));
    return instance(typeName(object));
  }
  ancestors.push(object);
  for (const key of Object.keys(object)) {
    const item = (object as Record<string, unknown>)[key];
    if (item === undefined || isLeaf(item)) continue;
    path.push(key);
    const kind = visit(item, path, ancestors, 'object');
    if (kind) return kind;
    path.pop();
  }
  ancestors.pop();
  return undefined;
}

/** A value JSON keeps as it is and that holds nothing: most of a payload, checked inline. */
function isLeaf(value: unknown): boolean {
  const type = typeof value;
  return (
    type === 'string' ||
    type === 'boolean' ||
    value === null ||
    (type === 'number' && Number.isFinite(value))
  );
}

/**
 * Deep equality of two schema outputs, for values JSON may change: Dates by time, Maps and
 * Sets by content, NaN equal to itself.
 */
export function sameValue(a: unknown, b: unknown): boolean {
  if (Object.is(a, b) || a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (a instanceof Date) return a.getTime() === (b as Date).getTime();
  if (a instanceof Map || a instanceof Set || Array.isArray(a)) {
    const left = [...(a as Iterable<unknown>)];
    const right = [...(b as Iterable<unknown>)];
    return left.length === right.length && left.every((v, i) => sameValue(v, right[i]));
  }
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every(
    (k) =>
      Object.hasOwn(b, k) &&
      sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
  );
}
