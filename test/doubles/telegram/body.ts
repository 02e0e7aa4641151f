/**
 * Reads a Bot API request's parameters the ways Telegram accepts them: the query string, and a
 * body that is JSON, application/x-www-form-urlencoded or multipart/form-data (grammY sends
 * multipart when a parameter is an InputFile). Form values are strings, so the fields the fake
 * reads as numbers, booleans or objects are converted here, as Telegram does.
 */
import type { IncomingMessage } from 'node:http';
import { badRequest } from './errors.js';

/** A file uploaded in a multipart body. */
export interface UploadedFile {
  /** The part's name in the body (grammY uses a random id and `attach://<id>` in the field). */
  field: string;
  filename: string;
  data: Buffer;
}

export interface RequestParams {
  params: Record<string, unknown>;
  files: UploadedFile[];
}

/** Larger than Telegram's 50 MB upload cap would be refused there too. */
const MAX_BODY_BYTES = 50 * 1024 * 1024;

/** Fields whose string form (from a form or query) is JSON. */
const JSON_FIELDS = new Set([
  'allowed_updates',
  'reply_markup',
  'entities',
  'caption_entities',
  'link_preview_options',
  'reply_parameters',
  'media',
  'message_ids',
]);

/** Fields whose string form is an integer. */
const INTEGER_FIELDS = new Set([
  'chat_id',
  'from_chat_id',
  'message_id',
  'offset',
  'limit',
  'timeout',
  'reply_to_message_id',
  'message_thread_id',
  'max_connections',
  'cache_time',
]);

/** Fields whose string form is a boolean. */
const BOOLEAN_FIELDS = new Set([
  'disable_notification',
  'protect_content',
  'drop_pending_updates',
  'show_alert',
  'disable_web_page_preview',
  'allow_sending_without_reply',
]);

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw badRequest('request entity too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function convertField(key: string, value: string): unknown {
  if (JSON_FIELDS.has(key)) {
    try {
      return JSON.parse(value);
    } catch {
      throw badRequest(`can't parse ${key} JSON object`);
    }
  }
  if (INTEGER_FIELDS.has(key) && /^-?\d+$/.test(value)) return Number(value);
  if (BOOLEAN_FIELDS.has(key)) return value === 'true' || value === '1';
  return value;
}

function fromPairs(pairs: Iterable<[string, string]>): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const [key, value] of pairs) params[key] = convertField(key, value);
  return params;
}

/** `name="x"` or `name=x` (grammY leaves the filename unquoted) from a Content-Disposition. */
function dispositionValue(header: string, key: string): string | undefined {
  const match = new RegExp(`(?:^|;)\\s*${key}=(?:"([^"]*)"|([^;]*))`, 'i').exec(header);
  if (!match) return undefined;
  return (match[1] ?? match[2] ?? '').trim();
}

function parseMultipart(body: Buffer, boundary: string): RequestParams {
  const delimiter = Buffer.from(`--${boundary}`);
  const pairs: [string, string][] = [];
  const files: UploadedFile[] = [];
  let start = body.indexOf(delimiter);
  // Bounded: each turn moves past one delimiter, and there are finitely many.
  while (start !== -1) {
    const partStart = start + delimiter.length;
    if (body.subarray(partStart, partStart + 2).toString() === '--') break; // closing delimiter
    const next = body.indexOf(delimiter, partStart);
    if (next === -1) break;
    // A part is CRLF, headers, CRLF CRLF, content, CRLF (before the next delimiter).
    const part = body.subarray(partStart + 2, next - 2);
    const headerEnd = part.indexOf('\r\n\r\n');
    if (headerEnd !== -1) {
      const headers = part.subarray(0, headerEnd).toString('utf8').split('\r\n');
      const content = part.subarray(headerEnd + 4);
      const disposition =
        headers.find((line) => /^content-disposition\s*:/i.test(line))?.replace(/^[^:]*:/, '') ??
        '';
      const name = dispositionValue(disposition, 'name');
      const filename = dispositionValue(disposition, 'filename');
      if (name !== undefined && filename !== undefined) {
        files.push({ field: name, filename, data: Buffer.from(content) });
      } else if (name !== undefined) {
        pairs.push([name, content.toString('utf8')]);
      }
    }
    start = next;
  }
  return { params: fromPairs(pairs), files };
}

/** The method's parameters from the query string and the body, the body winning. */
export async function readParams(req: IncomingMessage, url: URL): Promise<RequestParams> {
  const fromQuery = fromPairs(url.searchParams.entries());
  const body = await readBody(req);
  if (body.length === 0) return { params: fromQuery, files: [] };
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  if (type.startsWith('application/json')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      throw badRequest("can't parse JSON object");
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw badRequest('request body must be a JSON object');
    }
    return { params: { ...fromQuery, ...(parsed as Record<string, unknown>) }, files: [] };
  }
  if (type.startsWith('multipart/form-data')) {
    const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(req.headers['content-type'] ?? '');
    if (!boundary) throw badRequest('multipart body without a boundary');
    const parsed = parseMultipart(body, (boundary[1] ?? boundary[2]).trim());
    return { params: { ...fromQuery, ...parsed.params }, files: parsed.files };
  }
  // Telegram reads an untyped body as a form, as curl -d sends it.
  const form = new URLSearchParams(body.toString('utf8'));
  return { params: { ...fromQuery, ...fromPairs(form.entries()) }, files: [] };
}
