// Whether a request asks for more than one read-only task, so it goes to the planner rather
// than straight to a task: anything that deploys or ships (a side effect, which needs a plan and
// an approval), or that orders several things ("test everything first", "then", "after that").
// Raw chat text: Slack mentions do not disturb these patterns.

const SIDE_EFFECT = /\b(?:deploy|ship|release|fix|implement|refactor|change|update|upgrade|migrate)\b/i;
const SEQUENCE = /\b(?:then|first|afterwards|after that|before that|and also|followed by)\b/i;

export const isMultiStepRequest = (text: string): boolean => SIDE_EFFECT.test(text) || SEQUENCE.test(text);
