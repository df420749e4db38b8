// How a task's progress or result reads to a person, as data. Renderers (Slack Block Kit, plain
// text) decide layout and what to leave out when space runs short; the document always holds
// everything, so a renderer that has to cut can attach the whole of it instead.

export type ReplyTone = 'success' | 'failure' | 'warning' | 'info' | 'progress';

/** A short labelled value: "Branch: main". */
export interface ReplyField {
  readonly label: string;
  readonly value: string;
}

/** A block of lines under an optional heading: a file list, a table, a few examples. */
export interface ReplySection {
  readonly heading?: string;
  readonly lines: readonly string[];
}

/** Verbatim text (command output, JSON), shown in a fixed-width font. */
export interface ReplyCode {
  readonly title?: string;
  readonly text: string;
  /** Which end matters when there is no room for all of it: 'end' for an output tail. Default 'start'. */
  readonly keep?: 'start' | 'end';
}

/** A follow-up the reader can take; `value` comes back with `actionId` when it is taken. */
export interface ReplyAction {
  readonly actionId: string;
  readonly label: string;
  readonly value: string;
  readonly style?: 'primary' | 'danger';
}

/** All text is plain: renderers escape and format it for their medium. */
export interface ReplyDocument {
  readonly title: string;
  readonly tone: ReplyTone;
  /** The one line to read if nothing else is read (may span lines). */
  readonly summary?: string;
  readonly fields?: readonly ReplyField[];
  readonly sections?: readonly ReplySection[];
  readonly code?: ReplyCode;
  readonly actions?: readonly ReplyAction[];
  /** Who acted, after the summary: "Marked as done by" and a chat user id, which Slack renders as a mention. */
  readonly byline?: { readonly text: string; readonly user: string };
  /** Chat user ids to notify (approvers to remind): Slack renders them as mentions. */
  readonly mentions?: readonly string[];
  /** Small print: task id, repository, duration. */
  readonly footer?: string;
}
