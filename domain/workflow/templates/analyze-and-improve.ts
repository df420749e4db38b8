import type { WorkflowTemplate } from './template.ts';

// WF2: analyze, prioritize, implement high-priority fixes, run tests, report. Code only changes
// after someone approves the fixes the prioritizing step chose (OR3).

export const analyzeAndImprove: WorkflowTemplate = {
  id: 'analyze-and-improve',
  title: 'Full analysis & improvement',
  description: 'Analyzes a repository, ranks what it finds, fixes the high-priority issues once approved, runs the tests and reports.',
  parameters: {
    repository: { description: 'the repository to work on, relative to the workspace' },
    approvers: { description: 'who may approve the fixes (anyone when none are named)', list: true, default: [] },
  },
  definition: {
    form: 'stepTree',
    name: 'Full analysis & improvement',
    root: {
      type: 'sequence',
      steps: [
        { type: 'task', id: 'analyze', title: 'Analyze the codebase', taskType: 'analyze-codebase', params: { repository: '{{repository}}' } },
        {
          type: 'task',
          id: 'prioritize',
          title: 'Prioritize the findings',
          taskType: 'claude-code',
          params: {
            repository: '{{repository}}',
            mode: 'plan',
            prompt: 'Rank these findings by impact and risk. Answer with highPriority (the issues worth fixing now) and highPriorityCount.',
            findings: { $from: 'steps.analyze.output' },
          },
          // Plan mode only reads the code.
          sideEffects: false,
          timeoutMs: 900_000,
        },
        {
          type: 'conditional',
          id: 'fixes-needed',
          condition: 'steps.prioritize.output.highPriorityCount > 0',
          then: {
            type: 'sequence',
            steps: [
              { type: 'approval', id: 'approve-fixes', title: 'Apply the high-priority fixes?', approvers: ['{{approvers}}'] },
              {
                type: 'task',
                id: 'implement',
                title: 'Implement the high-priority fixes',
                taskType: 'claude-code',
                params: {
                  repository: '{{repository}}',
                  mode: 'edit',
                  prompt: 'Fix these issues, one small change each, with tests where the code has them.',
                  issues: { $from: 'steps.prioritize.output.highPriority' },
                },
                sideEffects: true,
                retry: { attempts: 1, backoffMs: 0, maxBackoffMs: 0 },
                timeoutMs: 1_800_000,
              },
              { type: 'task', id: 'test', title: 'Run the tests', taskType: 'run-tests', params: { repository: '{{repository}}' } },
            ],
          },
        },
        {
          type: 'task',
          id: 'report',
          title: 'Report',
          taskType: 'report',
          params: {
            title: 'Analysis & improvement of {{repository}}',
            analysis: { $from: 'steps.analyze.output' },
            priorities: { $from: 'steps.prioritize.output' },
            changes: { $from: 'steps.implement.output' },
            tests: { $from: 'steps.test.output' },
          },
        },
      ],
    },
  },
};
