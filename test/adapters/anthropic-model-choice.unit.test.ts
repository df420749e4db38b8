import { describe, expect, it } from 'vitest';
import { classifyRequest } from '../../adapters/anthropic/model-choice.ts';
import { executors } from '../../adapters/executors/registry.ts';

// Which model plans a request: the cheaper one for simple requests, the stronger for complex.

describe('classifyRequest', () => {
  it.each([
    ['git status of acme', {}],
    ['now run the tests', { currentRepo: 'acme' }],
    ['lint it', { currentRepo: 'acme' }],
    ['how big is the billing service?', {}],
    ['list the largest files in acme', {}],
  ])('%j is simple', (request, variables) => {
    expect(classifyRequest(request, variables, executors)).toBe('simple');
  });

  it.each([
    ['deploy my changes, test everything first'],
    ['fix those issues'],
    ['review acme for security problems'],
    ['analyze acme and then prioritize the findings'],
    ['Run the tests. If they fail, find the root cause.'],
    ['x'.repeat(300)],
  ])('%j is complex', (request) => {
    expect(classifyRequest(request, { currentRepo: 'acme' }, executors)).toBe('complex');
  });
});
