import type { z } from 'zod';
import type { ResultView } from '../task-types/descriptor.ts';
import type { ReplyDocument } from './reply-document.ts';

/** A task type's reply format: results that parse as `schema` are rendered; others are left to the generic reply. */
export const resultView =
  <T>(schema: z.ZodType<T>, render: (result: T) => ReplyDocument): ResultView =>
  (result) => {
    const parsed = schema.safeParse(result);
    return parsed.success ? render(parsed.data) : undefined;
  };
