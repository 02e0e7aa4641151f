// What the content pipeline's publisher sends for a post (examples/content-pipeline/jobs/
// publish-plan.ts): pure, so checked directly against the Bot API's limits it encodes.
import { describe, expect, it } from 'vitest';
import {
  filesOf,
  planPublication,
  publicationText,
  splitText,
  type PublishFile,
} from '../examples/content-pipeline/jobs/publish-plan.js';

const photo = (n: number): PublishFile => ({ kind: 'photo', path: `p${n}.png` });

describe('content pipeline: the publication plan', () => {
  it('sends a text alone as one message', () => {
    expect(planPublication('Hello.', [])).toEqual([
      { method: 'sendMessage', params: { text: 'Hello.' } },
    ]);
  });

  it('puts the text on one photo as its caption, and on the first item of an album', () => {
    expect(planPublication('Caption', [photo(1)])).toEqual([
      { method: 'sendPhoto', params: { photo: { path: 'p1.png' }, caption: 'Caption' } },
    ]);
    expect(planPublication('Caption', [photo(1), photo(2)])).toEqual([
      {
        method: 'sendMediaGroup',
        params: {
          media: [
            { type: 'photo', media: { path: 'p1.png' }, caption: 'Caption' },
            { type: 'photo', media: { path: 'p2.png' } },
          ],
        },
      },
    ]);
  });

  it('sends the album then the text when the text is over 1024 characters', () => {
    const long = 'x'.repeat(1025);
    const plan = planPublication(long, [photo(1), photo(2)]);
    expect(plan.map((s) => s.method)).toEqual(['sendMediaGroup', 'sendMessage']);
    expect(JSON.stringify(plan[0])).not.toContain('caption');
    expect(plan[1]!.params.text).toBe(long);
    // 1024 still fits a caption.
    expect(planPublication('y'.repeat(1024), [photo(1)]).map((s) => s.method)).toEqual([
      'sendPhoto',
    ]);
  });

  it('splits 11 photos into albums of 10 and 1, and keeps documents apart', () => {
    const eleven = Array.from({ length: 11 }, (_, i) => photo(i));
    const plan = planPublication('T', eleven);
    expect(plan.map((s) => s.method)).toEqual(['sendMediaGroup', 'sendPhoto']);
    expect((plan[0]!.params.media as unknown[]).length).toBe(10);
    const mixed = planPublication('T', [photo(1), { kind: 'document', path: 'a.pdf' }, photo(2)]);
    expect(mixed.map((s) => s.method)).toEqual(['sendMediaGroup', 'sendDocument']);
    expect(mixed[1]!.params).toEqual({ document: { path: 'a.pdf' } });
  });

  it('has nothing to send for no text and no file; splits a text over 4096 at whitespace', () => {
    expect(planPublication('  ', [])).toEqual([]);
    const parts = splitText(`${'word '.repeat(1000)}end`, 4096);
    expect(parts.map((p) => p.length <= 4096)).toEqual([true, true]);
    expect(parts.join(' ')).toBe(`${'word '.repeat(1000)}end`);
  });

  it('publishes the title and text, the generated image first, and only media on disk', () => {
    expect(publicationText({ rewritten: { title: 'Title', text: 'Body.' } })).toBe(
      'Title\n\nBody.',
    );
    expect(publicationText({ rewritten: { title: '', text: 'Body.' } })).toBe('Body.');
    const media = [
      { kind: 'photo' as const, id: '1' },
      { kind: 'video' as const, id: '2', path: 'v.mp4' },
    ];
    expect(filesOf({ media }, 'storage/pipeline/img.png')).toEqual([
      { kind: 'photo', path: 'storage/pipeline/img.png' },
      { kind: 'video', path: 'v.mp4' },
    ]);
  });
});
