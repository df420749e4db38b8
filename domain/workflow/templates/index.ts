import { flatMap, left, mapLeft, type Either } from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import type { CompiledWorkflow } from '../compiled.ts';
import type { DefinitionError } from '../definition-errors.ts';
import { registerDefinition, type Registry } from '../validate-definition.ts';
import { analyzeAndImprove } from './analyze-and-improve.ts';
import { bugFix } from './bug-fix.ts';
import { codeReview } from './code-review.ts';
import { deployment } from './deployment.ts';
import { instantiateTemplate, type SuppliedValues, type TemplateError, type WorkflowTemplate } from './template.ts';

// The built-in templates (WF2), by id as `/workflow start <template>` names them.

export const workflowTemplates: readonly WorkflowTemplate[] = [analyzeAndImprove, bugFix, deployment, codeReview];

export const templateById = (id: string): WorkflowTemplate | undefined => workflowTemplates.find((t) => t.id === id);

export interface UnknownTemplate {
  readonly code: 'UnknownTemplate';
  readonly message: string;
}

/** From a template id and the values given to a workflow ready to start, or every reason it is not. */
export function compileTemplate(
  id: string,
  values: SuppliedValues,
  registry: Registry,
): Either<readonly (UnknownTemplate | TemplateError | DefinitionError)[], CompiledWorkflow> {
  const template = templateById(id);
  if (!template) {
    return left([{ code: 'UnknownTemplate', message: `no template "${id}"; templates: ${workflowTemplates.map((t) => t.id).join(', ')}` }]);
  }
  return pipe(
    instantiateTemplate(template, values),
    mapLeft((errors): readonly (TemplateError | DefinitionError)[] => errors),
    flatMap((definition) => registerDefinition(definition, registry)),
  );
}

export { analyzeAndImprove, bugFix, codeReview, deployment };
export {
  checkTemplate,
  instantiateTemplate,
  type SuppliedValues,
  type TemplateError,
  type TemplateErrorCode,
  type TemplateParameter,
  type WorkflowTemplate,
} from './template.ts';
