#!/usr/bin/env node
// Runs the TypeScript ops CLI through tsx, so `npx orch` works without a build step.
import { register } from 'tsx/esm/api';

register();
await import('../infra/cli/main.ts');
