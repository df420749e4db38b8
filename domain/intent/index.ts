export { capabilitiesOf, REPOSITORY_VARIABLE, type Capability, type ChatTaskType, type Intent, type NotUnderstood, type NotUnderstoodCode } from './intent.ts';
export { parseIntent, type IntentContext } from './parse.ts';
export { isMultiStepRequest } from './multi-step.ts';
export { checkRepositoryName, MAX_REPOSITORY_NAME_LENGTH } from './repository-name.ts';
