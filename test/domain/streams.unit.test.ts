import { describe, expect, it } from 'vitest';
import { eventIdFor } from '../../domain/event-id.ts';
import { InvalidStreamName, parseStreamName, streamName } from '../../domain/streams.ts';

describe('stream names', () => {
  it('joins category and id with the first dash, and parses back', () => {
    const name = streamName('workflow', '01JD5W3Q-abc');
    expect(name).toBe('workflow-01JD5W3Q-abc');
    expect(parseStreamName(name)).toEqual({ category: 'workflow', id: '01JD5W3Q-abc', stream: name });
  });

  it.each([
    ['work-flow', 'x', /category/],
    ['', 'x', /category/],
    ['9task', 'x', /category/],
    ['task', 'a.b', /id/],
    ['task', 'a*', /id/],
    ['task', 'a>b', /id/],
    ['task', 'a b', /id/],
    ['task', '', /id/],
  ])('refuses category %j with id %j', (category, id, reason) => {
    expect(() => streamName(category, id)).toThrow(InvalidStreamName);
    expect(() => streamName(category, id)).toThrow(reason);
  });

  it('refuses names without a category', () => {
    expect(() => parseStreamName('nodash')).toThrow(InvalidStreamName);
    expect(() => parseStreamName('-id')).toThrow(InvalidStreamName);
  });
});

describe('event ids', () => {
  it('are deterministic UUIDs per stream, command and index', () => {
    const id = eventIdFor('task-1', 'cmd-1', 0);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(eventIdFor('task-1', 'cmd-1', 0)).toBe(id);
    expect(new Set([id, eventIdFor('task-1', 'cmd-1', 1), eventIdFor('task-2', 'cmd-1', 0), eventIdFor('task-1', 'cmd-2', 0)]).size).toBe(4);
  });
});
