// What a slash command is asked and answers, shared by the command table and its handlers.

export interface SlashRequest {
  readonly command: string;
  readonly text: string;
  readonly user: string;
  readonly channel: string;
}

export interface SlashAnswer {
  readonly text: string;
  /** Ephemeral: only the person who typed it sees the answer. */
  readonly visibility: 'ephemeral' | 'in_channel';
}

export type SlashHandler = (args: readonly string[], request: SlashRequest) => Promise<SlashAnswer>;
