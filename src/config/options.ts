// How a command-line option is declared: its type, default and help text. Commands (cli/) and the
// settings every command shares (./settings.ts) declare their options with it.

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  default?: string | boolean | string[];
  /** shown in --help; `VALUE` names the argument */
  help: string;
  value?: string;
}

export type Options = Record<string, OptionSpec>;
