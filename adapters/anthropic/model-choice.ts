import { isRight } from 'fp-ts/lib/Either.js';
import { parseIntent, type ChatTaskType, type IntentContext } from '../../domain/intent/index.ts';

// Which model plans a request (OR1: the stronger one for complex requests, the cheaper one for
// simple ones). A cheap local heuristic, not a first model call: a classification call would
// cost a round trip on every request, and a wrong guess here costs only some money (complex
// work planned by the stronger model) or some plan quality (caught by validation and repair).
//
// Simple: one registered task the offline parser already understands ("run the tests"), or a
// short request with no sign of several steps, code changes or deployment. Complex: the rest.

export type RequestComplexity = 'simple' | 'complex';

const LONG_REQUEST = 240;

/** Words that mean changes, deployments, investigation or more than one step. */
const COMPLEX_SIGNS =
  /\b(?:deploy\w*|release|ship|fix\w*|implement\w*|refactor\w*|migrat\w*|upgrad\w*|rewrit\w*|review\w*|investigat\w*|debug\w*|root[\s-]cause|secur\w*|performance|optimi[sz]\w*|prioriti[sz]\w*|then|after|before|first|unless|if|every|each|all\s+(?:the\s+)?repos\w*)\b/i;

/** `registry`: the registered task types, whose descriptors say how chat asks for them. */
export function classifyRequest(request: string, variables: IntentContext, registry: readonly ChatTaskType[]): RequestComplexity {
  if (isRight(parseIntent(request, variables, registry))) return 'simple';
  if (request.length > LONG_REQUEST) return 'complex';
  // Several sentences or clauses usually mean several steps.
  if ((request.match(/[.;!?](?:\s|$)/g) ?? []).length > 1) return 'complex';
  return COMPLEX_SIGNS.test(request) ? 'complex' : 'simple';
}
