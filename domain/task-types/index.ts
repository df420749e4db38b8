export { descriptorOf, type ChatPhrasing, type OutcomeCheckWording, type ResultView, type TaskTypeDescriptor } from './descriptor.ts';
export { estimatedMsFor } from './estimates.ts';
