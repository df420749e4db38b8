import { descriptorOf, type TaskTypeDescriptor } from './descriptor.ts';

// Rough durations for plan previews made without a model: each step takes what its type's
// descriptor says; a type nobody described counts as a minute.

const UNDESCRIBED_MS = 60_000;

export const estimatedMsFor = (registry: readonly Pick<TaskTypeDescriptor, 'taskType' | 'estimatedMs'>[], taskTypes: readonly string[]): number =>
  taskTypes.reduce((sum, taskType) => sum + (descriptorOf(registry, taskType)?.estimatedMs ?? UNDESCRIBED_MS), 0);
