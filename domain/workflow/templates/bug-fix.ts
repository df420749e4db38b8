import type { WorkflowTemplate } from './template.ts';

// WF2: reproduce, root cause, fix, verify. The fix waits for an approval (OR3); a fix the tests
// do not confirm fails the workflow rather than reporting success.

export const bugFix: WorkflowTemplate = {
  id: 'bug-fix',
  title: 'Bug fix',
  description: 'Reproduces a reported bug, finds its root cause, fixes it once approved and verifies the fix with the tests.',
  parameters: {
    repository: { description: 'the repository with the bug, relative to the workspace' },
    issue: { description: 'what goes wrong, as the reporter described it' },
    approvers: { description: 'who may approve the fix (anyone when none are named)', list: true, default: [] },
  },
  definition: {
    form: 'stepTree',
    name: 'Bug fix',
    root: {
      type: 'sequence',
      steps: [
        {
          type: 'task',
          id: 'reproduce',
          title: 'Reproduce the bug',
          taskType: 'claude-code',
          params: {
            repository: '{{repository}}',
            mode: 'investigate',
            prompt: 'Reproduce this bug with a failing test or command, without changing the code: {{issue}}',
          },
          // Investigate mode runs commands but may not change the repository's files.
          sideEffects: false,
          timeoutMs: 1_200_000,
        },
        {
          type: 'task',
          id: 'root-cause',
          title: 'Find the root cause',
          taskType: 'claude-code',
          params: {
            repository: '{{repository}}',
            mode: 'investigate',
            prompt: 'Find the root cause of this bug and say what change would fix it: {{issue}}',
            reproduction: { $from: 'steps.reproduce.output' },
          },
          sideEffects: false,
          timeoutMs: 1_200_000,
        },
        { type: 'approval', id: 'approve-fix', title: 'Apply the proposed fix?', approvers: ['{{approvers}}'] },
        {
          type: 'task',
          id: 'fix',
          title: 'Fix it',
          taskType: 'claude-code',
          params: {
            repository: '{{repository}}',
            mode: 'edit',
            prompt: 'Fix the root cause described here and add a regression test: {{issue}}',
            rootCause: { $from: 'steps.root-cause.output' },
          },
          sideEffects: true,
          retry: { attempts: 1, backoffMs: 0, maxBackoffMs: 0 },
          timeoutMs: 1_800_000,
        },
        { type: 'task', id: 'verify', title: 'Verify with the tests', taskType: 'run-tests', params: { repository: '{{repository}}' } },
        {
          type: 'conditional',
          id: 'verified',
          condition: 'steps.verify.output.success != true',
          then: { type: 'fail', reason: 'the tests still fail after the fix' },
        },
      ],
    },
  },
};
