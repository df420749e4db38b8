#!/usr/bin/env node
// The product's direct entry (`npx orchestrator`, or `node bin/orchestrator.mjs`): runs
// infra/main.ts in this very process with tsx's loader registered, so SIGTERM and Ctrl-C from a
// supervisor reach the product itself, not a wrapper process that might not pass them on.
import { register } from 'tsx/esm/api';

register();
await import('../infra/main.ts');
