import type { WorkflowTemplate } from './template.ts';

// WF2: security, performance and quality reviews in parallel, then combine and report. Reviews
// only read the code, so none of these steps has side effects.

const review = (focus: 'security' | 'performance' | 'quality', ask: string) =>
  ({
    type: 'task',
    id: `${focus}-review`,
    title: `Review ${focus}`,
    taskType: 'claude-code',
    params: {
      repository: '{{repository}}',
      mode: 'review',
      focus,
      prompt: `Review {{scope}} for ${ask}. List each finding with file, line, severity and a suggested change.`,
    },
    // Review mode only reads; claude-code is side-effecting as a task type, so say so per step.
    sideEffects: false,
    retry: { attempts: 2, backoffMs: 5_000, maxBackoffMs: 30_000 },
    timeoutMs: 1_200_000,
  }) as const;

export const codeReview: WorkflowTemplate = {
  id: 'code-review',
  title: 'Code review',
  description: 'Reviews changes for security, performance and quality in parallel, combines the findings and reports them.',
  parameters: {
    repository: { description: 'the repository to review, relative to the workspace' },
    scope: { description: 'what to review', default: 'the changes on the current branch against its base' },
  },
  definition: {
    form: 'stepTree',
    name: 'Code review',
    root: {
      type: 'sequence',
      steps: [
        {
          type: 'parallel',
          id: 'reviews',
          branches: [
            review('security', 'security problems: injection, secrets, unsafe input handling, missing authorization'),
            review('performance', 'performance problems: needless work in hot paths, N+1 queries, unbounded memory'),
            review('quality', 'quality problems: unclear names, duplication, missing tests, error handling'),
          ],
        },
        {
          type: 'task',
          id: 'combine',
          title: 'Combine the reviews',
          taskType: 'claude-code',
          params: {
            repository: '{{repository}}',
            mode: 'review',
            prompt: 'Combine these reviews into one list ranked by severity, merging duplicates.',
            security: { $from: 'steps.security-review.output' },
            performance: { $from: 'steps.performance-review.output' },
            quality: { $from: 'steps.quality-review.output' },
          },
          sideEffects: false,
          timeoutMs: 900_000,
        },
        {
          type: 'task',
          id: 'report',
          title: 'Report',
          taskType: 'report',
          params: { title: 'Code review of {{repository}}', review: { $from: 'steps.combine.output' } },
        },
      ],
    },
  },
};
