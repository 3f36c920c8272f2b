// Every command of the CLI, in the order `cohort --help` lists them. Add one import and one entry per command.
import type { Command } from '../command.js';

export const commands: Command[] = [];
