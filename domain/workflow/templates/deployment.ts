import type { WorkflowTemplate } from './template.ts';

// WF2: validate, run tests, approval, deploy, verify with smoke tests. Nothing is deployed unless
// validation and tests pass and someone other than the requester approves (WF3, OR3).

export const deployment: WorkflowTemplate = {
  id: 'deployment',
  title: 'Deployment',
  description: 'Validates a deployment and runs the tests, then deploys once approved and runs smoke tests against the target.',
  parameters: {
    repository: { description: 'the project to deploy, relative to the workspace' },
    targetOrg: { description: 'the sf alias or username of the org to deploy to' },
    approvers: { description: 'who may approve the deployment (anyone but the requester when none are named)', list: true, default: [] },
  },
  definition: {
    form: 'stepTree',
    name: 'Deployment',
    root: {
      type: 'sequence',
      steps: [
        {
          type: 'task',
          id: 'validate',
          title: 'Validate the deployment',
          taskType: 'sf-deploy',
          params: { repository: '{{repository}}', targetOrg: '{{targetOrg}}', mode: 'validate' },
          // A validation-only deploy checks the org without changing it.
          sideEffects: false,
          timeoutMs: 1_800_000,
        },
        { type: 'task', id: 'test', title: 'Run the tests', taskType: 'run-tests', params: { repository: '{{repository}}' } },
        {
          type: 'conditional',
          id: 'checks-passed',
          condition: 'steps.validate.output.success == true && steps.test.output.success == true',
          then: {
            type: 'sequence',
            steps: [
              {
                type: 'approval',
                id: 'approve-deploy',
                title: 'Deploy to {{targetOrg}}?',
                approvers: ['{{approvers}}'],
                requesterMayApprove: false,
                reminderBeforeMs: 120_000,
              },
              {
                type: 'task',
                id: 'deploy',
                title: 'Deploy',
                taskType: 'sf-deploy',
                params: { repository: '{{repository}}', targetOrg: '{{targetOrg}}', mode: 'deploy' },
                sideEffects: true,
                retry: { attempts: 1, backoffMs: 0, maxBackoffMs: 0 },
                timeoutMs: 3_600_000,
              },
              {
                type: 'task',
                id: 'smoke-test',
                title: 'Smoke-test the deployment',
                taskType: 'sf-run-apex-tests',
                params: { repository: '{{repository}}', targetOrg: '{{targetOrg}}', testLevel: 'RunLocalTests' },
                timeoutMs: 1_800_000,
              },
            ],
          },
          else: { type: 'fail', reason: 'validation or tests failed; nothing was deployed' },
        },
      ],
    },
  },
};
